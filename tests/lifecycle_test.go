package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berthrun/berth/internal/testbundle"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// waitingScript prints "started", then waits; SIGTERM makes it print
// "got TERM" and exit 0 (pid 1 gets no signal it has no handler for).
const waitingScript = `trap 'echo got TERM; exit 0' TERM; echo started; while :; do sleep 0.05; done`

// pidsInNS lists the host pids that share the pid namespace of pid.
func pidsInNS(t *testing.T, pid int) []int {
	t.Helper()
	want, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid))
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, de := range entries {
		p, err := strconv.Atoi(de.Name())
		if err != nil {
			continue
		}
		if ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", p)); err == nil && ns == want && pidAlive(p) {
			out = append(out, p)
		}
	}
	sort.Ints(out)
	return out
}

// waitGone waits until pid has exited (or is a zombie).
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for pidAlive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("pid %d still alive after 10s", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitOutput waits until the file f (a container's stdout) contains want.
func waitOutput(t *testing.T, f *os.File, want string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := readFrom(f.Name(), 0)
		if strings.Contains(s, want) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("container output %q: no %q after 10s", s, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	spec := sh(waitingScript)
	spec.Annotations = map[string]string{"org.example.key": "value"}
	bundle := e.bundle(spec)
	id := e.id("life")
	out := e.tempFile("ctr-stdout")
	pidFile := filepath.Join(e.base, "pid")

	r := e.berthOpts(runOpts{stdout: out}, "create", "--bundle", bundle, "--pid-file", pidFile, id)
	if r.code != 0 {
		t.Fatalf("create: %v", r)
	}
	s := e.state(id)
	if s.Status != "created" {
		t.Errorf("after create: status %q, want created", s.Status)
	}
	if s.Pid <= 0 || !pidAlive(s.Pid) {
		t.Fatalf("after create: pid %d is not a live process", s.Pid)
	}
	if got := strings.TrimSpace(waitFile(t, pidFile)); got != strconv.Itoa(s.Pid) {
		t.Errorf("--pid-file holds %q, state says pid %d", got, s.Pid)
	}
	if s.ID != id || s.Bundle != bundle || s.Rootfs != filepath.Join(bundle, "rootfs") {
		t.Errorf("state id/bundle/rootfs = %q %q %q, want %q %q %q", s.ID, s.Bundle, s.Rootfs, id, bundle, filepath.Join(bundle, "rootfs"))
	}
	if s.OCIVersion == "" || !strings.HasPrefix(s.OCIVersion, "1.") {
		t.Errorf("state ociVersion %q", s.OCIVersion)
	}
	if d := time.Since(s.Created); d < 0 || d > time.Minute {
		t.Errorf("state created %v is not about now", s.Created)
	}
	if s.Annotations["org.example.key"] != "value" {
		t.Errorf("state annotations %v, want org.example.key=value", s.Annotations)
	}
	var raw map[string]any
	json.Unmarshal([]byte(e.mustBerth("state", id).stdout), &raw)
	for _, k := range []string{"ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("state JSON has no %q: %v", k, raw)
		}
	}
	// The init waits in the container's cgroup, named for the id by default.
	inCgroup := false
	for _, p := range cgroupOf(t, s.Pid) {
		if strings.Contains(p, id) {
			inCgroup = true
		}
	}
	if !inCgroup {
		t.Errorf("init %d is in no cgroup named for %s: %v", s.Pid, id, cgroupOf(t, s.Pid))
	}
	if strings.Contains(readFrom(out.Name(), 0), "started") {
		t.Errorf("the process ran before start")
	}

	e.mustBerth("start", id)
	waitOutput(t, out, "started")
	s2 := e.state(id)
	if s2.Status != "running" || s2.Pid != s.Pid {
		t.Errorf("after start: status %q pid %d, want running pid %d", s2.Status, s2.Pid, s.Pid)
	}

	e.mustBerth("kill", id) // SIGTERM by default
	waitOutput(t, out, "got TERM")
	s3 := e.waitStatus(id, "stopped")
	if s3.Pid != 0 {
		t.Errorf("stopped container reports pid %d, want 0", s3.Pid)
	}
	waitGone(t, s.Pid)

	e.mustBerth("delete", id)
	assertError(t, e.berth("state", id), id)
	if _, err := os.Stat(filepath.Join(e.root, id)); !os.IsNotExist(err) {
		t.Errorf("state dir of %s remains after delete: %v", id, err)
	}
}

func TestRunExitCodes(t *testing.T) {
	t.Parallel()
	noPidNS := func(s *specs.Spec) {
		var ns []specs.LinuxNamespace
		for _, n := range s.Linux.Namespaces {
			if n.Type != specs.PIDNamespace {
				ns = append(ns, n)
			}
		}
		s.Linux.Namespaces = ns
	}
	for _, tc := range []struct {
		name   string
		script string
		modify func(*specs.Spec)
		code   int
	}{
		{"zero", "exit 0", nil, 0},
		{"three", "exit 3", nil, 3},
		{"false", "false", nil, 1},
		// Not pid 1 (no pid namespace), so it can kill itself.
		{"sigkill", "kill -KILL $$", noPidNS, 137},
		{"sigterm", "kill -TERM $$", noPidNS, 143},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			spec := sh(tc.script)
			if tc.modify != nil {
				tc.modify(spec)
			}
			r := e.run(spec)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d\n%v", r.code, tc.code, r)
			}
			if tc.code != 0 && strings.Contains(r.stderr, "berth:") {
				t.Errorf("a container's own exit status is not a berth error: %q", r.stderr)
			}
		})
	}
}

// TestRunKilledByBerthKill: a foreground run whose container gets SIGKILL
// from `berth kill` exits 137 and leaves nothing.
func TestRunKilledByBerthKill(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.bundle(sh(waitingScript))
	id := e.id("fgkill")
	run := e.berthBackground("run", "--bundle", b, id)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(run.stdoutSoFar(), "started") {
		if time.Now().After(deadline) {
			t.Fatalf("container never started; stdout %q", run.stdoutSoFar())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if s := e.state(id); s.Status != "running" {
		t.Errorf("status %q, want running", s.Status)
	}
	// The foreground run must not keep other commands out of its
	// container while it waits.
	if r := e.berthOpts(runOpts{timeout: 5 * time.Second}, "kill", id, "KILL"); r.code != 0 {
		t.Fatalf("%v", r)
	}
	r := run.wait(t)
	if r.code != 137 {
		t.Errorf("run exit %d, want 137\n%v", r.code, r)
	}
	// run deletes its container when it exits.
	assertError(t, e.berth("state", id))
}

// TestRunForwardsSignals: a signal sent to the foreground `berth run`
// reaches the container's init.
func TestRunForwardsSignals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.bundle(sh(`trap 'echo got USR1; exit 7' USR1; echo started; while :; do sleep 0.05; done`))
	run := e.berthBackground("run", "--bundle", b, e.id("fwd"))
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(run.stdoutSoFar(), "started") {
		if time.Now().After(deadline) {
			t.Fatalf("container never started; stdout %q", run.stdoutSoFar())
		}
		time.Sleep(10 * time.Millisecond)
	}
	run.cmd.Process.Signal(syscall.SIGUSR1)
	r := run.wait(t)
	if r.code != 7 || !strings.Contains(r.stdout, "got USR1") {
		t.Errorf("want exit 7 after USR1 was forwarded\n%v", r)
	}
}

func TestRunDetachAndPidFile(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.bundle(sh(waitingScript))
	id := e.id("detach")
	pidFile := filepath.Join(e.base, "run.pid")
	e.mustBerth("run", "-d", "--pid-file", pidFile, "--bundle", b, id)
	s := e.state(id)
	if s.Status != "running" {
		t.Errorf("after run -d: status %q, want running", s.Status)
	}
	if got := strings.TrimSpace(waitFile(t, pidFile)); got != strconv.Itoa(s.Pid) {
		t.Errorf("--pid-file holds %q, state says %d", got, s.Pid)
	}
	e.mustBerth("kill", id, "SIGKILL")
	e.waitStatus(id, "stopped")
	e.mustBerth("delete", id)
}

// TestPidFileRelative: --pid-file relative to the caller's directory.
func TestPidFileRelative(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.bundle(sh("sleep 100"))
	id := e.id("relpid")
	r := e.berthOpts(runOpts{}, "create", "--bundle", b, "--pid-file", filepath.Join(e.base, "sub", "..", "c.pid"), id)
	if r.code != 0 {
		t.Fatalf("%v", r)
	}
	s := e.state(id)
	if got := strings.TrimSpace(waitFile(t, filepath.Join(e.base, "c.pid"))); got != strconv.Itoa(s.Pid) {
		t.Errorf("--pid-file holds %q, want %d", got, s.Pid)
	}
}

func TestList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// An empty root (a missing --root is an error: TestListMissingRoot).
	if err := os.MkdirAll(e.root, 0o700); err != nil {
		t.Fatal(err)
	}
	if r := e.mustBerth("list", "-q"); r.stdout != "" {
		t.Errorf("list -q of an empty root printed %q", r.stdout)
	}
	b := e.bundle(sh(waitingScript))
	created, running := e.id("listc"), e.id("listr")
	e.mustBerth("create", "--bundle", b, created)
	e.mustBerth("run", "-d", "--bundle", b, running)
	want := map[string]string{created: "created", running: "running"}

	q := lines(e.mustBerth("list", "-q").stdout)
	sort.Strings(q)
	wantIDs := []string{created, running}
	sort.Strings(wantIDs)
	if strings.Join(q, ",") != strings.Join(wantIDs, ",") {
		t.Errorf("list -q = %q, want %q", q, wantIDs)
	}

	table := lines(e.mustBerth("list").stdout)
	if len(table) != 3 {
		t.Fatalf("list table: %d lines, want header + 2: %q", len(table), table)
	}
	header := strings.Fields(table[0])
	if strings.Join(header, " ") != "ID PID STATUS BUNDLE CREATED OWNER" {
		t.Errorf("list header %q", table[0])
	}
	for _, row := range table[1:] {
		f := strings.Fields(row)
		if len(f) != 6 {
			t.Errorf("list row %q: want 6 columns", row)
			continue
		}
		if want[f[0]] != f[2] {
			t.Errorf("list row %q: status %q, want %q", row, f[2], want[f[0]])
		}
		if f[3] != b {
			t.Errorf("list row %q: bundle %q, want %q", row, f[3], b)
		}
		if f[5] != "root" {
			t.Errorf("list row %q: owner %q, want root", row, f[5])
		}
		if pid, err := strconv.Atoi(f[1]); err != nil || pid <= 0 {
			t.Errorf("list row %q: pid %q", row, f[1])
		}
	}

	for _, format := range [][]string{{"--format", "json"}, {"-f", "json"}} {
		var states []state
		r := e.mustBerth(append([]string{"list"}, format...)...)
		if err := json.Unmarshal([]byte(r.stdout), &states); err != nil {
			t.Fatalf("list %v: bad JSON %q: %v", format, r.stdout, err)
		}
		if len(states) != 2 {
			t.Errorf("list %v: %d containers, want 2", format, len(states))
		}
		for _, s := range states {
			if want[s.ID] != s.Status || s.Pid <= 0 || s.Bundle != b || s.Owner != "root" {
				t.Errorf("list %v: %+v", format, s)
			}
		}
	}
	assertError(t, e.berth("list", "--format", "yaml"), "yaml")
}

func TestWrongState(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.bundle(sh(waitingScript))

	// start twice.
	running := e.id("twice")
	e.mustBerth("create", "--bundle", b, running)
	e.mustBerth("start", running)
	before := e.state(running)
	assertError(t, e.berth("start", running), running)
	if s := e.state(running); s.Status != "running" || s.Pid != before.Pid {
		t.Errorf("second start changed the container: %+v", s)
	}

	// delete a running container without --force.
	assertError(t, e.berth("delete", running), running)
	if s := e.state(running); s.Status != "running" || !pidAlive(s.Pid) {
		t.Errorf("refused delete changed the container: %+v", s)
	}

	// kill and start a stopped container.
	e.mustBerth("kill", running, "KILL")
	e.waitStatus(running, "stopped")
	assertError(t, e.berth("kill", running), running)
	assertError(t, e.berth("kill", running, "KILL"), running)
	assertError(t, e.berth("start", running), running)
	if s := e.state(running); s.Status != "stopped" {
		t.Errorf("after refused operations: status %q, want stopped", s.Status)
	}
	e.mustBerth("delete", running)

	// operations on a container that does not exist.
	missing := "e2e-missing-" + randHex(3)
	for _, args := range [][]string{{"state", missing}, {"start", missing}, {"kill", missing}, {"delete", missing}} {
		assertError(t, e.berth(args...), missing)
	}
	// runc: delete --force of a missing container succeeds.
	if r := e.berth("delete", "--force", missing); r.code != 0 {
		t.Errorf("delete --force of a missing container: %v", r)
	}
}

// TestDeleteCreated: a created (not started) container can be deleted
// without --force, and its waiting init goes with it.
func TestDeleteCreated(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	out := e.tempFile("out")
	id := e.id("delcreated")
	if r := e.berthOpts(runOpts{stdout: out}, "create", "--bundle", e.bundle(sh("echo ran")), id); r.code != 0 {
		t.Fatalf("%v", r)
	}
	pid := e.state(id).Pid
	e.mustBerth("delete", id)
	waitGone(t, pid)
	assertError(t, e.berth("state", id))
	if s := readFrom(out.Name(), 0); strings.Contains(s, "ran") {
		t.Errorf("the process of a deleted created container ran: %q", s)
	}
}

func TestDeleteForceRunning(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.id("force")
	out := e.tempFile("out")
	// The init ignores SIGTERM; --force must still get rid of it.
	if r := e.berthOpts(runOpts{stdout: out}, "run", "-d", "--bundle", e.bundle(sh(`trap '' TERM; sleep 1000 & echo started; sleep 1000`)), id); r.code != 0 {
		t.Fatalf("%v", r)
	}
	waitOutput(t, out, "started")
	s := e.state(id)
	var pids []int
	for deadline := time.Now().Add(10 * time.Second); len(pids) < 2 && time.Now().Before(deadline); {
		pids = pidsInNS(t, s.Pid)
		time.Sleep(10 * time.Millisecond)
	}
	if len(pids) < 2 {
		t.Fatalf("want 2 processes in the container, got %v", pids)
	}
	e.mustBerth("delete", "--force", id)
	for _, p := range pids {
		waitGone(t, p)
	}
	assertError(t, e.berth("state", id))
}

func TestCreateDuplicateID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.bundle(sh("sleep 100"))
	id := e.id("dup")
	e.mustBerth("create", "--bundle", b, id)
	before := e.state(id)
	assertError(t, e.berth("create", "--bundle", b, id), id)
	assertError(t, e.berth("run", "--bundle", b, id), id)
	after := e.state(id)
	if after.Status != "created" || after.Pid != before.Pid || !after.Created.Equal(before.Created) {
		t.Errorf("a refused create changed the first container: %+v then %+v", before, after)
	}
	if !pidAlive(before.Pid) {
		t.Errorf("the first container's init %d died", before.Pid)
	}
}

// TestDeleteForegroundRun: a container run in the foreground can be
// deleted from outside; the run then exits with the init's fate (SIGKILL).
func TestDeleteForegroundRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.id("fgdelete")
	run := e.berthBackground("run", "--bundle", e.bundle(sh(waitingScript)), id)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(run.stdoutSoFar(), "started") {
		if time.Now().After(deadline) {
			t.Fatalf("container never started; stdout %q", run.stdoutSoFar())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if r := e.berthOpts(runOpts{timeout: 10 * time.Second}, "delete", "--force", id); r.code != 0 {
		t.Fatalf("%v", r)
	}
	r := run.wait(t)
	if r.code != 137 {
		t.Errorf("run exit %d after delete --force, want 137\n%v", r.code, r)
	}
	assertError(t, e.berth("state", id), id)
}

// TestRootPath: root.path may be absolute, or a symlink to the rootfs.
func TestRootPath(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	spec := sh("echo ok")
	b := e.bundle(spec)
	rootfs := filepath.Join(b, "rootfs")

	spec.Root.Path = rootfs
	testbundle.Write(b, spec)
	if r := e.berth("run", "--bundle", b, e.id("abs")); r.code != 0 || r.stdout != "ok\n" {
		t.Errorf("absolute root.path: %v", r)
	}

	os.Symlink("rootfs", filepath.Join(b, "link"))
	spec.Root.Path = "link"
	testbundle.Write(b, spec)
	id := e.id("link")
	if r := e.berth("run", "-d", "--bundle", b, id); r.code != 0 {
		t.Fatalf("symlinked root.path: %v", r)
	}
	if s := e.waitStatus(id, "stopped"); s.Rootfs != rootfs && s.Rootfs != filepath.Join(b, "link") {
		t.Errorf("state rootfs %q", s.Rootfs)
	}
	e.mustBerth("delete", id)

	// A bundle given relative to the working directory.
	if r := e.berthOpts(runOpts{dir: filepath.Dir(b)}, "run", "--bundle", filepath.Base(b), e.id("rel")); r.code != 0 || r.stdout != "ok\n" {
		t.Errorf("relative --bundle: %v", r)
	}
	// The default bundle is the working directory.
	spec.Root.Path = "rootfs"
	testbundle.Write(b, spec)
	if r := e.berthOpts(runOpts{dir: b}, "run", e.id("cwd")); r.code != 0 || r.stdout != "ok\n" {
		t.Errorf("bundle from the working directory: %v", r)
	}
}

// TestCreateWithPipes: like containerd, give create pipes for stdio. create
// returns while the container holds them; after start the container's
// output arrives on the pipe, which closes when the container exits.
func TestCreateWithPipes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer outR.Close()
	errR, errW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer errR.Close()
	id := e.id("pipes")
	r := e.berthOpts(runOpts{stdout: outW, stderr: errW, stdin: "from-stdin\n"}, "create", "--bundle", e.bundle(sh("cat; echo to-out; echo to-err >&2")), id)
	outW.Close()
	errW.Close()
	if r.code != 0 {
		b := make([]byte, 4096)
		n, _ := errR.Read(b)
		t.Fatalf("create with pipes: exit %d: %s", r.code, b[:n])
	}
	e.mustBerth("start", id)
	done := make(chan string)
	go func() {
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := outR.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		done <- b.String()
	}()
	select {
	case out := <-done:
		if out != "from-stdin\nto-out\n" {
			t.Errorf("container stdout through the pipe: %q", out)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("the container's stdout pipe never closed")
	}
	b := make([]byte, 4096)
	n, _ := errR.Read(b)
	if string(b[:n]) != "to-err\n" {
		t.Errorf("container stderr through the pipe: %q", b[:n])
	}
	e.waitStatus(id, "stopped")
	e.mustBerth("delete", id)
}
