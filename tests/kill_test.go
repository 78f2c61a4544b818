package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestKillCreated: a created container can be signalled (runc allows it);
// SIGKILL stops it without its process ever running.
func TestKillCreated(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	out := e.tempFile("out")
	id := e.id("killcreated")
	if r := e.berthOpts(runOpts{stdout: out}, "create", "--bundle", e.bundle(sh("echo ran")), id); r.code != 0 {
		t.Fatalf("%v", r)
	}
	pid := e.state(id).Pid
	e.mustBerth("kill", id, "KILL")
	e.waitStatus(id, "stopped")
	waitGone(t, pid)
	assertError(t, e.berth("start", id), id)
	e.mustBerth("delete", id)
	if s := readFrom(out.Name(), 0); strings.Contains(s, "ran") {
		t.Errorf("the process of a killed created container ran: %q", s)
	}
}

func TestKillAll(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.id("killall")
	out := e.tempFile("out")
	// Without a pid namespace the init is not protected, and the other
	// processes do not die with it: only --all reaches them.
	spec := sh(`sleep 1000 & sleep 1000 & echo started; wait`)
	var ns []specs.LinuxNamespace
	for _, n := range spec.Linux.Namespaces {
		if n.Type != specs.PIDNamespace {
			ns = append(ns, n)
		}
	}
	spec.Linux.Namespaces = ns
	if r := e.berthOpts(runOpts{stdout: out}, "run", "-d", "--bundle", e.bundle(spec), id); r.code != 0 {
		t.Fatalf("%v", r)
	}
	waitOutput(t, out, "started")
	s := e.state(id)
	pids := cgroupPids(t, s.Pid)
	if len(pids) < 3 {
		t.Fatalf("want 3 processes in the container's cgroup, got %v", pids)
	}
	e.mustBerth("kill", "--all", id, "KILL")
	for _, p := range pids {
		waitGone(t, p)
	}
	e.waitStatus(id, "stopped")
	e.mustBerth("delete", id)
}

// TestKillAllReachesChildren: in a pid namespace, SIGTERM to the init with
// no handler is ignored, but --all delivers it to the other processes.
func TestKillAllReachesChildren(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.id("killall-ns")
	out := e.tempFile("out")
	if r := e.berthOpts(runOpts{stdout: out}, "run", "-d", "--bundle", e.bundle(sh(`sleep 1000 & echo started; while :; do sleep 0.05; done`)), id); r.code != 0 {
		t.Fatalf("%v", r)
	}
	waitOutput(t, out, "started")
	s := e.state(id)
	// "started" comes after the fork, not after the child's exec: on a
	// slow host (an emulated guest) the child may still be the shell.
	var sleeper int
	for deadline := time.Now().Add(10 * time.Second); sleeper == 0; time.Sleep(20 * time.Millisecond) {
		for _, p := range pidsInNS(t, s.Pid) {
			if cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p)); strings.HasPrefix(string(cmd), "sleep\x001000") {
				sleeper = p
			}
		}
		if sleeper == 0 && time.Now().After(deadline) {
			t.Fatalf("no 'sleep 1000' in the container after 10s: %v", pidsInNS(t, s.Pid))
		}
	}
	e.mustBerth("kill", "--all", id, "TERM")
	waitGone(t, sleeper)
	if st := e.state(id); st.Status != "running" {
		t.Errorf("init without a TERM handler: status %q, want running", st.Status)
	}
	e.mustBerth("delete", "--force", id)
}

// cgroupPids lists the pids in the cgroup of pid: its memory or pids v1
// hierarchy, or its cgroup v2 directory (cgroupDirs knows the host's
// layout).
func cgroupPids(t *testing.T, pid int) []int {
	t.Helper()
	dirs := cgroupDirs(t, pid)
	for _, ctrl := range []string{"memory", "pids", ""} {
		dir, ok := dirs[ctrl]
		if !ok {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		if err != nil {
			continue
		}
		var out []int
		for _, l := range lines(string(b)) {
			if n, err := strconv.Atoi(l); err == nil {
				out = append(out, n)
			}
		}
		return out
	}
	t.Fatalf("no cgroup.procs for pid %d: %v", pid, cgroupOf(t, pid))
	return nil
}

func TestKillSignalNames(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.id("signames")
	out := e.tempFile("out")
	script := `trap 'echo got USR1' USR1; trap 'echo got HUP' HUP; trap 'echo got USR2' USR2; trap 'echo got TERM; exit 0' TERM; echo started; while :; do sleep 0.05; done`
	if r := e.berthOpts(runOpts{stdout: out}, "run", "-d", "--bundle", e.bundle(sh(script)), id); r.code != 0 {
		t.Fatalf("%v", r)
	}
	waitOutput(t, out, "started")
	n := 0
	for _, tc := range []struct{ arg, want string }{
		{"USR1", "got USR1"},
		{"SIGHUP", "got HUP"},
		{"12", "got USR2"}, // SIGUSR2
		{"usr1", "got USR1"},
		{"sigusr2", "got USR2"},
		{"10", "got USR1"},
	} {
		e.mustBerth("kill", id, tc.arg)
		n++
		s := waitOutput(t, out, tc.want)
		deadline := time.Now().Add(10 * time.Second)
		for len(lines(s)) < n+1 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
			s = readFrom(out.Name(), 0)
		}
		ls := lines(s)
		if len(ls) != n+1 || ls[n] != tc.want {
			t.Errorf("kill %s: output %q, want line %d = %q", tc.arg, ls, n+1, tc.want)
		}
	}
	for _, bad := range []string{"NOSUCH", "SIGFOO", "65", "-1", ""} { // 0 asks for liveness: TestKillZero
		assertError(t, e.berth("kill", id, bad))
	}
	if s := e.state(id); s.Status != "running" {
		t.Errorf("after bad signals: status %q", s.Status)
	}
	e.mustBerth("kill", id)
	waitOutput(t, out, "got TERM")
	e.waitStatus(id, "stopped")
	e.mustBerth("delete", id)
}

// withoutPidNamespace drops the pid namespace from spec: the container
// shares the host's, so its init's death takes nothing else along.
func withoutPidNamespace(spec *specs.Spec) *specs.Spec {
	var ns []specs.LinuxNamespace
	for _, n := range spec.Linux.Namespaces {
		if n.Type != specs.PIDNamespace {
			ns = append(ns, n)
		}
	}
	spec.Linux.Namespaces = ns
	return spec
}

// TestKillStopped is the cleanup containerd's runc shim runs once a
// container's process has exited: `kill --all ID KILL` then `kill ID KILL`,
// then delete. runc succeeds on the first, answers the second with
// "container not running" (which the shim maps to "not found"), and
// deletes; any other answer leaves CRI's StopContainer hanging. With a
// shared pid namespace the exited init may leave processes behind, which
// --all must kill.
func TestKillStopped(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		name string
		spec *specs.Spec
		left bool // a process outlives the init
	}{
		{"own pid namespace", sh("exit 3"), false},
		// The init leaves a sleep behind, and exits when told to.
		{"host pid namespace", withoutPidNamespace(sh(
			"sleep 1000 </dev/null >/dev/null 2>&1 & echo started; while [ ! -e /tmp/exit ]; do sleep 0.02; done")), true},
	} {
		for _, way := range []opsWay{inC, inGo} {
			id := e.id("killstopped")
			out := e.tempFile("out")
			bundle := e.bundle(tc.spec)
			if r := e.berthOpts(runOpts{stdout: out}, "run", "-d", "--bundle", bundle, id); r.code != 0 {
				t.Fatalf("%s: %v", tc.name, r)
			}
			s := e.state(id)
			var left []int
			if tc.left {
				waitOutput(t, out, "started")
				// The background child may not have exec'd sleep yet.
				for deadline := time.Now().Add(5 * time.Second); len(left) == 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
					for _, p := range cgroupPids(t, s.Pid) {
						if cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p)); string(cmd) == "sleep\x001000\x00" {
							left = append(left, p)
						}
					}
				}
				if err := os.WriteFile(filepath.Join(bundle, "rootfs", "tmp", "exit"), nil, 0o644); err != nil {
					t.Fatal(err)
				}
				if len(left) == 0 {
					t.Fatalf("%s: no process beside the init", tc.name)
				}
			}
			e.waitStatus(id, "stopped")
			for _, p := range left {
				if !pidAlive(p) {
					t.Fatalf("%s: pid %d did not outlive the init", tc.name, p)
				}
			}
			if r := e.berthOpts(runOpts{env: way.env}, "kill", "--all", id, "KILL"); r.code != 0 {
				t.Errorf("%s, %s: kill --all of a stopped container: %v", tc.name, way.name, r)
			}
			for _, p := range left {
				waitGone(t, p)
			}
			assertError(t, e.berthOpts(runOpts{env: way.env}, "kill", id, "KILL"), "container not running")
			if r := e.berthOpts(runOpts{env: way.env}, "delete", id); r.code != 0 {
				t.Errorf("%s, %s: delete of a stopped container: %v", tc.name, way.name, r)
			}
			assertError(t, e.berth("state", id), "does not exist")
		}
	}
}

// TestKillNoPidNamespace: SIGKILL to a container that shares the host's
// pid namespace reaches every process of its cgroup, as runc does: the
// init's death alone would leave the rest running.
func TestKillNoPidNamespace(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.id("kill-hostpid")
	out := e.tempFile("out")
	spec := withoutPidNamespace(sh(`sleep 1000 & sleep 1000 & echo started; wait`))
	if r := e.berthOpts(runOpts{stdout: out}, "run", "-d", "--bundle", e.bundle(spec), id); r.code != 0 {
		t.Fatalf("%v", r)
	}
	waitOutput(t, out, "started")
	pids := cgroupPids(t, e.state(id).Pid)
	if len(pids) < 3 {
		t.Fatalf("want 3 processes in the container's cgroup, got %v", pids)
	}
	e.mustBerth("kill", id, "KILL")
	for _, p := range pids {
		waitGone(t, p)
	}
	e.mustBerth("delete", id)
}
