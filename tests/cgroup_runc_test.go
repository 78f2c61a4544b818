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

// TestUpdateCPUIdle: cpu.idle goes from 1 back to 0 (the kernel refuses a
// weight while the group is idle, so the saved shares must not be written
// first), and the container's own weight is back after it, by --cpu-idle
// (runc's flag) and by --resources.
func TestUpdateCPUIdle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	spec := sh("sleep 1000")
	spec.Linux.Resources = &specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: ptr(uint64(512)), Idle: ptr(int64(1))}}
	id := e.id("idle")
	e.mustBerth("run", "-d", "--bundle", e.bundle(spec), id)
	dir := cgroupDirs(t, e.state(id).Pid)["cpu"]
	if dir == "" {
		t.Fatal("no cpu cgroup for the container")
	}
	if _, err := os.Stat(filepath.Join(dir, "cpu.idle")); err != nil {
		t.Skipf("this kernel has no cpu.idle: %v", err)
	}
	weightFile := "cpu.shares"
	if _, err := os.Stat(filepath.Join(dir, weightFile)); err != nil {
		weightFile = "cpu.weight"
	}
	if got := cgValue(t, dir, "cpu.idle"); got != "1" {
		t.Fatalf("created with cpu.idle 1: kernel has %q", got)
	}
	res := e.dir("res")
	idle0 := filepath.Join(res, "idle0.json")
	if err := os.WriteFile(idle0, []byte(`{"cpu":{"idle":0}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"--cpu-idle", "0"}, {"--resources", idle0}} {
		e.mustBerth(append(append([]string{"update"}, args...), id)...)
		if got := cgValue(t, dir, "cpu.idle"); got != "0" {
			t.Errorf("update %q: cpu.idle %q, want 0", args, got)
		}
		e.mustBerth("update", "--cpu-idle", "1", id)
		if got := cgValue(t, dir, "cpu.idle"); got != "1" {
			t.Errorf("update --cpu-idle 1: cpu.idle %q, want 1", got)
		}
	}
	e.mustBerth("update", "--cpu-idle", "0", id)
	want := map[string]string{"cpu.shares": "512", "cpu.weight": "20"}[weightFile]
	if got := cgValue(t, dir, weightFile); got != want {
		t.Errorf("after cpu.idle back to 0: %s %q, want the container's %s", weightFile, got, want)
	}
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
