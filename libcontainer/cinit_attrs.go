package libcontainer

import (
	"encoding/binary"

	"github.com/berthrun/berth/internal/wire"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The plan records of the process attributes and the terminal, which the
// C init applies (executor/cattrs.c, cterminal.c). Go resolves every name to
// the number the kernel takes; specconv has checked each of them, so an
// unknown name cannot get here.

// writeProcAttrs adds them to w. exec is true for `berth exec`, whose
// process alone takes a final CPU affinity. ownMounts: the container has a
// mount namespace of its own, so an init's pty is bound on /dev/console (in
// the host's mount namespace nothing is mounted, as runc does).
func writeProcAttrs(w *wire.PlanWriter, spec *specs.Spec, p *initParams, exec, ownMounts bool) {
	proc := spec.Process
	if proc.Terminal {
		var rows, cols uint32
		if cs := proc.ConsoleSize; cs != nil {
			rows, cols = uint32(cs.Height), uint32(cs.Width)
		}
		proxied := uint32(0)
		if p.ConsoleProxied {
			proxied = 1
		}
		bind := uint32(0)
		if !exec && ownMounts {
			bind = 1
		}
		w.Console(uint32(p.ConsoleFd), proxied, rows, cols, bind)
	}
	// A label without SELinux is ignored (create warns: IgnoredLabels).
	if l := proc.SelinuxLabel; l != "" && SELinuxEnabled() {
		w.Selinux(l)
	}
	if pers := spec.Linux.Personality; pers != nil {
		w.Personality(uint32(personaOf(pers)))
	}
	if mp := spec.Linux.MemoryPolicy; mp != nil {
		mode, maxnode, mask := memPolicyOf(mp)
		w.Mempolicy(mode, maxnode, string(mp.Mode), mp.Nodes, mask)
	}
	if io := proc.IOPriority; io != nil {
		class, _ := IOPrioClassNumber(io.Class)
		w.Ioprio(uint32(class<<13|io.Priority), string(io.Class), int32(io.Priority))
	}
	if s := proc.Scheduler; s != nil {
		policy, _ := SchedPolicyNumber(s.Policy)
		var flags uint64
		for _, f := range s.Flags {
			bit, _ := SchedFlagNumber(f)
			flags |= bit
		}
		w.Sched(policy, flags, s.Nice, uint32(s.Priority), s.Runtime, s.Deadline, s.Period, string(s.Policy))
	}
	if a := proc.ExecCPUAffinity; exec && a != nil && a.Final != "" {
		if cpus, err := ParseIDList(a.Final); err == nil {
			w.Affinity(a.Final, idMask(cpus))
		}
	}
}

// personaOf is personality(2)'s argument: the domain with its flags.
func personaOf(p *specs.LinuxPersonality) uint {
	persona, _ := PersonalityDomainNumber(p.Domain)
	for _, f := range p.Flags {
		bit, _ := PersonalityFlagNumber(f)
		persona |= bit
	}
	return persona
}

// memPolicyOf is set_mempolicy(2)'s arguments: the mode with its flags,
// maxnode and the node mask (none for MPOL_DEFAULT and MPOL_LOCAL).
func memPolicyOf(p *specs.LinuxMemoryPolicy) (mode, maxnode uint32, mask []byte) {
	m, _ := MemPolicyModeNumber(p.Mode)
	for _, f := range p.Flags {
		bit, _ := MemPolicyFlagNumber(f)
		m |= bit
	}
	if p.Nodes == "" {
		return uint32(m), 0, nil
	}
	nodes, err := ParseIDList(p.Nodes)
	if err != nil {
		return uint32(m), 0, nil // specconv refused it already
	}
	mask = idMask(nodes)
	// The kernel reads maxnode-1 bits: one more than the mask holds.
	return uint32(m), uint32(len(mask)*8 + 1), mask
}

// idMask is a bit mask of ids as the kernel takes CPU and node masks: 64-bit
// words in host byte order.
func idMask(ids []int) []byte {
	words := make([]uint64, ids[len(ids)-1]/64+1)
	for _, n := range ids {
		words[n/64] |= 1 << (n % 64)
	}
	out := make([]byte, 0, 8*len(words))
	for _, w := range words {
		out = binary.NativeEndian.AppendUint64(out, w)
	}
	return out
}
