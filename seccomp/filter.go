package seccomp

import (
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// Program is a compiled filter, ready to install. Compiling allocates (a
// lot, for big profiles), so it happens before the container's rlimits are
// set; installing is one syscall, done as late as the rules allow.
type Program struct {
	insns []unix.SockFilter
	flags uintptr
	// notify: some rule is SCMP_ACT_NOTIFY, so installing returns a
	// listener fd for the agent.
	notify bool
}

// Compile builds the OCI filter into BPF. Syscall names this libseccomp does
// not know are skipped, as runc does, so a profile written for a newer
// kernel still loads. When the default action refuses, an ENOSYS stub goes
// in front (see enosysStub).
func Compile(s *specs.LinuxSeccomp) (*Program, error) {
	def, err := action(s.DefaultAction, s.DefaultErrnoRet)
	if err != nil {
		return nil, fmt.Errorf("linux.seccomp.defaultAction: %w", err)
	}
	f, err := libseccomp.NewFilter(def)
	if err != nil {
		return nil, fmt.Errorf("seccomp: new filter: %w", err)
	}
	defer f.Release()
	p := &Program{flags: unix.SECCOMP_FILTER_FLAG_TSYNC}
	if err := configure(f, s, p); err != nil {
		return nil, err
	}
	for i, sc := range s.Syscalls {
		if err := addRules(f, def, sc); err != nil {
			return nil, fmt.Errorf("linux.seccomp.syscalls[%d]: %w", i, err)
		}
		p.notify = p.notify || sc.Action == specs.ActNotify
	}
	if p.insns, err = export(f); err != nil {
		return nil, err
	}
	if stubbed(def) {
		stub, err := enosysStub(s)
		if err != nil {
			return nil, err
		}
		p.insns = append(stub, p.insns...)
	}
	if p.notify {
		// The kernel refuses TSYNC with a listener unless a failed
		// thread sync is reported as ESRCH (the fd takes the return value).
		p.flags |= unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH
	}
	return p, nil
}

// Notifies reports whether the filter has SCMP_ACT_NOTIFY rules: Install
// then returns the listener fd the agent needs.
func (p *Program) Notifies() bool { return p.notify }

// Raw is the program as seccomp(2) takes it, for the C init
// (libcontainer/cinit.go): the filter flags and the instructions, 8 bytes
// each in host byte order.
func (p *Program) Raw() (flags uint32, insns []byte) {
	insns = make([]byte, 0, 8*len(p.insns))
	for _, in := range p.insns {
		insns = binary.NativeEndian.AppendUint16(insns, in.Code)
		insns = append(insns, in.Jt, in.Jf)
		insns = binary.NativeEndian.AppendUint32(insns, in.K)
	}
	return uint32(p.flags), insns
}

// export reads the filter's BPF back through a memfd.
func export(f *libseccomp.ScmpFilter) ([]unix.SockFilter, error) {
	fd, err := unix.MemfdCreate("seccomp-bpf", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("seccomp: memfd: %w", err)
	}
	mf := os.NewFile(uintptr(fd), "seccomp-bpf")
	defer mf.Close()
	if err := f.ExportBPF(mf); err != nil {
		return nil, fmt.Errorf("seccomp: export filter: %w", err)
	}
	raw, err := os.ReadFile("/proc/self/fd/" + strconv.Itoa(fd))
	if err != nil || len(raw)%8 != 0 {
		return nil, fmt.Errorf("seccomp: read exported filter: %v", err)
	}
	insns := make([]unix.SockFilter, len(raw)/8)
	for i := range insns {
		b := raw[i*8:]
		insns[i] = unix.SockFilter{
			Code: binary.NativeEndian.Uint16(b[0:]), Jt: b[2], Jf: b[3],
			K: binary.NativeEndian.Uint32(b[4:]),
		}
	}
	return insns, nil
}

// Install loads the program on every thread of the process (TSYNC).
// Without no_new_privs set, the caller must hold CAP_SYS_ADMIN. For a
// filter that notifies it returns the listener (close-on-exec), else -1.
func (p *Program) Install() (listener int, err error) {
	prog := unix.SockFprog{Len: uint16(len(p.insns)), Filter: &p.insns[0]}
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, p.flags, uintptr(unsafe.Pointer(&prog)))
	if errno != 0 {
		return -1, fmt.Errorf("seccomp: install filter: %w", errno)
	}
	if !p.notify {
		if r != 0 { // TSYNC without ESRCH reports a failed thread by its id
			return -1, fmt.Errorf("seccomp: install filter: thread %d could not be synchronized", r)
		}
		return -1, nil
	}
	return int(r), nil
}

func configure(f *libseccomp.ScmpFilter, s *specs.LinuxSeccomp, p *Program) error {
	for i, a := range s.Architectures {
		v, err := arch(a)
		if err != nil {
			return fmt.Errorf("linux.seccomp.architectures[%d]: %w", i, err)
		}
		if err := f.AddArch(v); err != nil {
			return fmt.Errorf("linux.seccomp.architectures[%d] %q: %w", i, a, err)
		}
	}
	for i, fl := range s.Flags {
		switch fl {
		case specs.LinuxSeccompFlagLog:
			p.flags |= unix.SECCOMP_FILTER_FLAG_LOG
		case specs.LinuxSeccompFlagSpecAllow:
			p.flags |= unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW
		default:
			if err := checkFlag(fl); err != nil { // TSYNC is always on
				return fmt.Errorf("linux.seccomp.flags[%d]: %w", i, err)
			}
		}
	}
	return nil
}

// addRules adds one rule per syscall name. Conditions on distinct
// arguments are ANDed in one rule; several conditions on the same argument
// become one rule each (ORed), the way runc reads such profiles.
func addRules(f *libseccomp.ScmpFilter, def libseccomp.ScmpAction, sc specs.LinuxSyscall) error {
	act, err := action(sc.Action, sc.ErrnoRet)
	if err != nil {
		return err
	}
	if act == def {
		return nil // libseccomp refuses rules that repeat the default
	}
	conds, sameArg, err := conditions(sc.Args)
	if err != nil {
		return err
	}
	for _, name := range sc.Names {
		call, err := libseccomp.GetSyscallFromName(name)
		if err != nil {
			continue // unknown to this libseccomp: skip, as runc does
		}
		if err := addRule(f, call, act, conds, sameArg); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

func addRule(f *libseccomp.ScmpFilter, call libseccomp.ScmpSyscall, act libseccomp.ScmpAction, conds []libseccomp.ScmpCondition, sameArg bool) error {
	if len(conds) == 0 {
		return f.AddRule(call, act)
	}
	if !sameArg {
		return f.AddRuleConditional(call, act, conds)
	}
	for _, c := range conds {
		if err := f.AddRuleConditional(call, act, []libseccomp.ScmpCondition{c}); err != nil {
			return err
		}
	}
	return nil
}

func conditions(args []specs.LinuxSeccompArg) ([]libseccomp.ScmpCondition, bool, error) {
	var conds []libseccomp.ScmpCondition
	seen := map[uint]bool{}
	sameArg := false
	for j, a := range args {
		op, err := operator(a.Op)
		if err != nil {
			return nil, false, fmt.Errorf("args[%d].op: %w", j, err)
		}
		values := []uint64{a.Value}
		if op == libseccomp.CompareMaskedEqual {
			values = append(values, a.ValueTwo)
		}
		c, err := libseccomp.MakeCondition(a.Index, op, values...)
		if err != nil {
			return nil, false, fmt.Errorf("args[%d]: %w", j, err)
		}
		sameArg = sameArg || seen[a.Index]
		seen[a.Index] = true
		conds = append(conds, c)
	}
	return conds, sameArg, nil
}
