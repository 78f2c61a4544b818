package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The command-line forms scripts and clients use, as runc takes them.

// TestUpdateFlagsAfterID: `update ID --flag value`, the order runc has
// always accepted (its CLI library reorders arguments), sets the kernel's
// value as the usual order does; flags on both sides of the id all apply,
// and a stray argument is still refused.
func TestUpdateFlagsAfterID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.id("update-args")
	e.mustBerth("run", "-d", "--bundle", e.bundle(sh("sleep 1000")), id)
	pid := e.state(id).Pid
	e.mustBerth("update", id, "--pids-limit", "55")
	if got := pidsMax(t, pid); got != "55" {
		t.Errorf("update ID --pids-limit 55: pids.max %q", got)
	}
	e.mustBerth("update", "--cpu-share", "512", id, "--pids-limit", "56")
	if got := pidsMax(t, pid); got != "56" {
		t.Errorf("update --cpu-share 512 ID --pids-limit 56: pids.max %q", got)
	}
	assertError(t, e.berth("update", id, "--no-such-flag", "1"), "no-such-flag")
	assertError(t, e.berth("update", id, "extra"), "expects exactly one argument")
}

// pidsMax reads the pids.max of pid's cgroup from the kernel: the pids
// hierarchy on cgroup v1, the unified one on v2.
func pidsMax(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	var unified string
	for _, l := range lines(string(b)) {
		f := strings.SplitN(l, ":", 3)
		if len(f) != 3 {
			continue
		}
		for _, c := range strings.Split(f[1], ",") {
			if c == "pids" {
				return readTrimmed(t, filepath.Join("/sys/fs/cgroup/pids", f[2], "pids.max"))
			}
		}
		if f[0] == "0" {
			unified = f[2]
		}
	}
	return readTrimmed(t, filepath.Join("/sys/fs/cgroup", unified, "pids.max"))
}

// TestKillZero: `kill ID 0` asks whether the container is alive, as
// kill(1) and runc do: exit 0 while it runs, 1 with "container not
// running" once it has stopped. Nothing is signalled.
func TestKillZero(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.id("kill0")
	e.mustBerth("run", "-d", "--bundle", e.bundle(sh("sleep 1000")), id)
	e.mustBerth("kill", id, "0")
	if s := e.state(id); s.Status != "running" {
		t.Errorf("after kill 0: status %q, want running", s.Status)
	}
	e.mustBerth("kill", id, "KILL")
	e.waitStatus(id, "stopped")
	assertError(t, e.berth("kill", id, "0"), "container not running")
}
