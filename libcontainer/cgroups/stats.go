package cgroups

import (
	"github.com/opencontainers/cgroups"
)

// The types below are what `berth events` prints, one JSON object per line.
// Their field names and JSON tags are runc's events wire format, which
// containerd's runc shim decodes; do not rename them.

// Event is one line of `events`: {"type":"stats","id":"…","data":{…}} or
// {"type":"oom","id":"…"}.
type Event struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Data any    `json:"data,omitempty"`
}

// Stats is the "data" of a stats event.
type Stats struct {
	CPU               CPU                 `json:"cpu"`
	CPUSet            CPUSet              `json:"cpuset"`
	Memory            Memory              `json:"memory"`
	Pids              Pids                `json:"pids"`
	Blkio             Blkio               `json:"blkio"`
	Hugetlb           map[string]Hugetlb  `json:"hugetlb"`
	IntelRdt          IntelRdt            `json:"intel_rdt"`
	NetworkInterfaces []*NetworkInterface `json:"network_interfaces"`
}

// PSIData is one pressure line (some or full).
type PSIData struct {
	Avg10  float64 `json:"avg10"`
	Avg60  float64 `json:"avg60"`
	Avg300 float64 `json:"avg300"`
	Total  uint64  `json:"total"`
}

// PSIStats is a cgroup v2 *.pressure file.
type PSIStats struct {
	Some PSIData `json:"some,omitempty"`
	Full PSIData `json:"full,omitempty"`
}

// Hugetlb is the usage of one hugepage size.
type Hugetlb struct {
	Usage   uint64 `json:"usage,omitempty"`
	Max     uint64 `json:"max,omitempty"`
	Failcnt uint64 `json:"failcnt"`
}

// BlkioEntry is one device line of a blkio statistic.
type BlkioEntry struct {
	Major uint64 `json:"major,omitempty"`
	Minor uint64 `json:"minor,omitempty"`
	Op    string `json:"op,omitempty"`
	Value uint64 `json:"value,omitempty"`
}

// Blkio is the block I/O statistics.
type Blkio struct {
	IoServiceBytesRecursive []BlkioEntry `json:"ioServiceBytesRecursive,omitempty"`
	IoServicedRecursive     []BlkioEntry `json:"ioServicedRecursive,omitempty"`
	IoQueuedRecursive       []BlkioEntry `json:"ioQueueRecursive,omitempty"`
	IoServiceTimeRecursive  []BlkioEntry `json:"ioServiceTimeRecursive,omitempty"`
	IoWaitTimeRecursive     []BlkioEntry `json:"ioWaitTimeRecursive,omitempty"`
	IoMergedRecursive       []BlkioEntry `json:"ioMergedRecursive,omitempty"`
	IoTimeRecursive         []BlkioEntry `json:"ioTimeRecursive,omitempty"`
	SectorsRecursive        []BlkioEntry `json:"sectorsRecursive,omitempty"`
	PSI                     *PSIStats    `json:"psi,omitempty"`
}

// Pids is the number of tasks and their limit (0: none).
type Pids struct {
	Current uint64 `json:"current,omitempty"`
	Limit   uint64 `json:"limit,omitempty"`
}

// Throttling is the CFS bandwidth throttling counters.
type Throttling struct {
	Periods          uint64 `json:"periods,omitempty"`
	ThrottledPeriods uint64 `json:"throttledPeriods,omitempty"`
	ThrottledTime    uint64 `json:"throttledTime,omitempty"`
}

// CPUUsage is CPU time in nanoseconds.
type CPUUsage struct {
	Total        uint64   `json:"total,omitempty"`
	Percpu       []uint64 `json:"percpu,omitempty"`
	PercpuKernel []uint64 `json:"percpu_kernel,omitempty"`
	PercpuUser   []uint64 `json:"percpu_user,omitempty"`
	Kernel       uint64   `json:"kernel"`
	User         uint64   `json:"user"`
}

// CPU is the cpu and cpuacct statistics.
type CPU struct {
	Usage      CPUUsage   `json:"usage,omitempty"`
	Throttling Throttling `json:"throttling,omitempty"`
	PSI        *PSIStats  `json:"psi,omitempty"`
}

// CPUSet is the cpuset configuration and flags.
type CPUSet struct {
	CPUs                  []uint16 `json:"cpus,omitempty"`
	CPUExclusive          uint64   `json:"cpu_exclusive"`
	Mems                  []uint16 `json:"mems,omitempty"`
	MemHardwall           uint64   `json:"mem_hardwall"`
	MemExclusive          uint64   `json:"mem_exclusive"`
	MemoryMigrate         uint64   `json:"memory_migrate"`
	MemorySpreadPage      uint64   `json:"memory_spread_page"`
	MemorySpreadSlab      uint64   `json:"memory_spread_slab"`
	MemoryPressure        uint64   `json:"memory_pressure"`
	SchedLoadBalance      uint64   `json:"sched_load_balance"`
	SchedRelaxDomainLevel int64    `json:"sched_relax_domain_level"`
}

// MemoryEntry is one memory counter set (bytes).
type MemoryEntry struct {
	Limit   uint64 `json:"limit"`
	Usage   uint64 `json:"usage,omitempty"`
	Max     uint64 `json:"max,omitempty"`
	Failcnt uint64 `json:"failcnt"`
}

// Memory is the memory statistics; Raw is memory.stat as is.
type Memory struct {
	Cache     uint64            `json:"cache,omitempty"`
	Usage     MemoryEntry       `json:"usage,omitempty"`
	Swap      MemoryEntry       `json:"swap,omitempty"`
	Kernel    MemoryEntry       `json:"kernel,omitempty"`
	KernelTCP MemoryEntry       `json:"kernelTCP,omitempty"`
	Raw       map[string]uint64 `json:"raw,omitempty"`
	PSI       *PSIStats         `json:"psi,omitempty"`
}

// L3CacheInfo is Intel RDT's read-only L3 cache information.
type L3CacheInfo struct {
	CbmMask    string `json:"cbm_mask,omitempty"`
	MinCbmBits uint64 `json:"min_cbm_bits,omitempty"`
	NumClosids uint64 `json:"num_closids,omitempty"`
}

// MemBwInfo is Intel RDT's read-only memory bandwidth information.
type MemBwInfo struct {
	BandwidthGran uint64 `json:"bandwidth_gran,omitempty"`
	DelayLinear   uint64 `json:"delay_linear,omitempty"`
	MinBandwidth  uint64 `json:"min_bandwidth,omitempty"`
	NumClosids    uint64 `json:"num_closids,omitempty"`
}

// IntelRdt is the resctrl statistics (berth fills none yet; the object is
// always present, as in runc).
type IntelRdt struct {
	L3CacheInfo       *L3CacheInfo `json:"l3_cache_info,omitempty"`
	L3CacheSchemaRoot string       `json:"l3_cache_schema_root,omitempty"`
	L3CacheSchema     string       `json:"l3_cache_schema,omitempty"`
	MemBwInfo         *MemBwInfo   `json:"mem_bw_info,omitempty"`
	MemBwSchemaRoot   string       `json:"mem_bw_schema_root,omitempty"`
	MemBwSchema       string       `json:"mem_bw_schema,omitempty"`
}

// NetworkInterface is one interface's counters (runc encodes these with
// their Go names).
type NetworkInterface struct {
	Name      string
	RxBytes   uint64
	RxPackets uint64
	RxErrors  uint64
	RxDropped uint64
	TxBytes   uint64
	TxPackets uint64
	TxErrors  uint64
	TxDropped uint64
}

// StatsEvent wraps converted statistics as a "stats" event for id.
func StatsEvent(id string, s *cgroups.Stats) *Event {
	return &Event{Type: "stats", ID: id, Data: ConvertStats(s)}
}

// OOMEvent is the "oom" event for id.
func OOMEvent(id string) *Event {
	return &Event{Type: "oom", ID: id}
}

// ConvertStats turns the manager's statistics into the events format.
func ConvertStats(s *cgroups.Stats) *Stats {
	out := &Stats{Hugetlb: map[string]Hugetlb{}}
	if s == nil {
		return out
	}
	cu := s.CpuStats.CpuUsage
	out.CPU = CPU{
		Usage: CPUUsage{
			Total:        cu.TotalUsage,
			Percpu:       cu.PercpuUsage,
			PercpuKernel: cu.PercpuUsageInKernelmode,
			PercpuUser:   cu.PercpuUsageInUsermode,
			Kernel:       cu.UsageInKernelmode,
			User:         cu.UsageInUsermode,
		},
		Throttling: Throttling{
			Periods:          s.CpuStats.ThrottlingData.Periods,
			ThrottledPeriods: s.CpuStats.ThrottlingData.ThrottledPeriods,
			ThrottledTime:    s.CpuStats.ThrottlingData.ThrottledTime,
		},
		PSI: convertPSI(s.CpuStats.PSI),
	}
	cs := s.CPUSetStats
	out.CPUSet = CPUSet{
		CPUs:                  cs.CPUs,
		CPUExclusive:          cs.CPUExclusive,
		Mems:                  cs.Mems,
		MemHardwall:           cs.MemHardwall,
		MemExclusive:          cs.MemExclusive,
		MemoryMigrate:         cs.MemoryMigrate,
		MemorySpreadPage:      cs.MemorySpreadPage,
		MemorySpreadSlab:      cs.MemorySpreadSlab,
		MemoryPressure:        cs.MemoryPressure,
		SchedLoadBalance:      cs.SchedLoadBalance,
		SchedRelaxDomainLevel: cs.SchedRelaxDomainLevel,
	}
	ms := s.MemoryStats
	out.Memory = Memory{
		Cache:     ms.Cache,
		Usage:     memoryEntry(ms.Usage),
		Swap:      memoryEntry(ms.SwapUsage),
		Kernel:    memoryEntry(ms.KernelUsage),
		KernelTCP: memoryEntry(ms.KernelTCPUsage),
		Raw:       ms.Stats,
		PSI:       convertPSI(ms.PSI),
	}
	out.Pids = Pids{Current: s.PidsStats.Current, Limit: s.PidsStats.Limit}
	bs := s.BlkioStats
	out.Blkio = Blkio{
		IoServiceBytesRecursive: blkioEntries(bs.IoServiceBytesRecursive),
		IoServicedRecursive:     blkioEntries(bs.IoServicedRecursive),
		IoQueuedRecursive:       blkioEntries(bs.IoQueuedRecursive),
		IoServiceTimeRecursive:  blkioEntries(bs.IoServiceTimeRecursive),
		IoWaitTimeRecursive:     blkioEntries(bs.IoWaitTimeRecursive),
		IoMergedRecursive:       blkioEntries(bs.IoMergedRecursive),
		IoTimeRecursive:         blkioEntries(bs.IoTimeRecursive),
		SectorsRecursive:        blkioEntries(bs.SectorsRecursive),
		PSI:                     convertPSI(bs.PSI),
	}
	for size, h := range s.HugetlbStats {
		out.Hugetlb[size] = Hugetlb{Usage: h.Usage, Max: h.MaxUsage, Failcnt: h.Failcnt}
	}
	return out
}

func memoryEntry(d cgroups.MemoryData) MemoryEntry {
	return MemoryEntry{Limit: d.Limit, Usage: d.Usage, Max: d.MaxUsage, Failcnt: d.Failcnt}
}

func blkioEntries(in []cgroups.BlkioStatEntry) []BlkioEntry {
	if len(in) == 0 {
		return nil
	}
	out := make([]BlkioEntry, len(in))
	for i, e := range in {
		out[i] = BlkioEntry{Major: e.Major, Minor: e.Minor, Op: e.Op, Value: e.Value}
	}
	return out
}

func convertPSI(p *cgroups.PSIStats) *PSIStats {
	if p == nil {
		return nil
	}
	return &PSIStats{
		Some: PSIData{Avg10: p.Some.Avg10, Avg60: p.Some.Avg60, Avg300: p.Some.Avg300, Total: p.Some.Total},
		Full: PSIData{Avg10: p.Full.Avg10, Avg60: p.Full.Avg60, Avg300: p.Full.Avg300, Total: p.Full.Total},
	}
}
