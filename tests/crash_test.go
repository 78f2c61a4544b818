package tests

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// crashEnv is berth's test-only hook (internal/trace): the command SIGKILLs
// itself when it reaches the trace point named here.
const crashEnv = "BERTH_TEST_CRASH_AT"

// crashRounds is how many times each trace point is crashed: a few in
// `make test`, $BERTH_CRASH_ROUNDS (make soak: more) otherwise.
func crashRounds() int {
	if n, err := strconv.Atoi(os.Getenv("BERTH_CRASH_ROUNDS")); err == nil && n > 0 {
		return n
	}
	return 2
}

// berthEnv is e.berth with extra environment variables. Output goes to
// files, as in berthOpts: a detached container inherits them.
func (e *env) berthEnv(extraEnv []string, args ...string) result {
	e.t.Helper()
	full := append(e.globals(), args...)
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, berthBin, full...)
	cmd.Env = append(append(os.Environ(), tagVar+"="+e.tag), extraEnv...)
	outF, errF := e.tempFile("stdout"), e.tempFile("stderr")
	defer os.Remove(outF.Name())
	defer os.Remove(errF.Name())
	defer outF.Close()
	defer errF.Close()
	cmd.Stdout, cmd.Stderr = outF, errF
	runErr := cmd.Run()
	r := result{args: full, stdout: readFrom(outF.Name(), 0), stderr: readFrom(errF.Name(), 0)}
	var ee *exec.ExitError
	switch {
	case runErr == nil:
	case ctx.Err() != nil:
		e.t.Fatalf("berth %s: timed out after %v\n%v", strings.Join(full, " "), commandTimeout, r)
	case errors.As(runErr, &ee):
		r.code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			r.code = 128 + int(ws.Signal())
		}
	default:
		e.t.Fatalf("berth %s: %v", strings.Join(full, " "), runErr)
	}
	return r
}

// crashCase is one command to crash: how to prepare its container, the
// arguments that run it, and whether C answers it (fastpath.c, fastops.c,
// fastexec.c): the crash suite runs with the fast paths on, so that a
// crash point kills the code that runs in production.
type crashCase struct {
	cmd     string
	prepare func(e *env, id string)
	args    func(id string) []string
	inC     bool
}

// crashPoint is a trace point a command passes: side is "" for the
// command itself, else the berth init stage that passed it ("stage0",
// "init"), whose spans the command logged.
type crashPoint struct {
	name, side string
}

func (p crashPoint) String() string {
	if p.side == "" {
		return p.name
	}
	return p.name + "(" + p.side + ")"
}

// TestCrashConsistency kills berth (SIGKILL, through the test-only hook) at
// every trace point of create, start, exec, delete, run and state, several
// times each, and checks that state and list make sense of what is left,
// that delete --force succeeds, and that nothing remains: no process,
// cgroup, state directory or mount. The fast paths stay on: start, a
// plain exec, the delete of a stopped container and state are C, and
// create and run pass the C points of berth init (stage 0, the C init,
// its rootfs program), where the crash kills that process instead.
func TestCrashConsistency(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sleeper := e.bundle(sh("sleep 1000"))
	quick := e.bundle(sh("true"))
	runSleeper := func(e *env, id string) { e.mustBerth("run", "-d", "--bundle", sleeper, id) }
	sealing, _ := overlaySealing(t)
	cases := []crashCase{
		{"create", nil, func(id string) []string { return []string{"create", "--bundle", sleeper, id} }, false},
		{"start", func(e *env, id string) { e.mustBerth("create", "--bundle", sleeper, id) },
			func(id string) []string { return []string{"start", id} }, true},
		// Under the systemd driver exec and delete are Go's by design
		// (fastExecable, fastDeletable), and exec where berth cannot be
		// sealed by an overlay (needFastExec).
		{"exec", runSleeper, func(id string) []string { return []string{"exec", "--detach", id, "sleep", "1000"} }, !systemdCgroup && sealing},
		{"delete --force", runSleeper, func(id string) []string { return []string{"delete", "--force", id} }, false},
		{"delete", func(e *env, id string) {
			e.mustBerth("run", "-d", "--bundle", quick, id)
			e.waitStatus(id, "stopped")
		}, func(id string) []string { return []string{"delete", id} }, !systemdCgroup},
		{"run", nil, func(id string) []string { return []string{"run", "--bundle", quick, id} }, false},
		{"state", runSleeper, func(id string) []string { return []string{"state", id} }, true},
	}
	rounds := crashRounds()
	total, inInit := 0, 0
	// berth init passes the same points under create and run up to
	// "ready": each is crashed under the first of them. exec's init is
	// another mode, and fastexec.c, not Go, handles its death.
	initDone := map[string]bool{}
	for _, c := range cases {
		points := e.tracePoints(c)
		t.Logf("%s passes %d trace points: %v", c.cmd, len(points), points)
		for _, point := range points {
			if point.side != "" {
				key := point.name
				if c.cmd == "exec" {
					key = "exec " + key
				}
				if initDone[key] {
					continue
				}
				initDone[key] = true
				inInit++
			}
			// An init point kills a process the command then cleans up
			// after, one path per point: half the rounds (at least one)
			// keep the short form short.
			n := rounds
			if point.side != "" {
				n = max(1, rounds/2)
			}
			for i := 0; i < n; i++ {
				e.crashAt(c, point)
				total++
				if t.Failed() {
					t.Fatalf("stopping after the first failing point (%s %v, round %d)", c.cmd, point, i+1)
				}
			}
		}
	}
	if inInit == 0 {
		t.Errorf("no command passed a point of berth init: its C stages do not trace")
	}
	t.Logf("crashed berth %d times (%d rounds per point of a command, %d per point of berth init's %d); every time state, list and delete --force coped and nothing leaked",
		total, rounds, max(1, rounds/2), inInit)
}

// tracePoints runs the command once with tracing on and returns the points
// it passed, its own and berth init's, in order, checking that the command
// ran in C when the case says so (GODEBUG=inittrace=1: a Go runtime that
// starts says so on stderr). Every command must pass at least one point of
// its own (two for those with phases).
func (e *env) tracePoints(c crashCase) []crashPoint {
	t := e.t
	t.Helper()
	id := e.id("trace-" + strings.ReplaceAll(c.cmd, " ", ""))
	if c.prepare != nil {
		c.prepare(e, id)
	}
	logFile := filepath.Join(e.base, "trace-"+strings.ReplaceAll(c.cmd, " ", "")+".log")
	args := append([]string{"--log", logFile, "--log-format", "json"}, c.args(id)...)
	r := e.berthEnv([]string{"BERTH_TRACE=1", "GODEBUG=inittrace=1"}, args...)
	if r.code != 0 {
		t.Fatalf("traced %s: %v", c.cmd, r)
	}
	if goRan := strings.Contains(r.stderr, "init runtime @"); goRan == c.inC {
		t.Errorf("traced %s: Go runtime started: %v, want %v (the fast path must stay on while tracing)", c.cmd, goRan, !c.inC)
	}
	var points []crashPoint
	own := 0
	for _, l := range jsonLogLines(t, logFile) {
		if l["msg"] != "trace" {
			continue
		}
		if l["level"] != "debug" {
			t.Errorf("trace line at level %v, want debug: %v", l["level"], l)
		}
		p, _ := l["point"].(string)
		side, _ := l["side"].(string)
		if _, ok := l["phase_ms"].(float64); !ok || p == "" {
			t.Errorf("trace line without point or phase_ms: %v", l)
		}
		if side == "" {
			own++
		}
		if !slices.ContainsFunc(points, func(x crashPoint) bool { return x.name == p }) {
			points = append(points, crashPoint{p, side})
		}
	}
	if want := 2 - btoi(c.cmd == "state"); own < want {
		t.Fatalf("%s passed %d trace points (%v): tracing is broken", c.cmd, own, points)
	}
	e.mustBerth("delete", "--force", id)
	return points
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// crashAt prepares a container, runs the command with the crash hook at
// point, and checks what is left. A point of berth init kills that
// process, not the command, which then fails as for any init that died:
// exit 1 (255 for exec) with its one line, and its cleanup ran.
func (e *env) crashAt(c crashCase, point crashPoint) {
	t := e.t
	t.Helper()
	id := e.id("crash")
	if c.prepare != nil {
		c.prepare(e, id)
	}
	r := e.berthEnv([]string{crashEnv + "=" + point.name}, c.args(id)...)
	switch {
	case point.side == "" && r.code != 128+int(syscall.SIGKILL):
		t.Errorf("%s with the crash hook at %v: want death by SIGKILL (exit 137)\n%v", c.cmd, point, r)
	case point.side != "" && (r.code == 0 || r.code == 128+int(syscall.SIGKILL) || !strings.HasPrefix(r.stderr, "berth: ")):
		t.Errorf("%s with the crash hook at %v: want the command to report the init's death\n%v", c.cmd, point, r)
	}
	var again []string
	// config: before the state dir exists; an init's death: create failed
	// and removed it.
	if c.cmd == "create" && point.name != "create:config" && point.side == "" {
		again = c.args(id)
	}
	e.checkAfterCrash(id, c.cmd+"@"+point.String(), again)
}

// checkAfterCrash asserts that state and list agree on a sane status (or on
// absence), that a "created" container can still be started, that
// delete --force cleans everything, and that nothing of the test remains.
// What a killed command set going may still be under way for a moment (an
// init that has yet to notice its parent died, or one that a killed start
// had already released), so the status may move on between two looks —
// created → running → stopped, creating → stopped — but never back.
//
// A create killed after it made the state directory (createAgain is its
// command line) must leave a container that state and list show, whatever
// point it died at: a kubelet whose context was cancelled cleans up
// through list and delete, and a leftover it cannot see would block the
// id for good. The same create run again either succeeds or names the
// command that removes the leftover, and a plain delete removes it.
func (e *env) checkAfterCrash(id, where string, createAgain []string) {
	t := e.t
	t.Helper()
	status := e.saneStatus(id, where)
	if createAgain != nil {
		if status == "" || e.listStatus(id) == "" {
			t.Errorf("%s: the killed create left a container that state (%q) or list does not show", where, status)
		}
		if status == "creating" || status == "stopped" {
			if r := e.berth(createAgain...); r.code != 0 {
				assertError(t, r, "already exists", `"berth delete `+id+`"`)
				if r := e.berth("delete", id); r.code != 0 {
					t.Errorf("%s: delete (without --force) of the killed create: %v", where, r)
				}
			}
			status = e.saneStatus(id, where)
		}
	}
	if listed := e.listStatus(id); listed != status {
		later := e.saneStatus(id, where)
		if listed != later || statusRank[later] <= statusRank[status] {
			t.Errorf("%s: list says %q, state says %q then %q", where, listed, status, later)
		}
	}
	if status == "created" {
		// A container that reads "created" must really be startable, or
		// have moved on meanwhile.
		if r := e.berth("start", id); r.code != 0 {
			if now := e.saneStatus(id, where); statusRank[now] <= statusRank["created"] {
				t.Errorf("%s: the container reads %s but start fails: %v", where, now, r)
			}
		}
	}
	if r := e.berth("delete", "--force", id); r.code != 0 {
		t.Errorf("%s: delete --force after the crash: %v", where, r)
	}
	assertError(t, e.berth("state", id), "does not exist")
	e.checkLeaks()
	for _, p := range e.strayProcs() {
		t.Errorf("%s: leak: process %s still runs in this test's directories", where, p)
	}
}

// statusRank orders the statuses a container moves through.
var statusRank = map[string]int{"creating": 1, "created": 2, "running": 3, "stopped": 4}

// saneStatus is the status `state` prints for id ("" when it says the
// container does not exist), checked for sense: a created or running
// container has a live pid.
func (e *env) saneStatus(id, where string) string {
	t := e.t
	t.Helper()
	r := e.berth("state", id)
	if r.code != 0 {
		assertError(t, r, "does not exist")
		return ""
	}
	var s state
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatalf("%s: state prints bad JSON %q: %v", where, r.stdout, err)
	}
	switch s.Status {
	case "created", "running":
		if s.Pid <= 0 {
			t.Errorf("%s: status %s but pid %d", where, s.Status, s.Pid)
		} else if !pidAlive(s.Pid) {
			// The init of a killed command, dying as we looked: it must
			// now read stopped.
			e.waitStatus(id, "stopped")
			return "stopped"
		}
	case "creating", "stopped":
	default:
		t.Errorf("%s: state says %q", where, s.Status)
	}
	return s.Status
}

// listStatus is the status `list` shows for id, "" when it is not listed.
func (e *env) listStatus(id string) string {
	e.t.Helper()
	r := e.mustBerth("list", "--format", "json")
	var all []state
	if err := json.Unmarshal([]byte(r.stdout), &all); err != nil {
		e.t.Fatalf("list prints bad JSON %q: %v", r.stdout, err)
	}
	for _, s := range all {
		if s.ID == id {
			return s.Status
		}
	}
	return ""
}

// strayProcs lists processes (as "pid cmdline") whose cwd or root is below
// the test's base directory: a berth init or nsenter stage that outlived
// its parent before it entered the container's cgroup or pivoted (its
// environment does not carry the test's tag, and its cwd is the bundle).
// Pivoted container processes are found by their cgroup instead. They may
// take a moment to notice their parent died, so this polls for a second.
func (e *env) strayProcs() []string {
	var out []string
	for i := 0; i < 50; i++ {
		out = procsBelow(e.base)
		if len(out) == 0 {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return out
}

func procsBelow(dir string) []string {
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, de := range entries {
		pid, err := strconv.Atoi(de.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if isZombie(pid) {
			continue
		}
		for _, link := range []string{"cwd", "root"} {
			target, err := os.Readlink(fmt.Sprintf("/proc/%d/%s", pid, link))
			if err == nil && (target == dir || strings.HasPrefix(target, dir+"/")) {
				cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
				out = append(out, fmt.Sprintf("%d (%s)", pid, strings.ReplaceAll(strings.TrimSpace(string(cmdline)), "\x00", " ")))
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

// isZombie reports whether pid is a zombie (or gone).
func isZombie(pid int) bool {
	f, err := os.Open(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	defer f.Close()
	st, _ := bufio.NewReader(f).ReadString('\n')
	i := strings.LastIndexByte(st, ')')
	return i < 0 || len(st) < i+3 || st[i+2] == 'Z' || st[i+2] == 'X'
}
