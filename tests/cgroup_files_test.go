package tests

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The resource tests say what they configure (a memory limit, cpu shares,
// a quota) and these helpers say, for the host the test runs on, which
// cgroup file the kernel shows it in and what value the kernel must show:
// cgroup v1 files on a v1 or hybrid host, the unified files on a pure
// cgroup v2 host, with the conversions runc makes there (shares to
// cpu.weight, memory+swap to memory.swap.max, reservation to memory.low).

// cgExpect is one value the kernel must show: file in the container's
// cgroup of hierarchy ctrl. whole compares the whole trimmed file (cpu.max
// is "QUOTA PERIOD"); otherwise the last field of the first line (cgValue).
type cgExpect struct {
	ctrl, file, want string
	whole            bool
}

// read is what the kernel shows for x in dirs (cgroupDirs of the init).
func (x cgExpect) read(t *testing.T, dirs map[string]string) string {
	t.Helper()
	dir, ok := dirs[x.ctrl]
	if !ok {
		t.Fatalf("the container is in no %s cgroup of its own (cgroups %v)", x.ctrl, dirs)
	}
	if x.whole {
		return cgFile(t, dir, x.file)
	}
	return cgValue(t, dir, x.file)
}

// check reports every x whose kernel value differs from its want.
func checkCgroupFiles(t *testing.T, when string, dirs map[string]string, xs []cgExpect) {
	t.Helper()
	for _, x := range xs {
		if got := x.read(t, dirs); got != x.want {
			t.Errorf("%s: %s/%s = %q, want %q", when, dirs[x.ctrl], x.file, got, x.want)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// expectMemoryLimit: v1 memory.limit_in_bytes, v2 memory.max.
func expectMemoryLimit(n int64) cgExpect {
	if pureCgroup2() {
		return cgExpect{ctrl: "memory", file: "memory.max", want: itoa(n)}
	}
	return cgExpect{ctrl: "memory", file: "memory.limit_in_bytes", want: itoa(n)}
}

// expectMemoryReservation: v1 memory.soft_limit_in_bytes; v2 memory.low,
// the protection runc maps the reservation to.
func expectMemoryReservation(n int64) cgExpect {
	if pureCgroup2() {
		return cgExpect{ctrl: "memory", file: "memory.low", want: itoa(n)}
	}
	return cgExpect{ctrl: "memory", file: "memory.soft_limit_in_bytes", want: itoa(n)}
}

// expectMemorySwap: the OCI swap is the memory+swap total. v1 has that
// total in memory.memsw.limit_in_bytes; v2 limits swap alone, so runc
// writes swap − limit to memory.swap.max (0 when they are equal).
func expectMemorySwap(swap, limit int64) cgExpect {
	if pureCgroup2() {
		return cgExpect{ctrl: "memory", file: "memory.swap.max", want: itoa(swap - limit)}
	}
	return cgExpect{ctrl: "memory", file: "memory.memsw.limit_in_bytes", want: itoa(swap)}
}

// hostHasSwapAccounting reports whether the memory controller limits swap
// here: memory.memsw.* on v1 (swapaccount=1), memory.swap.max on v2. It
// looks in our own cgroup (the root has neither file on v2).
func hostHasSwapAccounting() bool {
	if !pureCgroup2() {
		return hostHasMemsw()
	}
	for _, d := range ownCgroupDirs() {
		if _, err := os.Stat(filepath.Join(d, "memory.swap.max")); err == nil {
			return true
		}
	}
	return false
}

// cpuWeightOf is cpu.weight for OCI cpu.shares on cgroup v2: the
// conversion runc (opencontainers/cgroups) and crun use, a quadratic in
// log2(shares) through (2, 1), (1024, 100) and (262144, 10000). The values
// are written out, not computed, so that a change of the conversion in
// berth shows here.
var cpuWeightOf = map[int64]string{2: "1", 300: "39", 512: "59", 1024: "100", 262144: "10000"}

// expectCPUShares: v1 cpu.shares, v2 cpu.weight converted.
func expectCPUShares(t *testing.T, shares int64) cgExpect {
	t.Helper()
	if pureCgroup2() {
		w, ok := cpuWeightOf[shares]
		if !ok {
			t.Fatalf("test bug: no cpu.weight written down for cpu.shares %d", shares)
		}
		return cgExpect{ctrl: "cpu", file: "cpu.weight", want: w}
	}
	return cgExpect{ctrl: "cpu", file: "cpu.shares", want: itoa(shares)}
}

// expectCPUQuota: v1 cpu.cfs_quota_us and cpu.cfs_period_us, v2 the one
// file cpu.max "QUOTA PERIOD".
func expectCPUQuota(quota, period int64) []cgExpect {
	if pureCgroup2() {
		return []cgExpect{{ctrl: "cpu", file: "cpu.max", want: itoa(quota) + " " + itoa(period), whole: true}}
	}
	return []cgExpect{
		{ctrl: "cpu", file: "cpu.cfs_quota_us", want: itoa(quota)},
		{ctrl: "cpu", file: "cpu.cfs_period_us", want: itoa(period)},
	}
}

// expectCpusetCpus is the cpus the container may run on. v1 copies the
// parent's list into cpuset.cpus; v2 leaves cpuset.cpus empty until it is
// set, so the kernel's answer is cpuset.cpus.effective.
func expectCpusetCpus(cpus string) cgExpect {
	if pureCgroup2() {
		return cgExpect{ctrl: "cpuset", file: "cpuset.cpus.effective", want: cpus}
	}
	return cgExpect{ctrl: "cpuset", file: "cpuset.cpus", want: cpus}
}

// expectCpusetMems: v1 cpuset.mems, v2 cpuset.mems.effective.
func expectCpusetMems(mems string) cgExpect {
	if pureCgroup2() {
		return cgExpect{ctrl: "cpuset", file: "cpuset.mems.effective", want: mems}
	}
	return cgExpect{ctrl: "cpuset", file: "cpuset.mems", want: mems}
}

// expectPids: pids.max on both.
func expectPids(n int64) cgExpect {
	return cgExpect{ctrl: "pids", file: "pids.max", want: itoa(n)}
}

// hostCPUs returns the cpus a container gets by default here, and one cpu
// to pin a container to that differs from the default (the last one): v1
// the root cpuset's effective_cpus, v2 the root's cpuset.cpus.effective.
func hostCPUs(t *testing.T) (all, one string) {
	t.Helper()
	file := "/sys/fs/cgroup/cpuset/cpuset.effective_cpus"
	if pureCgroup2() {
		file = "/sys/fs/cgroup/cpuset.cpus.effective"
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Skipf("no cpuset controller: %v", err)
	}
	all = strings.TrimSpace(string(b))
	last := all[strings.LastIndexAny(all, ",-")+1:]
	return all, last
}

// cgroupBase is the last element of the container's cgroup path: the id
// with the cgroupfs driver, <prefix>-<id>.scope with the systemd driver.
func cgroupBase(id string) string {
	if systemdCgroup {
		return "berth-" + id + ".scope"
	}
	return id
}
