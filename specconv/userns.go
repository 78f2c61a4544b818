package specconv

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// checkUserNamespace ties linux.uidMappings and linux.gidMappings to the
// user namespace: mappings without one would be silently meaningless, and a
// new user namespace without them leaves every id unmapped (the process
// would run as the overflow user, unable to touch its own rootfs).
func checkUserNamespace(linux *specs.Linux, ns namespaceSet) error {
	user, i, ok := ns.lookup(specs.UserNamespace)
	if !ok {
		if len(linux.UIDMappings) > 0 {
			return badField("linux.uidMappings", "set without a user namespace (add {\"type\":\"user\"} to linux.namespaces, or remove the mappings)")
		}
		if len(linux.GIDMappings) > 0 {
			return badField("linux.gidMappings", "set without a user namespace (add {\"type\":\"user\"} to linux.namespaces, or remove the mappings)")
		}
		return nil
	}
	// A joined user namespace already has its maps; mappings given with it
	// describe them and are checked like any others.
	if user.Path == "" {
		if len(linux.UIDMappings) == 0 {
			return badField("linux.uidMappings", "missing (the new user namespace at %s needs uid and gid mappings)", at("linux.namespaces", i))
		}
		if len(linux.GIDMappings) == 0 {
			return badField("linux.gidMappings", "missing (the new user namespace at %s needs uid and gid mappings)", at("linux.namespaces", i))
		}
	}
	if err := checkIDMappings("linux.uidMappings", linux.UIDMappings); err != nil {
		return err
	}
	return checkIDMappings("linux.gidMappings", linux.GIDMappings)
}

// maxID is one past the largest id a mapping may cover.
const maxID = 1 << 32

// checkIDMappings checks what the kernel would refuse with a bare EINVAL
// when the map is written: empty ranges, ranges past the 32-bit id space,
// and ranges that overlap on either side.
func checkIDMappings(field string, maps []specs.LinuxIDMapping) error {
	for i, m := range maps {
		if m.Size == 0 {
			return badValue(at(field, i, "size"), m.Size, "must be at least 1")
		}
		if uint64(m.ContainerID)+uint64(m.Size) > maxID {
			return badValue(at(field, i, "size"), m.Size, "maps container ids past 4294967295 (containerID %d)", m.ContainerID)
		}
		if uint64(m.HostID)+uint64(m.Size) > maxID {
			return badValue(at(field, i, "size"), m.Size, "maps host ids past 4294967295 (hostID %d)", m.HostID)
		}
		for j, prev := range maps[:i] {
			if overlap(m.ContainerID, prev.ContainerID, m.Size, prev.Size) {
				return badField(at(field, i), "container ids %s overlap %s", idRange(m.ContainerID, m.Size), at(field, j))
			}
			if overlap(m.HostID, prev.HostID, m.Size, prev.Size) {
				return badField(at(field, i), "host ids %s overlap %s", idRange(m.HostID, m.Size), at(field, j))
			}
		}
	}
	return nil
}

// overlap reports whether [a, a+as) and [b, b+bs) intersect.
func overlap(a, b, as, bs uint32) bool {
	return uint64(a) < uint64(b)+uint64(bs) && uint64(b) < uint64(a)+uint64(as)
}

func idRange(start, size uint32) string {
	return fmt.Sprintf("%d-%d", start, uint64(start)+uint64(size)-1)
}
