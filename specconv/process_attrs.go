package specconv

import (
	"os"
	"strings"

	"github.com/berthrun/berth/libcontainer"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Host facts the checks below read; tests point them elsewhere.
var (
	cpuPossiblePath  = "/sys/devices/system/cpu/possible"
	nodePossiblePath = "/sys/devices/system/node/possible"
	resctrlPath      = "/sys/fs/resctrl"
)

// checkProcessAttrs checks the process's scheduler, I/O priority, exec CPU
// affinity and labels (in config.json's process and in an exec process file).
func checkProcessAttrs(p *specs.Process) error {
	checks := []func() error{
		func() error { return checkScheduler(p.Scheduler) },
		func() error { return checkIOPriority(p.IOPriority) },
		func() error { return checkExecCPUAffinity(p.ExecCPUAffinity) },
		func() error { return checkProcessLabels(p) },
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// checkLinuxAttrs checks linux.personality, linux.memoryPolicy and
// linux.intelRdt.
func checkLinuxAttrs(l *specs.Linux) error {
	if err := checkPersonality(l.Personality); err != nil {
		return err
	}
	if err := checkMemoryPolicy(l.MemoryPolicy); err != nil {
		return err
	}
	return checkIntelRdt(l.IntelRdt)
}

// checkScheduler applies sched_setattr(2)'s rules, so that a bad value is
// named here rather than failing as EINVAL inside the container.
func checkScheduler(s *specs.Scheduler) error {
	if s == nil {
		return nil
	}
	const field = "process.scheduler"
	switch _, known := libcontainer.SchedPolicyNumber(s.Policy); {
	case s.Policy == "":
		return badField(field+".policy", "missing (want one of %s)", schedPolicyNames)
	case s.Policy == specs.SchedISO:
		return badValue(field+".policy", string(s.Policy), "not implemented by Linux")
	case !known:
		return badValue(field+".policy", string(s.Policy), "unknown policy (want one of %s)", schedPolicyNames)
	}
	if s.Nice < -20 || s.Nice > 19 {
		return badValue(field+".nice", s.Nice, "out of range (want -20 to 19)")
	}
	realtime := s.Policy == specs.SchedFIFO || s.Policy == specs.SchedRR
	if realtime && (s.Priority < 1 || s.Priority > 99) {
		return badValue(field+".priority", s.Priority, "out of range for %s (want 1 to 99)", s.Policy)
	}
	if !realtime && s.Priority != 0 {
		return badValue(field+".priority", s.Priority, "only SCHED_FIFO and SCHED_RR have a priority (want 0)")
	}
	if err := checkDeadline(s); err != nil {
		return err
	}
	for i, f := range s.Flags {
		if _, ok := libcontainer.SchedFlagNumber(f); !ok {
			return badValue(at(field+".flags", i), string(f), "unknown flag")
		}
	}
	return nil
}

// The accepted names, for error messages.
const (
	schedPolicyNames   = "SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_IDLE, SCHED_DEADLINE"
	memPolicyModeNames = "MPOL_DEFAULT, MPOL_BIND, MPOL_INTERLEAVE, MPOL_WEIGHTED_INTERLEAVE, MPOL_PREFERRED, MPOL_PREFERRED_MANY, MPOL_LOCAL"
)

// checkDeadline: runtime, deadline and period belong to SCHED_DEADLINE,
// which needs 1024 ns <= runtime <= deadline <= period (0 = deadline).
func checkDeadline(s *specs.Scheduler) error {
	const field = "process.scheduler"
	if s.Policy != specs.SchedDeadline {
		if s.Runtime != 0 || s.Deadline != 0 || s.Period != 0 {
			return badField(field, "runtime, deadline and period only apply to SCHED_DEADLINE (policy is %s)", s.Policy)
		}
		return nil
	}
	switch {
	case s.Runtime < 1024:
		return badValue(field+".runtime", s.Runtime, "too small (SCHED_DEADLINE needs at least 1024 ns)")
	case s.Deadline < s.Runtime:
		return badValue(field+".deadline", s.Deadline, "less than runtime %d", s.Runtime)
	case s.Period != 0 && s.Period < s.Deadline:
		return badValue(field+".period", s.Period, "less than deadline %d", s.Deadline)
	case s.Deadline >= 1<<63 || s.Period >= 1<<63:
		return badField(field, "deadline and period must be below 2^63 ns")
	}
	return nil
}

func checkIOPriority(p *specs.LinuxIOPriority) error {
	if p == nil {
		return nil
	}
	if _, ok := libcontainer.IOPrioClassNumber(p.Class); !ok {
		return badValue("process.ioPriority.class", string(p.Class), "unknown class (want IOPRIO_CLASS_RT, IOPRIO_CLASS_BE or IOPRIO_CLASS_IDLE)")
	}
	if p.Priority < 0 || p.Priority > 7 {
		return badValue("process.ioPriority.priority", p.Priority, "out of range (want 0 to 7)")
	}
	return nil
}

// checkExecCPUAffinity checks both lists: CPU list syntax, and CPUs this
// machine can have.
func checkExecCPUAffinity(a *specs.CPUAffinity) error {
	if a == nil {
		return nil
	}
	if err := checkIDList("process.execCPUAffinity.initial", a.Initial, "CPU", cpuPossiblePath); err != nil {
		return err
	}
	return checkIDList("process.execCPUAffinity.final", a.Final, "CPU", cpuPossiblePath)
}

// checkIDList checks a CPU or node list ("" is allowed: not set) and that
// every id is one of the host's possible ones (from a sysfs list file).
func checkIDList(field, list, what, possiblePath string) error {
	if list == "" {
		return nil
	}
	ids, err := libcontainer.ParseIDList(list)
	if err != nil {
		return badValue(field, list, "%v", err)
	}
	b, err := os.ReadFile(possiblePath)
	if err != nil {
		return badValue(field, list, "this host lists no %ss (%v)", what, err)
	}
	have := strings.TrimSpace(string(b))
	possible, err := libcontainer.ParseIDList(have)
	if err != nil {
		return nil // an unreadable host list is the kernel's to judge
	}
	for _, id := range ids {
		if id > possible[len(possible)-1] {
			return badValue(field, list, "%s %d does not exist on this host (it has %s)", what, id, have)
		}
	}
	return nil
}

func checkPersonality(p *specs.LinuxPersonality) error {
	if p == nil {
		return nil
	}
	if _, ok := libcontainer.PersonalityDomainNumber(p.Domain); !ok {
		return badValue("linux.personality.domain", string(p.Domain), "unknown domain (want LINUX or LINUX32)")
	}
	for i, f := range p.Flags {
		if _, ok := libcontainer.PersonalityFlagNumber(f); !ok {
			return badValue(at("linux.personality.flags", i), string(f), "unknown flag (the kernel's names, e.g. ADDR_NO_RANDOMIZE)")
		}
	}
	return nil
}

// checkMemoryPolicy applies set_mempolicy(2)'s rules on modes, nodes and
// flags, and checks the nodes against the host's.
func checkMemoryPolicy(p *specs.LinuxMemoryPolicy) error {
	if p == nil {
		return nil
	}
	const field = "linux.memoryPolicy"
	if _, ok := libcontainer.MemPolicyModeNumber(p.Mode); !ok {
		return badValue(field+".mode", string(p.Mode), "unknown mode (want one of %s)", memPolicyModeNames)
	}
	flags := map[specs.MemoryPolicyFlagType]bool{}
	for i, f := range p.Flags {
		if _, ok := libcontainer.MemPolicyFlagNumber(f); !ok {
			return badValue(at(field+".flags", i), string(f), "unknown flag")
		}
		flags[f] = true
	}
	switch p.Mode {
	case specs.MpolDefault, specs.MpolLocal:
		if p.Nodes != "" {
			return badValue(field+".nodes", p.Nodes, "%s takes no nodes", p.Mode)
		}
	case specs.MpolBind, specs.MpolInterleave, specs.MpolWeightedInterleave, specs.MpolPreferredMany:
		if p.Nodes == "" {
			return badField(field+".nodes", "missing (%s needs at least one node)", p.Mode)
		}
	}
	if flags[specs.MpolFStaticNodes] && flags[specs.MpolFRelativeNodes] {
		return badField(field+".flags", "MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other")
	}
	if flags[specs.MpolFRelativeNodes] {
		// Relative node numbers are folded onto the allowed nodes: any
		// number is valid.
		_, err := libcontainer.ParseIDList(p.Nodes)
		if p.Nodes != "" && err != nil {
			return badValue(field+".nodes", p.Nodes, "%v", err)
		}
		return nil
	}
	return checkIDList(field+".nodes", p.Nodes, "NUMA node", nodePossiblePath)
}

// checkIntelRdt refuses linux.intelRdt: berth does not manage resctrl
// groups, and a cache or bandwidth limit must not be silently dropped.
func checkIntelRdt(r *specs.LinuxIntelRdt) error {
	if r == nil {
		return nil
	}
	var st unix.Statfs_t
	if err := unix.Statfs(resctrlPath, &st); err != nil || st.Type != unix.RDTGROUP_SUPER_MAGIC {
		return badField("linux.intelRdt", "this host has no resctrl filesystem (%s is not mounted); remove the setting", resctrlPath)
	}
	return badField("linux.intelRdt", "Intel RDT is not supported by this berth build yet; remove the setting")
}
