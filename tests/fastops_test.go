package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Plain `start` and `delete` are answered by libcontainer/executor/fastops.c
// before the Go runtime starts; BERTH_NO_FASTPATH=1 makes Go answer. These
// tests run the same lifecycles both ways and compare what is observable,
// and check that everything unusual is left to Go.

// opsWay is how a command is meant to be answered.
type opsWay struct {
	name string
	env  []string
	goRT bool // the Go runtime starts
}

var (
	inC      = opsWay{name: "C"}
	inGo     = opsWay{name: "Go", env: []string{"BERTH_NO_FASTPATH=1"}, goRT: true}
	byGo     = opsWay{name: "fallback", goRT: true} // fast path on, but Go must answer
	bothWays = []opsWay{inC, inGo}
)

// initTraceLine is a line GODEBUG=inittrace=1 prints: the Go runtime and
// every package report their initialisation.
var initTraceLine = regexp.MustCompile(`(?m)^init \S+ @.*\n`)

// skipUnderSystemdDriver skips a test of the C start and delete under the
// harness's systemd driver, as each also checks a C delete of a stopped
// container: there delete is Go's by
// design (fastDeletable: the unit must be stopped through systemd), and a
// stopped container has no cgroup left (systemd removes an emptied scope).
func skipUnderSystemdDriver(t *testing.T) {
	t.Helper()
	if systemdCgroup {
		t.Skip("under the systemd driver delete is Go's and a stopped container has no cgroup (a fast delete of a cgroupfs container is what this tests)")
	}
}

// berthWay runs args with GODEBUG=inittrace=1 (so the Go runtime, if it
// starts, says so on stderr) and fails the test unless the runtime started
// exactly when w says. The trace is removed from the result's stderr.
func (e *env) berthWay(w opsWay, extraEnv []string, args ...string) result {
	e.t.Helper()
	env := append(append([]string{"GODEBUG=inittrace=1"}, w.env...), extraEnv...)
	r := e.berthEnv(env, args...)
	started := strings.Contains(r.stderr, "init runtime @")
	r.stderr = initTraceLine.ReplaceAllString(r.stderr, "")
	if started != w.goRT {
		e.t.Errorf("%s: Go runtime started: %v, want %v (%s)", strings.Join(args, " "), started, w.goRT, w.name)
	}
	return r
}

// noID is an id no result mentions.
const noID = "no-such-id"

// opsSeen is a result with the container id replaced, to compare two containers.
func opsSeen(r result, id string) string {
	s := fmt.Sprintf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	return strings.ReplaceAll(s, id, "ID")
}

// opsOutcome is everything a start-to-delete lifecycle shows.
type opsOutcome struct {
	start, del, stateAfter        string
	output                        string
	statusAfterStart              string
	fifoAfterStart                bool
	cgroupsBefore, cgroupsAfter   int
	stateDirAfter, logFileCreated bool
}

func onDisk(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// lifecycleWay creates a container that prints "ran" and exits, starts it
// and deletes it (with delArgs) the opsWay w says, global flags first.
func (e *env) lifecycleWay(w opsWay, bundle string, globals, delArgs []string) opsOutcome {
	t := e.t
	t.Helper()
	id := e.id("ops" + strings.ToLower(w.name))
	out := e.tempFile("out")
	if r := e.berthOpts(runOpts{stdout: out}, "create", "--bundle", bundle, id); r.code != 0 {
		t.Fatalf("create: %v", r)
	}
	logFile := filepath.Join(e.base, "ops.log")
	os.Remove(logFile)
	var o opsOutcome
	o.start = opsSeen(e.berthWay(w, nil, append(globals, "start", id)...), id)
	waitOutput(t, out, "ran")
	o.fifoAfterStart = onDisk(filepath.Join(e.root, id, "exec.fifo"))
	o.statusAfterStart = e.waitStatus(id, "stopped").Status
	o.cgroupsBefore = len(cgroupDirsNamed(id))
	o.del = opsSeen(e.berthWay(w, nil, append(append(globals, delArgs...), id)...), id)
	o.output = readFrom(out.Name(), 0)
	o.cgroupsAfter = len(cgroupDirsNamed(id))
	o.stateDirAfter = onDisk(filepath.Join(e.root, id))
	o.logFileCreated = onDisk(logFile)
	o.stateAfter = opsSeen(e.berth("state", id), id)
	return o
}

func TestFastopsLifecycle(t *testing.T) {
	t.Parallel()
	skipUnderSystemdDriver(t)
	e := newEnv(t)
	bundle := e.bundle(sh("echo ran"))
	logFile := filepath.Join(e.base, "ops.log")
	for _, tc := range []struct {
		globals, del []string
	}{
		{nil, []string{"delete"}},
		{nil, []string{"delete", "--force"}},
		{[]string{"--log", logFile, "--log-format", "json"}, []string{"delete", "-f"}},
		{[]string{"--log=" + logFile}, []string{"delete"}},
	} {
		c, g := e.lifecycleWay(inC, bundle, tc.globals, tc.del), e.lifecycleWay(inGo, bundle, tc.globals, tc.del)
		if c != g {
			t.Errorf("%v %v: C and Go differ:\nC:  %+v\nGo: %+v", tc.globals, tc.del, c, g)
		}
		if quiet := opsSeen(result{}, noID); c.start != quiet || c.del != quiet || c.output != "ran\n" || c.fifoAfterStart {
			t.Errorf("%v %v: start/delete: %+v, want both silent, exit 0, the process run and exec.fifo gone", tc.globals, tc.del, c)
		}
		if c.cgroupsBefore == 0 || c.cgroupsAfter != 0 || c.stateDirAfter {
			t.Errorf("%v %v: cgroups %d before delete, %d after; state dir left: %v", tc.globals, tc.del, c.cgroupsBefore, c.cgroupsAfter, c.stateDirAfter)
		}
		if !strings.Contains(c.stateAfter, "exit 1") || c.logFileCreated != (tc.globals != nil) {
			t.Errorf("%v %v: after delete: state %s, log file made: %v", tc.globals, tc.del, c.stateAfter, c.logFileCreated)
		}
	}
}

// logTime matches the time of a log line, text or JSON.
var logTime = regexp.MustCompile(`^time=(\S+) |"time":"([^"]*)"`)

// logLine checks the one line of a --log file and returns it with its time
// replaced by T, after checking that the time is now in the format Go uses.
func logLine(t *testing.T, path, format string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	line := string(b)
	if strings.Count(line, "\n") != 1 || !strings.HasSuffix(line, "\n") {
		t.Errorf("%s: want exactly one line, got %q", path, line)
	}
	m := logTime.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("%s: no time in %q", path, line)
	}
	layout, ts := "2006-01-02T15:04:05.000Z07:00", m[1]
	if format == "json" {
		layout, ts = time.RFC3339Nano, m[2]
		var v map[string]string
		if err := json.Unmarshal(b, &v); err != nil || v["level"] != "error" {
			t.Errorf("%s: not a JSON error line: %q (%v)", path, line, err)
		}
	}
	if when, err := time.Parse(layout, ts); err != nil || time.Since(when).Abs() > time.Minute {
		t.Errorf("%s: time %q is not now in %s (%v)", path, ts, layout, err)
	}
	return logTime.ReplaceAllString(line, "T")
}

// TestFastopsStartFailure: the init dies before its execve (a failing
// startContainer hook): start fails with Go's line on stderr and in the
// --log file, in both formats, and removes exec.fifo.
func TestFastopsStartFailure(t *testing.T) {
	t.Parallel()
	skipUnderSystemdDriver(t)
	e := newEnv(t)
	spec := sh("echo ran")
	spec.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "exit 3"}}}}
	bundle := e.bundle(spec)
	for _, format := range []string{"text", "json"} {
		var got [2]string
		for i, w := range bothWays {
			id := e.id("opsfail")
			out := e.tempFile("out")
			if r := e.berthOpts(runOpts{stdout: out}, "create", "--bundle", bundle, id); r.code != 0 {
				t.Fatalf("create: %v", r)
			}
			logFile := filepath.Join(e.base, "fail-"+format+"-"+w.name+".log")
			r := e.berthWay(w, nil, "--log", logFile, "--log-format", format, "start", id)
			assertError(t, r, "start "+id+": container \""+id+"\": its process failed to start")
			got[i] = opsSeen(r, id) + " log " + strings.ReplaceAll(logLine(t, logFile, format), id, "ID")
			if onDisk(filepath.Join(e.root, id, "exec.fifo")) {
				t.Errorf("%s: exec.fifo left after a failed start", w.name)
			}
			e.waitStatus(id, "stopped")
			e.berthWay(inC, nil, "delete", id)
			if s := readFrom(out.Name(), 0); s != "" || onDisk(filepath.Join(e.root, id)) {
				t.Errorf("%s: output %q (want none); state dir left: %v", w.name, s, onDisk(filepath.Join(e.root, id)))
			}
		}
		if got[0] != got[1] {
			t.Errorf("--log-format %s: C and Go differ:\nC:  %s\nGo: %s", format, got[0], got[1])
		}
	}
}

// TestFastopsWrongStatus: start of a stopped container and delete of a
// running one go to Go, which refuses them as before and leaves the
// container alone; a created container whose init was killed (stopped,
// exec.fifo still there) is deleted in C.
func TestFastopsWrongStatus(t *testing.T) {
	t.Parallel()
	skipUnderSystemdDriver(t)
	e := newEnv(t)
	running, dead := e.id("opsrun"), e.id("opsdead")
	e.mustBerth("run", "-d", "--bundle", e.bundle(sh("sleep 1000")), running)
	e.mustBerth("create", "--bundle", e.bundle(sh("echo ran")), dead)
	pid := e.state(dead).Pid
	syscall.Kill(pid, syscall.SIGKILL)
	waitGone(t, pid)
	e.waitStatus(dead, "stopped")
	for _, args := range [][]string{{"delete", running}, {"start", running}, {"start", dead}} {
		c, g := e.berthWay(byGo, nil, args...), e.berthWay(inGo, nil, args...)
		assertError(t, c, args[1])
		if c.code != g.code || c.stderr != g.stderr || c.stdout != g.stdout {
			t.Errorf("%v: fast path on %v, off %v", args, c, g)
		}
	}
	if s := e.state(running); s.Status != "running" || !pidAlive(s.Pid) {
		t.Errorf("a refused delete changed the container: %+v", s)
	}
	if !onDisk(filepath.Join(e.root, dead, "exec.fifo")) {
		t.Fatalf("the killed created container has no exec.fifo: nothing to test")
	}
	if r := e.berthWay(inC, nil, "delete", dead); r.code != 0 || r.stderr != "" {
		t.Errorf("delete of a killed created container: %v", r)
	}
	if onDisk(filepath.Join(e.root, dead)) || len(cgroupDirsNamed(dead)) != 0 {
		t.Errorf("state dir or cgroups of %s left", dead)
	}
	e.berthWay(byGo, nil, "delete", "--force", running)
}

// TestFastopsGoOnlyWork: poststart and poststop hooks, and the NOTIFY_SOCKET
// relay and its directory in the state dir, are Go's to handle.
func TestFastopsGoOnlyWork(t *testing.T) {
	t.Parallel()
	skipUnderSystemdDriver(t)
	e := newEnv(t)
	log := newHookLog(t, e)
	spec := sh("echo ran")
	spec.Hooks = &specs.Hooks{Poststart: []specs.Hook{hook("poststart", log.host, 0)}}
	started := e.id("opspoststart")
	e.mustBerth("create", "--bundle", e.bundle(spec), started)
	if r := e.berthWay(byGo, nil, "start", started); r.code != 0 {
		t.Errorf("start with a poststart hook: %v", r)
	}
	spec = sh("true")
	spec.Hooks = &specs.Hooks{Poststop: []specs.Hook{hook("poststop", log.host, 0)}}
	stopped := e.id("opspoststop")
	e.mustBerth("run", "-d", "--bundle", e.bundle(spec), stopped)
	e.waitStatus(stopped, "stopped")
	if r := e.berthWay(byGo, nil, "delete", stopped); r.code != 0 {
		t.Errorf("delete with a poststop hook: %v", r)
	}
	if n := strings.Join(names(log.entries(t)), " "); n != "poststart poststop" {
		t.Errorf("hooks run: %q, want poststart poststop", n)
	}
	e.waitStatus(started, "stopped")
	e.berthWay(inC, nil, "delete", started) // the poststart hook does not hold delete back

	notified := e.id("opsnotify")
	sock := []string{"NOTIFY_SOCKET=" + filepath.Join(e.base, "host.sock")}
	if r := e.berthEnv(sock, "create", "--bundle", e.bundle(sh("echo ran")), notified); r.code != 0 {
		t.Fatalf("create with NOTIFY_SOCKET: %v", r)
	}
	if r := e.berthWay(byGo, nil, "start", notified); r.code != 0 {
		t.Errorf("start with NOTIFY_SOCKET: %v", r)
	}
	e.waitStatus(notified, "stopped")
	if !onDisk(filepath.Join(e.root, notified, "notify")) {
		t.Errorf("no notify directory in the state dir: nothing to test")
	}
	e.berthWay(byGo, nil, "delete", notified)
	for _, id := range []string{started, stopped, notified} {
		if onDisk(filepath.Join(e.root, id)) || len(cgroupDirsNamed(id)) != 0 {
			t.Errorf("state dir or cgroups of %s left", id)
		}
	}
}

// holdLock takes the container's lock as another berth command would.
func (e *env) holdLock(id string) *os.File {
	e.t.Helper()
	f, err := os.Open(filepath.Join(e.root, id))
	if err != nil {
		e.t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		e.t.Fatal(err)
	}
	return f
}

// TestFastopsBusyLock: a held lock sends start and delete to Go, which
// waits for it (here: times out) and changes nothing; released, they run
// in C.
func TestFastopsBusyLock(t *testing.T) {
	t.Parallel()
	skipUnderSystemdDriver(t)
	e := newEnv(t)
	created, stopped := e.id("opslockc"), e.id("opslocks")
	out := e.tempFile("out")
	if r := e.berthOpts(runOpts{stdout: out}, "create", "--bundle", e.bundle(sh("echo ran")), created); r.code != 0 {
		t.Fatalf("create: %v", r)
	}
	e.mustBerth("run", "-d", "--bundle", e.bundle(sh("true")), stopped)
	e.waitStatus(stopped, "stopped")
	short := []string{"BERTH_LOCK_TIMEOUT=300ms"}
	for _, args := range [][]string{{"start", created}, {"delete", stopped}} {
		lock := e.holdLock(args[1])
		r := e.berthWay(byGo, short, args...)
		lock.Close()
		assertError(t, r, args[1], "is locked by another berth command", fmt.Sprintf("(pid %d)", os.Getpid()))
	}
	if s := e.state(created); s.Status != "created" || readFrom(out.Name(), 0) != "" {
		t.Errorf("a start that timed out on the lock changed the container: %+v, output %q", s, readFrom(out.Name(), 0))
	}
	if !onDisk(filepath.Join(e.root, stopped, "state.json")) || len(cgroupDirsNamed(stopped)) == 0 {
		t.Errorf("a delete that timed out on the lock removed something")
	}
	e.berthWay(inC, nil, "start", created)
	waitOutput(t, out, "ran")
	e.waitStatus(created, "stopped")
	for _, id := range []string{created, stopped} {
		if r := e.berthWay(inC, nil, "delete", id); r.code != 0 {
			t.Errorf("delete %s: %v", id, r)
		}
	}
}

// TestFastopsLeftovers: what Go's delete would do more than C's (a file it
// did not make in the state dir, a sub-cgroup) or cannot trust (a stale
// brief, flags it does not know) is left to Go, which removes everything.
func TestFastopsLeftovers(t *testing.T) {
	t.Parallel()
	skipUnderSystemdDriver(t)
	e := newEnv(t)
	bundle := e.bundle(sh("true"))
	for _, tc := range []struct {
		name  string
		spoil func(id string)
		args  []string
	}{
		{"file in the state dir", func(id string) {
			os.WriteFile(filepath.Join(e.root, id, "extra"), []byte("x"), 0o600)
		}, []string{"delete"}},
		{"sub-cgroup", func(id string) {
			dirs := cgroupDirsNamed(id)
			if len(dirs) == 0 || os.Mkdir(filepath.Join(dirs[0], "sub"), 0o755) != nil {
				t.Fatalf("cannot make a sub-cgroup for %s in %v", id, dirs)
			}
		}, []string{"delete"}},
		{"stale brief", func(id string) { rewrite(t, filepath.Join(e.root, id, "state.json")) }, []string{"delete"}},
		{"--debug=true", func(string) {}, []string{"--debug=true", "delete"}},
		{"--force=true", func(string) {}, []string{"delete", "--force=true"}},
	} {
		id := e.id("opsleft")
		e.mustBerth("run", "-d", "--bundle", bundle, id)
		e.waitStatus(id, "stopped")
		tc.spoil(id)
		if r := e.berthWay(byGo, nil, append(tc.args, id)...); r.code != 0 {
			t.Errorf("%s: %v", tc.name, r)
		}
		if onDisk(filepath.Join(e.root, id)) || len(cgroupDirsNamed(id)) != 0 {
			t.Errorf("%s: state dir or cgroups of %s left", tc.name, id)
		}
	}
}
