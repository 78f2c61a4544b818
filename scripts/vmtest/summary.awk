# summary.awk RESULTS: the counts of a vmtest run from the guest's output
# (go test -v between VMTEST-BEGIN/END markers). Top-level results are the
# unindented "--- PASS|FAIL|SKIP: Name" lines. Exits 1 when any test failed,
# a package exited non-zero (a panic, a timeout), or a run never ended.
/^VMTEST-INFO / { sub(/^VMTEST-INFO /, ""); print "vmtest: guest " $0; next }
/^VMTEST-BEGIN / {
  split($2, dv, "="); split($3, pv, "="); drv = dv[2]; pkg = pv[2]; open_run = 1
  if (!(drv in seen)) { seen[drv] = 1; order[++ndrv] = drv }
  next
}
/^VMTEST-END / {
  split($4, e, "="); split($5, s, "=")
  printf "vmtest: %-8s driver: %-22s %4d passed, %3d failed, %3d skipped, exit %s, %ss\n", drv, pkg, pp, pf, ps, e[2], s[2]
  pass[drv] += pp; fail[drv] += pf; skip[drv] += ps; secs[drv] += s[2]
  if (e[2] != 0) { bad = 1; if (pf == 0) failed[++nf] = drv " " pkg " (exit " e[2] " with no failed test: panic or timeout)" }
  pp = pf = ps = 0; open_run = 0
  next
}
open_run && /^--- PASS: / { pp++ }
open_run && /^--- SKIP: / { ps++ }
open_run && /^--- FAIL: / { pf++; bad = 1; failed[++nf] = drv " " pkg " " $3 }
END {
  if (open_run) { bad = 1; failed[++nf] = drv " " pkg " (no end marker: the guest stopped mid-run)" }
  for (i = 1; i <= ndrv; i++) {
    o = order[i]
    printf "vmtest: %s driver: %d passed, %d failed (%d skipped) in %ds\n", o, pass[o], fail[o], skip[o], secs[o]
  }
  if (nf > 0) {
    print "vmtest: failed:"
    for (i = 1; i <= nf; i++) print "  " failed[i]
  }
  exit bad
}
