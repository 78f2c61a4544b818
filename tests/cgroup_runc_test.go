package tests

import (
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// cgroup values where runc's handling is the contract (issue 22).

// TestPidsLimitZero: runtime-spec 1.3 made pids.limit optional, so 0 is a
// limit, not "unset": no new task. The kernel (and systemd's TasksMax)
// take 1 for it, as with runc; `update --pids-limit 0` does the same.
func TestPidsLimitZero(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	spec := sh("sleep 1000")
	spec.Linux.Resources = &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(0))}}
	id := e.id("pids0")
	e.mustBerth("run", "-d", "--bundle", e.bundle(spec), id)
	pid := e.state(id).Pid
	if got := pidsMax(t, pid); got != "1" {
		t.Errorf("pids.limit 0: pids.max %q, want 1", got)
	}
	e.mustBerth("update", "--pids-limit", "20", id)
	e.mustBerth("update", "--pids-limit", "0", id)
	if got := pidsMax(t, pid); got != "1" {
		t.Errorf("update --pids-limit 0: pids.max %q, want 1", got)
	}
}

// TestUpdateCPUIdle: `update --cpu-idle`, runc's flag, sets the kernel's
// cpu.idle both ways and refuses what is neither 0 nor 1 (TestCPUIdle has
// the weight's side of leaving idle).
func TestUpdateCPUIdle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.id("idle")
	e.mustBerth("run", "-d", "--bundle", e.bundle(sh("sleep 1000")), id)
	dir := cgroupDirs(t, e.state(id).Pid)["cpu"]
	if dir == "" {
		t.Fatal("no cpu cgroup for the container")
	}
	if _, err := os.Stat(filepath.Join(dir, "cpu.idle")); err != nil {
		t.Skipf("this kernel has no cpu.idle: %v", err)
	}
	for _, v := range []string{"1", "0", "1"} {
		e.mustBerth("update", "--cpu-idle", v, id)
		if got := cgValue(t, dir, "cpu.idle"); got != v {
			t.Errorf("update --cpu-idle %s: cpu.idle %q", v, got)
		}
	}
	assertError(t, e.berth("update", "--cpu-idle", "2", id), "linux.resources.cpu.idle", "must be 0 or 1")
}

// TestUnifiedOnV1: linux.resources.unified on a host berth drives as
// cgroup v1 fails with runc's words, and leaves nothing behind.
func TestUnifiedOnV1(t *testing.T) {
	t.Parallel()
	if pureCgroup2() {
		t.Skip("a pure cgroup v2 host takes unified keys")
	}
	e := newEnv(t)
	spec := sh("true")
	spec.Linux.Resources = &specs.LinuxResources{Unified: map[string]string{"memory.high": "100000"}}
	assertError(t, e.berth("run", "--bundle", e.bundle(spec), e.id("unified")),
		`linux.resources.unified["memory.high"]: cannot use unified on cgroup v1`)
}
