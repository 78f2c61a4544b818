package seccomp

import (
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// maxErrno is the largest errno the kernel passes through (MAX_ERRNO);
// larger SECCOMP_RET_DATA values are clamped to it.
const maxErrno = 4095

// Check validates linux.seccomp without building a filter: every action,
// architecture, operator and flag must be one berth can honour. Errors name
// the JSON path.
func Check(s *specs.LinuxSeccomp) error {
	if s == nil {
		return nil
	}
	if _, err := action(s.DefaultAction, s.DefaultErrnoRet); err != nil {
		return fmt.Errorf("linux.seccomp.defaultAction: %w", err)
	}
	if s.DefaultAction == specs.ActNotify {
		// Every call of berth's before the agent holds the listener,
		// the hand-off itself included, would wait for an answer forever.
		return fmt.Errorf("linux.seccomp.defaultAction: %q cannot be the default action: name the syscalls to notify", s.DefaultAction)
	}
	for i, a := range s.Architectures {
		if _, err := arch(a); err != nil {
			return fmt.Errorf("linux.seccomp.architectures[%d]: %w", i, err)
		}
	}
	for i, f := range s.Flags {
		if err := checkFlag(f); err != nil {
			return fmt.Errorf("linux.seccomp.flags[%d]: %w", i, err)
		}
	}
	for i, sc := range s.Syscalls {
		if err := checkSyscall(s, sc); err != nil {
			return fmt.Errorf("linux.seccomp.syscalls[%d]%w", i, err)
		}
	}
	return nil
}

// checkSyscall checks one entry of syscalls; its errors start with the
// field below the entry (".action: ...").
func checkSyscall(s *specs.LinuxSeccomp, sc specs.LinuxSyscall) error {
	if len(sc.Names) == 0 {
		return fmt.Errorf(".names: empty: name at least one syscall")
	}
	if _, err := action(sc.Action, sc.ErrnoRet); err != nil {
		return fmt.Errorf(".action: %w", err)
	}
	if sc.Action == specs.ActNotify {
		if s.ListenerPath == "" {
			return fmt.Errorf(".action: %q needs linux.seccomp.listenerPath, the agent's socket", sc.Action)
		}
		for j, name := range sc.Names {
			if why, ok := unnotifiable[name]; ok {
				return fmt.Errorf(".names[%d]: %q cannot be notified: %s", j, name, why)
			}
		}
	}
	for j, a := range sc.Args {
		if _, err := operator(a.Op); err != nil {
			return fmt.Errorf(".args[%d].op: %w", j, err)
		}
		if a.Index > 5 {
			return fmt.Errorf(".args[%d].index %d: a syscall has 6 arguments (0-5)", j, a.Index)
		}
	}
	return nil
}

// unnotifiable lists the syscalls a SCMP_ACT_NOTIFY rule may not name, each
// with the reason: berth itself makes them inside the container after the
// filter is installed and before the agent can answer, so the container would
// wait for a reply that never comes. runc refuses write for the same reason.
var unnotifiable = map[string]string{
	// sendmsg carries the listener from the container's init to berth.
	"sendmsg": "berth hands the listener to the agent with it",
	// write: the init reports to berth and writes exec.fifo's byte (and the
	// Go runtime writes to its own pipes) while the listener is not yet
	// served.
	"write": "berth writes to its sync socket and exec.fifo before the agent holds the listener",
}

// UnknownSyscalls lists the syscall names this libseccomp cannot resolve,
// each with its JSON path. Compile skips them, as runc does, so that a
// profile written for a newer kernel still loads.
func UnknownSyscalls(s *specs.LinuxSeccomp) []string {
	if s == nil {
		return nil
	}
	var out []string
	for i, sc := range s.Syscalls {
		for j, name := range sc.Names {
			if _, err := libseccomp.GetSyscallFromName(name); err != nil {
				out = append(out, fmt.Sprintf("linux.seccomp.syscalls[%d].names[%d] %q", i, j, name))
			}
		}
	}
	return out
}

// action converts an OCI action. config-linux.md: an errnoRet on an action
// that returns no errno is an error.
func action(a specs.LinuxSeccompAction, errnoRet *uint) (libseccomp.ScmpAction, error) {
	ret := int16(unix.EPERM)
	if errnoRet != nil {
		if a != specs.ActErrno && a != specs.ActTrace {
			return 0, fmt.Errorf("%q returns no errno: errnoRet %d only applies to SCMP_ACT_ERRNO and SCMP_ACT_TRACE", a, *errnoRet)
		}
		if *errnoRet > maxErrno {
			return 0, fmt.Errorf("errnoRet %d: an errno is 0-%d", *errnoRet, maxErrno)
		}
		ret = int16(*errnoRet)
	}
	switch a {
	case specs.ActKill, specs.ActKillThread:
		return libseccomp.ActKillThread, nil
	case specs.ActKillProcess:
		return libseccomp.ActKillProcess, nil
	case specs.ActTrap:
		return libseccomp.ActTrap, nil
	case specs.ActErrno:
		return libseccomp.ActErrno.SetReturnCode(ret), nil
	case specs.ActTrace:
		return libseccomp.ActTrace.SetReturnCode(ret), nil
	case specs.ActAllow:
		return libseccomp.ActAllow, nil
	case specs.ActLog:
		return libseccomp.ActLog, nil
	case specs.ActNotify:
		return libseccomp.ActNotify, nil
	}
	return 0, fmt.Errorf("%q: unknown action", a)
}

func arch(a specs.Arch) (libseccomp.ScmpArch, error) {
	name := strings.ToLower(strings.TrimPrefix(string(a), "SCMP_ARCH_"))
	v, err := libseccomp.GetArchFromString(name)
	if err != nil {
		return 0, fmt.Errorf("%q: unknown architecture", a)
	}
	return v, nil
}

var operators = map[specs.LinuxSeccompOperator]libseccomp.ScmpCompareOp{
	specs.OpNotEqual:     libseccomp.CompareNotEqual,
	specs.OpLessThan:     libseccomp.CompareLess,
	specs.OpLessEqual:    libseccomp.CompareLessOrEqual,
	specs.OpEqualTo:      libseccomp.CompareEqual,
	specs.OpGreaterEqual: libseccomp.CompareGreaterEqual,
	specs.OpGreaterThan:  libseccomp.CompareGreater,
	specs.OpMaskedEqual:  libseccomp.CompareMaskedEqual,
}

func operator(op specs.LinuxSeccompOperator) (libseccomp.ScmpCompareOp, error) {
	if v, ok := operators[op]; ok {
		return v, nil
	}
	return 0, fmt.Errorf("%q: unknown operator", op)
}

func checkFlag(f specs.LinuxSeccompFlag) error {
	switch f {
	case specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow, "SECCOMP_FILTER_FLAG_TSYNC":
		return nil
	case specs.LinuxSeccompFlagWaitKillableRecv:
		return fmt.Errorf("%q: needs libseccomp 2.6 (this host has %s)", f, LibraryVersion())
	}
	return fmt.Errorf("%q: unknown flag", f)
}
