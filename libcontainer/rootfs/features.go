package rootfs

import "sort"

// MountOptions lists, sorted, every mount option ParseOptions gives a
// meaning of its own (flags, propagation, recursive attributes,
// tmpcopyup): the mountOptions of `berth features`. Filesystem data such
// as "size=64m" is passed through and not listed, as the spec asks; refused
// options are left out.
func MountOptions() []string {
	var out []string
	for o := range flagOptions {
		out = append(out, o)
	}
	for o := range propagationOptions {
		out = append(out, o)
	}
	for o := range recAttrOptions {
		out = append(out, o)
	}
	out = append(out, "tmpcopyup")
	sort.Strings(out)
	return out
}
