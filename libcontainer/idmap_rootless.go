package libcontainer

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"sort"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// idMapPlan says how nsexec.c maps a new user namespace made by an
// unprivileged caller. The kernel lets such a caller write one line itself:
// its own uid (its own gid, once setgroups is denied). Anything more goes
// through the setuid helpers newuidmap/newgidmap (shadow's uidmap package),
// which grant the ranges /etc/subuid and /etc/subgid assign to the user.
type idMapPlan struct {
	uidHelper, gidHelper string // path of newuidmap/newgidmap; "": write the map directly
	setgroupsDeny        bool   // gid_map written directly: the kernel wants setgroups denied first
	rootless             bool   // nsexec.c must make itself dumpable for the writer to open its maps
}

// subIDFiles are where shadow keeps the subordinate ids (a test can move
// them).
var subIDFiles = [2]string{"/etc/subuid", "/etc/subgid"}

// planIDMaps decides, for a caller that is not root, how the container's
// user namespace gets its maps, and refuses before anything is made a map
// the helpers would refuse: a range outside the user's subordinate ids, or
// more than one's own id without the helpers installed. Root (also root in
// a user namespace, which holds CAP_SETUID there) writes any map itself.
func planIDMaps(cfg *Config) (*idMapPlan, error) {
	if !cfg.NewNamespace(specs.UserNamespace) || os.Geteuid() == 0 {
		return nil, nil
	}
	if err := checkRootlessOOM(cfg); err != nil {
		return nil, err
	}
	linux := cfg.Spec.Linux
	p := &idMapPlan{rootless: true}
	uid, gid := os.Geteuid(), os.Getegid()
	if !selfMap(linux.UIDMappings, uid) {
		h, err := mapHelper("newuidmap", "linux.uidMappings")
		if err != nil {
			return nil, err
		}
		if err := checkSubIDs(linux.UIDMappings, uid, subIDFiles[0], "linux.uidMappings", "uid"); err != nil {
			return nil, err
		}
		p.uidHelper = h
	}
	if selfMap(linux.GIDMappings, gid) {
		p.setgroupsDeny = true
	} else {
		h, err := mapHelper("newgidmap", "linux.gidMappings")
		if err != nil {
			return nil, err
		}
		if err := checkSubIDs(linux.GIDMappings, gid, subIDFiles[1], "linux.gidMappings", "gid"); err != nil {
			return nil, err
		}
		p.gidHelper = h
	}
	return p, nil
}

// selfMap reports whether ms maps exactly one id, id itself: what an
// unprivileged process may write without a helper.
func selfMap(ms []specs.LinuxIDMapping, id int) bool {
	return len(ms) == 1 && ms[0].Size == 1 && int64(ms[0].HostID) == int64(id)
}

func mapHelper(name, field string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		for _, dir := range []string{"/usr/bin", "/bin", "/usr/sbin"} {
			if fi, err := os.Stat(dir + "/" + name); err == nil && fi.Mode().IsRegular() {
				return dir + "/" + name, nil
			}
		}
		return "", fmt.Errorf("%s: mapping more than the caller's own id needs %s, which is not installed (Debian and Ubuntu: apt-get install uidmap)", field, name)
	}
	return p, nil
}

// idRange is [start, start+size) of host ids.
type idRange struct{ start, size uint64 }

// checkSubIDs refuses a mapping entry whose host ids are neither the
// caller's own id (one id) nor inside the ranges file grants the user, as
// newuidmap/newgidmap would, but naming the entry and the ranges.
func checkSubIDs(ms []specs.LinuxIDMapping, own int, file, field, kind string) error {
	u, _ := user.LookupId(strconv.Itoa(os.Geteuid()))
	name := ""
	if u != nil {
		name = u.Username
	}
	ranges, err := subIDRanges(file, name, os.Geteuid())
	if err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	for i, m := range ms {
		if m.Size == 0 {
			return fmt.Errorf("%s[%d]: size 0", field, i)
		}
		if m.Size == 1 && int64(m.HostID) == int64(own) {
			continue
		}
		if !covered(ranges, uint64(m.HostID), uint64(m.Size)) {
			who := name
			if who == "" {
				who = "uid " + strconv.Itoa(os.Geteuid())
			}
			return fmt.Errorf("%s[%d]: host %ss %d-%d are not %s's to map: %s grants %s (besides its own %s %d)",
				field, i, kind, m.HostID, uint64(m.HostID)+uint64(m.Size)-1, who, file, describeRanges(ranges), kind, own)
		}
	}
	return nil
}

// subIDRanges reads the ranges of a subuid/subgid file that belong to the
// user, named by login name or by uid (shadow accepts both), merged where
// they touch.
func subIDRanges(file, name string, uid int) ([]idRange, error) {
	f, err := os.Open(file)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []idRange
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(strings.TrimSpace(sc.Text()), ":")
		if len(fields) != 3 || (fields[0] != name && fields[0] != strconv.Itoa(uid)) {
			continue
		}
		start, err1 := strconv.ParseUint(fields[1], 10, 32)
		size, err2 := strconv.ParseUint(fields[2], 10, 32)
		if err1 != nil || err2 != nil || size == 0 {
			continue
		}
		out = append(out, idRange{start, size})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].start < out[j].start })
	var merged []idRange
	for _, r := range out {
		if n := len(merged); n > 0 && r.start <= merged[n-1].start+merged[n-1].size {
			if end := r.start + r.size; end > merged[n-1].start+merged[n-1].size {
				merged[n-1].size = end - merged[n-1].start
			}
			continue
		}
		merged = append(merged, r)
	}
	return merged, sc.Err()
}

func covered(ranges []idRange, start, size uint64) bool {
	for _, r := range ranges {
		if start >= r.start && start+size <= r.start+r.size {
			return true
		}
	}
	return false
}

func describeRanges(ranges []idRange) string {
	if len(ranges) == 0 {
		return "none"
	}
	var parts []string
	for _, r := range ranges {
		parts = append(parts, fmt.Sprintf("%d-%d", r.start, r.start+r.size-1))
	}
	return strings.Join(parts, ", ")
}

// checkRootlessOOM refuses an oomScoreAdj below the caller's own: lowering
// it needs CAP_SYS_RESOURCE on the host, and the kernel would only say
// EACCES from inside the init. A value at or above it is written by the
// nsenter stage before the user namespace (OOMScoreAdjEarly).
func checkRootlessOOM(cfg *Config) error {
	if cfg.Spec.Process == nil || cfg.Spec.Process.OOMScoreAdj == nil {
		return nil
	}
	adj := cfg.Spec.Process.OOMScoreAdj
	b, err := os.ReadFile("/proc/self/oom_score_adj")
	if err != nil {
		return fmt.Errorf("process.oomScoreAdj %d: %w", *adj, err)
	}
	own, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("process.oomScoreAdj %d: /proc/self/oom_score_adj: %w", *adj, err)
	}
	if *adj < own {
		return fmt.Errorf("process.oomScoreAdj %d: below the caller's own %d, which only a process with CAP_SYS_RESOURCE on the host may do (rootless)", *adj, own)
	}
	cfg.OOMScoreAdjEarly = true
	return nil
}
