package seccomp

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestCheck(t *testing.T) {
	eacces, huge := uint(13), uint(70000)
	ok := func(m func(*specs.LinuxSeccomp)) *specs.LinuxSeccomp {
		s := &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Architectures: []specs.Arch{specs.ArchX86_64},
			Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActAllow}}}
		if m != nil {
			m(s)
		}
		return s
	}
	tests := []struct {
		name    string
		s       *specs.LinuxSeccomp
		wantErr string
	}{
		{"nil", nil, ""},
		{"valid", ok(nil), ""},
		{"every action", ok(func(s *specs.LinuxSeccomp) {
			for _, a := range []specs.LinuxSeccompAction{specs.ActKill, specs.ActKillProcess, specs.ActKillThread, specs.ActTrap, specs.ActTrace, specs.ActLog, specs.ActErrno} {
				s.Syscalls = append(s.Syscalls, specs.LinuxSyscall{Names: []string{"write"}, Action: a})
			}
		}), ""},
		{"every operator", ok(func(s *specs.LinuxSeccomp) {
			for op := range operators {
				s.Syscalls[0].Args = append(s.Syscalls[0].Args, specs.LinuxSeccompArg{Index: 1, Op: op})
			}
		}), ""},
		{"log and spec allow flags", ok(func(s *specs.LinuxSeccomp) {
			s.Flags = []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow}
		}), ""},
		{"unknown default action", ok(func(s *specs.LinuxSeccomp) { s.DefaultAction = "SCMP_ACT_X" }), `linux.seccomp.defaultAction: "SCMP_ACT_X": unknown action`},
		{"notify with a listener", ok(func(s *specs.LinuxSeccomp) {
			s.Syscalls[0].Action, s.ListenerPath = specs.ActNotify, "/run/agent.sock"
		}), ""},
		{"notify without listenerPath", ok(func(s *specs.LinuxSeccomp) { s.Syscalls[0].Action = specs.ActNotify }),
			`linux.seccomp.syscalls[0].action: "SCMP_ACT_NOTIFY" needs linux.seccomp.listenerPath`},
		{"notify as default action", ok(func(s *specs.LinuxSeccomp) { s.DefaultAction, s.ListenerPath = specs.ActNotify, "/a" }),
			`linux.seccomp.defaultAction: "SCMP_ACT_NOTIFY" cannot be the default action`},
		{"notify on the hand-off syscall", ok(func(s *specs.LinuxSeccomp) {
			s.Syscalls[0] = specs.LinuxSyscall{Names: []string{"mkdir", "sendmsg"}, Action: specs.ActNotify}
			s.ListenerPath = "/a"
		}), `linux.seccomp.syscalls[0].names[1]: "sendmsg" cannot be notified`},
		{"notify on write", ok(func(s *specs.LinuxSeccomp) {
			s.Syscalls = append(s.Syscalls, specs.LinuxSyscall{Names: []string{"mkdir", "getpid", "write"}, Action: specs.ActNotify})
			s.ListenerPath = "/a"
		}), `linux.seccomp.syscalls[1].names[2]: "write" cannot be notified`},
		{"notify on writev is allowed", ok(func(s *specs.LinuxSeccomp) {
			s.Syscalls[0] = specs.LinuxSyscall{Names: []string{"writev", "pwrite64"}, Action: specs.ActNotify}
			s.ListenerPath = "/a"
		}), ""},
		{"errno on write is allowed", ok(func(s *specs.LinuxSeccomp) {
			s.Syscalls[0] = specs.LinuxSyscall{Names: []string{"write"}, Action: specs.ActErrno}
		}), ""},
		{"errnoRet on an allow rule", ok(func(s *specs.LinuxSeccomp) { s.Syscalls[0].ErrnoRet = &eacces }),
			`linux.seccomp.syscalls[0].action: "SCMP_ACT_ALLOW" returns no errno`},
		{"errnoRet on a trace rule", ok(func(s *specs.LinuxSeccomp) {
			s.Syscalls[0].Action, s.Syscalls[0].ErrnoRet = specs.ActTrace, &eacces
		}), ""},
		{"errnoRet above MAX_ERRNO", ok(func(s *specs.LinuxSeccomp) {
			s.Syscalls[0].Action, s.Syscalls[0].ErrnoRet = specs.ActErrno, &huge
		}), "errnoRet 70000: an errno is 0-4095"},
		{"defaultErrnoRet with an errno default", ok(func(s *specs.LinuxSeccomp) { s.DefaultErrnoRet = &eacces }), ""},
		{"defaultErrnoRet with a kill default", ok(func(s *specs.LinuxSeccomp) {
			s.DefaultAction, s.DefaultErrnoRet = specs.ActKillProcess, &eacces
		}), `linux.seccomp.defaultAction: "SCMP_ACT_KILL_PROCESS" returns no errno`},
		{"no names", ok(func(s *specs.LinuxSeccomp) { s.Syscalls[0].Names = nil }), "linux.seccomp.syscalls[0].names: empty"},
		{"unknown syscall names are not errors", ok(func(s *specs.LinuxSeccomp) { s.Syscalls[0].Names = []string{"no_such_call"} }), ""},
		{"unknown architecture", ok(func(s *specs.LinuxSeccomp) { s.Architectures = []specs.Arch{"SCMP_ARCH_PDP11"} }), "linux.seccomp.architectures[0]"},
		{"unknown operator", ok(func(s *specs.LinuxSeccomp) { s.Syscalls[0].Args = []specs.LinuxSeccompArg{{Op: "SCMP_CMP_X"}} }), "linux.seccomp.syscalls[0].args[0].op"},
		{"argument index 6", ok(func(s *specs.LinuxSeccomp) {
			s.Syscalls[0].Args = []specs.LinuxSeccompArg{{Index: 6, Op: specs.OpEqualTo}}
		}), "args[0].index 6"},
		{"wait killable refused", ok(func(s *specs.LinuxSeccomp) {
			s.Flags = []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagWaitKillableRecv}
		}), "needs libseccomp 2.6"},
		{"unknown flag", ok(func(s *specs.LinuxSeccomp) { s.Flags = []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_X"} }), "unknown flag"},
	}
	for _, tt := range tests {
		err := Check(tt.s)
		if tt.wantErr == "" && err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
		if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.wantErr)
		}
	}
}
