#!/bin/bash
# guest-run.sh: runs inside the vmtest guest (vmtest.service starts it once
# systemd is up). It runs the test binaries that vmtest.sh put in /vmtest,
# once per cgroup driver, and writes their output between marker lines to the
# second serial port, which QEMU writes to a file on the host. Progress goes
# to the console (the first serial port). It powers the guest off at the end
# whatever happened: the host only waits for QEMU to exit.
set -uo pipefail
# shellcheck source=/dev/null
. /vmtest/plan.env

if [ -z "${VMTEST_IN_SHELL:-}" ] && grep -qw vmtest.shell /proc/cmdline; then
  echo "vmtest: shell mode: 'bash /vmtest/guest-run.sh' runs the tests (then powers off); exit powers off"
  # A login shell on the console, as its controlling terminal. The variable
  # makes the runner, started by hand from it, run the tests.
  VMTEST_IN_SHELL=1 setsid -c -w bash -l <>/dev/ttyS0 >&0 2>&1
  systemctl poweroff --no-block
  exit 0
fi

# The results port: raw, so that the tty layer neither echoes nor turns
# "\n" into "\r\n".
stty -F /dev/ttyS1 raw -echo
exec 3>/dev/ttyS1
say() { echo "vmtest: $*"; }
mark() { echo "VMTEST-$*" >&3; }

finish() {
  mark "DMESG"
  dmesg >&3
  mark DONE
  # Give the UART time to drain its buffer before the machine goes away.
  sleep 2
  systemctl poweroff --no-block
}
trap finish EXIT

# cgroup v2 forbids processes in a cgroup whose children have controllers
# enabled, and this unit's cgroup is delegated to us: move into a leaf and
# enable every controller for the siblings the tests create.
own=$(awk -F: '$1 == "0" {print $3}' /proc/self/cgroup)
if [ -n "$own" ] && [ -f "/sys/fs/cgroup$own/cgroup.controllers" ]; then
  cg=/sys/fs/cgroup$own
  mkdir -p "$cg/runner"
  echo $$ > "$cg/runner/cgroup.procs"
  for c in $(cat "$cg/cgroup.controllers"); do
    echo "+$c" > "$cg/cgroup.subtree_control" 2>/dev/null || say "cannot enable $c below $own"
  done
fi

# What the tests need that udev does not load by itself.
for m in overlay veth bridge dummy nf_tables br_netfilter tun macvlan ipvlan; do
  modprobe "$m" 2>/dev/null || say "modprobe $m failed"
done

cgmode=v1
case $(stat -fc %T /sys/fs/cgroup) in
  cgroup2fs) cgmode="v2 (unified)" ;;
  tmpfs) [ -d /sys/fs/cgroup/unified ] && cgmode="hybrid" ;;
esac
# The guest's uptime here is what booting took, up to this runner.
info="boot=$(cut -d. -f1 /proc/uptime)s kernel=$(uname -r) cgroup=\"$cgmode\" controllers=\"$(cat /sys/fs/cgroup/cgroup.controllers 2>/dev/null)\""
info+=" systemd=$(systemctl --version | awk 'NR==1 {print $2}') apparmor=$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null || echo N)"
say "guest: $info"
mark "INFO $info"

export BERTH_BIN=/vmtest/bin/berth
export BERTH_SDNOTIFY_BIN=/vmtest/bin/sdnotify
# Fewer rounds of the e2e suite's loops, crashes and soak than on the host:
# a berth command takes ~1-3 s under TCG against ~10-30 ms there, and the
# rounds repeat what the host runs in full (tests/exec_test.go 500 loops,
# crash_test.go 2 crashes per trace point, soak_test.go 60 cycles).
export BERTH_E2E_LOOPS=${VMTEST_LOOPS:-50} BERTH_CRASH_ROUNDS=1 BERTH_SOAK=20
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
run_args=()
[ -n "${VMTEST_RUN:-}" ] && run_args=(-test.run "$VMTEST_RUN")

for driver in $VMTEST_DRIVERS; do
  pkgs=$VMTEST_PKGS
  sdflag=0
  if [ "$driver" = systemd ]; then
    # Only the suites that know the harness switch (the e2e suite, and the
    # ctr scenarios of tests/clients); the others would just run again
    # unchanged.
    pkgs=$VMTEST_SYSTEMD_PKGS
    sdflag=1
  fi
  for pkg in $pkgs; do
    dir=/vmtest/pkg/$pkg
    [ -x "$dir/$pkg.test" ] || { say "no test binary for $pkg"; continue; }
    say "$driver driver: $pkg ..."
    mark "BEGIN driver=$driver pkg=$pkg"
    start=$(date +%s)
    # By absolute path: tests that re-exec os.Args[0] do so from other directories.
    (cd "$dir" && BERTH_TEST_SYSTEMD_CGROUP=$sdflag "$dir/$pkg.test" -test.v -test.count=1 \
      -test.timeout "$VMTEST_TEST_TIMEOUT" "${run_args[@]}" >&3 2>&1 </dev/null)
    rc=$?
    secs=$(( $(date +%s) - start ))
    mark "END driver=$driver pkg=$pkg exit=$rc seconds=$secs"
    say "$driver driver: $pkg exit $rc in ${secs}s"
  done
done
