package hostcheck

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/berthrun/berth/libcontainer/cgroups"
	"golang.org/x/sys/unix"
)

// CgroupFacts is how the host mounts its cgroups.
type CgroupFacts struct {
	// Mode is "v1", "hybrid" (v1 controllers plus a cgroup2 mount at
	// /sys/fs/cgroup/unified) or "v2", from statfs of the mount points.
	Mode string `json:"mode"`
	// V1 maps each mounted v1 controller to its mount point.
	V1 map[string]string `json:"v1"`
	// V2Mount is the cgroup2 mount point ("" when none); V2Controllers
	// the controllers its root offers.
	V2Mount       string   `json:"v2Mount"`
	V2Controllers []string `json:"v2Controllers"`
	// Enabled are the controllers the kernel has enabled (/proc/cgroups).
	Enabled []string `json:"enabled"`
}

const cgroupRoot = "/sys/fs/cgroup"

func checkCgroups() Check {
	c := Check{Name: "cgroups", Required: true}
	f, err := readCgroups("/proc/self/mountinfo", "/proc/cgroups")
	if err != nil {
		c.Host = err.Error()
		return c
	}
	c.Facts = f
	c.OK = f.Mode != ""
	c.Host = describeCgroups(f)
	mode, err := cgroups.Host()
	if err != nil {
		c.Berth = "cannot use the cgroups: " + err.Error()
		c.OK = false
		return c
	}
	c.Berth = "cgroupfs driver on " + mode.String()
	return c
}

// readCgroups reads the cgroup mounts and enabled controllers.
func readCgroups(mountinfo, procCgroups string) (CgroupFacts, error) {
	f := CgroupFacts{V1: map[string]string{}, V2Controllers: []string{}, Enabled: []string{}}
	mounts, err := os.ReadFile(mountinfo)
	if err != nil {
		return f, fmt.Errorf("read mounts: %w", err)
	}
	for _, line := range strings.Split(string(mounts), "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		pf, sf := strings.Fields(pre), strings.Fields(post)
		if !ok || len(pf) < 5 || len(sf) < 3 {
			continue
		}
		switch mnt := pf[4]; sf[0] {
		case "cgroup":
			for _, opt := range strings.Split(sf[2], ",") {
				if _, seen := f.V1[opt]; !seen && isController(opt) {
					f.V1[opt] = mnt
				}
			}
		case "cgroup2":
			if f.V2Mount == "" || mnt == cgroupRoot {
				f.V2Mount = mnt
			}
		}
	}
	f.Mode = cgroupMode(len(f.V1) > 0)
	if f.V2Mount != "" {
		if b, err := os.ReadFile(filepath.Join(f.V2Mount, "cgroup.controllers")); err == nil {
			f.V2Controllers = append(f.V2Controllers, strings.Fields(string(b))...)
		}
	}
	f.Enabled, err = enabledControllers(procCgroups)
	return f, err
}

// cgroupMode tells the mode by the filesystem type at the usual places, as
// container runtimes (and berth's manager) do.
func cgroupMode(haveV1 bool) string {
	var st unix.Statfs_t
	switch {
	case unix.Statfs(cgroupRoot, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC:
		return "v2"
	case unix.Statfs(cgroupRoot+"/unified", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC:
		return "hybrid"
	case haveV1:
		return "v1"
	}
	return ""
}

// isController tells a v1 controller from the other options of a cgroup
// mount (rw, relatime, name=systemd, ...).
func isController(opt string) bool {
	return !strings.Contains(opt, "=") && slices.Contains(knownControllers, opt)
}

var knownControllers = []string{"blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "hugetlb",
	"memory", "misc", "net_cls", "net_prio", "perf_event", "pids", "rdma"}

// enabledControllers lists the controllers /proc/cgroups marks enabled.
func enabledControllers(path string) ([]string, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer file.Close()
	out := []string{}
	s := bufio.NewScanner(file)
	for s.Scan() {
		// #subsys_name hierarchy num_cgroups enabled
		fields := strings.Fields(s.Text())
		if len(fields) == 4 && !strings.HasPrefix(fields[0], "#") && fields[3] == "1" {
			out = append(out, fields[0])
		}
	}
	slices.Sort(out)
	return out, s.Err()
}

// describeCgroups is the host column: the mode and where each controller is.
func describeCgroups(f CgroupFacts) string {
	v1 := make([]string, 0, len(f.V1))
	for name := range f.V1 {
		v1 = append(v1, name)
	}
	slices.Sort(v1)
	var parts []string
	switch f.Mode {
	case "":
		return "no cgroup filesystem mounted"
	case "v2":
		parts = append(parts, "v2")
	default:
		parts = append(parts, f.Mode+": v1 "+listOrNone(v1))
	}
	if f.V2Mount != "" {
		parts = append(parts, fmt.Sprintf("cgroup2 at %s (%s)", f.V2Mount, listOrNone(f.V2Controllers)))
	}
	return strings.Join(parts, "; ")
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "no controllers"
	}
	return strings.Join(names, ",")
}
