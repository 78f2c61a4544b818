package seccomp

import (
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// Every value the runtime-spec defines; Features keeps those this build
// accepts, asking the same functions Check and Compile use, so the answer
// cannot drift from what a config may really ask for.
var (
	specActions = []specs.LinuxSeccompAction{
		specs.ActKill, specs.ActKillProcess, specs.ActKillThread, specs.ActTrap,
		specs.ActErrno, specs.ActTrace, specs.ActAllow, specs.ActLog, specs.ActNotify,
	}
	specArchs = []specs.Arch{
		specs.ArchX86, specs.ArchX86_64, specs.ArchX32, specs.ArchARM, specs.ArchAARCH64,
		specs.ArchMIPS, specs.ArchMIPS64, specs.ArchMIPS64N32, specs.ArchMIPSEL,
		specs.ArchMIPSEL64, specs.ArchMIPSEL64N32, specs.ArchPPC, specs.ArchPPC64,
		specs.ArchPPC64LE, specs.ArchS390, specs.ArchS390X, specs.ArchPARISC,
		specs.ArchPARISC64, specs.ArchRISCV64, specs.ArchLOONGARCH64, specs.ArchM68K,
		specs.ArchSH, specs.ArchSHEB,
	}
	// specFlags pairs each filter flag name with its kernel bit, for the probe.
	specFlags = []struct {
		name specs.LinuxSeccompFlag
		bit  uintptr
	}{
		{"SECCOMP_FILTER_FLAG_TSYNC", unix.SECCOMP_FILTER_FLAG_TSYNC},
		{specs.LinuxSeccompFlagLog, unix.SECCOMP_FILTER_FLAG_LOG},
		{specs.LinuxSeccompFlagSpecAllow, unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW},
		{specs.LinuxSeccompFlagWaitKillableRecv, 1 << 5}, // SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
	}
)

// Features reports the seccomp part of `berth features`: the actions,
// operators, architectures and flags a config may use with this build, its
// libseccomp and this kernel.
func Features() *features.Seccomp {
	enabled := true
	f := &features.Seccomp{Enabled: &enabled}
	for _, a := range specActions {
		if _, err := action(a, nil); err == nil {
			f.Actions = append(f.Actions, string(a))
		}
	}
	for op := range operators {
		f.Operators = append(f.Operators, string(op))
	}
	sort.Strings(f.Operators)
	f.Archs = supportedArchs()
	for _, fl := range specFlags {
		if checkFlag(fl.name) != nil {
			continue
		}
		f.KnownFlags = append(f.KnownFlags, string(fl.name))
		if kernelHasFlag(fl.bit) {
			f.SupportedFlags = append(f.SupportedFlags, string(fl.name))
		}
	}
	return f
}

// supportedArchs keeps the architectures the linked libseccomp can add to
// a filter, not only parse: a name the Go binding knows may still be
// missing from an older C library.
func supportedArchs() []string {
	filter, err := libseccomp.NewFilter(libseccomp.ActAllow)
	if err != nil {
		return nil
	}
	defer filter.Release()
	var out []string
	for _, a := range specArchs {
		v, err := arch(a)
		if err != nil {
			continue
		}
		if filter.AddArch(v) == nil { // the native arch is already there: nil too
			out = append(out, string(a))
		}
	}
	return out
}

// kernelHasFlag asks the kernel whether it knows a filter flag without
// installing anything: with no program to read, a known flag fails with
// EFAULT, an unknown one with EINVAL.
func kernelHasFlag(bit uintptr) bool {
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, bit, 0)
	return errno == unix.EFAULT
}
