package tests

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// checkLeaks asserts that nothing of the test remains: no mount below its
// base directory, no cgroup named for one of its ids, no state in its root,
// no process still carrying its tag.
func (e *env) checkLeaks() {
	t := e.t
	t.Helper()
	for _, m := range mountsBelow(e.base) {
		t.Errorf("leak: mount %s remains", m)
	}
	for _, id := range e.ids {
		dirs := cgroupDirsNamed(id)
		for _, d := range dirs {
			procs, _ := os.ReadFile(filepath.Join(d, "cgroup.procs"))
			t.Errorf("leak: cgroup %s remains (processes: %q)", d, strings.Fields(string(procs)))
		}
		reapCgroups(dirs)
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
		if pids = taggedPids(e.tag); len(pids) == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, pid := range pids {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		t.Errorf("leak: process %d (%s) of this test is still alive", pid, strings.ReplaceAll(string(cmdline), "\x00", " "))
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// reapCgroups kills the processes of leaked cgroups and removes them, so
// that one failed test does not pollute the host for the next ones.
func reapCgroups(dirs []string) {
	if len(dirs) == 0 {
		return
	}
	for i := 0; i < 100; i++ {
		left := 0
		for _, d := range dirs {
			procs, _ := os.ReadFile(filepath.Join(d, "cgroup.procs"))
			for _, p := range strings.Fields(string(procs)) {
				if pid, err := strconv.Atoi(p); err == nil {
					syscall.Kill(pid, syscall.SIGKILL)
					left++
				}
			}
		}
		if left == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	all := append([]string(nil), dirs...)
	for _, d := range dirs {
		walkDirs(d, 4, func(sub string) { all = append(all, sub) })
	}
	// Deepest first: children before their parents.
	sort.Slice(all, func(i, j int) bool { return len(all[i]) > len(all[j]) })
	for _, d := range all {
		os.Remove(d)
	}
}

// mountsBelow lists the mount points in our mount table at or below dir,
// deepest first.
func mountsBelow(dir string) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMount(fields[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			out = append([]string{mp}, out...)
		}
	}
	return out
}

// unescapeMount undoes the octal escapes of /proc/*/mountinfo.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// cgroupDirsNamed finds cgroup directories called name: up to depth 4 in
// every hierarchy under /sys/fs/cgroup, and up to depth 4 below the caller's
// own cgroup in each (the memory hierarchy here puts us deep).
func cgroupDirsNamed(name string) []string {
	var starts []string
	hier, _ := filepath.Glob("/sys/fs/cgroup/*")
	for _, h := range hier {
		if fi, err := os.Stat(h); err == nil && fi.IsDir() {
			starts = append(starts, h)
		}
	}
	starts = append(starts, ownCgroupDirs()...)
	seen := map[string]bool{}
	var found []string
	for _, s := range starts {
		walkDirs(s, 4, func(p string) {
			if filepath.Base(p) == name && !seen[p] {
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
			dirs = []string{"/sys/fs/cgroup/unified", "/sys/fs/cgroup"}
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

// taggedPids lists live processes whose environment carries tag.
func taggedPids(tag string) []int {
	needle := []byte(tagVar + "=" + tag + "\x00")
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, de := range entries {
		pid, err := strconv.Atoi(de.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile("/proc/" + de.Name() + "/environ")
		if err != nil || !bytes.Contains(append(b, 0), needle) {
			continue
		}
		if st, err := os.ReadFile("/proc/" + de.Name() + "/stat"); err == nil {
			if i := bytes.LastIndexByte(st, ')'); i > 0 && len(st) > i+2 && st[i+2] == 'Z' {
				continue // a zombie is on its way out
			}
		}
		out = append(out, pid)
	}
	return out
}
