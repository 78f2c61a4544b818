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
	assertExecError(t, e.berth("exec", "--process", filepath.Join(dir, "missing.json"), id), "--process")
	assertExecError(t, e.berth("exec", "--process", filepath.Join(dir, "bad.json"), id), "invalid JSON")
	assertExecError(t, e.berth("exec", "--process", filepath.Join(dir, "noargs.json"), id), "args")
	assertExecError(t, e.berth("exec", id, "no-such-binary"), `"no-such-binary"`, "not found")
	assertExecError(t, e.berth("exec", "--cwd", "/etc/passwd", id, "true"), "process.cwd")
	assertExecError(t, e.berth("exec", "-u", "nobody", id, "true"), "--user")
	assertExecError(t, e.berth("exec", "nosuch-"+randHex(3), "true"), "does not exist")
	e.mustBerth("pause", id)
	assertExecError(t, e.berth("exec", id, "true"), "cannot exec in a paused container (use --ignore-paused to override)")
	// With --ignore-paused the process joins the frozen cgroup, so it runs
	// once the container is resumed.
	bg := e.berthBackground("exec", "--ignore-paused", id, "echo", "ran")
	e.mustBerth("resume", id)
	if r := bg.wait(t); r.code != 0 || !strings.Contains(r.stdout, "ran") {
		t.Errorf("exec --ignore-paused: %v", r)
	}
	e.mustBerth("kill", id, "KILL")
	e.waitStatus(id, "stopped")
	assertExecError(t, e.berth("exec", id, "true"), "stopped")
}

// TestExecLoopLeavesNoZombie runs 500 execs of true: none may hang (each
// is bounded), and none may leave a process behind in the container.
func TestExecLoopLeavesNoZombie(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.startSleeper()
	rounds := loops(500)
	e.loop(rounds, "exec "+id+" true")
	r := e.mustBerth("ps", "--format", "json", id)
	if n := strings.Count(r.stdout, ",") + 1; n != 1 {
		t.Errorf("after %d execs the container has %d processes: %s", rounds, n, r.stdout)
	}
	for _, p := range strings.Split(strings.Trim(strings.TrimSpace(r.stdout), "[]"), ",") {
		if _, err := strconv.Atoi(p); err != nil {
			t.Errorf("ps --format json: %q", r.stdout)
		}
	}
}

// TestRunLoopReturnsAtOnce runs a `true` container 500 times in the
// foreground: each run must return (bounded), exit 0 and delete itself.
func TestRunLoopReturnsAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.bundle(sh("true"))
	e.loop(loops(500), "run --bundle "+b+" "+e.id("loop")+"-$i")
	if ids, _ := os.ReadDir(e.root); len(ids) != 0 {
		t.Errorf("%d containers left in the state root after the loop", len(ids))
	}
}

// loops is n, or $BERTH_E2E_LOOPS when set: make vmtest's emulated guest
// runs a container in about a second, so 500 rounds of a loop would take
// most of its time budget there for what 50 rounds already show.
func loops(n int) int {
	if v, err := strconv.Atoi(os.Getenv("BERTH_E2E_LOOPS")); err == nil && v > 0 {
		return v
	}
	return n
}

// loop runs `berth GLOBALS ARGS` n times from a shell ($i is the
// iteration), each bounded by a timeout, and fails on the first failure.
func (e *env) loop(n int, args string) {
	e.t.Helper()
	script := fmt.Sprintf(`for i in $(seq %d); do timeout 20 %s %s %s || { echo "iteration $i: exit $?"; exit 1; }; done`, n, berthBin, strings.Join(e.globals(), " "), args)
	cmd := exec.Command("sh", "-c", script)
	cmd.Env = append(os.Environ(), tagVar+"="+e.tag)
	if out, err := cmd.CombinedOutput(); err != nil {
		e.t.Fatalf("%d× berth %s: %v\n%s", n, args, err, out)
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
	script := "LISTEN_PID=$$ LISTEN_FDS=1 exec " + berthBin + " " + strings.Join(e.globals(), " ") + " run --bundle " + b + " " + e.id("listen") + " 3<" + f.Name()
	out, err := exec.Command("sh", "-c", script).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "1:1") || !strings.Contains(string(out), "listening-socket-stand-in") {
		t.Errorf("socket activation: %v: %q", err, out)
	}
}

// TestExecSubCgroup: exec --cgroup places the process in an existing
// sub-cgroup of the container's, for one controller or for all.
func TestExecSubCgroup(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.startSleeper()
	memDir := ""
	cg, err := os.ReadFile("/proc/" + strconv.Itoa(e.state(id).Pid) + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines(string(cg)) {
		if parts := strings.SplitN(l, ":", 3); len(parts) == 3 && parts[1] == "memory" {
			memDir = filepath.Join("/sys/fs/cgroup/memory", parts[2])
		}
	}
	if memDir == "" && pureCgroup2() {
		execSubCgroupV2(t, e, id)
		return
	}
	if memDir == "" {
		t.Skipf("no v1 memory controller on this host: %s", cg)
	}
	if err := os.Mkdir(filepath.Join(memDir, "probe"), 0o755); err != nil {
		t.Fatal(err)
	}
	out := e.mustBerth("exec", "--cgroup", "memory:probe", id, "cat", "/proc/self/cgroup").stdout
	var mem, pids string
	for _, l := range lines(out) {
		if parts := strings.SplitN(l, ":", 3); len(parts) == 3 {
			switch parts[1] {
			case "memory":
				mem = parts[2]
			case "pids":
				pids = parts[2]
			}
		}
	}
	if !strings.HasSuffix(mem, "/probe") || strings.HasSuffix(pids, "/probe") {
		t.Errorf("exec --cgroup memory:probe: memory %q, pids %q; want only memory in .../probe:\n%s", mem, pids, out)
	}
	assertExecError(t, e.berth("exec", "--cgroup", "nosuch", id, "true"), "--cgroup", "no such sub-cgroup")
	assertExecError(t, e.berth("exec", "--cgroup", "../escape", id, "true"), "--cgroup", "inside it")
	assertExecError(t, e.berth("exec", "--cgroup", "bogus:probe", id, "true"), "--cgroup", `controller "bogus"`)
	e.mustBerth("delete", "--force", id)
	if _, err := os.Stat(memDir); err == nil {
		t.Errorf("the container's memory cgroup %s (with a sub-cgroup) survived delete", memDir)
	}
}

// execSubCgroupV2 is TestExecSubCgroup on a pure cgroup v2 host: one
// hierarchy, so --cgroup PATH (no controller) moves the process into the
// sub-cgroup, and a controller the container has no cgroup of is refused.
func execSubCgroupV2(t *testing.T, e *env, id string) {
	dir := cgroupDirs(t, e.state(id).Pid)[""]
	if dir == "" {
		t.Fatalf("the container has no cgroup v2 directory: %v", cgroupOf(t, e.state(id).Pid))
	}
	if err := os.Mkdir(filepath.Join(dir, "probe"), 0o755); err != nil {
		t.Fatal(err)
	}
	out := e.mustBerth("exec", "--cgroup", "probe", id, "cat", "/proc/self/cgroup").stdout
	if got := strings.TrimSpace(out); !strings.HasPrefix(got, "0::") || !strings.HasSuffix(got, "/probe") {
		t.Errorf("exec --cgroup probe: /proc/self/cgroup %q, want 0::.../probe", got)
	}
	assertExecError(t, e.berth("exec", "--cgroup", "nosuch", id, "true"), "--cgroup", "no such sub-cgroup")
	assertExecError(t, e.berth("exec", "--cgroup", "../escape", id, "true"), "--cgroup", "inside it")
	assertExecError(t, e.berth("exec", "--cgroup", "bogus:probe", id, "true"), "--cgroup", `controller "bogus"`)
	e.mustBerth("delete", "--force", id)
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("the container's cgroup %s (with a sub-cgroup) survived delete", dir)
	}
}

// TestExecLabelFlags: on a host without SELinux, --process-label is ignored
// with berth's usual warning line (runc's rule); --apparmor on a host
// without AppArmor is refused, naming the flag.
func TestExecLabelFlags(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/sys/fs/selinux/enforce"); err == nil {
		t.Skip("SELinux is enabled here: --process-label would apply")
	}
	e := newEnv(t)
	id := e.startSleeper()
	r := e.berth("exec", "--process-label", "system_u:system_r:container_t:s0", id, "true")
	if r.code != 0 || !strings.Contains(r.stderr, "berth: warning: --process-label") {
		t.Errorf("exec --process-label: %v; want exit 0 and a 'berth: warning:' line", r)
	}
	if _, err := os.Stat("/sys/kernel/security/apparmor"); err != nil {
		assertExecError(t, e.berth("exec", "--apparmor", "docker-default", id, "true"), "--apparmor")
	}
	e.mustBerth("delete", "--force", id)
}
