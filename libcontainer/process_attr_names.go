package libcontainer

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The kernel's numbers for the names config.json uses in process.scheduler,
// process.ioPriority, linux.personality and linux.memoryPolicy. specconv
// checks names against the same tables, so a name it accepts always has a
// number here.

var schedPolicies = map[specs.LinuxSchedulerPolicy]uint32{
	specs.SchedOther: 0, specs.SchedFIFO: 1, specs.SchedRR: 2, specs.SchedBatch: 3,
	specs.SchedIdle: 5, specs.SchedDeadline: 6,
	// SCHED_ISO (4) was reserved for a patch Linux never merged.
}

var schedFlags = map[specs.LinuxSchedulerFlag]uint64{
	specs.SchedFlagResetOnFork: 0x01, specs.SchedFlagReclaim: 0x02, specs.SchedFlagDLOverrun: 0x04,
	specs.SchedFlagKeepPolicy: 0x08, specs.SchedFlagKeepParams: 0x10,
	specs.SchedFlagUtilClampMin: 0x20, specs.SchedFlagUtilClampMax: 0x40,
}

var ioPrioClasses = map[specs.IOPriorityClass]int{
	specs.IOPRIO_CLASS_RT: 1, specs.IOPRIO_CLASS_BE: 2, specs.IOPRIO_CLASS_IDLE: 3,
}

var personalityDomains = map[specs.LinuxPersonalityDomain]uint{
	specs.PerLinux: 0x0000, specs.PerLinux32: 0x0008,
}

// personalityFlags are the kernel's (linux/personality.h): the spec
// defines none yet, and these are the only names that can mean anything.
var personalityFlags = map[specs.LinuxPersonalityFlag]uint{
	"UNAME26": 0x0020000, "ADDR_NO_RANDOMIZE": 0x0040000, "FDPIC_FUNCPTRS": 0x0080000,
	"MMAP_PAGE_ZERO": 0x0100000, "ADDR_COMPAT_LAYOUT": 0x0200000, "READ_IMPLIES_EXEC": 0x0400000,
	"ADDR_LIMIT_32BIT": 0x0800000, "SHORT_INODE": 0x1000000, "WHOLE_SECONDS": 0x2000000,
	"STICKY_TIMEOUTS": 0x4000000, "ADDR_LIMIT_3GB": 0x8000000,
}

var memPolicyModes = map[specs.MemoryPolicyModeType]int{
	specs.MpolDefault: 0, specs.MpolPreferred: 1, specs.MpolBind: 2, specs.MpolInterleave: 3,
	specs.MpolLocal: 4, specs.MpolPreferredMany: 5, specs.MpolWeightedInterleave: 6,
}

var memPolicyFlags = map[specs.MemoryPolicyFlagType]int{
	specs.MpolFNumaBalancing: 1 << 13, specs.MpolFRelativeNodes: 1 << 14, specs.MpolFStaticNodes: 1 << 15,
}

// SchedPolicyNumber returns the SCHED_* number of a scheduler policy name.
func SchedPolicyNumber(p specs.LinuxSchedulerPolicy) (uint32, bool) {
	n, ok := schedPolicies[p]
	return n, ok
}

// SchedFlagNumber returns the SCHED_FLAG_* bit of a scheduler flag name.
func SchedFlagNumber(f specs.LinuxSchedulerFlag) (uint64, bool) {
	n, ok := schedFlags[f]
	return n, ok
}

// IOPrioClassNumber returns the IOPRIO_CLASS_* number of a class name.
func IOPrioClassNumber(c specs.IOPriorityClass) (int, bool) {
	n, ok := ioPrioClasses[c]
	return n, ok
}

// PersonalityDomainNumber returns the PER_* number of a personality domain.
func PersonalityDomainNumber(d specs.LinuxPersonalityDomain) (uint, bool) {
	n, ok := personalityDomains[d]
	return n, ok
}

// PersonalityFlagNumber returns the bit of a personality flag name.
func PersonalityFlagNumber(f specs.LinuxPersonalityFlag) (uint, bool) {
	n, ok := personalityFlags[f]
	return n, ok
}

// MemPolicyModeNumber returns the MPOL_* number of a memory policy mode.
func MemPolicyModeNumber(m specs.MemoryPolicyModeType) (int, bool) {
	n, ok := memPolicyModes[m]
	return n, ok
}

// MemPolicyFlagNumber returns the MPOL_F_* bit of a memory policy flag.
func MemPolicyFlagNumber(f specs.MemoryPolicyFlagType) (int, bool) {
	n, ok := memPolicyFlags[f]
	return n, ok
}

// maxListID bounds the numbers of a CPU or node list: the kernel's
// largest configurable CPU count. It keeps a typo from allocating a
// huge mask.
const maxListID = 8192

// ParseIDList parses a CPU or NUMA node list such as "0-3,7" (the
// kernel's cpulist format) into sorted, distinct numbers.
func ParseIDList(s string) ([]int, error) {
	if s == "" {
		return nil, fmt.Errorf("empty list")
	}
	var ids []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		first, err := parseID(lo, part)
		if err != nil {
			return nil, err
		}
		last := first
		if isRange {
			if last, err = parseID(hi, part); err != nil {
				return nil, err
			}
			if last < first {
				return nil, fmt.Errorf("%q: the range goes down", part)
			}
		}
		for id := first; id <= last; id++ {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

func parseID(s, part string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 || strings.HasPrefix(strings.TrimSpace(s), "+") {
		return 0, fmt.Errorf("%q: want a number or a range like 0-3", part)
	}
	if n >= maxListID {
		return 0, fmt.Errorf("%q: %d is too large (at most %d)", part, n, maxListID-1)
	}
	return n, nil
}
