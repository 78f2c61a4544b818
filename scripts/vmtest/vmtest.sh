#!/bin/bash
# vmtest.sh: run berth's tests on a pure cgroup v2 host with systemd as pid 1
# (a Debian 12 guest under QEMU), with the cgroupfs driver and then with the
# systemd driver. docs/vmtest.md explains it; `make vmtest` calls it.
#
# Environment:
#   VMTEST_RUN          -test.run regexp for every package (default: all tests)
#   VMTEST_PKGS         packages to run with the cgroupfs driver
#   VMTEST_SYSTEMD_PKGS packages to run again with the systemd driver
#   VMTEST_DRIVERS      "cgroupfs systemd" (default), or one of them
#   VMTEST_TIMEOUT      seconds before a guest is declared hung and killed
#   VMTEST_TEST_TIMEOUT go test -timeout of each package run in the guest
#   VMTEST_CACHE        where built guests are kept (/var/cache/berth-vmtest)
#   VMTEST_OUT          where the console log and test output go (bin/vmtest)
#   VMTEST_ACCEL        auto (KVM only if a probe boots), tcg or kvm
#   VMTEST_SHELL=1      boot the guest with the tests inside but run nothing:
#                       log in as root on the console (Ctrl-A x quits QEMU)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
here=$repo/scripts/vmtest
cd "$repo"
export PATH=/usr/local/go/bin:$PATH
GO=${GO:-go}

VMTEST_PKGS=${VMTEST_PKGS:-tests tests/clients integration libcontainer libcontainer/cgroups libcontainer/rootfs libcontainer/network libcontainer/seal internal/hostcheck}
# The suites that know the harness switch BERTH_TEST_SYSTEMD_CGROUP=1.
VMTEST_SYSTEMD_PKGS=${VMTEST_SYSTEMD_PKGS:-tests tests/clients}
VMTEST_DRIVERS=${VMTEST_DRIVERS:-cgroupfs systemd}
VMTEST_RUN=${VMTEST_RUN:-}
VMTEST_TIMEOUT=${VMTEST_TIMEOUT:-3600}
VMTEST_TEST_TIMEOUT=${VMTEST_TEST_TIMEOUT:-40m}
VMTEST_CACHE=${VMTEST_CACHE:-/var/cache/berth-vmtest}
VMTEST_OUT=${VMTEST_OUT:-$repo/bin/vmtest}
VMTEST_ACCEL=${VMTEST_ACCEL:-auto}
VMTEST_SHELL=${VMTEST_SHELL:-0}

t0=$(date +%s)
elapsed() { echo $(( $(date +%s) - t0 )); }
say() { echo "vmtest: $*"; }

scripts/install-deps.sh qemu-system-x86 mmdebstrap cpio
[ -x bin/berth ] || { say "bin/berth is missing: run make build first"; exit 1; }

guest=$("$here/build-guest.sh" "$VMTEST_CACHE")
kver=$(cat "$guest/kernel")
say "guest $guest ready at $(elapsed)s"

# The payload: berth, the test binaries with their testdata, and the runner.
# It is a second cpio archive appended to the cached guest's: the kernel
# unpacks both into one root, so a new berth never rebuilds the guest.
rm -rf "$VMTEST_OUT"
mkdir -p "$VMTEST_OUT"
payload=$VMTEST_OUT/payload
mkdir -p "$payload/vmtest/bin" "$payload/vmtest/pkg"
cp bin/berth "$payload/vmtest/bin/berth"
cp "$here/guest-run.sh" "$payload/vmtest/guest-run.sh"
# tests/notify_test.go builds this helper with go, which the guest lacks.
CGO_ENABLED=0 $GO build -o "$payload/vmtest/bin/sdnotify" ./tests/testdata/sdnotify
for pkg in $(printf '%s\n' $VMTEST_PKGS $VMTEST_SYSTEMD_PKGS | sort -u); do
  name=${pkg//\//_}
  dst=$payload/vmtest/pkg/$name
  mkdir -p "$dst"
  say "compiling ./$pkg tests"
  $GO test -c -o "$dst/$name.test" "./$pkg"
  [ -d "$pkg/testdata" ] && cp -a "$pkg/testdata" "$dst/"
done
{
  echo "VMTEST_PKGS='$(printf '%s ' $VMTEST_PKGS | sed 's#/#_#g')'"
  echo "VMTEST_SYSTEMD_PKGS='$(printf '%s ' $VMTEST_SYSTEMD_PKGS | sed 's#/#_#g')'"
  echo "VMTEST_DRIVERS='$VMTEST_DRIVERS'"
  echo "VMTEST_RUN='$VMTEST_RUN'"
  echo "VMTEST_TEST_TIMEOUT='$VMTEST_TEST_TIMEOUT'"
} > "$payload/vmtest/plan.env"
(cd "$payload" && find . -print0 | cpio --null --quiet -o -H newc -R 0:0) > "$VMTEST_OUT/payload.cpio"
cat "$guest/guest.cpio" "$VMTEST_OUT/payload.cpio" > "$VMTEST_OUT/initrd"
rm -rf "$payload" "$VMTEST_OUT/payload.cpio"
say "payload ready at $(elapsed)s"

# KVM only where it really runs a guest: nested KVM on some hosts has a
# /dev/kvm that fails in early boot ("emulation failure"). The probe boots
# the kernel with no root; reaching the kernel's own panic means KVM works.
accel=$VMTEST_ACCEL
if [ "$accel" = auto ]; then
  accel=tcg
  if [ -w /dev/kvm ]; then
    probe=$(timeout 30 qemu-system-x86_64 -accel kvm -m 256 -nographic -no-reboot \
      -kernel "$guest/vmlinuz" -append "console=ttyS0 panic=-1" 2>&1 || true)
    if grep -q "Kernel panic" <<<"$probe"; then accel=kvm; fi
  fi
fi
cpu=()
[ "$accel" = kvm ] && cpu=(-cpu host)

# loglevel=3: oopses and panics reach the console; errors and warnings
# (overlayfs complains once per container) stay in the guest's dmesg, which
# the runner appends to the results.
append="console=ttyS0 panic=-1 quiet loglevel=3"
serial=(-monitor none -serial stdio -serial "file:$VMTEST_OUT/results.log")
if [ "$VMTEST_SHELL" = 1 ]; then
  append+=" vmtest.shell"
  serial=(-serial mon:stdio -serial "file:$VMTEST_OUT/results.log")
  VMTEST_TIMEOUT=0 # an interactive guest runs until its user quits
fi
# -nic none: no network is needed, and the NIC's iPXE ROM costs seconds under TCG.
qemu=(qemu-system-x86_64 -accel "$accel" "${cpu[@]}" -m 4096 -smp 2 -nographic -no-reboot -nic none
  -kernel "$guest/vmlinuz" -initrd "$VMTEST_OUT/initrd" -append "$append" "${serial[@]}")
say "booting $kver under $accel (timeout ${VMTEST_TIMEOUT}s; console in $VMTEST_OUT/console.log)"
boot=$(date +%s)
set +e
if [ "$VMTEST_SHELL" = 1 ]; then
  "${qemu[@]}"
  exit $?
fi
# QEMU's stdin is /dev/null: the console is output only. The pipeline runs
# in the background so that a TERM or INT to this script (an outer timeout,
# CI cancelling) stops the guest too: bash runs traps only between
# commands, never while a foreground one runs. sed -u, not tr: the console
# must show up as it comes, not in 4 KiB blocks.
rm -f "$VMTEST_OUT/qemu.rc"
{ timeout -k 10 "$VMTEST_TIMEOUT" "${qemu[@]}" </dev/null 2>&1; echo $? > "$VMTEST_OUT/qemu.rc"; } |
  sed -u 's/\r//g' | tee "$VMTEST_OUT/console.log" &
guest_jobs=$(jobs -p)
# timeout is a child of the pipeline's first subshell: signal it (it stops
# QEMU) before the subshell, which would orphan it.
trap 'say "interrupted: stopping the guest"; pkill -TERM -P "$(echo $guest_jobs | tr " " ",")" 2>/dev/null; kill $guest_jobs 2>/dev/null; exit 1' INT TERM HUP
wait
trap - INT TERM HUP
rc=$(cat "$VMTEST_OUT/qemu.rc" 2>/dev/null || echo 1)
set -e
# QEMU creates the file only if it got as far as its serial ports.
touch "$VMTEST_OUT/results.log"
tr -d '\r' < "$VMTEST_OUT/results.log" > "$VMTEST_OUT/results.txt"
say "guest ran for $(( $(date +%s) - boot ))s"

if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
  say "FAIL: the guest did not finish within ${VMTEST_TIMEOUT}s (VMTEST_TIMEOUT); killed it."
  say "last test output ($VMTEST_OUT/results.txt):"
  tail -n 30 "$VMTEST_OUT/results.txt" | sed 's/^/  /'
  exit 1
fi
if [ "$rc" != 0 ]; then
  say "FAIL: qemu exited with status $rc"
  exit 1
fi
if ! grep -q '^VMTEST-DONE' "$VMTEST_OUT/results.txt"; then
  say "FAIL: the guest stopped before the runner finished (see $VMTEST_OUT/console.log)"
  exit 1
fi

# The summary: one line per driver and package, from the go test -v output
# between the runner's markers. Top-level results are the unindented
# "--- PASS|FAIL|SKIP:" lines.
status=0
awk -f "$here/summary.awk" "$VMTEST_OUT/results.txt" || status=$?
say "total $(elapsed)s; go test output in $VMTEST_OUT/results.txt"
exit $status
