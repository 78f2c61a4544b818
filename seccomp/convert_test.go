package seccomp

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestCheck(t *testing.T) {
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
		{"notify refused", ok(func(s *specs.LinuxSeccomp) { s.Syscalls[0].Action = specs.ActNotify }), "linux.seccomp.syscalls[0].action"},
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

func TestCompile(t *testing.T) {
	s := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{specs.ArchX86_64},
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"mkdir", "not_a_syscall"}, Action: specs.ActErrno},
			{Names: []string{"kill"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Index: 1, Op: specs.OpEqualTo}, {Index: 1, Value: 9, Op: specs.OpEqualTo}}},
			{Names: []string{"read"}, Action: specs.ActAllow}, // same as default: skipped
		}}
	p, err := Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.insns) < 4 {
		t.Errorf("compiled filter has %d instructions", len(p.insns))
	}
}
