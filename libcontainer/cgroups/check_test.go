package cgroups

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// fakeV1 lays out v1 hierarchies under a temp dir, each holding files.
func fakeV1(t *testing.T, mode HostMode, ctrls map[string][]string, v2 ...string) *hostCgroups {
	t.Helper()
	root := t.TempDir()
	h := &hostCgroups{mode: mode, v1: map[string]string{}, v2: map[string]bool{}, hugepageSizes: []string{"2MB"}}
	for ctrl, files := range ctrls {
		dir := filepath.Join(root, ctrl)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if err := os.WriteFile(filepath.Join(dir, f), []byte("0-1\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		h.v1[ctrl] = dir
	}
	for _, c := range v2 {
		h.v2[c] = true
	}
	return h
}

func fakeV2(t *testing.T, ctrls ...string) *hostCgroups {
	t.Helper()
	root := t.TempDir()
	for f, v := range map[string]string{"cpuset.cpus.effective": "0-3\n", "cpuset.mems.effective": "0\n"} {
		if err := os.WriteFile(filepath.Join(root, f), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h := &hostCgroups{mode: ModeV2, v1: map[string]string{}, v2: map[string]bool{}, v2root: root, hugepageSizes: []string{"2MB", "1GB"}}
	for _, c := range ctrls {
		h.v2[c] = true
	}
	return h
}

func mustResources(t *testing.T, r *specs.LinuxResources) *cgroups.Resources {
	t.Helper()
	out, err := Resources(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCheckHostThisHost runs against the real host: on this VM a cgroup v1
// hybrid with no hugetlb, net_cls, net_prio or rdma hierarchy.
func TestCheckHostThisHost(t *testing.T) {
	mode, err := Host()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("host mode: %s", mode)
	h, _ := detectHost()
	t.Logf("v1 controllers: %v; cgroup2 controllers: %v; hugepage sizes %v", h.v1, h.v2, h.hugepageSizes)

	if err := CheckHost(mustResources(t, nil), nil); err != nil {
		t.Errorf("default resources refused: %v", err)
	}
	if mode == ModeV2 {
		t.Skip("pure cgroup v2 host: the hybrid refusals below do not apply (covered by TestCheckHostFake)")
	}
	err = CheckHost(&cgroups.Resources{}, map[string]string{"memory.max": "1G"})
	if err == nil || !strings.Contains(err.Error(), `linux.resources.unified["memory.max"]: cannot use unified on cgroup v1: this host has no cgroup2 memory controller (`+mode.String()+`); use linux.resources.memory`) {
		t.Errorf("unified memory.max: %v", err)
	}
	t.Logf("unified memory.max: %v", err)
	if _, ok := h.v1["hugetlb"]; !ok {
		err = CheckHost(mustResources(t, &specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 1 << 21}}}), nil)
		if err == nil || !strings.Contains(err.Error(), "linux.resources.hugepageLimits: this host has no hugetlb cgroup controller") {
			t.Errorf("hugepages: %v", err)
		}
		t.Logf("hugepages: %v", err)
	}
	if _, ok := h.v1["net_cls"]; !ok {
		err = CheckHost(mustResources(t, &specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: u32(1)}}), nil)
		if err == nil || !strings.Contains(err.Error(), "linux.resources.network.classID: this host has no net_cls cgroup controller") {
			t.Errorf("classID: %v", err)
		}
		t.Logf("network classID: %v", err)
	}
	if _, ok := h.v1["net_prio"]; !ok {
		err = CheckHost(mustResources(t, &specs.LinuxResources{Network: &specs.LinuxNetwork{Priorities: []specs.LinuxInterfacePriority{{Name: "eth0", Priority: 1}}}}), nil)
		if err == nil || !strings.Contains(err.Error(), "linux.resources.network.priorities: this host has no net_prio cgroup controller") {
			t.Errorf("priorities: %v", err)
		}
	}
	if _, ok := h.v1["rdma"]; !ok {
		err = CheckHost(mustResources(t, &specs.LinuxResources{Rdma: map[string]specs.LinuxRdma{"mlx5_0": {HcaHandles: u32(1)}}}), nil)
		if err == nil || !strings.Contains(err.Error(), "linux.resources.rdma: this host has no rdma cgroup controller") {
			t.Errorf("rdma: %v", err)
		}
	}
	// The everyday set is fine here.
	ok := mustResources(t, &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: i64(32 << 20), Swap: i64(64 << 20), Swappiness: u64(10)},
		CPU:    &specs.LinuxCPU{Shares: u64(512), Quota: i64(50000), Period: u64(100000), Cpus: "0", Mems: "0"},
		Pids:   &specs.LinuxPids{Limit: i64(10)},
	})
	if err := CheckHost(ok, nil); err != nil {
		t.Errorf("everyday resources refused: %v", err)
	}
	// A cpu the host does not have.
	err = CheckHost(mustResources(t, cpu(specs.LinuxCPU{Cpus: "0-4095"})), nil)
	if err == nil || !strings.Contains(err.Error(), `linux.resources.cpu.cpus "0-4095": this host has cpus`) {
		t.Errorf("cpus beyond the host: %v", err)
	}
	t.Logf("cpus: %v", err)
}

func TestCheckHostFake(t *testing.T) {
	hybrid := fakeV1(t, ModeHybrid, map[string][]string{
		"memory": {"memory.swappiness", "memory.oom_control"}, "cpu": {"cpu.shares", "cpu.cfs_quota_us", "cpu.cfs_period_us"},
		"cpuset": {"cpuset.effective_cpus", "cpuset.effective_mems"}, "blkio": {"blkio.bfq.io_service_bytes"}, "pids": nil, "devices": nil,
	}, "hugetlb")
	v1 := fakeV1(t, ModeV1, map[string][]string{"memory": {"memory.memsw.limit_in_bytes"}, "blkio": {"blkio.weight", "blkio.leaf_weight"}, "hugetlb": nil, "net_cls": nil, "net_prio": nil})
	v2 := fakeV2(t, "cpu", "cpuset", "io", "memory", "pids", "hugetlb")

	rows := []struct {
		name    string
		h       *hostCgroups
		in      *specs.LinuxResources
		unified map[string]string
		want    string // "" means accepted
	}{
		{"hybrid: unified memory", hybrid, nil, map[string]string{"memory.max": "1"}, `linux.resources.unified["memory.max"]: cannot use unified on cgroup v1: this host has no cgroup2 memory controller (cgroup v1 hybrid); use linux.resources.memory`},
		{"hybrid: unified hugetlb present in cgroup2", hybrid, nil, map[string]string{"hugetlb.2MB.max": "1"}, `linux.resources.unified["hugetlb.2MB.max"]: cannot use unified on cgroup v1: this host's cgroup2 hierarchy has a hugetlb controller but berth drives cgroup v1 here`},
		{"hybrid: unified cgroup core", hybrid, nil, map[string]string{"cgroup.max.depth": "1"}, `unified keys need a cgroup v2 host (this one is cgroup v1 hybrid)`},
		{"hybrid: hugepages", hybrid, &specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB"}}}, nil, "linux.resources.hugepageLimits: this host has no hugetlb cgroup controller (cgroup v1 hybrid: no hugetlb hierarchy mounted)"},
		{"hybrid: swap without accounting", hybrid, mem(specs.LinuxMemory{Limit: i64(1 << 20), Swap: i64(2 << 20)}), nil, "linux.resources.memory.swap: this kernel has no memory.memsw.limit_in_bytes (no swap accounting; boot with swapaccount=1)"},
		{"hybrid: rt without RT_GROUP_SCHED", hybrid, cpu(specs.LinuxCPU{RealtimeRuntime: i64(1000)}), nil, "linux.resources.cpu.realtimeRuntime: this kernel has no cpu.rt_runtime_us"},
		{"hybrid: burst", hybrid, cpu(specs.LinuxCPU{Burst: u64(1000)}), nil, "linux.resources.cpu.burst: this kernel has no cpu.cfs_burst_us"},
		{"hybrid: leaf weight", hybrid, blkio(specs.LinuxBlockIO{LeafWeight: u16(100)}), nil, "linux.resources.blockIO.leafWeight: this kernel has no blkio.leaf_weight"},
		{"hybrid: bfq weight", hybrid, blkio(specs.LinuxBlockIO{Weight: u16(100)}), nil, ""},
		{"hybrid: everyday", hybrid, &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(1 << 20)}, CPU: &specs.LinuxCPU{Shares: u64(512), Quota: i64(5000), Cpus: "1"}, Pids: &specs.LinuxPids{Limit: i64(5)}}, nil, ""},
		{"hybrid: cpus beyond host", hybrid, cpu(specs.LinuxCPU{Cpus: "2"}), nil, `linux.resources.cpu.cpus "2": this host has cpus 0-1 only`},
		{"v1: throttle without file", v1, blkio(specs.LinuxBlockIO{ThrottleReadBpsDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: bdev(8, 0), Rate: 1}}}), nil, "linux.resources.blockIO.throttleReadBpsDevice: this kernel has no blkio.throttle.read_bps_device"},
		{"v1: no pids hierarchy", v1, &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(5)}}, nil, "linux.resources.pids.limit: this host has no pids cgroup controller (cgroup v1: no pids hierarchy mounted)"},
		{"v1: unified", v1, nil, map[string]string{"pids.max": "5"}, `linux.resources.unified["pids.max"]: cannot use unified on cgroup v1: this host has no cgroup2 pids controller (cgroup v1); use linux.resources.pids`},
		{"v1: network and cfq weights fine", v1, &specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: u32(7)}, BlockIO: &specs.LinuxBlockIO{Weight: u16(100), LeafWeight: u16(100)}}, nil, ""},
		{"v1: hugepage size unknown", v1, &specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "1GB"}}}, nil, `linux.resources.hugepageLimits[0].pageSize "1GB": this host's hugepage sizes are 2MB`},
		{"v2: unified memory fine", v2, nil, map[string]string{"memory.max": "1G", "cgroup.max.depth": "2"}, ""},
		{"v2: unified rdma missing", v2, nil, map[string]string{"rdma.max": "x"}, `linux.resources.unified["rdma.max"]: this host has no cgroup2 rdma controller`},
		{"v2: classID", v2, &specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: u32(7)}}, nil, "linux.resources.network.classID: cgroup v2 has no net_cls controller"},
		{"v2: priorities", v2, &specs.LinuxResources{Network: &specs.LinuxNetwork{Priorities: []specs.LinuxInterfacePriority{{Name: "lo"}}}}, nil, "linux.resources.network.priorities: cgroup v2 has no net_prio controller"},
		{"v2: rdma", v2, &specs.LinuxResources{Rdma: map[string]specs.LinuxRdma{"m": {HcaObjects: u32(1)}}}, nil, "linux.resources.rdma: this host has no cgroup2 rdma controller"},
		{"v2: realtime", v2, cpu(specs.LinuxCPU{RealtimePeriod: u64(1000)}), nil, "cgroup v2 has no realtime group scheduling"},
		{"v2: oom killer", v2, mem(specs.LinuxMemory{DisableOOMKiller: boolp(true)}), nil, "linux.resources.memory.disableOOMKiller: cgroup v2 cannot disable the OOM killer"},
		{"v2: hugepages fine", v2, &specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "1GB"}}}, nil, ""},
		{"v2: everyday", v2, &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(1 << 20), Swap: i64(2 << 20)}, CPU: &specs.LinuxCPU{Shares: u64(512), Cpus: "0-3", Mems: "0"}, BlockIO: &specs.LinuxBlockIO{Weight: u16(100)}}, nil, ""},
		{"v2: mems beyond host", v2, cpu(specs.LinuxCPU{Mems: "1"}), nil, `linux.resources.cpu.mems "1": this host has memory nodes 0 only`},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			err := row.h.check(mustResources(t, row.in), row.unified)
			switch {
			case row.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case row.want != "" && err == nil:
				t.Errorf("accepted; want %q", row.want)
			case row.want != "" && !strings.Contains(err.Error(), row.want):
				t.Errorf("error %q\nwant it to contain %q", err, row.want)
			}
		})
	}
}

func TestReadHostMountinfo(t *testing.T) {
	mi := filepath.Join(t.TempDir(), "mountinfo")
	data := "30 22 0:27 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755\n" +
		"31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n" +
		"34 30 0:31 / /sys/fs/cgroup/my\\040mem rw - cgroup cgroup rw,memory\n" +
		"39 30 0:36 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd\n" +
		"40 30 0:37 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
	if err := os.WriteFile(mi, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	// The mounts as parsed: readHost then keeps them or not by the
	// running host's mode (none on a pure cgroup v2 host).
	f, err := os.Open(mi)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := &hostCgroups{v1: map[string]string{}, v2: map[string]bool{}}
	if err := h.parseMounts(f); err != nil {
		t.Fatal(err)
	}
	if h.v1["cpu"] != "/sys/fs/cgroup/cpu,cpuacct" || h.v1["cpuacct"] != "/sys/fs/cgroup/cpu,cpuacct" || h.v1["memory"] != "/sys/fs/cgroup/my mem" {
		t.Errorf("v1 = %v", h.v1)
	}
	if _, ok := h.v1["name=systemd"]; ok {
		t.Error("named hierarchy taken for a controller")
	}
}
