package tests

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berthrun/berth/internal/testbundle"
	"golang.org/x/sys/unix"
)

// Nothing of the caller's process state may reach a container: an engine
// started under nohup (SIGHUP ignored), pinned to a CPU, or holding fds
// without close-on-exec must not hand any of it on. Each way a container
// process comes to be is checked: run with the C init and with the Go
// init, and exec with the C front (fastexec.c), the Go front and the Go
// init.

// callerWay is one way berth makes a process, named for the test log.
type callerWay struct {
	name string
	env  []string
}

var (
	runWays  = []callerWay{{"C init", nil}}
	execWays = []callerWay{{"C front", nil}, {"Go front", []string{"BERTH_NO_FASTPATH=1"}}}
)

// ignoreHupInt runs berth with SIGHUP and SIGINT ignored, as nohup and
// some service managers start engines.
var ignoreHupInt = []string{"/bin/sh", "-c", `trap "" HUP INT; exec "$@"`, "sh"}

// statusProbe prints the lines of /proc/self/status named by keys.
func statusProbe(keys ...string) []string {
	return []string{"grep", "-E", "^(" + strings.Join(keys, "|") + "):", "/proc/self/status"}
}

func TestCallerSignalsNotInherited(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	check := func(what string, r result) {
		t.Helper()
		if r.code != 0 {
			t.Fatalf("%s: %v", what, r)
		}
		kv := statusFields(r.stdout)
		for _, k := range []string{"SigIgn", "SigBlk"} {
			if kv[k] != "0000000000000000" {
				t.Errorf("%s: %s = %q, want none: the caller's signal state reached the container\n%s", what, k, kv[k], r.stdout)
			}
		}
	}
	probe := statusProbe("SigIgn", "SigBlk")
	for _, w := range runWays {
		b := e.bundle(testbundle.Spec(probe...))
		check("run, "+w.name, e.berthOpts(runOpts{wrap: ignoreHupInt, env: w.env}, "run", "--bundle", b, e.id("sig")))
	}
	sleeper := e.startSleeper()
	for _, w := range execWays {
		check("exec, "+w.name, e.berthOpts(runOpts{wrap: ignoreHupInt, env: w.env}, append([]string{"exec", sleeper}, probe...)...))
	}
	// The container's pid 1 itself, made by create and started by start.
	id := e.id("sig-created")
	if r := e.berthOpts(runOpts{wrap: ignoreHupInt}, "create", "--bundle", e.bundle(testbundle.Spec("sleep", "1000")), id); r.code != 0 {
		t.Fatalf("create: %v", r)
	}
	e.mustBerth("start", id)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", e.state(id).Pid))
	if err != nil {
		t.Fatal(err)
	}
	if kv := statusFields(string(status)); kv["SigIgn"] != "0000000000000000" || kv["SigBlk"] != "0000000000000000" {
		t.Errorf("created and started: SigIgn %s, SigBlk %s, want none", kv["SigIgn"], kv["SigBlk"])
	}
}

// statusFields parses "Key:\tvalue" lines of /proc/<pid>/status.
func statusFields(s string) map[string]string {
	out := map[string]string{}
	for _, l := range lines(s) {
		if k, v, ok := strings.Cut(l, ":"); ok {
			out[k] = strings.TrimSpace(v)
		}
	}
	return out
}

func TestCallerAffinityNotInherited(t *testing.T) {
	t.Parallel()
	if runtime.NumCPU() < 2 {
		t.Skip("needs two CPUs to tell a pinned process from a free one")
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		t.Skip("taskset (util-linux) is not installed")
	}
	e := newEnv(t)
	self, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	want := statusFields(string(self))["Cpus_allowed_list"]
	if want == "0" {
		t.Skip("this test process is pinned to CPU 0 itself")
	}
	pin := []string{"taskset", "-c", "0"}
	probe := statusProbe("Cpus_allowed_list")
	check := func(what string, r result) {
		t.Helper()
		if r.code != 0 {
			t.Fatalf("%s: %v", what, r)
		}
		if got := statusFields(r.stdout)["Cpus_allowed_list"]; got != want {
			t.Errorf("%s under taskset -c 0: Cpus_allowed_list %q, want the host's %q", what, got, want)
		}
	}
	for _, w := range runWays {
		b := e.bundle(testbundle.Spec(probe...))
		check("run, "+w.name, e.berthOpts(runOpts{wrap: pin, env: w.env}, "run", "--bundle", b, e.id("cpu")))
	}
	sleeper := e.startSleeper()
	for _, w := range execWays {
		check("exec, "+w.name, e.berthOpts(runOpts{wrap: pin, env: w.env}, append([]string{"exec", sleeper}, probe...)...))
	}
}

// TestCallerFdsNotInherited: an fd the caller left without close-on-exec
// must not reach the helper that enters the container's namespaces, where
// a process of the container could open it through /proc/<pid>/fd
// (CVE-2024-21626's class). strace holds every execve of the exec for a
// moment, so the helper is seen inside the namespaces each time; the test
// looks at every fd of every process in the container's mount namespace
// meanwhile, and at the waiting init of a created container.
func TestCallerFdsNotInherited(t *testing.T) {
	t.Parallel()
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("strace is not installed (Debian package strace)")
	}
	e := newEnv(t)
	marker := e.dir("caller-only")
	fd, err := unix.Open(marker, unix.O_RDONLY|unix.O_DIRECTORY, 0) // no O_CLOEXEC: the caller's leak
	if err != nil {
		t.Fatal(err)
	}
	leaked := os.NewFile(uintptr(fd), marker)
	defer leaked.Close()
	// --preserve-fds 1 hands fd 3 on on purpose; fd 4 must stay behind.
	preserved, err := os.Open(e.dir("preserved"))
	if err != nil {
		t.Fatal(err)
	}
	defer preserved.Close()

	sleeper := e.startSleeper()
	initPid := e.state(sleeper).Pid
	mntns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", initPid))
	if err != nil {
		t.Fatal(err)
	}
	delay := []string{strace, "-f", "-qq", "-o", "/dev/null", "-e", "trace=execve,execveat",
		"-e", "inject=execve,execveat:delay_enter=200000"}
	for _, w := range execWays {
		watch := watchNamespace(mntns, initPid, marker)
		r := e.berthOpts(runOpts{wrap: delay, env: w.env, extraFiles: []*os.File{preserved, leaked}},
			"exec", "--preserve-fds", "1", sleeper, "true")
		seen, leaks := watch()
		if r.code != 0 {
			t.Fatalf("exec, %s: %v", w.name, r)
		}
		if seen == 0 {
			t.Fatalf("exec, %s: no helper was seen in the container's namespaces; the test saw nothing", w.name)
		}
		for _, l := range leaks {
			t.Errorf("exec, %s: %s", w.name, l)
		}
		t.Logf("exec, %s: looked at %d processes in the container's mount namespace", w.name, seen)
	}
	for _, w := range runWays {
		id := e.id("fd-created")
		r := e.berthOpts(runOpts{env: w.env, extraFiles: []*os.File{preserved, leaked}},
			"create", "--preserve-fds", "1", "--bundle", e.bundle(sh("sleep 1000")), id)
		if r.code != 0 {
			t.Fatalf("create, %s: %v", w.name, r)
		}
		pid := e.state(id).Pid
		for _, l := range fdsNamed(pid, marker) {
			t.Errorf("create, %s: the waiting init %s", w.name, l)
		}
	}
}

// watchNamespace records, until the returned function is called, how many
// processes other than skip it found in the mount namespace mntns, and
// every fd of theirs that points at marker.
func watchNamespace(mntns string, skip int, marker string) func() (int, []string) {
	ctx, cancel := context.WithCancel(context.Background())
	type report struct {
		seen  int
		leaks []string
	}
	done := make(chan report)
	go func() {
		var r report
		pids := map[int]bool{}
		for ctx.Err() == nil {
			entries, _ := os.ReadDir("/proc")
			for _, de := range entries {
				pid, err := strconv.Atoi(de.Name())
				if err != nil || pid == skip {
					continue
				}
				if ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", pid)); err != nil || ns != mntns {
					continue
				}
				pids[pid] = true
				for _, l := range fdsNamed(pid, marker) {
					if !slices.Contains(r.leaks, l) {
						r.leaks = append(r.leaks, l)
					}
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
		r.seen = len(pids)
		done <- r
	}()
	return func() (int, []string) {
		cancel()
		r := <-done
		return r.seen, r.leaks
	}
}

// fdsNamed lists pid's fds that point at path, as "pid N holds fd M on path".
func fdsNamed(pid int, path string) []string {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, _ := os.ReadDir(dir)
	var out []string
	for _, de := range entries {
		if target, err := os.Readlink(filepath.Join(dir, de.Name())); err == nil && target == path {
			out = append(out, fmt.Sprintf("pid %d holds fd %s on the caller's %s", pid, de.Name(), path))
		}
	}
	return out
}
