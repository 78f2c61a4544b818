package libcontainer

import (
	"encoding/binary"

	"github.com/berthrun/berth/internal/tlv"
	"github.com/berthrun/berth/internal/wire"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The plan records of the process attributes and the terminal, which the
// C init applies (nsenter/cattrs.c, cterminal.c). Go resolves every name to
// the number the kernel takes; specconv has checked each of them, so an
// unknown name cannot get here.

// writeProcAttrs adds them to w. exec is true for `berth exec`, whose
// process alone takes a final CPU affinity.
func writeProcAttrs(w *planWriter, spec *specs.Spec, p *initParams, exec bool) {
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
		w.U32(wire.PlanConsole, uint32(p.ConsoleFd), proxied, rows, cols)
	}
	// A label without SELinux is ignored (create warns: IgnoredLabels).
	if l := proc.SelinuxLabel; l != "" && SELinuxEnabled() {
		w.Str(wire.PlanSelinux, l)
	}
	if pers := spec.Linux.Personality; pers != nil {
		w.U32(wire.PlanPersonality, uint32(personaOf(pers)))
	}
	if mp := spec.Linux.MemoryPolicy; mp != nil {
		mode, maxnode, mask := memPolicyOf(mp)
		w.Rec(wire.PlanMempolicy, append(tlv.Data{}.U32(mode, maxnode).Str(string(mp.Mode), mp.Nodes), mask...))
	}
	if io := proc.IOPriority; io != nil {
		class, _ := IOPrioClassNumber(io.Class)
		w.Rec(wire.PlanIoprio, tlv.Data{}.U32(uint32(class<<13|io.Priority)).Str(string(io.Class)).U32(uint32(int32(io.Priority))))
	}
	if s := proc.Scheduler; s != nil {
		policy, _ := SchedPolicyNumber(s.Policy)
		var flags uint64
		for _, f := range s.Flags {
			bit, _ := SchedFlagNumber(f)
			flags |= bit
		}
		d := tlv.Data{}.U32(policy).U64(flags).U32(uint32(s.Nice), uint32(s.Priority)).
			U64(s.Runtime, s.Deadline, s.Period).Str(string(s.Policy))
		w.Rec(wire.PlanSched, d)
	}
	if a := proc.ExecCPUAffinity; exec && a != nil && a.Final != "" {
		if cpus, err := ParseIDList(a.Final); err == nil {
			w.Rec(wire.PlanAffinity, append(tlv.Data{}.Str(a.Final), idMask(cpus)...))
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
