package specconv

import (
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// checkMounts checks what every mount needs whatever its type. Options are
// not checked: anything that is not a known flag is filesystem data
// (size=64m, mode=755) that only the kernel can judge.
func checkMounts(mounts []specs.Mount) error {
	for i, m := range mounts {
		if m.Destination == "" {
			return badValue(at("mounts", i, "destination"), m.Destination, "missing (want an absolute path in the container)")
		}
		if !filepath.IsAbs(m.Destination) {
			return badValue(at("mounts", i, "destination"), m.Destination, "must be an absolute path in the container")
		}
		if isBindMount(m) && m.Source == "" {
			return badValue(at("mounts", i, "source"), m.Source, "missing (a bind mount needs the path to bind)")
		}
		if err := checkMountIDMappings(i, m); err != nil {
			return err
		}
	}
	return nil
}

// isBindMount reports whether m is a bind mount, which the spec marks either
// by type or, more commonly, by a bind/rbind option with a dummy type.
func isBindMount(m specs.Mount) bool {
	if m.Type == "bind" {
		return true
	}
	for _, o := range m.Options {
		if o == "bind" || o == "rbind" {
			return true
		}
	}
	return false
}

// checkMountIDMappings checks an idmapped mount's mappings: the spec wants
// both or neither, and each is checked like a user namespace's.
func checkMountIDMappings(i int, m specs.Mount) error {
	hasUID, hasGID := len(m.UIDMappings) > 0, len(m.GIDMappings) > 0
	if hasUID != hasGID {
		return badField(at("mounts", i), "uidMappings and gidMappings must be given together")
	}
	if err := checkIDMappings(at("mounts", i, "uidMappings"), m.UIDMappings); err != nil {
		return err
	}
	if err := checkIDMappings(at("mounts", i, "gidMappings"), m.GIDMappings); err != nil {
		return err
	}
	// The mount code does not apply mappings yet: refuse rather than show
	// the container host-owned files it expected to see mapped.
	if hasUID {
		return badField(at("mounts", i, "uidMappings"), "idmapped mounts are not supported by this berth build yet")
	}
	return nil
}

// propagations are the values linux.rootfsPropagation may take.
var propagations = map[string]bool{
	"": true, "shared": true, "slave": true, "private": true, "unbindable": true,
	"rshared": true, "rslave": true, "rprivate": true, "runbindable": true,
}

func checkRootfsPropagation(p string) error {
	if !propagations[p] {
		return badValue("linux.rootfsPropagation", p,
			"unknown propagation (want one of shared, slave, private, unbindable, rshared, rslave, rprivate, runbindable)")
	}
	return nil
}
