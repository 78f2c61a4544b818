package libcontainer

import (
	"errors"
	"fmt"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// applyProcessAttrs sets what the kernel keeps across execve: the
// personality, NUMA memory policy, I/O priority, (for an exec'd process)
// the final CPU affinity, the LSM labels and the scheduling policy. All of
// them belong to the calling thread, the one that execs (the init is
// locked to it). It runs before the capabilities are dropped (a realtime
// policy needs CAP_SYS_NICE) and before seccomp, which may forbid the
// system calls.
func applyProcessAttrs(spec *specs.Spec, exec bool) error {
	proc := spec.Process
	if err := setPersonality(spec.Linux.Personality); err != nil {
		return err
	}
	if err := setMemoryPolicy(spec.Linux.MemoryPolicy); err != nil {
		return err
	}
	if err := setIOPriority(proc.IOPriority); err != nil {
		return err
	}
	if a := proc.ExecCPUAffinity; exec && a != nil && a.Final != "" {
		if err := setAffinity(0, a.Final); err != nil {
			return fmt.Errorf("process.execCPUAffinity.final %q: %w", a.Final, err)
		}
	}
	if err := applyLabels(proc); err != nil {
		return err
	}
	return setScheduler(proc.Scheduler)
}

// setInitialCPUAffinity runs in the parent of an exec: it pins the nsenter
// stage (pid, still single-threaded and outside the container) to the
// initial CPUs before it joins the container's cgroup, so the transition
// and everything after it run there; the process keeps them unless the
// cgroup's cpuset or a final affinity says otherwise.
func setInitialCPUAffinity(pid int, proc *specs.Process) error {
	a := proc.ExecCPUAffinity
	if a == nil || a.Initial == "" {
		return nil
	}
	if err := setAffinity(pid, a.Initial); err != nil {
		return fmt.Errorf("process.execCPUAffinity.initial %q: %w", a.Initial, err)
	}
	return nil
}

func setAffinity(pid int, list string) error {
	cpus, err := ParseIDList(list)
	if err != nil {
		return err
	}
	set := unix.NewCPUSet(cpus[len(cpus)-1] + 1)
	for _, c := range cpus {
		set.Set(c)
	}
	return unix.SchedSetaffinityDynamic(pid, set)
}

func setPersonality(p *specs.LinuxPersonality) error {
	if p == nil {
		return nil
	}
	persona, _ := PersonalityDomainNumber(p.Domain)
	for _, f := range p.Flags {
		bit, _ := PersonalityFlagNumber(f)
		persona |= bit
	}
	_, _, errno := unix.RawSyscall(unix.SYS_PERSONALITY, uintptr(persona), 0, 0)
	if errno != 0 {
		return fmt.Errorf("linux.personality: personality(%#x): %w", persona, errno)
	}
	return nil
}

// setMemoryPolicy calls set_mempolicy(2) with the mode, its flags and the
// node mask (none for MPOL_DEFAULT and MPOL_LOCAL).
func setMemoryPolicy(p *specs.LinuxMemoryPolicy) error {
	if p == nil {
		return nil
	}
	mode, _ := MemPolicyModeNumber(p.Mode)
	for _, f := range p.Flags {
		bit, _ := MemPolicyFlagNumber(f)
		mode |= bit
	}
	var mask []uint64
	if p.Nodes != "" {
		nodes, err := ParseIDList(p.Nodes)
		if err != nil {
			return fmt.Errorf("linux.memoryPolicy.nodes %q: %w", p.Nodes, err)
		}
		mask = make([]uint64, nodes[len(nodes)-1]/64+1)
		for _, n := range nodes {
			mask[n/64] |= 1 << (n % 64)
		}
	}
	var ptr unsafe.Pointer
	var maxnode uintptr
	if len(mask) > 0 {
		// The kernel reads maxnode-1 bits: one more than the mask holds.
		ptr, maxnode = unsafe.Pointer(&mask[0]), uintptr(len(mask)*64+1)
	}
	_, _, errno := unix.Syscall(unix.SYS_SET_MEMPOLICY, uintptr(mode), uintptr(ptr), maxnode)
	if errno != 0 {
		return fmt.Errorf("linux.memoryPolicy: set_mempolicy %s %q: %w", p.Mode, p.Nodes, errno)
	}
	return nil
}

// ioprioWhoProcess is IOPRIO_WHO_PROCESS: with who 0, the calling thread.
const ioprioWhoProcess = 1

func setIOPriority(p *specs.LinuxIOPriority) error {
	if p == nil {
		return nil
	}
	class, _ := IOPrioClassNumber(p.Class)
	value := class<<13 | p.Priority
	_, _, errno := unix.Syscall(unix.SYS_IOPRIO_SET, ioprioWhoProcess, 0, uintptr(value))
	if errno != 0 {
		return fmt.Errorf("process.ioPriority %s %d: ioprio_set: %w", p.Class, p.Priority, errno)
	}
	return nil
}

func setScheduler(s *specs.Scheduler) error {
	if s == nil {
		return nil
	}
	policy, _ := SchedPolicyNumber(s.Policy)
	attr := unix.SchedAttr{
		Policy: policy, Nice: s.Nice, Priority: uint32(s.Priority),
		Runtime: s.Runtime, Deadline: s.Deadline, Period: s.Period,
	}
	for _, f := range s.Flags {
		bit, _ := SchedFlagNumber(f)
		attr.Flags |= bit
	}
	if err := unix.SchedSetAttr(0, &attr, 0); err != nil {
		return fmt.Errorf("process.scheduler %s: sched_setattr: %w%s", s.Policy, err, schedHint(s.Policy, err))
	}
	return nil
}

// schedHint explains the usual EPERM of a realtime policy.
func schedHint(policy specs.LinuxSchedulerPolicy, err error) string {
	realtime := policy == specs.SchedFIFO || policy == specs.SchedRR || policy == specs.SchedDeadline
	if !realtime || !errors.Is(err, unix.EPERM) {
		return ""
	}
	return " (a realtime policy needs CAP_SYS_NICE, and where the kernel has realtime group scheduling, a cpu cgroup with realtime runtime: linux.resources.cpu.realtimeRuntime)"
}
