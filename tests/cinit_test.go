package tests

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berthrun/berth/internal/testbundle"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The C init (libcontainer/executor/cinit.c) sets up every container
// process; there is no Go init any more.

// probe prints what the process setup decides: ids, groups, umask, the
// capability sets, no_new_privs, seccomp, rlimits, HOME, cwd, the oom
// score, the open fds and the environment.
const probe = `id; umask; grep -E '^(Cap|NoNewPrivs|Seccomp|Groups)' /proc/self/status
ulimit -n; ulimit -Hn; echo HOME=$HOME; pwd; cat /proc/self/oom_score_adj
ls /proc/self/fd | sort | tr '\n' ' '; echo; env | sort; mkdir /tmp/probe-dir 2>&1; echo mkdir=$?; rmdir /tmp/probe-dir 2>/dev/null; true`

// cinitSpecs are configs the C init takes: each knob it sets, off the default.
func cinitSpecs() map[string]*specs.Spec {
	umask := uint32(0o027)
	adj := 100
	all := []string{"CAP_NET_BIND_SERVICE", "CAP_KILL", "CAP_CHOWN"}
	out := map[string]*specs.Spec{"default": sh(probe)}

	s := sh(probe)
	s.Process.User = specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{10, 20}, Umask: &umask}
	s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: all, Effective: all, Permitted: all,
		Inheritable: all, Ambient: []string{"CAP_NET_BIND_SERVICE"}}
	s.Process.Env = []string{"PATH=/bin:/sbin", "A=b"} // no HOME: looked up in /etc/passwd
	s.Process.Cwd = "/tmp"
	out["user-caps-ambient"] = s

	s = sh(probe)
	s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 300, Hard: 600}}
	s.Process.OOMScoreAdj = &adj
	s.Process.NoNewPrivileges = false // the filter goes in before the caps drop
	s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
		{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno}}}
	out["rlimits-oom-seccomp"] = s
	return out
}

// TestCInitProcess: the C init gives the process every setting of
// cinitSpecs, as the kernel then reports it.
func TestCInitProcess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	wants := map[string][]string{
		"default":             {"uid=0(root)", "HOME=/root\n", "\n/\n", "mkdir=0"},
		"user-caps-ambient":   {"uid=1000", "groups=", "0027\n", "CapAmb:\t0000000000000400", "HOME=/home/user\n", "\n/tmp\n", "A=b\n"},
		"rlimits-oom-seccomp": {"\n300\n600\n", "\n100\n", "Seccomp:\t2", "mkdir=1"},
	}
	for name, spec := range cinitSpecs() {
		r := e.berth("run", "--bundle", e.bundle(spec), e.id("cinit"))
		if r.code != 0 {
			t.Fatalf("%s: %v", name, r)
		}
		for _, w := range wants[name] {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("%s: the process saw\n%s\nwant %q in it", name, r.stdout, w)
			}
		}
	}
}

func TestCInitExecProcess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.startSleeper()
	for _, tc := range []struct {
		args  []string
		wants []string
	}{
		{[]string{"exec", id, "sh", "-c", probe}, []string{"uid=0(root)", "\n/\n", "mkdir=0"}},
		{[]string{"exec", "-u", "1000:1000", "--cwd", "/tmp", "--cap", "CAP_KILL", "-e", "X=1", id, "sh", "-c", probe},
			[]string{"uid=1000(user) gid=1000(user)", "\n/tmp\n", "X=1\n", "CapBnd:\t0000000020000420", "CapEff:\t0000000000000000"}},
	} {
		r := e.berth(tc.args...)
		if r.code != 0 {
			t.Fatalf("%v", r)
		}
		for _, w := range tc.wants {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("%v: the process saw\n%s\nwant %q in it", tc.args[:len(tc.args)-1], r.stdout, w)
			}
		}
	}
}

// TestCInitWaitingInit: a created container's init is the C init, one
// thread and a small resident set, unless the config needs the Go init.
func TestCInitWaitingInit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	withHook := sh("echo started")
	withHook.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{Path: "/bin/true"}}}
	tests := []struct {
		name   string
		spec   *specs.Spec
		env    []string
		wantGo bool
	}{
		{"C init", sh("echo started"), nil, false},
		{"startContainer hook", withHook, nil, false}, // run by the C init (chooks.c)
	}
	for _, tt := range tests {
		id := e.id("waiting")
		out := e.tempFile("out")
		r := e.berthOpts(runOpts{env: tt.env, stdout: out}, "create", "--bundle", e.bundle(tt.spec), id)
		if r.code != 0 {
			t.Fatalf("%s: %v", tt.name, r)
		}
		threads, rssKiB := initStatus(t, e.state(id).Pid)
		if isGo := threads > 1; isGo != tt.wantGo {
			t.Errorf("%s: the waiting init has %d threads, want the Go init: %v", tt.name, threads, tt.wantGo)
		}
		if !tt.wantGo && rssKiB > 3*1024 {
			t.Errorf("%s: the waiting C init holds %d KiB, want under 3 MiB", tt.name, rssKiB)
		}
		e.mustBerth("start", id)
		waitOutput(t, out, "started")
	}
}

// initStatus reads Threads and VmRSS (KiB) from /proc/<pid>/status.
func initStatus(t *testing.T, pid int) (threads, rssKiB int) {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "Threads:":
			threads, _ = strconv.Atoi(f[1])
		case "VmRSS:":
			rssKiB, _ = strconv.Atoi(f[1])
		}
	}
	return threads, rssKiB
}

// TestCInitErrors: what the C init refuses reads like the Go init's error
// and leaves nothing behind (the suite's leak check runs after each test).
func TestCInitErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	missing := testbundle.Spec("/no/such/binary")
	notInPath := testbundle.Spec("no-such-binary")
	badCwd := sh("true")
	badCwd.Process.Cwd = "/etc/passwd"
	for _, tt := range []struct {
		name string
		spec *specs.Spec
		want string
	}{
		{"absolute args[0]", missing, `process.args[0] "/no/such/binary": stat /no/such/binary: no such file or directory`},
		{"args[0] not in PATH", notInPath, `process.args[0] "no-such-binary": executable file not found in $PATH`},
		{"cwd not a directory", badCwd, `process.cwd "/etc/passwd"`},
		// Docker and podman map "permission denied" to exit status 126.
		{"args[0] not executable", testbundle.Spec("/etc/passwd"), `process.args[0] "/etc/passwd": stat /etc/passwd: permission denied`},
		{"args[0] a directory", testbundle.Spec("/etc"), `process.args[0] "/etc": stat /etc: permission denied`},
	} {
		b := e.bundle(tt.spec)
		assertError(t, e.berth("run", "--bundle", b, e.id("cinit-err")), tt.want)
	}
	id := e.startSleeper()
	assertExecError(t, e.berth("exec", id, "/no/such/binary"), `process.args[0] "/no/such/binary": stat /no/such/binary: no such file or directory`)
	assertExecError(t, e.berth("exec", id, "no-such-binary"), "executable file not found in $PATH")
	for _, w := range execWays {
		assertExecError(t, e.berthOpts(runOpts{env: w.env}, "exec", id, "/etc/passwd"), `process.args[0] "/etc/passwd": stat /etc/passwd: permission denied`)
		assertExecError(t, e.berthOpts(runOpts{env: w.env}, "exec", id, "/no/such/binary"), `process.args[0] "/no/such/binary": stat /no/such/binary: no such file or directory`)
	}
}

// TestCInitTakesProcessSettings: what used to send a container to the Go
// init (a terminal, an SELinux label, the scheduler, the I/O priority, the
// personality, the memory policy, a seccomp notify listener) is set up by
// the C init: the waiting init is one thread, no Go init reports a phase to
// the trace, and the process sees every setting.
func TestCInitTakesProcessSettings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := newSeccompAgent(t, e.dir("agent"))
	_, numa := os.Stat("/proc/self/numa_maps")

	attrs := sh(`cat /proc/self/personality; ionice; cut -d' ' -f19,41 /proc/self/stat; ` +
		`head -n1 /proc/self/numa_maps 2>/dev/null | cut -d' ' -f2; echo DONE`)
	attrs.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux32}
	attrs.Process.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 6}
	attrs.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedBatch, Nice: 5}
	attrs.Process.SelinuxLabel = "system_u:system_r:container_t:s0" // ignored without SELinux
	if numa == nil {
		attrs.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolInterleave, Nodes: "0"}
	}
	wantAttrs := []string{"00000008", "best-effort: prio 6", "5 3"}
	if numa == nil {
		wantAttrs = append(wantAttrs, "interleave:0")
	}
	notify := sh(notifyScript + "; echo DONE")
	notify.Linux.Seccomp = notifyProfile(a)
	tty := sh(`tty; echo DONE; sleep 1`)
	tty.Process.Terminal = true

	for _, tt := range []struct {
		name string
		spec *specs.Spec
		want []string
	}{
		{"attributes", attrs, wantAttrs},
		{"seccomp notify", notify, []string{"mkdir-ok", "absent", "rc=1"}},
		{"terminal", tty, []string{"/dev/pts/"}},
	} {
		id := e.id("cinit-takes")
		out := e.tempFile("out")
		args := []string{"create", "--bundle", e.bundle(tt.spec)}
		var masters <-chan *os.File
		if tt.spec.Process.Terminal {
			var sock string
			sock, masters = recvTTY(t, e.dir("console"))
			args = append(args, "--console-socket", sock)
		}
		args = append(args, id)
		r := e.berthOpts(runOpts{env: []string{"BERTH_TRACE=1"}, stdout: out}, args...)
		if r.code != 0 {
			t.Fatalf("%s: %v", tt.name, r)
		}
		// init:config is the Go init's alone (the C init traces init:*
		// points of the same names for the steps both do).
		if strings.Contains(r.stderr, "point=init:config") {
			t.Errorf("%s: the Go init reported its phases:\n%s", tt.name, r.stderr)
		}
		if threads, _ := initStatus(t, e.state(id).Pid); threads != 1 {
			t.Errorf("%s: the waiting init has %d threads, want the C init's 1", tt.name, threads)
		}
		e.mustBerth("start", id)
		var got string
		if masters != nil {
			master := <-masters
			if master == nil {
				t.Fatalf("%s: no pty master arrived on the console socket", tt.name)
			}
			got = readUntil(master, "DONE", 10*time.Second)
			master.Close()
		} else {
			got = waitOutput(t, out, "DONE")
		}
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: the process saw %q, want %q in it", tt.name, got, w)
			}
		}
	}
}

// TestCInitTakesExecSettings: an exec with a terminal or with process
// attributes is set up by the C init, whose phases the trace reports.
func TestCInitTakesExecSettings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.startSleeper()
	all, _ := hostCPUs(t)
	first := all[:strings.IndexAny(all+",", ",-")]
	p := execProcess("sh", "-c", `ionice; cut -d' ' -f19,41 /proc/self/stat; grep Cpus_allowed_list /proc/self/status`)
	p.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_IDLE}
	p.Scheduler = &specs.Scheduler{Policy: specs.SchedBatch, Nice: 9}
	p.ExecCPUAffinity = &specs.CPUAffinity{Final: first}
	file := e.processFile(p)
	trace := []string{"BERTH_TRACE=1"}

	r := e.berthOpts(runOpts{env: trace}, "exec", "--process", file, id)
	if r.code != 0 {
		t.Fatalf("%v", r)
	}
	if !strings.Contains(r.stderr, "point=init:process") {
		t.Errorf("exec with attributes: no C init phase in the trace:\n%s", r.stderr)
	}
	for _, w := range []string{"idle", "9 3", "Cpus_allowed_list:\t" + first + "\n"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("exec'd process saw %q, want %q in it", r.stdout, w)
		}
	}
	sock, masters := recvTTY(t, e.dir("console"))
	r = e.berthOpts(runOpts{env: trace}, "exec", "-d", "-t", "--console-socket", sock, id, "sh", "-c", "tty; echo DONE; sleep 1")
	if r.code != 0 {
		t.Fatalf("%v", r)
	}
	master := <-masters
	if master == nil {
		t.Fatal("no pty master arrived on the console socket")
	}
	defer master.Close()
	if out := readUntil(master, "DONE", 10*time.Second); !strings.Contains(out, "/dev/pts/") {
		t.Errorf("exec -t: tty says %q", out)
	}
}
