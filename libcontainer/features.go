package libcontainer

import "sort"

// Capabilities lists, in number order, the capability names berth knows
// that this kernel has (numbered up to /proc/sys/kernel/cap_last_cap), for
// `berth features`.
func Capabilities() []string {
	last := lastCap()
	var out []string
	for name, n := range capNumbers {
		if n <= last {
			out = append(out, name)
		}
	}
	sort.Slice(out, func(i, j int) bool { return capNumbers[out[i]] < capNumbers[out[j]] })
	return out
}
