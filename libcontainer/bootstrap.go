package libcontainer

import (
	"fmt"
	"github.com/berthrun/berth/internal/wire"
	"strings"

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

// bootstrapMessage encodes the namespace work for the nsenter constructor
// (see nsexec.c for the format): NUL-terminated key=value entries, the
// keys declared in internal/wire/schema.go.
// With a plan (cinit.go) it asks for the C init.
func bootstrapMessage(cfg *Config, plan []byte) []byte {
	var b strings.Builder
	add := func(k, v string) { b.WriteString(k + "=" + v + "\x00") }
	flags := 0
	for _, ns := range cfg.Namespaces {
		if ns.Path != "" {
			add(wire.BootJoin, string(ns.Type)+":"+ns.Path)
		} else {
			flags |= cloneFlags[ns.Type]
		}
	}
	add(wire.BootClone, fmt.Sprint(flags))
	if plan != nil {
		add(wire.BootCinit, "1")
	}
	for _, src := range hostSourceEntries(cfg) {
		add(wire.BootHostsrc, src)
	}
	if p := cfg.Spec.Process; p != nil && p.ExecCPUAffinity != nil && p.ExecCPUAffinity.Initial != "" {
		// The parent pinned the exec on purpose (setInitialCPUAffinity):
		// nsexec.c must not widen it to every CPU as it does the caller's.
		add(wire.BootAffinity, "keep")
	}
	linux := cfg.Spec.Linux
	if flags&unix.CLONE_NEWUSER != 0 {
		add(wire.BootUidmap, idMap(linux.UIDMappings))
		add(wire.BootGidmap, idMap(linux.GIDMappings))
		if p := cfg.idMaps; p != nil {
			if p.rootless {
				add(wire.BootRootless, "1")
			}
			if p.uidHelper != "" {
				add(wire.BootUidhelper, p.uidHelper)
			}
			if p.gidHelper != "" {
				add(wire.BootGidhelper, p.gidHelper)
			}
			if p.setgroupsDeny {
				add(wire.BootSetgroups, "deny")
			}
		}
		if p := cfg.Spec.Process; p != nil && p.OOMScoreAdj != nil && cfg.OOMScoreAdjEarly {
			add(wire.BootOomscoreadj, fmt.Sprint(*p.OOMScoreAdj))
		}
	}
	if flags&unix.CLONE_NEWTIME != 0 && len(linux.TimeOffsets) > 0 {
		var t strings.Builder
		for clock, off := range linux.TimeOffsets {
			fmt.Fprintf(&t, "%s %d %d\n", clock, off.Secs, off.Nanosecs)
		}
		add(wire.BootTimens, t.String())
	}
	return []byte(b.String())
}

func idMap(ms []specs.LinuxIDMapping) string {
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "%d %d %d\n", m.ContainerID, m.HostID, m.Size)
	}
	return b.String()
}
