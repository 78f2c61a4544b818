package cgroups

import (
	"strconv"
	"strings"

	"github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The kernel's bounds (kernel/sched/core.c): CFS periods and quotas are at
// least 1 ms and periods at most 1 s; cpu.shares is 2..262144.
const (
	minCFSMicros    = 1000
	maxCFSPeriod    = 1000000
	minShares       = 2
	maxShares       = 262144
	maxCPUListValue = 1 << 16
)

func convertCPU(r *specs.LinuxResources, out *cgroups.Resources) error {
	c := r.CPU
	if c == nil {
		return nil
	}
	if c.Shares != nil && *c.Shares != 0 {
		if *c.Shares < minShares || *c.Shares > maxShares {
			return fieldError("linux.resources.cpu.shares", *c.Shares, "must be %d to %d", minShares, maxShares)
		}
		out.CpuShares = *c.Shares
		out.CpuWeight = cgroups.ConvertCPUSharesToCgroupV2Value(*c.Shares)
	}
	if c.Period != nil && *c.Period != 0 {
		if *c.Period < minCFSMicros || *c.Period > maxCFSPeriod {
			return fieldError("linux.resources.cpu.period", *c.Period, "must be %d to %d µs", minCFSMicros, maxCFSPeriod)
		}
		out.CpuPeriod = *c.Period
	}
	if c.Quota != nil && *c.Quota != 0 {
		q := *c.Quota
		if q != -1 && q < minCFSMicros {
			return fieldError("linux.resources.cpu.quota", q, "must be -1 (unlimited) or at least %d µs", minCFSMicros)
		}
		out.CpuQuota = q
	}
	if c.Burst != nil {
		b := *c.Burst
		if out.CpuQuota > 0 && b > uint64(out.CpuQuota) {
			return fieldError("linux.resources.cpu.burst", b, "above linux.resources.cpu.quota %d", out.CpuQuota)
		}
		out.CpuBurst = &b
	}
	if c.RealtimePeriod != nil && *c.RealtimePeriod != 0 {
		out.CpuRtPeriod = *c.RealtimePeriod
	}
	if c.RealtimeRuntime != nil && *c.RealtimeRuntime != 0 {
		rt := *c.RealtimeRuntime
		switch {
		case rt < -1:
			return fieldError("linux.resources.cpu.realtimeRuntime", rt, "must be -1 (unlimited) or positive")
		case out.CpuRtPeriod != 0 && rt > 0 && uint64(rt) > out.CpuRtPeriod:
			return fieldError("linux.resources.cpu.realtimeRuntime", rt, "above linux.resources.cpu.realtimePeriod %d", out.CpuRtPeriod)
		}
		out.CpuRtRuntime = rt
	}
	if c.Cpus != "" {
		if _, err := parseList(c.Cpus); err != nil {
			return fieldError("linux.resources.cpu.cpus", c.Cpus, "not a cpu list (%v)", err)
		}
		out.CpusetCpus = c.Cpus
	}
	if c.Mems != "" {
		if _, err := parseList(c.Mems); err != nil {
			return fieldError("linux.resources.cpu.mems", c.Mems, "not a memory node list (%v)", err)
		}
		out.CpusetMems = c.Mems
	}
	if c.Idle != nil {
		if *c.Idle != 0 && *c.Idle != 1 {
			return fieldError("linux.resources.cpu.idle", *c.Idle, "must be 0 or 1")
		}
		v := *c.Idle
		out.CPUIdle = &v
		if v == 1 {
			// The kernel refuses a weight for an idle group (cpu.shares
			// and cpu.weight: EINVAL), which would fail the create on
			// cgroup v2 (cpu.idle is written first) and every later
			// update on v1. An idle group has the idle weight anyway;
			// the configured one is written when idle goes back to 0.
			out.CpuShares, out.CpuWeight = 0, 0
		}
	}
	return nil
}

// listError explains what is wrong in a cpu or node list.
type listError string

func (e listError) Error() string { return string(e) }

// parseList parses the kernel's list format ("0-3,5,8-15:2/4") into the set
// of numbers it names.
func parseList(s string) (map[int]bool, error) {
	set := map[int]bool{}
	for _, part := range strings.Split(strings.TrimSpace(s), ",") {
		if part == "" {
			return nil, listError("empty element")
		}
		rng, stride, hasStride := strings.Cut(part, ":")
		lo, hi, isRange := strings.Cut(rng, "-")
		a, err := listNumber(lo)
		if err != nil {
			return nil, err
		}
		b := a
		if isRange {
			if b, err = listNumber(hi); err != nil {
				return nil, err
			}
			if b < a {
				return nil, listError("range " + rng + " runs backwards")
			}
		}
		used, group := 1, 1
		if hasStride {
			if !isRange {
				return nil, listError("stride " + stride + " without a range")
			}
			u, g, ok := strings.Cut(stride, "/")
			if !ok {
				return nil, listError("stride " + stride + " is not USED/GROUP")
			}
			if used, err = listNumber(u); err != nil {
				return nil, err
			}
			if group, err = listNumber(g); err != nil {
				return nil, err
			}
			if used == 0 || group == 0 || used > group {
				return nil, listError("stride " + stride + " is not USED/GROUP with 0 < USED <= GROUP")
			}
		}
		for i := a; i <= b; i++ {
			if (i-a)%group < used {
				set[i] = true
			}
		}
	}
	return set, nil
}

func listNumber(s string) (int, error) {
	if !isDigits(s) {
		if s == "" {
			return 0, listError("missing number")
		}
		return 0, listError(strconv.Quote(s) + " is not a number")
	}
	n, err := strconv.Atoi(s)
	if err != nil || n >= maxCPUListValue {
		return 0, listError(s + " is too large")
	}
	return n, nil
}
