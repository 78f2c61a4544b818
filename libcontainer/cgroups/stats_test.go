package cgroups

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/opencontainers/cgroups"
)

// TestStatsEventJSON pins the wire names containerd's runc shim decodes.
func TestStatsEventJSON(t *testing.T) {
	s := cgroups.NewStats()
	s.CpuStats.CpuUsage = cgroups.CpuUsage{TotalUsage: 100, PercpuUsage: []uint64{60, 40}, PercpuUsageInKernelmode: []uint64{1, 2}, PercpuUsageInUsermode: []uint64{3, 4}, UsageInKernelmode: 10, UsageInUsermode: 90}
	s.CpuStats.ThrottlingData = cgroups.ThrottlingData{Periods: 5, ThrottledPeriods: 2, ThrottledTime: 7}
	s.CPUSetStats = cgroups.CPUSetStats{CPUs: []uint16{0}, Mems: []uint16{0}, SchedLoadBalance: 1}
	s.MemoryStats.Cache = 11
	s.MemoryStats.Usage = cgroups.MemoryData{Usage: 1, MaxUsage: 2, Failcnt: 3, Limit: 33554432}
	s.MemoryStats.SwapUsage = cgroups.MemoryData{Limit: 5}
	s.MemoryStats.KernelUsage = cgroups.MemoryData{Usage: 6}
	s.MemoryStats.KernelTCPUsage = cgroups.MemoryData{Usage: 7}
	s.MemoryStats.Stats["rss"] = 12
	s.PidsStats = cgroups.PidsStats{Current: 1, Limit: 10}
	s.BlkioStats.IoServiceBytesRecursive = []cgroups.BlkioStatEntry{{Major: 8, Minor: 0, Op: "Read", Value: 4096}}
	s.BlkioStats.IoServicedRecursive = []cgroups.BlkioStatEntry{{Major: 8, Op: "Write", Value: 1}}
	s.BlkioStats.IoQueuedRecursive = []cgroups.BlkioStatEntry{{Major: 8, Op: "Total", Value: 1}}
	s.HugetlbStats["2MB"] = cgroups.HugetlbStats{Usage: 1, MaxUsage: 2, Failcnt: 3}

	b, err := json.Marshal(StatsEvent("box", s))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got["type"] != "stats" || got["id"] != "box" {
		t.Errorf("envelope: %s", b)
	}
	data := got["data"].(map[string]any)
	for _, key := range []string{"cpu", "cpuset", "memory", "pids", "blkio", "hugetlb", "intel_rdt", "network_interfaces"} {
		if _, ok := data[key]; !ok {
			t.Errorf("data lacks %q: %s", key, b)
		}
	}
	path := func(keys ...string) any {
		var v any = data
		for _, k := range keys {
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		}
		return v
	}
	wantNum := map[string]float64{
		"cpu.usage.total":                 100,
		"cpu.usage.kernel":                10,
		"cpu.usage.user":                  90,
		"cpu.throttling.periods":          5,
		"cpu.throttling.throttledPeriods": 2,
		"cpu.throttling.throttledTime":    7,
		"cpuset.sched_load_balance":       1,
		"memory.cache":                    11,
		"memory.usage.limit":              33554432,
		"memory.usage.usage":              1,
		"memory.usage.max":                2,
		"memory.usage.failcnt":            3,
		"memory.swap.limit":               5,
		"memory.kernel.usage":             6,
		"memory.kernelTCP.usage":          7,
		"memory.raw.rss":                  12,
		"pids.current":                    1,
		"pids.limit":                      10,
		"hugetlb.2MB.usage":               1,
		"hugetlb.2MB.max":                 2,
		"hugetlb.2MB.failcnt":             3,
	}
	for p, want := range wantNum {
		if v, ok := path(strings.Split(p, ".")...).(float64); !ok || v != want {
			t.Errorf("%s = %v, want %v", p, path(strings.Split(p, ".")...), want)
		}
	}
	for _, p := range []string{"cpu.usage.percpu", "cpu.usage.percpu_kernel", "cpu.usage.percpu_user", "cpuset.cpus", "cpuset.mems", "blkio.ioServiceBytesRecursive", "blkio.ioServicedRecursive", "blkio.ioQueueRecursive"} {
		if _, ok := path(strings.Split(p, ".")...).([]any); !ok {
			t.Errorf("%s missing or not a list: %s", p, b)
		}
	}
	entry := path("blkio", "ioServiceBytesRecursive").([]any)[0].(map[string]any)
	if entry["major"] != 8.0 || entry["op"] != "Read" || entry["value"] != 4096.0 {
		t.Errorf("blkio entry %v", entry)
	}

	b, _ = json.Marshal(OOMEvent("box"))
	if string(b) != `{"type":"oom","id":"box"}` {
		t.Errorf("oom event %s", b)
	}
	if ConvertStats(nil).Hugetlb == nil {
		t.Error("nil stats: hugetlb must be an empty object, not null")
	}
}
