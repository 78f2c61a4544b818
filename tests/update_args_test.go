package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

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
