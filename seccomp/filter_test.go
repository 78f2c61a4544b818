package seccomp

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Syscall numbers and audit tokens the tables use.
const (
	x8664 = unix.AUDIT_ARCH_X86_64
	i386  = unix.AUDIT_ARCH_I386
	arm64 = unix.AUDIT_ARCH_AARCH64

	nrRead, nrGetpid, nrKill, nrMkdir, nrPersonality, nrOpenat, nrClone3 = 0, 39, 62, 83, 135, 257, 435
	nr32Read, nr32Getpid, nr32Mkdir, nr32Openat                          = 3, 20, 39, 295

	retAllow  = unix.SECCOMP_RET_ALLOW
	retEPERM  = unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
	retENOSYS = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)
	retEACCES = unix.SECCOMP_RET_ERRNO | uint32(unix.EACCES)
	retKill   = unix.SECCOMP_RET_KILL_THREAD // also libseccomp's bad-arch action
)

func errnoPtr(e unix.Errno) *uint {
	v := uint(e)
	return &v
}

// TestCompileDecisions compiles profiles and runs the BPF on calls: what
// each action, operator, architecture and the ENOSYS stub decide.
func TestCompileDecisions(t *testing.T) {
	allowSome := specs.LinuxSyscall{Names: []string{"read", "openat", "not_a_syscall"}, Action: specs.ActAllow}
	profile := func(def specs.LinuxSeccompAction, archs []specs.Arch, rules ...specs.LinuxSyscall) *specs.LinuxSeccomp {
		return &specs.LinuxSeccomp{DefaultAction: def, Architectures: archs, Syscalls: rules}
	}
	both := []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}
	rule := func(act specs.LinuxSeccompAction, args ...specs.LinuxSeccompArg) specs.LinuxSyscall {
		return specs.LinuxSyscall{Names: []string{"kill"}, Action: act, Args: args}
	}
	arg1 := func(op specs.LinuxSeccompOperator, v, v2 uint64) specs.LinuxSeccompArg {
		return specs.LinuxSeccompArg{Index: 1, Value: v, ValueTwo: v2, Op: op}
	}
	kill := func(pid, sig uint64) call { return call{arch: x8664, nr: nrKill, args: [6]uint64{pid, sig}} }
	tests := []struct {
		name  string
		s     *specs.LinuxSeccomp
		calls []call
		want  []uint32
	}{
		{"ENOSYS stub above the highest named syscall, default EPERM below",
			profile(specs.ActErrno, both, allowSome),
			[]call{{x8664, nrRead, zero}, {x8664, nrGetpid, zero}, {x8664, nrOpenat, zero}, {x8664, nrOpenat + 1, zero}, {x8664, nrClone3, zero}},
			[]uint32{retAllow, retEPERM, retAllow, retENOSYS, retENOSYS}},
		{"ENOSYS stub per architecture, in its own numbering",
			profile(specs.ActErrno, both, allowSome),
			[]call{{i386, nr32Read, zero}, {i386, nr32Getpid, zero}, {i386, nr32Openat + 1, zero}},
			[]uint32{retAllow, retEPERM, retENOSYS}},
		{"x32 calls and unlisted architectures are left to the profile",
			profile(specs.ActErrno, []specs.Arch{specs.ArchX86_64}, allowSome),
			[]call{{x8664, 0x40000000 | nrClone3, zero}, {arm64, nrClone3, zero}},
			[]uint32{retKill, retKill}},
		{"no stub when the default allows",
			profile(specs.ActAllow, nil, specs.LinuxSyscall{Names: []string{"read"}, Action: specs.ActErrno}),
			[]call{{x8664, nrRead, zero}, {x8664, nrClone3, zero}},
			[]uint32{retEPERM, retAllow}},
		{"stub before a kill default; defaultErrnoRet",
			&specs.LinuxSeccomp{DefaultAction: specs.ActKillProcess, Syscalls: []specs.LinuxSyscall{allowSome}},
			[]call{{x8664, nrGetpid, zero}, {x8664, nrClone3, zero}},
			[]uint32{unix.SECCOMP_RET_KILL_PROCESS, retENOSYS}},
		{"defaultErrnoRet",
			&specs.LinuxSeccomp{DefaultAction: specs.ActErrno, DefaultErrnoRet: errnoPtr(unix.EACCES), Syscalls: []specs.LinuxSyscall{allowSome}},
			[]call{{x8664, nrGetpid, zero}},
			[]uint32{retEACCES}},
		{"every action",
			profile(specs.ActAllow, nil,
				specs.LinuxSyscall{Names: []string{"mkdir"}, Action: specs.ActKill},
				specs.LinuxSyscall{Names: []string{"getpid"}, Action: specs.ActTrap},
				specs.LinuxSyscall{Names: []string{"read"}, Action: specs.ActTrace, ErrnoRet: errnoPtr(7)},
				specs.LinuxSyscall{Names: []string{"openat"}, Action: specs.ActLog},
				specs.LinuxSyscall{Names: []string{"personality"}, Action: specs.ActNotify},
				specs.LinuxSyscall{Names: []string{"kill"}, Action: specs.ActKillThread},
				specs.LinuxSyscall{Names: []string{"clone3"}, Action: specs.ActKillProcess}),
			[]call{{x8664, nrMkdir, zero}, {x8664, nrGetpid, zero}, {x8664, nrRead, zero}, {x8664, nrOpenat, zero},
				{x8664, nrPersonality, zero}, {x8664, nrKill, zero}, {x8664, nrClone3, zero}},
			[]uint32{retKill, unix.SECCOMP_RET_TRAP, unix.SECCOMP_RET_TRACE | 7, unix.SECCOMP_RET_LOG,
				unix.SECCOMP_RET_USER_NOTIF, retKill, unix.SECCOMP_RET_KILL_PROCESS}},
		{"architectures: x86 listed, its mkdir is refused by number 39",
			profile(specs.ActAllow, []specs.Arch{specs.ArchX86}, specs.LinuxSyscall{Names: []string{"mkdir"}, Action: specs.ActErrno}),
			[]call{{i386, nr32Mkdir, zero}, {i386, nr32Getpid, zero}, {x8664, nrMkdir, zero}, {x8664, nrGetpid, zero}},
			[]uint32{retEPERM, retAllow, retEPERM, retAllow}},
		{"architectures: x86 not listed, its calls hit the bad-arch kill",
			profile(specs.ActAllow, nil, specs.LinuxSyscall{Names: []string{"mkdir"}, Action: specs.ActErrno}),
			[]call{{i386, nr32Getpid, zero}, {x8664, nrGetpid, zero}},
			[]uint32{retKill, retAllow}},
		{"SCMP_CMP_EQ", profile(specs.ActAllow, nil, rule(specs.ActErrno, arg1(specs.OpEqualTo, 18, 0))),
			[]call{kill(1, 17), kill(1, 18), kill(1, 19)}, []uint32{retAllow, retEPERM, retAllow}},
		{"SCMP_CMP_NE", profile(specs.ActAllow, nil, rule(specs.ActErrno, arg1(specs.OpNotEqual, 18, 0))),
			[]call{kill(1, 17), kill(1, 18), kill(1, 19)}, []uint32{retEPERM, retAllow, retEPERM}},
		{"SCMP_CMP_LT", profile(specs.ActAllow, nil, rule(specs.ActErrno, arg1(specs.OpLessThan, 18, 0))),
			[]call{kill(1, 17), kill(1, 18), kill(1, 19)}, []uint32{retEPERM, retAllow, retAllow}},
		{"SCMP_CMP_LE", profile(specs.ActAllow, nil, rule(specs.ActErrno, arg1(specs.OpLessEqual, 18, 0))),
			[]call{kill(1, 17), kill(1, 18), kill(1, 19)}, []uint32{retEPERM, retEPERM, retAllow}},
		{"SCMP_CMP_GT", profile(specs.ActAllow, nil, rule(specs.ActErrno, arg1(specs.OpGreaterThan, 18, 0))),
			[]call{kill(1, 17), kill(1, 18), kill(1, 19)}, []uint32{retAllow, retAllow, retEPERM}},
		{"SCMP_CMP_GE", profile(specs.ActAllow, nil, rule(specs.ActErrno, arg1(specs.OpGreaterEqual, 18, 0))),
			[]call{kill(1, 17), kill(1, 18), kill(1, 19)}, []uint32{retAllow, retEPERM, retEPERM}},
		{"SCMP_CMP_MASKED_EQ: value is the mask, valueTwo the result",
			profile(specs.ActAllow, nil, rule(specs.ActErrno, arg1(specs.OpMaskedEqual, 0x3, 0x3))),
			[]call{kill(1, 0x17), kill(1, 0x12), kill(1, 0x3)}, []uint32{retEPERM, retAllow, retEPERM}},
		{"a 64-bit argument compares in full",
			profile(specs.ActAllow, nil, rule(specs.ActErrno, arg1(specs.OpEqualTo, 1<<32|18, 0))),
			[]call{kill(1, 18), kill(1, 1<<32|18)}, []uint32{retAllow, retEPERM}},
		{"conditions on different arguments: all must hold",
			profile(specs.ActAllow, nil, rule(specs.ActErrno, specs.LinuxSeccompArg{Index: 0, Value: 1, Op: specs.OpEqualTo}, arg1(specs.OpEqualTo, 18, 0))),
			[]call{kill(1, 18), kill(2, 18), kill(1, 17)}, []uint32{retEPERM, retAllow, retAllow}},
		{"conditions on the same argument: any may hold (runc's reading)",
			profile(specs.ActAllow, nil, rule(specs.ActErrno, arg1(specs.OpEqualTo, 17, 0), arg1(specs.OpEqualTo, 28, 0))),
			[]call{kill(1, 17), kill(1, 28), kill(1, 18)}, []uint32{retEPERM, retEPERM, retAllow}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Compile(tt.s)
			if err != nil {
				t.Fatal(err)
			}
			for i, c := range tt.calls {
				if got := runBPF(t, p.insns, c); got != tt.want[i] {
					t.Errorf("arch %#x nr %d args %v: %#x, want %#x", c.arch, c.nr, c.args[:2], got, tt.want[i])
				}
			}
		})
	}
}

var zero [6]uint64

// TestCompileFlags: the seccomp(2) flags each profile asks for.
func TestCompileFlags(t *testing.T) {
	base := uintptr(unix.SECCOMP_FILTER_FLAG_TSYNC)
	notify := uintptr(unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH)
	tests := []struct {
		name   string
		flags  []specs.LinuxSeccompFlag
		action specs.LinuxSeccompAction
		want   uintptr
		notify bool
	}{
		{"none", nil, specs.ActErrno, base, false},
		{"log", []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog}, specs.ActErrno, base | unix.SECCOMP_FILTER_FLAG_LOG, false},
		{"spec allow", []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagSpecAllow}, specs.ActErrno, base | unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW, false},
		{"tsync named", []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_TSYNC"}, specs.ActErrno, base, false},
		{"notify adds a listener", nil, specs.ActNotify, base | notify, true},
	}
	for _, tt := range tests {
		s := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: tt.flags, ListenerPath: "/run/agent.sock",
			Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: tt.action}}}
		p, err := Compile(s)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if p.flags != tt.want || p.Notifies() != tt.notify {
			t.Errorf("%s: flags %#x notify %v, want %#x %v", tt.name, p.flags, p.Notifies(), tt.want, tt.notify)
		}
	}
}

func TestUnknownSyscalls(t *testing.T) {
	s := &specs.LinuxSeccomp{Syscalls: []specs.LinuxSyscall{
		{Names: []string{"read", "not_a_syscall"}}, {Names: []string{"write"}}, {Names: []string{"futex_wake_9"}},
	}}
	got := strings.Join(UnknownSyscalls(s), ";")
	want := `linux.seccomp.syscalls[0].names[1] "not_a_syscall";linux.seccomp.syscalls[2].names[0] "futex_wake_9"`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if UnknownSyscalls(nil) != nil {
		t.Error("nil profile has unknown syscalls")
	}
}
