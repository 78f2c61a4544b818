package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// mkdirScript makes a directory and says whether the call returned success
// and whether the directory really exists afterwards.
const mkdirScript = "mkdir /tmp/x 2>&1 && echo made; test -d /tmp/x && echo present || echo absent"

func errnoRet(n uint) *uint { return &n }

// profileFor is a filter allowing everything but rule, on the native and
// 32-bit x86 architectures.
func profileFor(rule specs.LinuxSyscall) *specs.LinuxSeccomp {
	return &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86},
		Syscalls:      []specs.LinuxSyscall{rule},
	}
}

func mkdirRule(a specs.LinuxSeccompAction) specs.LinuxSyscall {
	return specs.LinuxSyscall{Names: []string{"mkdir", "mkdirat"}, Action: a}
}

// TestSeccompActions runs a container under a filter and reads each
// action's effect from inside: the errno, SIGSYS, a faked success, the
// filter mode and no_new_privs of pid 1.
func TestSeccompActions(t *testing.T) {
	t.Parallel()
	withErrno := func(r specs.LinuxSyscall, e uint) specs.LinuxSyscall { r.ErrnoRet = &e; return r }
	tests := []struct {
		name     string
		nnp      bool
		rule     specs.LinuxSyscall
		args     []string // the container's process; else sh -c script
		script   string
		wantCode int
		want     []string
	}{
		{"errno with errnoRet, no_new_privs", true, withErrno(mkdirRule(specs.ActErrno), 13), nil,
			mkdirScript, 0, []string{"Permission denied", "absent"}},
		{"errno default EPERM, without no_new_privs", false, mkdirRule(specs.ActErrno), nil,
			mkdirScript, 0, []string{"Operation not permitted", "absent"}},
		{"errnoRet 0 fakes success", true, withErrno(mkdirRule(specs.ActErrno), 0), nil,
			mkdirScript, 0, []string{"made", "absent"}},
		{"kill: SIGSYS", true, mkdirRule(specs.ActKill), []string{"mkdir", "/tmp/x"}, "", 159, nil},
		{"kill thread: SIGSYS", true, mkdirRule(specs.ActKillThread), []string{"mkdir", "/tmp/x"}, "", 159, nil},
		{"kill process: SIGSYS", false, mkdirRule(specs.ActKillProcess), []string{"mkdir", "/tmp/x"}, "", 159, nil},
		{"trap: SIGSYS", true, mkdirRule(specs.ActTrap), []string{"mkdir", "/tmp/x"}, "", 159, nil},
		{"trap seen by a shell", true, mkdirRule(specs.ActTrap), nil,
			"sh -c 'mkdir /tmp/x'; echo rc=$?", 0, []string{"rc=159"}},
		{"trace without a tracer: ENOSYS", true, mkdirRule(specs.ActTrace), nil,
			mkdirScript, 0, []string{"Function not implemented", "absent"}},
		{"log: the call goes through", true, mkdirRule(specs.ActLog), nil,
			mkdirScript, 0, []string{"made", "present"}},
		{"allow rule", true, mkdirRule(specs.ActAllow), nil,
			mkdirScript, 0, []string{"made", "present"}},
		{"filter mode and no_new_privs of pid 1", true, mkdirRule(specs.ActErrno), nil,
			"grep -E '^(Seccomp|NoNewPrivs):' /proc/1/status", 0, []string{"Seccomp:\t2", "NoNewPrivs:\t1"}},
		{"no_new_privs 0 when not asked", false, mkdirRule(specs.ActErrno), nil,
			"grep -E '^(Seccomp|NoNewPrivs):' /proc/1/status", 0, []string{"Seccomp:\t2", "NoNewPrivs:\t0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			spec := sh(tt.script)
			if tt.args != nil {
				spec.Process.Args = tt.args
			}
			spec.Process.NoNewPrivileges = tt.nnp
			spec.Linux.Seccomp = profileFor(tt.rule)
			r := e.run(spec)
			if r.code != tt.wantCode {
				t.Fatalf("exit %d, want %d\n%v", r.code, tt.wantCode, r)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("output %q, want %q", r.stdout, w)
				}
			}
		})
	}
}

// TestSeccompArgs: argument conditions, one operator per row, read from
// which signals the shell may send itself (17, 18, 23, 28 and 0 are all
// harmless to it). A refused kill prints "N:no".
func TestSeccompArgs(t *testing.T) {
	t.Parallel()
	arg := func(i uint, op specs.LinuxSeccompOperator, v, v2 uint64) specs.LinuxSeccompArg {
		return specs.LinuxSeccompArg{Index: i, Op: op, Value: v, ValueTwo: v2}
	}
	tests := []struct {
		name string
		args []specs.LinuxSeccompArg
		want string
	}{
		{"SCMP_CMP_EQ", []specs.LinuxSeccompArg{arg(1, specs.OpEqualTo, 18, 0)}, "0:ok 17:ok 18:no 23:ok 28:ok"},
		{"SCMP_CMP_NE", []specs.LinuxSeccompArg{arg(1, specs.OpNotEqual, 18, 0)}, "0:no 17:no 18:ok 23:no 28:no"},
		{"SCMP_CMP_LT", []specs.LinuxSeccompArg{arg(1, specs.OpLessThan, 18, 0)}, "0:no 17:no 18:ok 23:ok 28:ok"},
		{"SCMP_CMP_LE", []specs.LinuxSeccompArg{arg(1, specs.OpLessEqual, 18, 0)}, "0:no 17:no 18:no 23:ok 28:ok"},
		{"SCMP_CMP_GT", []specs.LinuxSeccompArg{arg(1, specs.OpGreaterThan, 18, 0)}, "0:ok 17:ok 18:ok 23:no 28:no"},
		{"SCMP_CMP_GE", []specs.LinuxSeccompArg{arg(1, specs.OpGreaterEqual, 18, 0)}, "0:ok 17:ok 18:no 23:no 28:no"},
		{"SCMP_CMP_MASKED_EQ (mask 3, value 3)", []specs.LinuxSeccompArg{arg(1, specs.OpMaskedEqual, 3, 3)}, "0:ok 17:ok 18:ok 23:no 28:ok"},
		// pid 1 is the shell itself: the second line kills pid 2 with 18.
		{"two arguments: both must match", []specs.LinuxSeccompArg{arg(0, specs.OpEqualTo, 1, 0), arg(1, specs.OpEqualTo, 18, 0)},
			"0:ok 17:ok 18:no 23:ok 28:ok other18:ok"},
		{"one argument twice: either may match", []specs.LinuxSeccompArg{arg(1, specs.OpEqualTo, 17, 0), arg(1, specs.OpEqualTo, 28, 0)},
			"0:ok 17:no 18:ok 23:ok 28:no"},
	}
	script := `out=; for s in 0 17 18 23 28; do if kill -$s $$ 2>/dev/null; then out="$out $s:ok"; else out="$out $s:no"; fi; done
sleep 100 & if kill -18 $! 2>/dev/null; then other=" other18:ok"; else other=" other18:no"; fi; kill -9 $!
echo "result:$out$other"`
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			spec := sh(script)
			spec.Linux.Seccomp = profileFor(specs.LinuxSyscall{Names: []string{"kill"}, Action: specs.ActErrno, Args: tt.args})
			out := e.mustRun(spec)
			if !strings.Contains(out, "result: "+tt.want) {
				t.Errorf("got %q, want %q", strings.TrimSpace(out), "result: "+tt.want)
			}
		})
	}
}

// TestSeccompAuditLog: SCMP_ACT_LOG, and SECCOMP_FILTER_FLAG_LOG on an
// errno action, each leave an audit record (type=1326) with the process's
// host pid in the kernel log. The container's process makes the call
// itself, so the pid berth reports is the one logged.
func TestSeccompAuditLog(t *testing.T) {
	t.Parallel()
	if out, err := exec.Command("dmesg").Output(); err != nil || len(out) == 0 {
		t.Skipf("the kernel log is not readable here (dmesg: %v)", err)
	}
	tests := []struct {
		name  string
		rule  specs.LinuxSyscall
		flags []specs.LinuxSeccompFlag
		code  string // the action in the record (without its errno)
	}{
		{"SCMP_ACT_LOG", mkdirRule(specs.ActLog), nil, "code=0x7ffc0000"},
		{"SECCOMP_FILTER_FLAG_LOG with errno", mkdirRule(specs.ActErrno), []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog}, "code=0x50000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			spec := sh("")
			spec.Process.Args = []string{"mkdir", "/tmp/logged"}
			spec.Linux.Seccomp = profileFor(tt.rule)
			spec.Linux.Seccomp.Flags = tt.flags
			id := e.id("log")
			e.mustBerth("create", "--bundle", e.bundle(spec), id)
			pid := e.state(id).Pid
			e.mustBerth("start", id)
			e.waitStatus(id, "stopped")
			want := "pid=" + strconv.Itoa(pid) + " "
			deadline := time.Now().Add(5 * time.Second)
			for {
				out, _ := exec.Command("dmesg").Output()
				if auditLine(string(out), want, tt.code) {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("no audit record with %q syscall=83 %s in the kernel log", want, tt.code)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}

func auditLine(log, pid, code string) bool {
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "type=1326") && strings.Contains(l, pid) && strings.Contains(l, "syscall=83 ") && strings.Contains(l, code) {
			return true
		}
	}
	return false
}

// TestSeccompFlags: the flags load (SPEC_ALLOW cannot be seen on a host
// whose CPU reports no store-bypass mitigation; TSYNC is always on).
func TestSeccompFlags(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	spec := sh("grep -E '^Seccomp(_filters)?:' /proc/self/status")
	spec.Linux.Seccomp = profileFor(mkdirRule(specs.ActErrno))
	spec.Linux.Seccomp.Flags = []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_TSYNC", specs.LinuxSeccompFlagSpecAllow, specs.LinuxSeccompFlagLog}
	out := e.mustRun(spec)
	if !strings.Contains(out, "Seccomp:\t2") || !strings.Contains(out, "Seccomp_filters:\t1") {
		t.Errorf("got %q, want one filter in mode 2", out)
	}
}

// TestSeccompUnknownSyscall: a name this libseccomp does not know is
// skipped with a debug line, as runc does, and the rest of the rule holds.
func TestSeccompUnknownSyscall(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	spec := sh(mkdirScript)
	spec.Linux.Seccomp = profileFor(specs.LinuxSyscall{Names: []string{"no_such_syscall", "mkdir", "mkdirat"}, Action: specs.ActErrno})
	r := e.berth("--debug", "run", "--bundle", e.bundle(spec), e.id("unknown"))
	if r.code != 0 || !strings.Contains(r.stdout, "Operation not permitted") {
		t.Fatalf("%v", r)
	}
	if !strings.Contains(r.stderr, `linux.seccomp.syscalls[0].names[0] \"no_such_syscall\": unknown seccomp syscall ignored`) ||
		!strings.Contains(r.stderr, "level=debug") {
		t.Errorf("no debug line for the unknown syscall on stderr: %q", r.stderr)
	}
	r = e.berth("run", "--bundle", e.bundle(spec), e.id("unknown"))
	if strings.Contains(r.stderr, "no_such_syscall") {
		t.Errorf("the debug line shows without --debug: %q", r.stderr)
	}
}

func TestSeccompBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name string
		s    *specs.LinuxSeccomp
		want []string
	}{
		{"wait killable recv", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
			Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagWaitKillableRecv}}, []string{"linux.seccomp.flags[0]", "libseccomp 2.6", "2.5"}},
		{"unknown default action", &specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_BOGUS"}, []string{"linux.seccomp.defaultAction", "SCMP_ACT_BOGUS"}},
		{"notify without listenerPath", profileFor(mkdirRule(specs.ActNotify)), []string{"linux.seccomp.syscalls[0].action", "listenerPath"}},
		{"notify as default", &specs.LinuxSeccomp{DefaultAction: specs.ActNotify, ListenerPath: "/x"}, []string{"linux.seccomp.defaultAction"}},
		{"errnoRet on kill", profileFor(specs.LinuxSyscall{Names: []string{"mkdir"}, Action: specs.ActKill, ErrnoRet: errnoRet(1)}),
			[]string{"linux.seccomp.syscalls[0].action", "errnoRet"}},
		{"unknown operator", profileFor(specs.LinuxSyscall{Names: []string{"kill"}, Action: specs.ActErrno,
			Args: []specs.LinuxSeccompArg{{Index: 1, Op: "SCMP_CMP_ALMOST"}}}), []string{"linux.seccomp.syscalls[0].args[0].op"}},
		{"argument index", profileFor(specs.LinuxSyscall{Names: []string{"kill"}, Action: specs.ActErrno,
			Args: []specs.LinuxSeccompArg{{Index: 6, Op: specs.OpEqualTo}}}), []string{"linux.seccomp.syscalls[0].args[0].index 6"}},
		{"unknown architecture", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{"SCMP_ARCH_VAX"}},
			[]string{"linux.seccomp.architectures[0]", "SCMP_ARCH_VAX"}},
	}
	for _, tt := range tests {
		spec := sh("true")
		spec.Linux.Seccomp = tt.s
		t.Run(tt.name, func(t *testing.T) { assertError(t, e.run(spec), tt.want...) })
	}
}

// TestSeccompNoThreadsWhileCreated: without noNewPrivileges the filter is in
// place while the init waits for start, so the init must not need a new
// thread then (a GC forced in the waiting init once did, and crashed with
// "pthread_create failed: Operation not permitted" under runtime-tools'
// default profile). This profile forbids creating threads (clone3, and
// clone with CLONE_THREAD, fail with EPERM); each created container must
// still start and run. Whether the runtime wants a thread varies from run
// to run, hence several containers.
func TestSeccompNoThreadsWhileCreated(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	spec := sh("echo started")
	spec.Process.NoNewPrivileges = false
	spec.Linux.Seccomp = &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86},
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"clone3"}, Action: specs.ActErrno, ErrnoRet: errnoRet(1)},
			{Names: []string{"clone"}, Action: specs.ActErrno, ErrnoRet: errnoRet(1),
				Args: []specs.LinuxSeccompArg{{Index: 0, Value: unix.CLONE_THREAD, ValueTwo: unix.CLONE_THREAD, Op: specs.OpMaskedEqual}}},
		},
	}
	bundle := e.bundle(spec)
	for i := 0; i < 8; i++ {
		id := e.id("nothreads")
		out := filepath.Join(e.dir("out"), "stdout")
		f, err := os.Create(out)
		if err != nil {
			t.Fatal(err)
		}
		r := e.berthOpts(runOpts{stdout: f}, "create", "--bundle", bundle, id)
		f.Close()
		if r.code != 0 {
			t.Fatalf("create: %v", r)
		}
		time.Sleep(100 * time.Millisecond) // the init is now waiting, filter on
		if r := e.berth("start", id); r.code != 0 {
			t.Errorf("container %d: start: %v", i, r)
		} else {
			e.waitStatus(id, "stopped")
			if b, _ := os.ReadFile(out); string(b) != "started\n" {
				t.Errorf("container %d: output %q, want \"started\\n\"", i, b)
			}
		}
		e.mustBerth("delete", "--force", id)
	}
}
