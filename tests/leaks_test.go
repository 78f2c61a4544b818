package tests

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/berthrun/berth/internal/hostscan"
)

// checkLeaks asserts that nothing of the test remains: no mount below its
// base directory, no cgroup named for one of its ids, no state in its root,
// no process still carrying its tag.
func (e *env) checkLeaks() {
	t := e.t
	t.Helper()
	for _, m := range hostscan.MountsBelow(e.base) {
		t.Errorf("leak: mount %s remains", m)
	}
	for _, id := range e.ids {
		dirs := cgroupDirsNamed(id)
		for _, d := range dirs {
			procs, _ := os.ReadFile(filepath.Join(d, "cgroup.procs"))
			t.Errorf("leak: cgroup %s remains (processes: %q)", d, strings.Fields(string(procs)))
		}
		hostscan.RemoveCgroups(dirs)
	}
	if entries, err := os.ReadDir(e.root); err == nil {
		for _, de := range entries {
			t.Errorf("leak: %s remains in the state root", filepath.Join(e.root, de.Name()))
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("leak check: %v", err)
	}
	// Processes exit shortly after delete returns; give them a moment.
	var pids []int
	for i := 0; i < 50; i++ {
		if pids = hostscan.PidsWithEnv(tagVar + "=" + e.tag); len(pids) == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, pid := range pids {
		t.Errorf("leak: process %d (%s) of this test is still alive", pid, hostscan.Cmdline(pid))
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// cgroupDirsNamed finds the cgroup directories of the container name: up
// to depth 4 in every hierarchy under /sys/fs/cgroup (on a pure cgroup v2
// host, /sys/fs/cgroup is the one hierarchy), and up to depth 4 below the
// caller's own cgroup in each (the memory hierarchy here puts us deep). A
// directory is the container's when it is called name (cgroupfs driver) or
// is a systemd scope "<prefix>-<name>.scope" (systemd driver).
func cgroupDirsNamed(name string) []string {
	var starts []string
	if pureCgroup2() {
		starts = append(starts, "/sys/fs/cgroup")
	} else {
		hier, _ := filepath.Glob("/sys/fs/cgroup/*")
		for _, h := range hier {
			if fi, err := os.Stat(h); err == nil && fi.IsDir() {
				starts = append(starts, h)
			}
		}
	}
	starts = append(starts, ownCgroupDirs()...)
	seen := map[string]bool{}
	var found []string
	for _, s := range starts {
		walkDirs(s, 4, func(p string) {
			base := filepath.Base(p)
			if (base == name || strings.HasSuffix(base, "-"+name+".scope")) && !seen[p] {
				seen[p] = true
				found = append(found, p)
			}
		})
	}
	return found
}

// ownCgroupDirs returns our cgroup's directory in every hierarchy.
func ownCgroupDirs() []string {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 || parts[2] == "/" {
			continue
		}
		var dirs []string
		if parts[1] == "" {
			dirs = []string{"/sys/fs/cgroup"}
			if !pureCgroup2() {
				dirs = []string{"/sys/fs/cgroup/unified"}
			}
		} else {
			for _, c := range strings.Split(parts[1], ",") {
				dirs = append(dirs, "/sys/fs/cgroup/"+strings.TrimPrefix(c, "name="))
			}
		}
		for _, d := range dirs {
			p := filepath.Join(d, parts[2])
			if fi, err := os.Stat(p); err == nil && fi.IsDir() {
				out = append(out, p)
			}
		}
	}
	return out
}

func walkDirs(dir string, depth int, fn func(string)) {
	if depth == 0 {
		return
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, de := range entries {
		if !de.IsDir() {
			continue
		}
		p := filepath.Join(dir, de.Name())
		fn(p)
		walkDirs(p, depth-1, fn)
	}
}
