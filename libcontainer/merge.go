package libcontainer

import specs "github.com/opencontainers/runtime-spec/specs-go"

// MergeResources returns cur with every field that upd sets replaced, the
// way `update` changes only what it is given. Neither input is modified.
func MergeResources(cur, upd *specs.LinuxResources) *specs.LinuxResources {
	out := specs.LinuxResources{}
	if cur != nil {
		out = *cur
	}
	if upd == nil {
		return &out
	}
	if upd.Devices != nil {
		out.Devices = upd.Devices
	}
	if upd.Memory != nil {
		out.Memory = mergeMemory(out.Memory, upd.Memory)
	}
	if upd.CPU != nil {
		out.CPU = mergeCPU(out.CPU, upd.CPU)
	}
	if upd.Pids != nil {
		out.Pids = upd.Pids
	}
	if upd.BlockIO != nil {
		out.BlockIO = mergeBlockIO(out.BlockIO, upd.BlockIO)
	}
	if upd.HugepageLimits != nil {
		out.HugepageLimits = upd.HugepageLimits
	}
	if upd.Network != nil {
		out.Network = upd.Network
	}
	if upd.Rdma != nil {
		out.Rdma = upd.Rdma
	}
	if upd.Unified != nil {
		u := map[string]string{}
		for k, v := range out.Unified {
			u[k] = v
		}
		for k, v := range upd.Unified {
			u[k] = v
		}
		out.Unified = u
	}
	return &out
}

func mergeMemory(cur, upd *specs.LinuxMemory) *specs.LinuxMemory {
	out := specs.LinuxMemory{}
	if cur != nil {
		out = *cur
	}
	setPtr(&out.Limit, upd.Limit)
	setPtr(&out.Reservation, upd.Reservation)
	setPtr(&out.Swap, upd.Swap)
	setPtr(&out.Kernel, upd.Kernel)
	setPtr(&out.KernelTCP, upd.KernelTCP)
	setPtr(&out.Swappiness, upd.Swappiness)
	setPtr(&out.DisableOOMKiller, upd.DisableOOMKiller)
	setPtr(&out.UseHierarchy, upd.UseHierarchy)
	if upd.CheckBeforeUpdate != nil {
		out.CheckBeforeUpdate = upd.CheckBeforeUpdate
	}
	return &out
}

func mergeCPU(cur, upd *specs.LinuxCPU) *specs.LinuxCPU {
	out := specs.LinuxCPU{}
	if cur != nil {
		out = *cur
	}
	setPtr(&out.Shares, upd.Shares)
	setPtr(&out.Quota, upd.Quota)
	setPtr(&out.Burst, upd.Burst)
	setPtr(&out.Period, upd.Period)
	setPtr(&out.RealtimeRuntime, upd.RealtimeRuntime)
	setPtr(&out.RealtimePeriod, upd.RealtimePeriod)
	setPtr(&out.Idle, upd.Idle)
	if upd.Cpus != "" {
		out.Cpus = upd.Cpus
	}
	if upd.Mems != "" {
		out.Mems = upd.Mems
	}
	return &out
}

func mergeBlockIO(cur, upd *specs.LinuxBlockIO) *specs.LinuxBlockIO {
	out := specs.LinuxBlockIO{}
	if cur != nil {
		out = *cur
	}
	setPtr(&out.Weight, upd.Weight)
	setPtr(&out.LeafWeight, upd.LeafWeight)
	if upd.WeightDevice != nil {
		out.WeightDevice = upd.WeightDevice
	}
	if upd.ThrottleReadBpsDevice != nil {
		out.ThrottleReadBpsDevice = upd.ThrottleReadBpsDevice
	}
	if upd.ThrottleWriteBpsDevice != nil {
		out.ThrottleWriteBpsDevice = upd.ThrottleWriteBpsDevice
	}
	if upd.ThrottleReadIOPSDevice != nil {
		out.ThrottleReadIOPSDevice = upd.ThrottleReadIOPSDevice
	}
	if upd.ThrottleWriteIOPSDevice != nil {
		out.ThrottleWriteIOPSDevice = upd.ThrottleWriteIOPSDevice
	}
	return &out
}

// setPtr replaces *dst with src when src is set.
func setPtr[T any](dst **T, src *T) {
	if src != nil {
		*dst = src
	}
}
