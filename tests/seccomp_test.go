package tests

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestSeccompActions runs a container under a filter and reads each
// action's effect from inside: the errno, SIGSYS, the filter mode.
func TestSeccompActions(t *testing.T) {
	t.Parallel()
	errno := uint(13) // EACCES, distinct from the default EPERM
	tests := []struct {
		name   string
		nnp    bool
		rule   specs.LinuxSyscall
		script string
		want   string
	}{
		{"errno with errnoRet, no_new_privs", true,
			specs.LinuxSyscall{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno, ErrnoRet: &errno},
			"mkdir /tmp/x 2>&1; echo rc=$?", "Permission denied"},
		{"errno default EPERM, without no_new_privs", false,
			specs.LinuxSyscall{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno},
			"mkdir /tmp/x 2>&1; echo rc=$?", "Operation not permitted"},
		{"kill process gives SIGSYS (159)", true,
			specs.LinuxSyscall{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActKillProcess},
			"sh -c 'mkdir /tmp/x'; echo rc=$?", "rc=159"},
		{"argument condition: only kill with signal 0 refused", true,
			specs.LinuxSyscall{Names: []string{"kill"}, Action: specs.ActErrno,
				Args: []specs.LinuxSeccompArg{{Index: 1, Value: 0, Op: specs.OpEqualTo}}},
			"kill -CONT $$ && echo cont-ok; kill -0 $$ 2>&1; echo rc=$?", "cont-ok"},
		{"filter mode seen by pid 1", true,
			specs.LinuxSyscall{Names: []string{"mkdir"}, Action: specs.ActErrno},
			"grep Seccomp: /proc/1/status; grep NoNewPrivs /proc/1/status", "Seccomp:\t2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			spec := sh(tt.script)
			spec.Process.NoNewPrivileges = tt.nnp
			spec.Linux.Seccomp = &specs.LinuxSeccomp{
				DefaultAction: specs.ActAllow,
				Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86},
				Syscalls:      []specs.LinuxSyscall{tt.rule, {Names: []string{"no_such_syscall_name"}, Action: specs.ActErrno}},
			}
			out := e.mustRun(spec)
			if !strings.Contains(out, tt.want) {
				t.Errorf("output %q, want %q", out, tt.want)
			}
			if strings.HasPrefix(tt.name, "argument condition") && !strings.Contains(out, "rc=1") {
				t.Errorf("kill -0 was not refused: %q", out)
			}
		})
	}
}

func TestSeccompBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	spec := sh("true")
	spec.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
		Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagWaitKillableRecv}}
	assertError(t, e.run(spec), "linux.seccomp.flags[0]", "libseccomp")
	spec.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_BOGUS"}
	assertError(t, e.run(spec), "linux.seccomp.defaultAction")
}
