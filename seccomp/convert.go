package seccomp

import (
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

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
		if _, err := action(sc.Action, sc.ErrnoRet); err != nil {
			return fmt.Errorf("linux.seccomp.syscalls[%d].action: %w", i, err)
		}
		for j, a := range sc.Args {
			if _, err := operator(a.Op); err != nil {
				return fmt.Errorf("linux.seccomp.syscalls[%d].args[%d].op: %w", i, j, err)
			}
			if a.Index > 5 {
				return fmt.Errorf("linux.seccomp.syscalls[%d].args[%d].index %d: a syscall has 6 arguments (0-5)", i, j, a.Index)
			}
		}
	}
	return nil
}

func action(a specs.LinuxSeccompAction, errnoRet *uint) (libseccomp.ScmpAction, error) {
	ret := int16(unix.EPERM)
	if errnoRet != nil {
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
		return 0, fmt.Errorf("%q: seccomp notify is not supported by this berth build yet", a)
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
