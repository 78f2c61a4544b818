// Package tests holds the end-to-end tests of the built berth binary: every
// test drives bin/berth through its command line on busybox bundles and
// asserts what is seen inside the container or on the host. Nothing here
// imports libcontainer or specconv.
package tests

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berthrun/berth/internal/hostscan"
	"github.com/berthrun/berth/internal/testbin"
	"github.com/berthrun/berth/internal/testbundle"
)

// berthBin is the binary under test: $BERTH_BIN, or one built by TestMain.
var berthBin string

// skipReason, when set, skips every test (not root, no busybox-static).
var skipReason string

// commandTimeout bounds every berth invocation: a hung command fails the
// test instead of the whole suite.
const commandTimeout = 30 * time.Second

// systemdCgroup is the harness switch BERTH_TEST_SYSTEMD_CGROUP=1: every
// berth command of every test then carries --systemd-cgroup, so each
// container is a transient systemd scope. A bundle's empty cgroupsPath is
// then the systemd driver's default, "system.slice:berth:<id>" (runc's
// too); tests that set a cgroupsPath ask cgroupsPathFor for the driver's
// form. make vmtest runs the suite once without and once with it, on a
// host with systemd as pid 1.
var systemdCgroup = os.Getenv("BERTH_TEST_SYSTEMD_CGROUP") == "1"

// tagVar is set in the environment of every berth command a test runs; the
// leak check looks for processes still carrying the test's tag (a stray
// parent or a "berth init" that never exec'd the container process).
const tagVar = "BERTH_E2E_TAG"

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	switch {
	case os.Geteuid() != 0:
		skipReason = "the end-to-end tests need root (run them with sudo or as root)"
	default:
		if _, err := os.Stat(testbundle.Busybox); err != nil {
			skipReason = "no " + testbundle.Busybox + ": apt-get install busybox-static"
		}
	}
	if skipReason == "" && systemdCgroup && !systemdRunning() {
		skipReason = "BERTH_TEST_SYSTEMD_CGROUP=1 but systemd is not running on this host (no /run/systemd/system)"
	}
	if skipReason != "" {
		fmt.Fprintf(os.Stderr, "tests: skipping every test: %s\n", skipReason)
		return m.Run()
	}
	var cleanup func()
	var err error
	if berthBin, cleanup, err = testbin.Berth(); err != nil {
		fmt.Fprintln(os.Stderr, "tests:", err)
		return 1
	}
	defer cleanup()
	defer removeSdnotify()
	defer undoLinger()
	return m.Run()
}

// systemdRunning reports whether systemd is pid 1 here (sd_booted(3)).
func systemdRunning() bool {
	fi, err := os.Lstat("/run/systemd/system")
	return err == nil && fi.IsDir()
}

// globals are the global flags of every berth command a test runs: its
// --root, and --systemd-cgroup under the harness switch.
func (e *env) globals() []string {
	if systemdCgroup {
		return []string{"--systemd-cgroup", "--root", e.root}
	}
	return []string{"--root", e.root}
}

// randHex returns n random bytes in hex.
func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// env is one test's world: a private state root, a base directory holding
// its bundles, and the container ids it used. Its cleanup force-deletes
// every container, checks that nothing leaked and removes everything.
type env struct {
	t    *testing.T
	base string // everything of this test lives below here
	root string // --root
	tag  string // value of tagVar for this test's berth commands
	ids  []string
	n    int
	bgs  []*bg
}

// newEnv prepares a test: it skips when the suite cannot run, and registers
// the cleanup and leak check.
func newEnv(t *testing.T) *env {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	base, err := os.MkdirTemp("", "berth-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	// Traversable by the unprivileged ids of user-namespaced containers.
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, base: base, root: filepath.Join(base, "state"), tag: randHex(8)}
	t.Cleanup(e.cleanup)
	return e
}

// id returns a fresh container id for this test and remembers it for the
// cleanup and leak check.
func (e *env) id(name string) string {
	e.n++
	id := fmt.Sprintf("e2e-%s-%d-%s", name, e.n, randHex(3))
	e.ids = append(e.ids, id)
	return id
}

// track remembers an id that was not made by e.id (so cleanup deletes it).
func (e *env) track(id string) { e.ids = append(e.ids, id) }

// dir makes a fresh directory below the test's base.
func (e *env) dir(name string) string {
	e.t.Helper()
	d, err := os.MkdirTemp(e.base, name+"-")
	if err != nil {
		e.t.Fatal(err)
	}
	if err := os.Chmod(d, 0o755); err != nil {
		e.t.Fatal(err)
	}
	return d
}

// bundle writes a busybox bundle with spec and returns its directory.
func (e *env) bundle(spec *specs.Spec) string {
	e.t.Helper()
	d := e.dir("bundle")
	if err := testbundle.New(d, spec); err != nil {
		e.t.Fatalf("making bundle: %v", err)
	}
	return d
}

// result is what one berth command did.
type result struct {
	args   []string
	stdout string
	stderr string
	code   int
}

func (r result) String() string {
	return fmt.Sprintf("berth %s: exit %d\nstdout: %q\nstderr: %q", strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

// runOpts shape one berth invocation.
type runOpts struct {
	stdin      string     // fed on stdin (else /dev/null)
	extraFiles []*os.File // become fds 3, 4, ...
	noRoot     bool       // do not add --root
	timeout    time.Duration
	stdout     *os.File // the command's (and its container's) stdout; else a temp file
	stderr     *os.File // likewise for stderr
	dir        string   // working directory of the command
	env        []string // added to the command's environment
	// wrap runs berth through this command line (e.g. taskset -c 0):
	// wrap..., berth, args...
	wrap []string
}

// berth runs the binary with --root and args and returns what it did. Its
// stdout and stderr go to files, not pipes: a detached container inherits
// them and would otherwise keep the command from being reaped.
func (e *env) berth(args ...string) result {
	e.t.Helper()
	return e.berthOpts(runOpts{}, args...)
}

func (e *env) berthOpts(o runOpts, args ...string) result {
	e.t.Helper()
	full := args
	if !o.noRoot {
		full = append(e.globals(), args...)
	}
	timeout := o.timeout
	if timeout == 0 {
		timeout = commandTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, berthBin, full...)
	if len(o.wrap) > 0 {
		cmd = exec.CommandContext(ctx, o.wrap[0], append(append(o.wrap[1:], berthBin), full...)...)
	}
	cmd.Env = append(append(os.Environ(), tagVar+"="+e.tag), o.env...)
	cmd.ExtraFiles = o.extraFiles
	cmd.Dir = o.dir
	outF, errF := o.stdout, o.stderr
	if outF == nil {
		outF = e.tempFile("stdout")
		defer os.Remove(outF.Name())
		defer outF.Close()
	}
	if errF == nil {
		errF = e.tempFile("stderr")
		defer os.Remove(errF.Name())
		defer errF.Close()
	}
	outStart, _ := outF.Seek(0, 1)
	errStart, _ := errF.Seek(0, 1)
	cmd.Stdout, cmd.Stderr = outF, errF
	if o.stdin != "" {
		cmd.Stdin = strings.NewReader(o.stdin)
	}
	runErr := cmd.Run()
	stdout := readFrom(outF.Name(), outStart)
	stderr := readFrom(errF.Name(), errStart)
	r := result{args: full, stdout: stdout, stderr: stderr}
	var ee *exec.ExitError
	switch {
	case runErr == nil:
	case ctx.Err() != nil:
		e.t.Fatalf("berth %s: timed out after %v\nstdout: %q\nstderr: %q", strings.Join(full, " "), timeout, stdout, stderr)
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

// tempFile creates an empty file below the test's base directory.
func (e *env) tempFile(name string) *os.File {
	e.t.Helper()
	f, err := os.CreateTemp(e.base, name+"-")
	if err != nil {
		e.t.Fatal(err)
	}
	return f
}

// readFrom returns the content of path from offset on.
func readFrom(path string, offset int64) string {
	b, _ := os.ReadFile(path)
	if offset > int64(len(b)) {
		return ""
	}
	return string(b[offset:])
}

// bg is a berth command running in the background (a foreground run).
type bg struct {
	cmd       *exec.Cmd
	done      chan struct{}
	err       error
	out, err2 *os.File
}

// berthBackground starts berth with args and returns at once.
func (e *env) berthBackground(args ...string) *bg {
	e.t.Helper()
	return e.berthBackgroundEnv(nil, args...)
}

// berthBackgroundEnv is berthBackground with extra environment variables.
func (e *env) berthBackgroundEnv(extraEnv []string, args ...string) *bg {
	e.t.Helper()
	full := append(e.globals(), args...)
	cmd := exec.Command(berthBin, full...)
	cmd.Env = append(append(os.Environ(), tagVar+"="+e.tag), extraEnv...)
	b := &bg{cmd: cmd, done: make(chan struct{}), out: e.tempFile("bg-stdout"), err2: e.tempFile("bg-stderr")}
	cmd.Stdout, cmd.Stderr = b.out, b.err2
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() { b.err = cmd.Wait(); close(b.done) }()
	e.bgs = append(e.bgs, b)
	return b
}

// wait waits for the background command and returns what it did.
func (b *bg) wait(t *testing.T) result {
	t.Helper()
	select {
	case <-b.done:
	case <-time.After(commandTimeout):
		b.cmd.Process.Kill()
		<-b.done
		t.Fatalf("berth %s: timed out", strings.Join(b.cmd.Args[1:], " "))
	}
	r := result{args: b.cmd.Args[1:], stdout: readFrom(b.out.Name(), 0), stderr: readFrom(b.err2.Name(), 0)}
	var ee *exec.ExitError
	if errors.As(b.err, &ee) {
		r.code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			r.code = 128 + int(ws.Signal())
		}
	} else if b.err != nil {
		t.Fatalf("berth %s: %v", strings.Join(r.args, " "), b.err)
	}
	return r
}

// stdoutSoFar is what the background command has printed yet.
func (b *bg) stdoutSoFar() string { return readFrom(b.out.Name(), 0) }

// mustBerth runs berth and fails the test unless it exits 0.
func (e *env) mustBerth(args ...string) result {
	e.t.Helper()
	r := e.berth(args...)
	if r.code != 0 {
		e.t.Fatalf("%v", r)
	}
	return r
}

// run makes a bundle from spec, runs it in the foreground under a fresh id
// and returns the result (the container's stdout and stderr pass through).
func (e *env) run(spec *specs.Spec, extra ...string) result {
	e.t.Helper()
	b := e.bundle(spec)
	args := append([]string{"run", "--bundle", b}, extra...)
	return e.berth(append(args, e.id("run"))...)
}

// mustRun is run that fails the test unless the container exits 0; it
// returns the container's stdout.
func (e *env) mustRun(spec *specs.Spec, extra ...string) string {
	e.t.Helper()
	r := e.run(spec, extra...)
	if r.code != 0 {
		e.t.Fatalf("run failed: %v", r)
	}
	return r.stdout
}

// state is the JSON of `berth state`.
type state struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      string            `json:"status"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Owner       string            `json:"owner"`
	Annotations map[string]string `json:"annotations"`
}

// state returns the state of id, failing the test if berth cannot.
func (e *env) state(id string) state {
	e.t.Helper()
	r := e.mustBerth("state", id)
	var s state
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		e.t.Fatalf("state %s: bad JSON %q: %v", id, r.stdout, err)
	}
	return s
}

// waitStatus polls the state of id until it is want.
func (e *env) waitStatus(id, want string) state {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := e.state(id)
		if s.Status == want {
			return s
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("container %s: status %q, want %q", id, s.Status, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitFile polls until path exists and is not empty, and returns its content.
func waitFile(t *testing.T, path string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if err == nil && len(b) > 0 {
			return string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still missing or empty after 10s", path)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// assertError checks the error contract: exit 1 and one line on stderr,
// starting "berth: " and containing every one of want.
func assertError(t *testing.T, r result, want ...string) {
	t.Helper()
	assertErrorCode(t, r, 1, want...)
}

// assertExecError is assertError for exec once its command line is
// understood: berth's failures exit 255 there, as runc's exec does.
func assertExecError(t *testing.T, r result, want ...string) {
	t.Helper()
	assertErrorCode(t, r, 255, want...)
}

func assertErrorCode(t *testing.T, r result, code int, want ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit %d, want %d\n%v", r.code, code, r)
		return
	}
	line := strings.TrimSuffix(r.stderr, "\n")
	if line == "" || strings.Contains(line, "\n") {
		t.Errorf("stderr is not exactly one line: %q", r.stderr)
	}
	if !strings.HasPrefix(line, "berth: ") {
		t.Errorf("stderr does not start with \"berth: \": %q", r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(line, w) {
			t.Errorf("stderr %q does not mention %q", line, w)
		}
	}
}

// cleanup force-deletes every container of the test, checks for leaks and
// removes the test's directories.
func (e *env) cleanup() {
	t := e.t
	// A foreground run still going at this point is a failed test: stop
	// it so that it releases the container and delete can proceed.
	for _, b := range e.bgs {
		select {
		case <-b.done:
		case <-time.After(5 * time.Second):
			t.Errorf("cleanup: berth %s still running; killing it", strings.Join(b.cmd.Args[1:], " "))
			b.cmd.Process.Kill()
			<-b.done
		}
		b.out.Close()
		b.err2.Close()
	}
	for _, id := range e.ids {
		r := e.berthQuiet("delete", "--force", id)
		if r.code != 0 && !t.Failed() {
			t.Errorf("cleanup: %v", r)
		}
	}
	e.checkLeaks()
	// Unmount anything left below base (after reporting it) so that
	// RemoveAll never walks into a bind-mounted host directory.
	for _, m := range hostscan.MountsBelow(e.base) {
		syscall.Unmount(m, syscall.MNT_DETACH)
	}
	if len(hostscan.MountsBelow(e.base)) == 0 {
		os.RemoveAll(e.base)
	} else {
		t.Errorf("leak: could not unmount everything below %s; left it in place", e.base)
	}
}

// berthQuiet is berth without t.Fatal (usable from cleanups).
func (e *env) berthQuiet(args ...string) result {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	full := append(e.globals(), args...)
	cmd := exec.CommandContext(ctx, berthBin, full...)
	cmd.Env = append(os.Environ(), tagVar+"="+e.tag)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	r := result{args: full, stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
	} else if err != nil {
		r.code = -1
		r.stderr += err.Error()
	}
	return r
}

// sh is the spec of a container that runs script with busybox sh.
func sh(script string) *specs.Spec {
	return testbundle.Spec("sh", "-c", script)
}

// lines splits output into trimmed non-empty lines.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// parseKV parses "key=value" lines (as printed by the scripts run inside).
func parseKV(s string) map[string]string {
	out := map[string]string{}
	for _, l := range lines(s) {
		if k, v, ok := strings.Cut(l, "="); ok {
			out[k] = v
		}
	}
	return out
}
