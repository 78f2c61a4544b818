package libcontainer

import (
	"sort"

	"github.com/berthrun/berth/internal/wire"
	"github.com/berthrun/berth/libcontainer/rootfs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// cloneFlags maps namespace types to the CLONE_NEW* flags nsenter unshares.
var cloneFlags = map[specs.LinuxNamespaceType]int{
	specs.UserNamespace:    unix.CLONE_NEWUSER,
	specs.PIDNamespace:     unix.CLONE_NEWPID,
	specs.MountNamespace:   unix.CLONE_NEWNS,
	specs.NetworkNamespace: unix.CLONE_NEWNET,
	specs.IPCNamespace:     unix.CLONE_NEWIPC,
	specs.UTSNamespace:     unix.CLONE_NEWUTS,
	specs.CgroupNamespace:  unix.CLONE_NEWCGROUP,
	specs.TimeNamespace:    unix.CLONE_NEWTIME,
}

// bootstrapMessage encodes the namespace work for the nsenter constructor:
// the wire.Boot records (internal/wire/schema.go), which executor/bootstrap.c
// reads. With a plan (cinit.go) it asks for the C init.
func bootstrapMessage(cfg *Config, plan []byte) []byte {
	w := &wire.BootWriter{}
	flags := 0
	for _, ns := range cfg.Namespaces {
		if ns.Path != "" {
			w.Join(uint32(cloneFlags[ns.Type]), ns.Path)
		} else {
			flags |= cloneFlags[ns.Type]
		}
	}
	w.Clone(uint32(flags))
	if plan != nil {
		w.Cinit()
	}
	for _, src := range hostSources(cfg) {
		recursive := uint32(0)
		if src.Recursive {
			recursive = 1
		}
		w.HostSource(recursive, src.Path)
	}
	if p := cfg.Spec.Process; p != nil && p.ExecCPUAffinity != nil && p.ExecCPUAffinity.Initial != "" {
		// The parent pinned the exec on purpose (setInitialCPUAffinity):
		// nsexec.c must not widen it to every CPU as it does the caller's.
		w.KeepAffinity()
	}
	linux := cfg.Spec.Linux
	if flags&unix.CLONE_NEWUSER != 0 {
		for _, m := range linux.UIDMappings {
			w.UIDMap(m.ContainerID, m.HostID, m.Size)
		}
		for _, m := range linux.GIDMappings {
			w.GIDMap(m.ContainerID, m.HostID, m.Size)
		}
		if p := cfg.idMaps; p != nil {
			if p.rootless {
				w.Rootless()
			}
			if p.uidHelper != "" {
				w.UIDHelper(p.uidHelper)
			}
			if p.gidHelper != "" {
				w.GIDHelper(p.gidHelper)
			}
			if p.setgroupsDeny {
				w.SetgroupsDeny()
			}
		}
		if p := cfg.Spec.Process; p != nil && p.OOMScoreAdj != nil && cfg.OOMScoreAdjEarly {
			w.OOMScoreAdj(int32(*p.OOMScoreAdj))
		}
	}
	if flags&unix.CLONE_NEWTIME != 0 {
		// In the clocks' order: the same config makes the same bytes
		// (state.brief keeps an exec's bootstrap).
		clocks := make([]string, 0, len(linux.TimeOffsets))
		for clock := range linux.TimeOffsets {
			clocks = append(clocks, clock)
		}
		sort.Strings(clocks)
		for _, clock := range clocks {
			off := linux.TimeOffsets[clock]
			w.TimeOffset(clock, off.Secs, off.Nanosecs)
		}
	}
	return w.Bytes()
}

// hostSources are the bind sources nsenter opens from the host side, in
// slot order. Only a create with a mount namespace of its own mounts
// anything.
func hostSources(cfg *Config) []rootfs.HostSource {
	if !cfg.NewNamespace(specs.MountNamespace) {
		return nil
	}
	plan := &rootfs.Plan{Root: cfg.Rootfs, Mounts: cfg.Spec.Mounts, InUserNS: hasNamespace(cfg, specs.UserNamespace), Rootless: cfg.Rootless}
	return rootfs.HostSources(plan, cfg.Bundle)
}
