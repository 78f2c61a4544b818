package seccomp

import (
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestFeaturesMatchCheck: every action, operator, arch and flag Features
// lists passes Check, and every spec value it leaves out fails it.
func TestFeaturesMatchCheck(t *testing.T) {
	f := Features()
	if f.Enabled == nil || !*f.Enabled {
		t.Fatal("seccomp.enabled is not true")
	}
	base := func() *specs.LinuxSeccomp {
		return &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/run/agent.sock", Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActErrno}}}
	}
	cases := []struct {
		kind   string
		values []string
		listed []string
		set    func(*specs.LinuxSeccomp, string)
	}{
		{"action", actionNames(), f.Actions, func(s *specs.LinuxSeccomp, v string) { s.Syscalls[0].Action = specs.LinuxSeccompAction(v) }},
		{"operator", operatorNames(), f.Operators, func(s *specs.LinuxSeccomp, v string) {
			s.Syscalls[0].Args = []specs.LinuxSeccompArg{{Index: 0, Op: specs.LinuxSeccompOperator(v)}}
		}},
		{"flag", flagNames(), f.KnownFlags, func(s *specs.LinuxSeccomp, v string) { s.Flags = []specs.LinuxSeccompFlag{specs.LinuxSeccompFlag(v)} }},
	}
	for _, c := range cases {
		for _, v := range c.values {
			s := base()
			c.set(s, v)
			err := Check(s)
			if listed := slices.Contains(c.listed, v); listed != (err == nil) {
				t.Errorf("%s %s: listed %v but Check says %v", c.kind, v, listed, err)
			}
		}
	}
	for _, a := range f.Archs {
		if err := Check(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{specs.Arch(a)}}); err != nil {
			t.Errorf("arch %s listed but refused: %v", a, err)
		}
	}
	if !slices.Contains(f.Archs, string(specs.ArchX86_64)) && !slices.Contains(f.Archs, string(specs.ArchAARCH64)) {
		t.Errorf("archs %v lack the native architecture", f.Archs)
	}
	for _, fl := range f.SupportedFlags {
		if !slices.Contains(f.KnownFlags, fl) {
			t.Errorf("supported flag %s is not a known flag", fl)
		}
	}
}

func actionNames() []string {
	var out []string
	for _, a := range specActions {
		out = append(out, string(a))
	}
	return append(out, "SCMP_ACT_UNKNOWN")
}

func operatorNames() []string {
	return []string{"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_X"}
}

func flagNames() []string {
	var out []string
	for _, f := range specFlags {
		out = append(out, string(f.name))
	}
	return append(out, "SECCOMP_FILTER_FLAG_X")
}

func TestKernelHasFlag(t *testing.T) {
	tests := []struct {
		bit  uintptr
		want bool
	}{
		{1, true},        // TSYNC, Linux 3.17
		{1 << 30, false}, // no such flag
	}
	for _, tt := range tests {
		if got := kernelHasFlag(tt.bit); got != tt.want {
			t.Errorf("kernelHasFlag(%#x) = %v, want %v", tt.bit, got, tt.want)
		}
	}
}
