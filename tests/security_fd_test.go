package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// CVE-2024-21626: a cwd of /proc/self/fd/N names a file descriptor the
// runtime holds while it sets up the process; a directory of the host
// there puts the process outside its root, where "../.." reaches the
// host's files. Every fd berth holds must be refused as a cwd (or be
// inside the root), and none may survive into the process.

// leakProbe is a script that prints its cwd and tries to read the host
// file secret by climbing from there.
func leakProbe(secret string) string {
	return fmt.Sprintf(`echo "cwd=$(pwd)"; cat %s%s 2>/dev/null; true`, strings.Repeat("../", 40), strings.TrimPrefix(secret, "/"))
}

// hostSecret writes a file of random content on the host.
func hostSecret(t *testing.T, e *env) (path, content string) {
	t.Helper()
	content = "host-secret-" + randHex(8)
	path = filepath.Join(e.dir("secret"), "secret")
	if err := os.WriteFile(path, []byte(content+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, content
}

// checkCwdAttempt: berth refused the cwd, or the process ran inside its
// root and could not read the host's secret.
func checkCwdAttempt(t *testing.T, what string, r result, secret string) {
	t.Helper()
	if strings.Contains(r.stdout, secret) {
		t.Errorf("%s: the process read a host file: %v", what, r)
	}
	t.Logf("%s: exit %d, %q", what, r.code, strings.TrimSpace(r.stdout+r.stderr))
	if r.code != 0 {
		if strings.HasPrefix(what, "exec") {
			assertExecError(t, r, "cwd") // exec's own failures exit 255
		} else {
			assertError(t, r, "cwd")
		}
		return
	}
	cwd := parseKV(r.stdout)["cwd"]
	if !strings.HasPrefix(cwd, "/") || strings.Contains(cwd, "unreachable") {
		t.Errorf("%s: the process runs with cwd %q, outside its root", what, cwd)
	}
}

func TestCVE2024_21626LeakedCwdRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	path, secret := hostSecret(t, e)
	for n := 3; n <= 12; n++ {
		spec := sh(leakProbe(path))
		spec.Process.Cwd = "/proc/self/fd/" + strconv.Itoa(n)
		r := e.berth("run", "--bundle", e.bundle(spec), e.id("cwd"))
		checkCwdAttempt(t, "run with "+spec.Process.Cwd, r, secret)
	}
}

func TestCVE2024_21626LeakedCwdExec(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	path, secret := hostSecret(t, e)
	id := e.startSleeper()
	for n := 3; n <= 12; n++ {
		cwd := "/proc/self/fd/" + strconv.Itoa(n)
		r := e.berth("exec", "--cwd", cwd, id, "sh", "-c", leakProbe(path))
		checkCwdAttempt(t, "exec with "+cwd, r, secret)
		p := execProcess("sh", "-c", leakProbe(path))
		p.Cwd = cwd
		r = e.berth("exec", "--process", e.processFile(p), id)
		checkCwdAttempt(t, "exec --process with "+cwd, r, secret)
	}
}

// fdsOf parses `ls /proc/<pid>/fd` output into fd numbers.
func fdsOf(t *testing.T, out string) []int {
	t.Helper()
	var fds []int
	for _, f := range strings.Fields(out) {
		n, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("ls /proc/$$/fd printed %q", out)
		}
		fds = append(fds, n)
	}
	return fds
}

// TestCVE2024_21626NoLeakedFds: the container process and an exec'd one
// have stdio and the preserved fds, nothing of berth's.
func TestCVE2024_21626NoLeakedFds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	extra := e.tempFile("preserved")
	defer extra.Close()
	// The shell lists its own fds ($$) from a child, holding nothing else.
	list := "ls /proc/$$/fd; true" // "; true": sh must not exec ls in its place
	want := func(preserved int) string {
		var s []string
		for fd := 0; fd < 3+preserved; fd++ {
			s = append(s, strconv.Itoa(fd))
		}
		return strings.Join(s, " ")
	}
	check := func(what string, r result, preserved int) {
		t.Helper()
		if r.code != 0 {
			t.Fatalf("%s: %v", what, r)
		}
		if got := fmt.Sprint(fdsOf(t, r.stdout)); got != "["+want(preserved)+"]" {
			t.Errorf("%s: fds %s open, want %s", what, got, want(preserved))
		}
	}
	b := e.bundle(sh(list))
	check("run", e.berth("run", "--bundle", b, e.id("fds")), 0)
	r := e.berthOpts(runOpts{extraFiles: []*os.File{extra}}, "run", "--preserve-fds", "1", "--bundle", b, e.id("fds"))
	check("run --preserve-fds 1", r, 1)
	id := e.startSleeper()
	check("exec", e.berth("exec", id, "sh", "-c", list), 0)
	r = e.berthOpts(runOpts{extraFiles: []*os.File{extra}}, "exec", "--preserve-fds", "1", id, "sh", "-c", list)
	check("exec --preserve-fds 1", r, 1)
}

// TestWaitingInitFds: a created container's pid 1 waits for start holding
// stdio and exec.fifo only, on both inits: no handle of the host's procfs
// (the /proc/self/fd directory the fifo was reopened through, a private
// procfs instance), no directory, no /dev/null of berth's. The Go init
// also holds its runtime's epoll and eventfd, which a Go process cannot
// shed. Until start, anything that can reach the init sees these fds.
func TestWaitingInitFds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, w := range runWays {
		id := e.id("waitfds")
		spec := sh("sleep 1000")
		spec.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"} // a write through the init's procfs handle
		if r := e.berthOpts(runOpts{env: w.env}, "create", "--bundle", e.bundle(spec), id); r.code != 0 {
			t.Fatalf("create, %s: %v", w.name, r)
		}
		pid := e.state(id).Pid
		waitBlockedOnFifo(t, pid)
		fifo := filepath.Join(e.root, id, "exec.fifo")
		dir := fmt.Sprintf("/proc/%d/fd", pid)
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, de := range entries {
			n, _ := strconv.Atoi(de.Name())
			target, _ := os.Readlink(filepath.Join(dir, de.Name()))
			switch {
			case n < 3, target == fifo:
			case w.env != nil && (target == "anon_inode:[eventpoll]" || target == "anon_inode:[eventfd]"):
			default:
				t.Errorf("%s: the waiting init holds fd %d on %q", w.name, n, target)
			}
		}
		e.mustBerth("start", id)
		e.waitStatus(id, "running")
	}
}

// waitBlockedOnFifo waits until pid sleeps in the open of exec.fifo: create
// returns at "ready", a moment before the init reaches its wait.
func waitBlockedOnFifo(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/wchan", pid)); strings.Contains(string(b), "fifo") || string(b) == "wait_for_partner" {
			return
		}
	}
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/wchan", pid))
	t.Fatalf("pid %d did not block on exec.fifo within 10s (wchan %q)", pid, b)
}
