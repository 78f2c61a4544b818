package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/opencontainers/cgroups"
	"golang.org/x/sys/unix"
)

// ErrNoCgroup is what Pids returns for a rootless container that has no
// cgroup to list processes from (no devices hierarchy it could write):
// the caller finds them another way (libcontainer's procfs walk).
var ErrNoCgroup = errors.New("the container has no cgroup of its own (rootless, none writable)")

// rootlessPaths keeps, of the cgroup directories a rootless container would
// get on a v1 or hybrid host, those this user may make or already owns: an
// unprivileged user has no say in the hierarchies root did not delegate,
// and runc leaves those alone too when the config sets no limit in them.
// What is left out is not written, not joined and not removed. A limit in a
// hierarchy left out fails here, naming the config's field (limitField),
// instead of being silently dropped.
//
// With an explicit linux.cgroupsPath the caller asked for that cgroup:
// every hierarchy must be writable, as runc requires, and the first that
// is not is named.
func rootlessPaths(paths map[string]string, res *cgroups.Resources, explicit string) (map[string]string, error) {
	keep := make(map[string]string, len(paths))
	for _, name := range sortedKeys(paths) {
		dir := paths[name]
		if mayWrite(dir) {
			keep[name] = dir
			continue
		}
		if explicit != "" && name != "devices" {
			return nil, fmt.Errorf("linux.cgroupsPath %q: rootless: no write access to %s (set no cgroupsPath to run without the cgroups you cannot write, or have them delegated)", explicit, dir)
		}
		if f := limitField(name, res); f != "" {
			return nil, fmt.Errorf("%s: cannot be set rootless: the %s cgroup %s is not writable by uid %d (drop the limit or delegate the hierarchy)", f, hierarchyName(name), dir, os.Geteuid())
		}
	}
	return keep, nil
}

// mayWrite reports whether this user can create dir (write access to its
// nearest existing ancestor) or, when it exists, write to it.
func mayWrite(dir string) bool {
	for d := dir; d != "/" && d != "."; d = filepath.Dir(d) {
		err := unix.Faccessat(unix.AT_FDCWD, d, unix.W_OK, unix.AT_EACCESS)
		if err == nil {
			return true
		}
		if !errors.Is(err, unix.ENOENT) {
			return false
		}
	}
	return false
}

func hierarchyName(name string) string {
	if name == "" {
		return "unified (cgroup2)"
	}
	return name
}

// checkRootlessLimits refuses, for a rootless container's update, a limit
// in a hierarchy it has no cgroup in (one rootlessPaths left out): the
// library would write to no file and fail with "cannot set ... limit:
// container could not join or create cgroup", which names no field.
func checkRootlessLimits(paths map[string]string, res *cgroups.Resources) error {
	names := v1Subsystems
	if cgroups.IsCgroup2UnifiedMode() {
		names = []string{""}
	}
	for _, name := range names {
		if _, ok := paths[name]; ok {
			continue
		}
		if f := limitField(name, res); f != "" {
			return fmt.Errorf("%s: cannot be set rootless: the container has no %s cgroup (not writable by uid %d when it was created)", f, hierarchyName(name), os.Geteuid())
		}
	}
	return nil
}

// limitField names the first config field of res that needs the hierarchy
// name ("" is cgroup v2, which holds every controller), or "" when res sets
// nothing there. Device rules are not limits here: a user namespace cannot
// make device nodes, and the library ignores the devices hierarchy for a
// rootless container as runc does.
func limitField(name string, r *cgroups.Resources) string {
	if r == nil {
		return ""
	}
	if name == "" {
		for _, n := range []string{"memory", "cpu", "cpuset", "pids", "blkio", "hugetlb", "rdma"} {
			if f := limitField(n, r); f != "" {
				return f
			}
		}
		if len(r.Unified) > 0 {
			return "linux.resources.unified"
		}
		return ""
	}
	type field struct {
		set  bool
		path string
	}
	var fields []field
	switch name {
	case "memory":
		fields = []field{
			{r.Memory != 0, "linux.resources.memory.limit"},
			{r.MemoryReservation != 0, "linux.resources.memory.reservation"},
			{r.MemorySwap != 0, "linux.resources.memory.swap"},
			{r.MemorySwappiness != nil, "linux.resources.memory.swappiness"},
			{r.OomKillDisable, "linux.resources.memory.disableOOMKiller"},
		}
	case "cpu":
		fields = []field{
			{r.CpuShares != 0 || r.CpuWeight != 0, "linux.resources.cpu.shares"},
			{r.CpuQuota != 0, "linux.resources.cpu.quota"},
			{r.CpuBurst != nil, "linux.resources.cpu.burst"},
			{r.CpuPeriod != 0, "linux.resources.cpu.period"},
			{r.CpuRtRuntime != 0, "linux.resources.cpu.realtimeRuntime"},
			{r.CpuRtPeriod != 0, "linux.resources.cpu.realtimePeriod"},
			{r.CPUIdle != nil, "linux.resources.cpu.idle"},
		}
	case "cpuset":
		fields = []field{
			{r.CpusetCpus != "", "linux.resources.cpu.cpus"},
			{r.CpusetMems != "", "linux.resources.cpu.mems"},
		}
	case "pids":
		fields = []field{{r.PidsLimit != nil, "linux.resources.pids.limit"}}
	case "blkio":
		fields = []field{
			{r.BlkioWeight != 0, "linux.resources.blockIO.weight"},
			{r.BlkioLeafWeight != 0, "linux.resources.blockIO.leafWeight"},
			{len(r.BlkioWeightDevice) > 0, "linux.resources.blockIO.weightDevice"},
			{len(r.BlkioThrottleReadBpsDevice) > 0, "linux.resources.blockIO.throttleReadBpsDevice"},
			{len(r.BlkioThrottleWriteBpsDevice) > 0, "linux.resources.blockIO.throttleWriteBpsDevice"},
			{len(r.BlkioThrottleReadIOPSDevice) > 0, "linux.resources.blockIO.throttleReadIOPSDevice"},
			{len(r.BlkioThrottleWriteIOPSDevice) > 0, "linux.resources.blockIO.throttleWriteIOPSDevice"},
		}
	case "hugetlb":
		fields = []field{{len(r.HugetlbLimit) > 0, "linux.resources.hugepageLimits"}}
	case "net_cls":
		fields = []field{{r.NetClsClassid != 0, "linux.resources.network.classID"}}
	case "net_prio":
		fields = []field{{len(r.NetPrioIfpriomap) > 0, "linux.resources.network.priorities"}}
	case "rdma":
		fields = []field{{len(r.Rdma) > 0, "linux.resources.rdma"}}
	}
	for _, f := range fields {
		if f.set {
			return f.path
		}
	}
	return ""
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// noCgroup is the library manager of a rootless container on cgroup v2
// that got no cgroup: the cgroup berth runs in is not the user's (a shell
// of su or setpriv, a service of root's) and the config sets no limit, so
// runc's rule runs the container without one. The library's v2 manager
// has no such state: given no path it works the default out again (the id
// below the caller's cgroup), which was never made, and moving a pid
// there fails. Here there is nothing to make, join, set or remove; the
// processes are found through /proc (Pids' ErrNoCgroup).
type noCgroup struct{ cg *cgroups.Cgroup }

func (noCgroup) Apply(int) error                   { return nil }
func (noCgroup) AddPid(string, int) error          { return nil }
func (noCgroup) GetPids() ([]int, error)           { return nil, ErrNoCgroup }
func (noCgroup) GetAllPids() ([]int, error)        { return nil, ErrNoCgroup }
func (noCgroup) GetStats() (*cgroups.Stats, error) { return cgroups.NewStats(), nil }
func (noCgroup) Stats(*cgroups.StatsOptions) (*cgroups.Stats, error) {
	return cgroups.NewStats(), nil
}
func (noCgroup) Freeze(cgroups.FreezerState) error { return ErrNoCgroup }
func (noCgroup) Destroy() error                    { return nil }
func (noCgroup) Path(string) string                { return "" }

// Set has nothing to write: New refused any limit for want of a cgroup,
// and update does (checkRootlessLimits).
func (noCgroup) Set(*cgroups.Resources) error                   { return nil }
func (noCgroup) GetPaths() map[string]string                    { return map[string]string{} }
func (n noCgroup) GetCgroups() (*cgroups.Cgroup, error)         { return n.cg, nil }
func (noCgroup) GetFreezerState() (cgroups.FreezerState, error) { return cgroups.Undefined, nil }
func (noCgroup) Exists() bool                                   { return false }
func (noCgroup) OOMKillCount() (uint64, error)                  { return 0, nil }

// namesNoCgroup reports whether saved paths name no cgroup this host can
// use: none at all, or no unified path on a pure cgroup v2 host.
func namesNoCgroup(paths map[string]string) bool {
	if len(paths) == 0 {
		return true
	}
	return cgroups.IsCgroup2UnifiedMode() && paths[""] == ""
}
