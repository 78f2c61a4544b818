package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// startSleeper runs a detached container that sleeps and returns its id.
func (e *env) startSleeper() string {
	e.t.Helper()
	id := e.id("exec")
	e.mustBerth("run", "-d", "--bundle", e.bundle(sh("sleep 1000")), id)
	return id
}

func TestExecOutputAndExitCodes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.startSleeper()
	pid := e.state(id).Pid
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"echo", []string{"echo", "hello"}, 0, "hello"},
		{"exit code", []string{"sh", "-c", "exit 7"}, 7, ""},
		{"killed by signal", []string{"sh", "-c", "kill -KILL $$"}, 137, ""},
		{"hostname of the container", []string{"hostname"}, 0, "berth"},
		{"env flag", []string{"-e", "FOO=bar", id + "!", "sh", "-c", "echo $FOO"}, 0, "bar"},
		{"cwd flag", []string{"--cwd", "/tmp", id + "!", "pwd"}, 0, "/tmp"},
		{"user flag", []string{"-u", "1000:1001", "-g", "7", id + "!", "sh", "-c", "echo $(id -u):$(id -g):$(id -G)"}, 0, "1000:1001:1001 7"},
	}
	for _, tt := range tests {
		args := []string{"exec", id}
		if i := indexOf(tt.args, id+"!"); i >= 0 {
			args = append(append(append([]string{"exec"}, tt.args[:i]...), id), tt.args[i+1:]...)
		} else {
			args = append(args, tt.args...)
		}
		r := e.berth(args...)
		if r.code != tt.wantCode || !strings.Contains(r.stdout, tt.want) {
			t.Errorf("%s: %v; want exit %d and %q", tt.name, r, tt.wantCode, tt.want)
		}
	}
	// The exec'd process shares every namespace of the init.
	r := e.mustBerth("exec", id, "sh", "-c", "for n in pid mnt net ipc uts; do readlink /proc/self/ns/$n; done")
	for i, n := range []string{"pid", "mnt", "net", "ipc", "uts"} {
		want, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, n))
		if got := lines(r.stdout); len(got) != 5 || got[i] != want {
			t.Errorf("%s namespace of the exec'd process %v, want %s", n, got, want)
		}
	}
	// And its cgroup.
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	r = e.mustBerth("exec", id, "cat", "/proc/self/cgroup")
	if r.stdout != string(b) {
		t.Errorf("exec'd process cgroups:\n%s\nwant the init's:\n%s", r.stdout, b)
	}
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func TestExecDetachAndProcessFile(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.startSleeper()
	pidFile := filepath.Join(e.dir("pid"), "pid")
	e.mustBerth("exec", "-d", "--pid-file", pidFile, id, "sleep", "1000")
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	r := e.mustBerth("ps", "--format", "json", id)
	if !strings.Contains(r.stdout, strings.TrimSpace(string(b))) {
		t.Errorf("exec -d pid %s not among the container's processes %s", b, r.stdout)
	}
	proc := filepath.Join(e.dir("proc"), "process.json")
	os.WriteFile(proc, []byte(`{"args":["sh","-c","echo from-file $X"],"env":["X=1","PATH=/bin"],"cwd":"/","user":{"uid":0,"gid":0}}`), 0o644)
	if r := e.mustBerth("exec", "--process", proc, id); strings.TrimSpace(r.stdout) != "from-file 1" {
		t.Errorf("exec --process: %v", r)
	}
}

func TestExecBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.startSleeper()
	dir := e.dir("bad")
	os.WriteFile(filepath.Join(dir, "bad.json"), []byte("{not json"), 0o644)
	os.WriteFile(filepath.Join(dir, "noargs.json"), []byte(`{"cwd":"/"}`), 0o644)
	assertError(t, e.berth("exec", "--process", filepath.Join(dir, "missing.json"), id), "--process")
	assertError(t, e.berth("exec", "--process", filepath.Join(dir, "bad.json"), id), "invalid Process JSON")
	assertError(t, e.berth("exec", "--process", filepath.Join(dir, "noargs.json"), id), "args")
	assertError(t, e.berth("exec", id, "no-such-binary"), `"no-such-binary"`, "not found")
	assertError(t, e.berth("exec", "--cwd", "/etc/passwd", id, "true"), "process.cwd")
	assertError(t, e.berth("exec", "-u", "nobody", id, "true"), "--user")
	assertError(t, e.berth("exec", "-t", id, "true"), "--tty")
	assertError(t, e.berth("exec", "nosuch-"+randHex(3), "true"), "does not exist")
	e.mustBerth("pause", id)
	assertError(t, e.berth("exec", id, "true"), "paused")
	// With --ignore-paused the process joins the frozen cgroup, so it runs
	// once the container is resumed.
	bg := e.berthBackground("exec", "--ignore-paused", id, "echo", "ran")
	e.mustBerth("resume", id)
	if r := bg.wait(t); r.code != 0 || !strings.Contains(r.stdout, "ran") {
		t.Errorf("exec --ignore-paused: %v", r)
	}
	e.mustBerth("kill", id, "KILL")
	e.waitStatus(id, "stopped")
	assertError(t, e.berth("exec", id, "true"), "stopped")
}

// TestExecLoopLeavesNoZombie runs many short execs: none may hang, and
// nothing of them may be left behind.
func TestExecLoopLeavesNoZombie(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.startSleeper()
	for i := 0; i < 100; i++ {
		if r := e.berth("exec", id, "true"); r.code != 0 {
			t.Fatalf("exec %d: %v", i, r)
		}
	}
	r := e.mustBerth("ps", "--format", "json", id)
	if n := strings.Count(r.stdout, ",") + 1; n != 1 {
		t.Errorf("after 100 execs the container has %d processes: %s", n, r.stdout)
	}
	for _, p := range strings.Split(strings.Trim(strings.TrimSpace(r.stdout), "[]"), ",") {
		if _, err := strconv.Atoi(p); err != nil {
			t.Errorf("ps --format json: %q", r.stdout)
		}
	}
}

// TestSocketActivation: LISTEN_FDS for berth's own pid passes fds 3.. on,
// and the process sees LISTEN_FDS=N and LISTEN_PID=1.
func TestSocketActivation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.tempFile("listen")
	f.WriteString("listening-socket-stand-in\n")
	b := e.bundle(sh("echo $LISTEN_FDS:$LISTEN_PID; cat <&3"))
	script := "LISTEN_PID=$$ LISTEN_FDS=1 exec " + berthBin + " --root " + e.root + " run --bundle " + b + " " + e.id("listen") + " 3<" + f.Name()
	out, err := exec.Command("sh", "-c", script).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "1:1") || !strings.Contains(string(out), "listening-socket-stand-in") {
		t.Errorf("socket activation: %v: %q", err, out)
	}
}
