package cgroups

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/opencontainers/cgroups"
)

// HostMode is how the host mounts its cgroups.
type HostMode int

const (
	// ModeV1 has only cgroup v1 hierarchies.
	ModeV1 HostMode = iota
	// ModeHybrid has the v1 hierarchies plus a cgroup2 mount at
	// /sys/fs/cgroup/unified; berth drives the v1 controllers there.
	ModeHybrid
	// ModeV2 has the cgroup2 hierarchy at /sys/fs/cgroup.
	ModeV2
)

func (m HostMode) String() string {
	switch m {
	case ModeV1:
		return "cgroup v1"
	case ModeHybrid:
		return "cgroup v1 hybrid"
	default:
		return "cgroup v2"
	}
}

// hostCgroups is what CheckHost needs to know about the host.
type hostCgroups struct {
	mode HostMode
	// v1 maps each mounted v1 controller to its hierarchy's mount point.
	v1 map[string]string
	// v2root is the cgroup2 mount point ("" when none) and v2 the
	// controllers its root offers (cgroup.controllers).
	v2root string
	v2     map[string]bool
	// hugepageSizes are the sizes under /sys/kernel/mm/hugepages ("2MB").
	hugepageSizes []string
}

var (
	hostOnce sync.Once
	hostInfo *hostCgroups
	hostErr  error
)

// Host reports the host's cgroup mode (read once per process).
func Host() (HostMode, error) {
	h, err := detectHost()
	if err != nil {
		return 0, err
	}
	return h.mode, nil
}

func detectHost() (*hostCgroups, error) {
	hostOnce.Do(func() {
		hostInfo, hostErr = readHost("/proc/self/mountinfo")
	})
	return hostInfo, hostErr
}

// readHost reads the cgroup mounts from mountinfo; the mode follows
// opencontainers/cgroups (statfs of /sys/fs/cgroup and .../unified) so
// that it always agrees with the manager that berth builds.
func readHost(mountinfo string) (*hostCgroups, error) {
	f, err := os.Open(mountinfo)
	if err != nil {
		return nil, fmt.Errorf("cgroup: read mounts: %w", err)
	}
	defer f.Close()
	h := &hostCgroups{v1: map[string]string{}, v2: map[string]bool{}}
	if err := h.parseMounts(f); err != nil {
		return nil, err
	}
	switch {
	case cgroups.IsCgroup2UnifiedMode():
		h.mode = ModeV2
		h.v1 = map[string]string{}
		h.v2root = "/sys/fs/cgroup"
	case cgroups.IsCgroup2HybridMode():
		h.mode = ModeHybrid
		h.v2root = "/sys/fs/cgroup/unified"
	default:
		h.mode = ModeV1
	}
	if h.v2root != "" {
		if b, err := os.ReadFile(filepath.Join(h.v2root, "cgroup.controllers")); err == nil {
			for _, c := range strings.Fields(string(b)) {
				h.v2[c] = true
			}
		}
	}
	h.hugepageSizes = cgroups.HugePageSizes()
	return h, nil
}

// parseMounts records the cgroup mounts of a mountinfo file: where each v1
// controller is mounted, and the cgroup2 mount.
func (h *hostCgroups) parseMounts(f io.Reader) error {
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		// id parent maj:min root mountpoint opts [optional...] - fstype source superopts
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		pf, sf := strings.Fields(pre), strings.Fields(post)
		if len(pf) < 5 || len(sf) < 3 {
			continue
		}
		mnt := unescapeMount(pf[4])
		switch sf[0] {
		case "cgroup":
			for _, opt := range strings.Split(sf[2], ",") {
				if isV1Controller(opt) {
					if _, dup := h.v1[opt]; !dup {
						h.v1[opt] = mnt
					}
				}
			}
		case "cgroup2":
			if h.v2root == "" || mnt == "/sys/fs/cgroup" {
				h.v2root = mnt
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("cgroup: read mounts: %w", err)
	}
	return nil
}

var v1Controllers = map[string]bool{
	"cpu": true, "cpuacct": true, "cpuset": true, "memory": true, "devices": true,
	"freezer": true, "blkio": true, "pids": true, "hugetlb": true, "net_cls": true,
	"net_prio": true, "perf_event": true, "rdma": true, "misc": true,
}

func isV1Controller(opt string) bool { return v1Controllers[opt] }

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var c byte
			if _, err := fmt.Sscanf(s[i+1:i+4], "%03o", &c); err == nil {
				b.WriteByte(c)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// CheckHost refuses, with one line naming the JSON path, any resource this
// host cannot apply: a unified key without a cgroup2 controller to take it,
// hugepage limits without hugetlb, network classID/priorities without
// net_cls/net_prio, rdma without rdma, a cpu or memory node the host does
// not have, and knobs whose file this kernel lacks. unified may be nil, in
// which case r.Unified is checked.
func CheckHost(r *cgroups.Resources, unified map[string]string) error {
	if len(unified) == 0 && onlyDevices(r) {
		return nil // nothing host-specific to check: spare reading the mounts
	}
	h, err := detectHost()
	if err != nil {
		return err
	}
	return h.check(r, unified)
}

// onlyDevices reports whether r sets nothing but device rules (or nothing).
func onlyDevices(r *cgroups.Resources) bool {
	if r == nil {
		return true
	}
	c := *r
	c.Devices, c.SkipDevices, c.SkipFreezeOnSet, c.Freezer = nil, false, false, cgroups.Undefined
	return reflect.DeepEqual(c, cgroups.Resources{})
}

func (h *hostCgroups) check(r *cgroups.Resources, unified map[string]string) error {
	if r == nil {
		r = &cgroups.Resources{}
	}
	if unified == nil {
		unified = r.Unified
	}
	if err := h.checkUnified(unified); err != nil {
		return err
	}
	if h.mode == ModeV2 {
		return h.checkV2(r)
	}
	return h.checkV1(r)
}

// unifiedInstead names the linux.resources field that does a controller's
// job on cgroup v1.
var unifiedInstead = map[string]string{
	"memory": "linux.resources.memory", "cpu": "linux.resources.cpu",
	"cpuset": "linux.resources.cpu.cpus and .mems", "io": "linux.resources.blockIO",
	"pids": "linux.resources.pids", "hugetlb": "linux.resources.hugepageLimits",
	"rdma": "linux.resources.rdma",
}

func (h *hostCgroups) checkUnified(unified map[string]string) error {
	keys := make([]string, 0, len(unified))
	for k := range unified {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		path := fmt.Sprintf("linux.resources.unified[%q]", k)
		ctrl, _, _ := strings.Cut(k, ".")
		instead := ""
		if f, ok := unifiedInstead[ctrl]; ok {
			instead = "; use " + f
		}
		// runc's words come first ("cannot use unified on cgroup v1"), which
		// scripts match; the rest says why and what to use instead.
		switch {
		case h.mode == ModeV2:
			if ctrl != "cgroup" && !h.v2[ctrl] {
				return fieldError(path, nil, "this host has no cgroup2 %s controller", ctrl)
			}
		case ctrl == "cgroup":
			return fieldError(path, nil, "cannot use unified on cgroup v1: unified keys need a cgroup v2 host (this one is %s)", h.mode)
		case h.v2[ctrl]:
			return fieldError(path, nil, "cannot use unified on cgroup v1: this host's cgroup2 hierarchy has a %s controller but berth drives cgroup v1 here (%s), and unified keys need a cgroup v2 host%s", ctrl, h.mode, instead)
		default:
			return fieldError(path, nil, "cannot use unified on cgroup v1: this host has no cgroup2 %s controller (%s)%s", ctrl, h.mode, instead)
		}
	}
	return nil
}

// need returns an error when the v1 controller is not mounted.
func (h *hostCgroups) needV1(path, ctrl string) error {
	if _, ok := h.v1[ctrl]; ok {
		return nil
	}
	return fieldError(path, nil, "this host has no %s cgroup controller (%s: no %s hierarchy mounted)", ctrl, h.mode, ctrl)
}

// needFile returns an error when the v1 controller's root lacks file.
func (h *hostCgroups) needFile(path, ctrl, file, why string) error {
	if err := h.needV1(path, ctrl); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(h.v1[ctrl], file)); err != nil {
		return fieldError(path, nil, "this kernel has no %s (%s)", file, why)
	}
	return nil
}

func (h *hostCgroups) hasFile(ctrl, file string) bool {
	dir, ok := h.v1[ctrl]
	if !ok {
		return false
	}
	_, err := os.Stat(filepath.Join(dir, file))
	return err == nil
}

func (h *hostCgroups) checkV1(r *cgroups.Resources) error {
	type req struct {
		set  bool
		path string
		ctrl string
		file string
		why  string
	}
	reqs := []req{
		{r.Memory != 0, "linux.resources.memory.limit", "memory", "", ""},
		{r.MemoryReservation != 0, "linux.resources.memory.reservation", "memory", "", ""},
		{r.MemorySwap != 0, "linux.resources.memory.swap", "memory", "memory.memsw.limit_in_bytes", "no swap accounting; boot with swapaccount=1"},
		{r.MemorySwappiness != nil, "linux.resources.memory.swappiness", "memory", "memory.swappiness", "no per-cgroup swappiness"},
		{r.OomKillDisable, "linux.resources.memory.disableOOMKiller", "memory", "memory.oom_control", "no OOM control"},
		{r.CpuShares != 0, "linux.resources.cpu.shares", "cpu", "cpu.shares", "no CFS group scheduling"},
		{r.CpuQuota != 0, "linux.resources.cpu.quota", "cpu", "cpu.cfs_quota_us", "no CFS bandwidth control"},
		{r.CpuPeriod != 0, "linux.resources.cpu.period", "cpu", "cpu.cfs_period_us", "no CFS bandwidth control"},
		{r.CpuBurst != nil, "linux.resources.cpu.burst", "cpu", "cpu.cfs_burst_us", "CFS burst needs Linux 5.14"},
		{r.CpuRtRuntime != 0, "linux.resources.cpu.realtimeRuntime", "cpu", "cpu.rt_runtime_us", "the kernel was built without CONFIG_RT_GROUP_SCHED"},
		{r.CpuRtPeriod != 0, "linux.resources.cpu.realtimePeriod", "cpu", "cpu.rt_period_us", "the kernel was built without CONFIG_RT_GROUP_SCHED"},
		{r.CPUIdle != nil, "linux.resources.cpu.idle", "cpu", "cpu.idle", "SCHED_IDLE groups need Linux 5.15"},
		{r.CpusetCpus != "", "linux.resources.cpu.cpus", "cpuset", "", ""},
		{r.CpusetMems != "", "linux.resources.cpu.mems", "cpuset", "", ""},
		{r.PidsLimit != nil, "linux.resources.pids.limit", "pids", "", ""},
		{r.BlkioLeafWeight != 0, "linux.resources.blockIO.leafWeight", "blkio", "blkio.leaf_weight", "leaf weights were CFQ's, removed in Linux 5.0"},
		{len(r.BlkioThrottleReadBpsDevice) > 0, "linux.resources.blockIO.throttleReadBpsDevice", "blkio", "blkio.throttle.read_bps_device", "no block I/O throttling"},
		{len(r.BlkioThrottleWriteBpsDevice) > 0, "linux.resources.blockIO.throttleWriteBpsDevice", "blkio", "blkio.throttle.write_bps_device", "no block I/O throttling"},
		{len(r.BlkioThrottleReadIOPSDevice) > 0, "linux.resources.blockIO.throttleReadIOPSDevice", "blkio", "blkio.throttle.read_iops_device", "no block I/O throttling"},
		{len(r.BlkioThrottleWriteIOPSDevice) > 0, "linux.resources.blockIO.throttleWriteIOPSDevice", "blkio", "blkio.throttle.write_iops_device", "no block I/O throttling"},
		{r.NetClsClassid != 0, "linux.resources.network.classID", "net_cls", "", ""},
		{len(r.NetPrioIfpriomap) > 0, "linux.resources.network.priorities", "net_prio", "", ""},
		{len(r.Rdma) > 0, "linux.resources.rdma", "rdma", "", ""},
		{len(r.HugetlbLimit) > 0, "linux.resources.hugepageLimits", "hugetlb", "", ""},
	}
	for _, q := range reqs {
		if !q.set {
			continue
		}
		var err error
		if q.file == "" {
			err = h.needV1(q.path, q.ctrl)
		} else {
			err = h.needFile(q.path, q.ctrl, q.file, q.why)
		}
		if err != nil {
			return err
		}
	}
	// Weights: CFQ had blkio.weight; BFQ has blkio.bfq.weight, which only
	// non-root cgroups show, so its statistics files stand in for it.
	weighted := r.BlkioWeight != 0
	for _, wd := range r.BlkioWeightDevice {
		weighted = weighted || wd.Weight != 0
	}
	if weighted {
		path := "linux.resources.blockIO.weight"
		if r.BlkioWeight == 0 {
			path = "linux.resources.blockIO.weightDevice"
		}
		if err := h.needV1(path, "blkio"); err != nil {
			return err
		}
		if !h.hasFile("blkio", "blkio.weight") && !h.hasFile("blkio", "blkio.bfq.io_service_bytes") {
			return fieldError(path, nil, "this kernel has no proportional block I/O weights (neither CFQ's blkio.weight nor BFQ's blkio.bfq.weight)")
		}
	}
	if err := h.checkHugepageSizes(r); err != nil {
		return err
	}
	if dir, ok := h.v1["cpuset"]; ok {
		return checkCpuset(r, filepath.Join(dir, "cpuset.effective_cpus"), filepath.Join(dir, "cpuset.effective_mems"))
	}
	return nil
}

func (h *hostCgroups) checkV2(r *cgroups.Resources) error {
	type req struct {
		set  bool
		path string
		ctrl string
	}
	reqs := []req{
		{r.Memory != 0, "linux.resources.memory.limit", "memory"},
		{r.MemoryReservation != 0, "linux.resources.memory.reservation", "memory"},
		{r.MemorySwap != 0, "linux.resources.memory.swap", "memory"},
		{r.CpuWeight != 0, "linux.resources.cpu.shares", "cpu"},
		{r.CpuQuota != 0, "linux.resources.cpu.quota", "cpu"},
		{r.CpuPeriod != 0, "linux.resources.cpu.period", "cpu"},
		{r.CpuBurst != nil, "linux.resources.cpu.burst", "cpu"},
		{r.CPUIdle != nil, "linux.resources.cpu.idle", "cpu"},
		{r.CpusetCpus != "", "linux.resources.cpu.cpus", "cpuset"},
		{r.CpusetMems != "", "linux.resources.cpu.mems", "cpuset"},
		{r.PidsLimit != nil, "linux.resources.pids.limit", "pids"},
		{r.BlkioWeight != 0 || len(r.BlkioWeightDevice) > 0, "linux.resources.blockIO.weight", "io"},
		{len(r.BlkioThrottleReadBpsDevice)+len(r.BlkioThrottleWriteBpsDevice)+len(r.BlkioThrottleReadIOPSDevice)+len(r.BlkioThrottleWriteIOPSDevice) > 0, "linux.resources.blockIO", "io"},
		{len(r.HugetlbLimit) > 0, "linux.resources.hugepageLimits", "hugetlb"},
		{len(r.Rdma) > 0, "linux.resources.rdma", "rdma"},
	}
	for _, q := range reqs {
		if q.set && !h.v2[q.ctrl] {
			return fieldError(q.path, nil, "this host has no cgroup2 %s controller", q.ctrl)
		}
	}
	// What cgroup v2 has no file for at all: opencontainers/cgroups would
	// drop these silently.
	unsupported := []struct {
		set  bool
		path string
		why  string
	}{
		{r.NetClsClassid != 0, "linux.resources.network.classID", "cgroup v2 has no net_cls controller; classify traffic with an eBPF or nftables cgroup match"},
		{len(r.NetPrioIfpriomap) > 0, "linux.resources.network.priorities", "cgroup v2 has no net_prio controller"},
		{r.CpuRtRuntime != 0 || r.CpuRtPeriod != 0, "linux.resources.cpu.realtimeRuntime", "cgroup v2 has no realtime group scheduling"},
		{r.BlkioLeafWeight != 0, "linux.resources.blockIO.leafWeight", "cgroup v2 has no leaf weights"},
		{r.OomKillDisable, "linux.resources.memory.disableOOMKiller", "cgroup v2 cannot disable the OOM killer"},
		{r.MemorySwappiness != nil, "linux.resources.memory.swappiness", "cgroup v2 has no per-cgroup swappiness"},
	}
	for _, u := range unsupported {
		if u.set {
			return fieldError(u.path, nil, "%s", u.why)
		}
	}
	for i, wd := range r.BlkioWeightDevice {
		if wd.LeafWeight != 0 {
			return fieldError(fmt.Sprintf("linux.resources.blockIO.weightDevice[%d].leafWeight", i), nil, "cgroup v2 has no leaf weights")
		}
	}
	if err := h.checkHugepageSizes(r); err != nil {
		return err
	}
	if h.v2root == "" {
		return nil
	}
	return checkCpuset(r, filepath.Join(h.v2root, "cpuset.cpus.effective"), filepath.Join(h.v2root, "cpuset.mems.effective"))
}

func (h *hostCgroups) checkHugepageSizes(r *cgroups.Resources) error {
	for i, l := range r.HugetlbLimit {
		if !slices.Contains(h.hugepageSizes, l.Pagesize) {
			have := strings.Join(h.hugepageSizes, ", ")
			if have == "" {
				have = "none"
			}
			return fieldError(fmt.Sprintf("linux.resources.hugepageLimits[%d].pageSize", i), l.Pagesize, "this host's hugepage sizes are %s", have)
		}
	}
	return nil
}

// checkCpuset refuses cpus or memory nodes the host does not offer.
func checkCpuset(r *cgroups.Resources, cpusFile, memsFile string) error {
	for _, c := range []struct {
		want, file, path, what string
	}{
		{r.CpusetCpus, cpusFile, "linux.resources.cpu.cpus", "cpus"},
		{r.CpusetMems, memsFile, "linux.resources.cpu.mems", "memory nodes"},
	} {
		if c.want == "" {
			continue
		}
		b, err := os.ReadFile(c.file)
		if err != nil {
			continue // no file to compare with: let the kernel judge
		}
		have, err := parseList(string(b))
		if err != nil {
			continue
		}
		want, err := parseList(c.want)
		if err != nil {
			return fieldError(c.path, c.want, "not a list (%v)", err)
		}
		for n := range want {
			if !have[n] {
				return fieldError(c.path, c.want, "this host has %s %s only", c.what, strings.TrimSpace(string(b)))
			}
		}
	}
	return nil
}
