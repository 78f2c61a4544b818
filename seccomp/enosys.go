package seccomp

/*
#cgo pkg-config: libseccomp
#include <stdlib.h>
#include <seccomp.h>
*/
import "C"

import (
	"fmt"
	"strings"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// The ENOSYS stub. A profile lists the syscalls its author knew; a syscall
// added to the kernel later falls to the default action, typically EPERM.
// A new libc probing such a call (clone3, faccessat2, ...) takes EPERM as a
// real refusal and fails, where ENOSYS would make it fall back to the old
// call. So, for each architecture in the filter, every syscall number above
// the highest one the profile names returns ENOSYS; everything else goes on
// to the profile's own filter:
//
//	ld  arch
//	jeq ARCH_1, arch1, -        one test per architecture
//	...
//	ja  profile                 an architecture without a stub
//	arch1: ld nr
//	       jge 0x40000000, profile, -    x86_64 only: x32 calls share the arch
//	       jgt MAX_1, enosys, profile
//	...
//	enosys: ret ERRNO|ENOSYS
//	profile: (libseccomp's filter)

// x32SyscallBit marks x32 calls, which arrive with AUDIT_ARCH_X86_64.
const x32SyscallBit = 0x40000000

// Offsets of the fields of struct seccomp_data the stub reads.
const (
	offsetNr   = 0
	offsetArch = 4
)

// archLimit is the highest syscall number a profile names on one
// architecture (its audit token).
type archLimit struct {
	token, max uint32
}

// stubbed reports whether a default action wants the stub: only actions that
// refuse a call do; ENOSYS itself needs none.
func stubbed(def libseccomp.ScmpAction) bool {
	switch def {
	case libseccomp.ActAllow, libseccomp.ActLog, libseccomp.ActErrno.SetReturnCode(int16(unix.ENOSYS)):
		return false
	}
	return true
}

// enosysStub returns the BPF prefix for profile s (nil when no architecture
// has a known syscall in it).
func enosysStub(s *specs.LinuxSeccomp) ([]unix.SockFilter, error) {
	limits, err := profileLimits(s)
	if err != nil {
		return nil, err
	}
	return stubFor(limits), nil
}

// stubFor assembles the prefix; jumps are relative to the next instruction.
func stubFor(limits []archLimit) []unix.SockFilter {
	if len(limits) == 0 {
		return nil
	}
	blockLen := func(l archLimit) int {
		if l.token == unix.AUDIT_ARCH_X86_64 {
			return 3
		}
		return 2
	}
	head := 1 + len(limits) + 1 // ld arch, one jeq each, ja
	enosys := head
	for _, l := range limits {
		enosys += blockLen(l)
	}
	profile := enosys + 1
	prog := []unix.SockFilter{stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, offsetArch)}
	block := head
	for _, l := range limits {
		prog = append(prog, jump(unix.BPF_JEQ, l.token, block-len(prog)-1, 0))
		block += blockLen(l)
	}
	prog = append(prog, stmt(unix.BPF_JMP|unix.BPF_JA, uint32(profile-len(prog)-1)))
	for _, l := range limits {
		prog = append(prog, stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, offsetNr))
		if l.token == unix.AUDIT_ARCH_X86_64 {
			prog = append(prog, jump(unix.BPF_JGE, x32SyscallBit, profile-len(prog)-1, 0))
		}
		prog = append(prog, jump(unix.BPF_JGT, l.max, enosys-len(prog)-1, profile-len(prog)-1))
	}
	return append(prog, stmt(unix.BPF_RET|unix.BPF_K, unix.SECCOMP_RET_ERRNO|uint32(unix.ENOSYS)))
}

func stmt(code uint16, k uint32) unix.SockFilter {
	return unix.SockFilter{Code: code, K: k}
}

func jump(op uint16, k uint32, jt, jf int) unix.SockFilter {
	return unix.SockFilter{Code: unix.BPF_JMP | op | unix.BPF_K, K: k, Jt: uint8(jt), Jf: uint8(jf)}
}

// profileLimits finds, for the native architecture and each one listed
// (x32 aside: its calls are left to the profile), the highest syscall
// number the profile names, whatever the rule's action.
func profileLimits(s *specs.LinuxSeccomp) ([]archLimit, error) {
	tokens := []uint32{uint32(C.seccomp_arch_native())}
	for i, a := range s.Architectures {
		t, err := archToken(a)
		if err != nil {
			return nil, fmt.Errorf("linux.seccomp.architectures[%d]: %w", i, err)
		}
		if t != uint32(C.SCMP_ARCH_X32) && !containsToken(tokens, t) {
			tokens = append(tokens, t)
		}
	}
	var limits []archLimit
	for _, t := range tokens {
		if max, ok := highestSyscall(s, t); ok {
			limits = append(limits, archLimit{token: t, max: max})
		}
	}
	return limits, nil
}

func containsToken(tokens []uint32, t uint32) bool {
	for _, x := range tokens {
		if x == t {
			return true
		}
	}
	return false
}

// archToken resolves an OCI architecture (SCMP_ARCH_X86_64) to its audit
// token; libseccomp's C names are the OCI names in lower case.
func archToken(a specs.Arch) (uint32, error) {
	name := C.CString(strings.ToLower(strings.TrimPrefix(string(a), "SCMP_ARCH_")))
	defer C.free(unsafe.Pointer(name))
	t := uint32(C.seccomp_arch_resolve_name(name))
	if t == 0 {
		return 0, fmt.Errorf("%q: unknown architecture", a)
	}
	return t, nil
}

// highestSyscall is the largest number any name of the profile has on the
// architecture; names the architecture lacks resolve to negative numbers.
func highestSyscall(s *specs.LinuxSeccomp, token uint32) (uint32, bool) {
	max, found := int32(0), false
	for _, sc := range s.Syscalls {
		for _, n := range sc.Names {
			name := C.CString(n)
			nr := int32(C.seccomp_syscall_resolve_name_arch(C.uint32_t(token), name))
			C.free(unsafe.Pointer(name))
			if nr >= 0 && (!found || nr > max) {
				max, found = nr, true
			}
		}
	}
	return uint32(max), found
}
