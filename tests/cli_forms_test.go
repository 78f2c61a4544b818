package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
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

// TestRunKeep: `run --keep` exits with the container's status and leaves it
// stopped, with its state and cgroup, until delete, as runc's does.
func TestRunKeep(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.id("keep")
	r := e.berth("run", "--keep", "--bundle", e.bundle(sh("exit 3")), id)
	if r.code != 3 {
		t.Fatalf("run --keep: %v, want exit 3", r)
	}
	if st := e.state(id); st.Status != "stopped" {
		t.Errorf("after run --keep: status %q, want stopped", st.Status)
	}
	// Under the systemd driver the scope goes with its last process (as
	// with runc, whose test of this requires no systemd): only the state
	// is kept there.
	if dirs := cgroupDirsNamed(id); len(dirs) == 0 && !systemdCgroup {
		t.Errorf("after run --keep: no cgroup named %s is left", id)
	}
	e.mustBerth("delete", id)
	if dirs := cgroupDirsNamed(id); len(dirs) != 0 {
		t.Errorf("after delete: cgroups %q remain", dirs)
	}
}

// TestListMissingRoot: list of a --root that does not exist fails (a typo
// must not look like "no containers"), from C and from Go; the default
// root, missing before the first create, is still an empty list.
func TestListMissingRoot(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	missing := filepath.Join(e.dir("root"), "missing")
	for _, w := range bothWays {
		for _, args := range [][]string{{"list"}, {"list", "-q"}, {"list", "-f", "json"}} {
			r := e.berthOpts(runOpts{env: w.env, noRoot: true}, append([]string{"--root", missing}, args...)...)
			if r.code != 1 || !strings.Contains(r.stderr, "open "+missing+": no such file or directory") {
				t.Errorf("%s: %v, want exit 1 naming %s", w.name, r, missing)
			}
		}
	}
	if _, err := os.Stat(missing); err == nil {
		t.Errorf("list created %s", missing)
	}
}

// TestPsStopped: ps of a stopped container succeeds with no processes: the
// header alone, and null in JSON, as runc prints them.
func TestPsStopped(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.id("ps-stopped")
	e.mustBerth("create", "--bundle", e.bundle(sh("true")), id)
	e.mustBerth("start", id)
	e.waitStatus(id, "stopped")
	r := e.mustBerth("ps", id)
	if l := lines(r.stdout); len(l) != 1 || !strings.Contains(l[0], "PID") {
		t.Errorf("ps of a stopped container: %q, want the header alone", r.stdout)
	}
	if r := e.mustBerth("ps", "-f", "json", id); strings.TrimSpace(r.stdout) != "null" {
		t.Errorf("ps -f json of a stopped container: %q, want null", r.stdout)
	}
}

// TestExecCapAmbient: `exec --cap X` makes X bounding, effective and
// permitted, and ambient as well where the spec's rule allows it (X is in
// the process's inheritable set), so that a non-root user keeps it across
// the execve; where it is not inheritable, it cannot be ambient and such a
// user ends with none.
func TestExecCapAmbient(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	spec := sh("sleep 1000")
	spec.Process.Capabilities = &specs.LinuxCapabilities{
		Bounding:    []string{"CAP_CHOWN", "CAP_NET_ADMIN", "CAP_NET_RAW"},
		Effective:   []string{"CAP_CHOWN"},
		Permitted:   []string{"CAP_CHOWN"},
		Inheritable: []string{"CAP_NET_ADMIN"},
	}
	id := e.id("cap-amb")
	e.mustBerth("run", "-d", "--bundle", e.bundle(spec), id)
	const netAdmin, netRaw = 1 << 12, 1 << 13
	for _, w := range execWays {
		for _, tc := range []struct {
			cap      string
			amb, eff uint64
		}{
			{"CAP_NET_ADMIN", netAdmin, netAdmin},
			{"CAP_NET_RAW", 0, 0},
		} {
			r := e.berthOpts(runOpts{env: w.env}, "exec", "--user", "1000:1000", "--cap", tc.cap, id,
				"grep", "-E", "^Cap(Amb|Eff):", "/proc/self/status")
			if r.code != 0 {
				t.Fatalf("%s: %v", w.name, r)
			}
			kv := statusFields(r.stdout)
			amb, _ := strconv.ParseUint(kv["CapAmb"], 16, 64)
			eff, _ := strconv.ParseUint(kv["CapEff"], 16, 64)
			if amb != tc.amb || eff != tc.eff {
				t.Errorf("%s: exec --user 1000 --cap %s: CapAmb %#x CapEff %#x, want %#x and %#x", w.name, tc.cap, amb, eff, tc.amb, tc.eff)
			}
		}
	}
}
