package cgroups

import (
	"reflect"
	"strings"
	"testing"

	"github.com/opencontainers/cgroups"
	devices "github.com/opencontainers/cgroups/devices/config"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func i64(v int64) *int64   { return &v }
func u64(v uint64) *uint64 { return &v }
func u32(v uint32) *uint32 { return &v }
func u16(v uint16) *uint16 { return &v }
func boolp(v bool) *bool   { return &v }
func mem(m specs.LinuxMemory) *specs.LinuxResources {
	return &specs.LinuxResources{Memory: &m}
}
func cpu(c specs.LinuxCPU) *specs.LinuxResources { return &specs.LinuxResources{CPU: &c} }
func blkio(b specs.LinuxBlockIO) *specs.LinuxResources {
	return &specs.LinuxResources{BlockIO: &b}
}
func devs(d ...specs.LinuxDeviceCgroup) *specs.LinuxResources {
	return &specs.LinuxResources{Devices: d}
}
func bdev(major, minor int64) specs.LinuxBlockIODevice {
	return specs.LinuxBlockIODevice{Major: major, Minor: minor}
}

func TestResourcesConversion(t *testing.T) {
	type check func(*cgroups.Resources) bool
	rows := []struct {
		name string
		in   *specs.LinuxResources
		ok   check
	}{
		{"memory limit", mem(specs.LinuxMemory{Limit: i64(32 << 20)}), func(r *cgroups.Resources) bool { return r.Memory == 32<<20 }},
		{"memory unlimited", mem(specs.LinuxMemory{Limit: i64(-1)}), func(r *cgroups.Resources) bool { return r.Memory == -1 }},
		{"memory reservation", mem(specs.LinuxMemory{Reservation: i64(16 << 20)}), func(r *cgroups.Resources) bool { return r.MemoryReservation == 16<<20 }},
		{"memory swap", mem(specs.LinuxMemory{Limit: i64(32 << 20), Swap: i64(64 << 20)}), func(r *cgroups.Resources) bool { return r.MemorySwap == 64<<20 }},
		{"memory swap unlimited", mem(specs.LinuxMemory{Swap: i64(-1)}), func(r *cgroups.Resources) bool { return r.MemorySwap == -1 }},
		{"memory swap equal to limit", mem(specs.LinuxMemory{Limit: i64(1 << 20), Swap: i64(1 << 20)}), func(r *cgroups.Resources) bool { return r.MemorySwap == 1<<20 }},
		{"memory swappiness", mem(specs.LinuxMemory{Swappiness: u64(10)}), func(r *cgroups.Resources) bool { return r.MemorySwappiness != nil && *r.MemorySwappiness == 10 }},
		{"memory oom killer", mem(specs.LinuxMemory{DisableOOMKiller: boolp(true)}), func(r *cgroups.Resources) bool { return r.OomKillDisable }},
		{"memory check before update", mem(specs.LinuxMemory{CheckBeforeUpdate: boolp(true)}), func(r *cgroups.Resources) bool { return r.MemoryCheckBeforeUpdate }},
		{"memory kernel accepted, not applied", mem(specs.LinuxMemory{Kernel: i64(1 << 20), KernelTCP: i64(1 << 20)}), func(r *cgroups.Resources) bool { return r.Memory == 0 }},
		{"memory useHierarchy accepted", mem(specs.LinuxMemory{UseHierarchy: boolp(true)}), func(r *cgroups.Resources) bool { return true }},
		{"cpu shares and v2 weight", cpu(specs.LinuxCPU{Shares: u64(512)}), func(r *cgroups.Resources) bool {
			return r.CpuShares == 512 && r.CpuWeight == cgroups.ConvertCPUSharesToCgroupV2Value(512)
		}},
		{"cpu quota period", cpu(specs.LinuxCPU{Quota: i64(50000), Period: u64(100000)}), func(r *cgroups.Resources) bool { return r.CpuQuota == 50000 && r.CpuPeriod == 100000 }},
		{"cpu quota unlimited", cpu(specs.LinuxCPU{Quota: i64(-1)}), func(r *cgroups.Resources) bool { return r.CpuQuota == -1 }},
		{"cpu burst", cpu(specs.LinuxCPU{Quota: i64(50000), Burst: u64(20000)}), func(r *cgroups.Resources) bool { return r.CpuBurst != nil && *r.CpuBurst == 20000 }},
		{"cpu realtime", cpu(specs.LinuxCPU{RealtimeRuntime: i64(950000), RealtimePeriod: u64(1000000)}), func(r *cgroups.Resources) bool { return r.CpuRtRuntime == 950000 && r.CpuRtPeriod == 1000000 }},
		{"cpu cpus mems", cpu(specs.LinuxCPU{Cpus: "0-1,3", Mems: "0"}), func(r *cgroups.Resources) bool { return r.CpusetCpus == "0-1,3" && r.CpusetMems == "0" }},
		{"cpu stride list", cpu(specs.LinuxCPU{Cpus: "0-7:2/4"}), func(r *cgroups.Resources) bool { return r.CpusetCpus == "0-7:2/4" }},
		{"cpu idle", cpu(specs.LinuxCPU{Idle: i64(1)}), func(r *cgroups.Resources) bool { return r.CPUIdle != nil && *r.CPUIdle == 1 }},
		// The kernel refuses a weight for an idle group: idle wins.
		{"cpu idle drops the weight", cpu(specs.LinuxCPU{Idle: i64(1), Shares: u64(512)}), func(r *cgroups.Resources) bool {
			return r.CPUIdle != nil && *r.CPUIdle == 1 && r.CpuShares == 0 && r.CpuWeight == 0
		}},
		{"cpu idle 0 keeps the weight", cpu(specs.LinuxCPU{Idle: i64(0), Shares: u64(512)}), func(r *cgroups.Resources) bool {
			return r.CPUIdle != nil && *r.CPUIdle == 0 && r.CpuShares == 512 && r.CpuWeight == cgroups.ConvertCPUSharesToCgroupV2Value(512)
		}},
		{"pids limit", &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(10)}}, func(r *cgroups.Resources) bool { return r.PidsLimit != nil && *r.PidsLimit == 10 }},
		{"pids unlimited", &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(-1)}}, func(r *cgroups.Resources) bool { return r.PidsLimit != nil && *r.PidsLimit == -1 }},
		{"pids zero allows no new task", &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(0)}}, func(r *cgroups.Resources) bool { return r.PidsLimit != nil && *r.PidsLimit == 0 }},
		{"blkio weight", blkio(specs.LinuxBlockIO{Weight: u16(500), LeafWeight: u16(300)}), func(r *cgroups.Resources) bool { return r.BlkioWeight == 500 && r.BlkioLeafWeight == 300 }},
		{"blkio weight device", blkio(specs.LinuxBlockIO{WeightDevice: []specs.LinuxWeightDevice{{LinuxBlockIODevice: bdev(8, 0), Weight: u16(100)}}}), func(r *cgroups.Resources) bool {
			return len(r.BlkioWeightDevice) == 1 && r.BlkioWeightDevice[0].WeightString() == "8:0 100"
		}},
		{"blkio throttles", blkio(specs.LinuxBlockIO{
			ThrottleReadBpsDevice:   []specs.LinuxThrottleDevice{{LinuxBlockIODevice: bdev(8, 0), Rate: 1}},
			ThrottleWriteBpsDevice:  []specs.LinuxThrottleDevice{{LinuxBlockIODevice: bdev(8, 0), Rate: 2}},
			ThrottleReadIOPSDevice:  []specs.LinuxThrottleDevice{{LinuxBlockIODevice: bdev(8, 0), Rate: 3}},
			ThrottleWriteIOPSDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: bdev(8, 16), Rate: 4}},
		}), func(r *cgroups.Resources) bool {
			return r.BlkioThrottleReadBpsDevice[0].String() == "8:0 1" && r.BlkioThrottleWriteBpsDevice[0].String() == "8:0 2" &&
				r.BlkioThrottleReadIOPSDevice[0].String() == "8:0 3" && r.BlkioThrottleWriteIOPSDevice[0].String() == "8:16 4"
		}},
		{"hugepages", &specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}}}, func(r *cgroups.Resources) bool {
			return len(r.HugetlbLimit) == 1 && r.HugetlbLimit[0].Pagesize == "2MB" && r.HugetlbLimit[0].Limit == 4<<20
		}},
		{"network", &specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: u32(0x100001), Priorities: []specs.LinuxInterfacePriority{{Name: "eth0", Priority: 5}}}}, func(r *cgroups.Resources) bool {
			return r.NetClsClassid == 0x100001 && r.NetPrioIfpriomap[0].CgroupString() == "eth0 5"
		}},
		{"rdma", &specs.LinuxResources{Rdma: map[string]specs.LinuxRdma{"mlx5_0": {HcaHandles: u32(3)}}}, func(r *cgroups.Resources) bool {
			return *r.Rdma["mlx5_0"].HcaHandles == 3 && r.Rdma["mlx5_0"].HcaObjects == nil
		}},
		{"unified", &specs.LinuxResources{Unified: map[string]string{"memory.high": "1G", "cgroup.max.depth": "3"}}, func(r *cgroups.Resources) bool {
			return r.Unified["memory.high"] == "1G" && r.Unified["cgroup.max.depth"] == "3"
		}},
		{"no unified map when empty", &specs.LinuxResources{Unified: map[string]string{}}, func(r *cgroups.Resources) bool { return r.Unified == nil }},
		{"device rule appended after defaults", devs(specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: i64(10), Minor: i64(200), Access: "wr"}), func(r *cgroups.Resources) bool {
			last := r.Devices[len(r.Devices)-1]
			return len(r.Devices) == len(DefaultDeviceRules())+1 && *last == devices.Rule{Type: 'c', Major: 10, Minor: 200, Permissions: "rw", Allow: true}
		}},
		{"leading deny-all skipped", devs(specs.LinuxDeviceCgroup{Allow: false, Access: "rwm"}, specs.LinuxDeviceCgroup{Allow: false, Type: "c", Major: i64(1), Minor: i64(7), Access: "rwm"}), func(r *cgroups.Resources) bool {
			last := r.Devices[len(r.Devices)-1]
			return len(r.Devices) == len(DefaultDeviceRules())+1 && *last == devices.Rule{Type: 'c', Major: 1, Minor: 7, Permissions: "rwm"}
		}},
		{"later deny-all kept", devs(specs.LinuxDeviceCgroup{Allow: true, Type: "b", Access: "r"}, specs.LinuxDeviceCgroup{Allow: false, Access: "rwm"}), func(r *cgroups.Resources) bool {
			return len(r.Devices) == len(DefaultDeviceRules())+2 && r.Devices[len(r.Devices)-1].Type == 'a'
		}},
		{"wildcard major and minor", devs(specs.LinuxDeviceCgroup{Allow: true, Type: "b", Access: "m"}), func(r *cgroups.Resources) bool {
			last := r.Devices[len(r.Devices)-1]
			return last.Major == -1 && last.Minor == -1 && last.CgroupString() == "b *:* m"
		}},
		{"nil resources: defaults only", nil, func(r *cgroups.Resources) bool {
			return reflect.DeepEqual(r, &cgroups.Resources{Devices: DefaultDeviceRules()})
		}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			got, err := Resources(row.in)
			if err != nil {
				t.Fatalf("Resources: %v", err)
			}
			if !row.ok(got) {
				t.Errorf("unexpected conversion: %+v", got)
			}
		})
	}
}

func TestResourcesErrors(t *testing.T) {
	rows := []struct {
		name string
		in   *specs.LinuxResources
		want string
	}{
		{"negative memory", mem(specs.LinuxMemory{Limit: i64(-5)}), "linux.resources.memory.limit -5: must be -1 (unlimited) or positive"},
		{"negative reservation", mem(specs.LinuxMemory{Reservation: i64(-2)}), "linux.resources.memory.reservation -2: must be -1"},
		{"negative swap", mem(specs.LinuxMemory{Swap: i64(-9)}), "linux.resources.memory.swap -9: must be -1"},
		{"swap below limit", mem(specs.LinuxMemory{Limit: i64(64 << 20), Swap: i64(32 << 20)}), "linux.resources.memory.swap 33554432: below linux.resources.memory.limit 67108864"},
		{"swap without limit", mem(specs.LinuxMemory{Swap: i64(32 << 20)}), "linux.resources.memory.swap 33554432: needs a positive linux.resources.memory.limit"},
		{"swap with unlimited memory", mem(specs.LinuxMemory{Limit: i64(-1), Swap: i64(32 << 20)}), "needs a positive linux.resources.memory.limit"},
		{"negative kernel", mem(specs.LinuxMemory{Kernel: i64(-3)}), "linux.resources.memory.kernel -3: must be -1"},
		{"negative kernelTCP", mem(specs.LinuxMemory{KernelTCP: i64(-3)}), "linux.resources.memory.kernelTCP -3: must be -1"},
		{"swappiness", mem(specs.LinuxMemory{Swappiness: u64(101)}), "linux.resources.memory.swappiness 101: must be 0 to 100"},
		{"shares too low", cpu(specs.LinuxCPU{Shares: u64(1)}), "linux.resources.cpu.shares 1: must be 2 to 262144"},
		{"shares too high", cpu(specs.LinuxCPU{Shares: u64(300000)}), "linux.resources.cpu.shares 300000: must be 2 to 262144"},
		{"quota too small", cpu(specs.LinuxCPU{Quota: i64(500)}), "linux.resources.cpu.quota 500: must be -1 (unlimited) or at least 1000"},
		{"quota negative", cpu(specs.LinuxCPU{Quota: i64(-7)}), "linux.resources.cpu.quota -7"},
		{"period too small", cpu(specs.LinuxCPU{Quota: i64(50000), Period: u64(10)}), "linux.resources.cpu.period 10: must be 1000 to 1000000"},
		{"period too large", cpu(specs.LinuxCPU{Period: u64(2000000)}), "linux.resources.cpu.period 2000000"},
		{"burst above quota", cpu(specs.LinuxCPU{Quota: i64(10000), Burst: u64(20000)}), "linux.resources.cpu.burst 20000: above linux.resources.cpu.quota 10000"},
		{"rt runtime above period", cpu(specs.LinuxCPU{RealtimeRuntime: i64(2000), RealtimePeriod: u64(1000)}), "linux.resources.cpu.realtimeRuntime 2000: above linux.resources.cpu.realtimePeriod 1000"},
		{"rt runtime negative", cpu(specs.LinuxCPU{RealtimeRuntime: i64(-4)}), "linux.resources.cpu.realtimeRuntime -4"},
		{"cpus open range", cpu(specs.LinuxCPU{Cpus: "0-"}), `linux.resources.cpu.cpus "0-": not a cpu list`},
		{"cpus backwards", cpu(specs.LinuxCPU{Cpus: "3-1"}), `linux.resources.cpu.cpus "3-1": not a cpu list`},
		{"cpus letters", cpu(specs.LinuxCPU{Cpus: "a"}), `linux.resources.cpu.cpus "a": not a cpu list`},
		{"cpus empty element", cpu(specs.LinuxCPU{Cpus: "0,,1"}), `linux.resources.cpu.cpus "0,,1": not a cpu list`},
		{"mems", cpu(specs.LinuxCPU{Mems: "0-x"}), `linux.resources.cpu.mems "0-x": not a memory node list`},
		{"idle", cpu(specs.LinuxCPU{Idle: i64(2)}), "linux.resources.cpu.idle 2: must be 0 or 1"},
		{"pids", &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(-2)}}, "linux.resources.pids.limit -2: must be -1 (unlimited), 0 (no new task) or positive"},
		{"blkio weight", blkio(specs.LinuxBlockIO{Weight: u16(5)}), "linux.resources.blockIO.weight 5: must be 10 to 1000"},
		{"blkio leaf weight", blkio(specs.LinuxBlockIO{LeafWeight: u16(2000)}), "linux.resources.blockIO.leafWeight 2000: must be 10 to 1000"},
		{"blkio device weight", blkio(specs.LinuxBlockIO{WeightDevice: []specs.LinuxWeightDevice{{LinuxBlockIODevice: bdev(8, 0), Weight: u16(1)}}}), "linux.resources.blockIO.weightDevice[0].weight 1"},
		{"blkio device without weights", blkio(specs.LinuxBlockIO{WeightDevice: []specs.LinuxWeightDevice{{LinuxBlockIODevice: bdev(8, 0)}}}), "linux.resources.blockIO.weightDevice[0]: set weight, leafWeight or both"},
		{"blkio throttle major", blkio(specs.LinuxBlockIO{ThrottleReadBpsDevice: []specs.LinuxThrottleDevice{{}, {LinuxBlockIODevice: bdev(-1, 0)}}}), "linux.resources.blockIO.throttleReadBpsDevice[1].major -1"},
		{"blkio throttle minor", blkio(specs.LinuxBlockIO{ThrottleWriteIOPSDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: bdev(8, -1)}}}), "linux.resources.blockIO.throttleWriteIOPSDevice[0].minor -1"},
		{"hugepage size", &specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2M"}}}, `linux.resources.hugepageLimits[0].pageSize "2M": want a size`},
		{"hugepage duplicate", &specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB"}, {Pagesize: "2MB"}}}, `linux.resources.hugepageLimits[1].pageSize "2MB": repeats hugepageLimits[0]`},
		{"interface name", &specs.LinuxResources{Network: &specs.LinuxNetwork{Priorities: []specs.LinuxInterfacePriority{{Name: "a b"}}}}, `linux.resources.network.priorities[0].name "a b": not a network interface name`},
		{"rdma empty", &specs.LinuxResources{Rdma: map[string]specs.LinuxRdma{"mlx": {}}}, `linux.resources.rdma["mlx"]: set hcaHandles, hcaObjects or both`},
		{"unified unknown controller", &specs.LinuxResources{Unified: map[string]string{"foo.bar": "1"}}, `linux.resources.unified["foo.bar"]: unknown cgroup v2 controller "foo"`},
		{"unified no dot", &specs.LinuxResources{Unified: map[string]string{"memory": "1"}}, `linux.resources.unified["memory"]: want CONTROLLER.PARAMETER`},
		{"unified slash", &specs.LinuxResources{Unified: map[string]string{"../memory.max": "1"}}, `linux.resources.unified["../memory.max"]: must be a file name`},
		{"unified reserved", &specs.LinuxResources{Unified: map[string]string{"cgroup.procs": "1"}}, `linux.resources.unified["cgroup.procs"]: berth manages this file itself`},
		{"unified empty value", &specs.LinuxResources{Unified: map[string]string{"memory.max": " "}}, `linux.resources.unified["memory.max"]: empty value`},
		{"device type", devs(specs.LinuxDeviceCgroup{Access: "r"}, specs.LinuxDeviceCgroup{Access: "r"}, specs.LinuxDeviceCgroup{Type: "x", Access: "r"}), `linux.resources.devices[2].type "x": want a, c or b`},
		{"device major", devs(specs.LinuxDeviceCgroup{Access: "r"}, specs.LinuxDeviceCgroup{Type: "c", Major: i64(-3), Access: "r"}), "linux.resources.devices[1].major -3: must be a device major number"},
		{"device minor", devs(specs.LinuxDeviceCgroup{Type: "c", Minor: i64(-9), Access: "r"}), "linux.resources.devices[0].minor -9"},
		{"device access empty", devs(specs.LinuxDeviceCgroup{Type: "c"}), `linux.resources.devices[0].access "": empty`},
		{"device access letter", devs(specs.LinuxDeviceCgroup{Type: "c", Access: "rx"}), `linux.resources.devices[0].access "rx": 'x' is not r, w or m`},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			_, err := Resources(row.in)
			if err == nil {
				t.Fatalf("no error; want %q", row.want)
			}
			if !strings.Contains(err.Error(), row.want) {
				t.Errorf("error %q\nwant it to contain %q", err, row.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is more than one line: %q", err)
			}
		})
	}
}

func TestDefaultDeviceRulesOrder(t *testing.T) {
	want := []string{
		"a *:* rwm deny",
		"c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 5:0 rwm", "c 1:8 rwm", "c 1:9 rwm",
		"c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm", "c *:* m", "b *:* m",
	}
	r, err := Resources(nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range r.Devices {
		s := d.CgroupString()
		if !d.Allow {
			s += " deny"
		}
		got = append(got, s)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("default rules\n got %q\nwant %q", got, want)
	}
	// The usual config (deny-all first, then its own rules) keeps them.
	r, err = Resources(devs(specs.LinuxDeviceCgroup{Allow: false, Access: "rwm"}, specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: i64(10), Minor: i64(200), Access: "rwm"}))
	if err != nil {
		t.Fatal(err)
	}
	st := emulateDevices(r.Devices)
	if st.allowAll || st.exceptions[devKey{'c', 1, 3}] != accAll || st.exceptions[devKey{'c', 10, 200}] != accAll {
		t.Errorf("deny-all first lost the defaults: %+v", st.exceptions)
	}
}

func TestIgnored(t *testing.T) {
	got := Ignored(mem(specs.LinuxMemory{Kernel: i64(1), KernelTCP: i64(1), UseHierarchy: boolp(false)}))
	if len(got) != 3 || !strings.Contains(got[0], "memory.kernel is ignored") || !strings.Contains(got[1], "kernelTCP") || !strings.Contains(got[2], "useHierarchy") {
		t.Errorf("Ignored = %q", got)
	}
	if got := Ignored(mem(specs.LinuxMemory{Limit: i64(1)})); got != nil {
		t.Errorf("Ignored = %q, want none", got)
	}
}

func TestParseList(t *testing.T) {
	for in, want := range map[string][]int{
		"0":       {0},
		"0-2,5":   {0, 1, 2, 5},
		" 1 ":     {1},
		"0-7:2/4": {0, 1, 4, 5},
		"3,3":     {3},
		"10-11,1": {1, 10, 11},
	} {
		set, err := parseList(in)
		if err != nil {
			t.Errorf("parseList(%q): %v", in, err)
			continue
		}
		if len(set) != len(want) {
			t.Errorf("parseList(%q) = %v, want %v", in, set, want)
		}
		for _, n := range want {
			if !set[n] {
				t.Errorf("parseList(%q) lacks %d", in, n)
			}
		}
	}
	for _, bad := range []string{"", "-1", "1-", "a", "1:2/4", "0-7:3/2", "0-7:0/2", "99999999"} {
		if _, err := parseList(bad); err == nil {
			t.Errorf("parseList(%q) accepted", bad)
		}
	}
}
