package cgroups

import (
	"github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// limitOK accepts -1 (unlimited), 0 (unset) and positive byte counts.
func limitOK(v int64) bool { return v >= -1 }

func convertMemory(r *specs.LinuxResources, out *cgroups.Resources) error {
	m := r.Memory
	if m == nil {
		return nil
	}
	if m.Limit != nil {
		if !limitOK(*m.Limit) {
			return fieldError("linux.resources.memory.limit", *m.Limit, "must be -1 (unlimited) or positive")
		}
		out.Memory = *m.Limit
	}
	if m.Reservation != nil {
		if !limitOK(*m.Reservation) {
			return fieldError("linux.resources.memory.reservation", *m.Reservation, "must be -1 (unlimited) or positive")
		}
		out.MemoryReservation = *m.Reservation
	}
	if m.Swap != nil {
		swap := *m.Swap
		if !limitOK(swap) {
			return fieldError("linux.resources.memory.swap", swap, "must be -1 (unlimited) or positive")
		}
		if swap > 0 {
			// swap is the memory+swap total, so it needs a memory limit
			// and cannot be below it (the kernel refuses both).
			switch {
			case out.Memory <= 0:
				return fieldError("linux.resources.memory.swap", swap, "needs a positive linux.resources.memory.limit (swap is the memory+swap total)")
			case swap < out.Memory:
				return fieldError("linux.resources.memory.swap", swap, "below linux.resources.memory.limit %d (swap is the memory+swap total)", out.Memory)
			}
		}
		out.MemorySwap = swap
	}
	if m.Kernel != nil && !limitOK(*m.Kernel) { //nolint:staticcheck // deprecated in the spec, still parsed
		return fieldError("linux.resources.memory.kernel", *m.Kernel, "must be -1 (unlimited) or positive") //nolint:staticcheck
	}
	if m.KernelTCP != nil && !limitOK(*m.KernelTCP) {
		return fieldError("linux.resources.memory.kernelTCP", *m.KernelTCP, "must be -1 (unlimited) or positive")
	}
	if m.Swappiness != nil {
		if *m.Swappiness > 100 {
			return fieldError("linux.resources.memory.swappiness", *m.Swappiness, "must be 0 to 100")
		}
		v := *m.Swappiness
		out.MemorySwappiness = &v
	}
	if m.DisableOOMKiller != nil {
		out.OomKillDisable = *m.DisableOOMKiller
	}
	if m.CheckBeforeUpdate != nil {
		out.MemoryCheckBeforeUpdate = *m.CheckBeforeUpdate
	}
	// useHierarchy: always on (see Ignored for false).
	return nil
}
