// Package hostscan finds what containers may leave on the host: mounts,
// cgroup directories and processes. The end-to-end tests, the client
// suites and the bench use it to check for and sweep leftovers.
package hostscan

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Mount is one line of /proc/self/mountinfo.
type Mount struct {
	Root, Point, FSType string
}

// Mounts parses /proc/self/mountinfo.
func Mounts() []Mount {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []Mount
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		for i, fl := range fields {
			// Optional fields end with "-"; the file system type follows.
			if fl == "-" && i > 4 && i+1 < len(fields) {
				out = append(out, Mount{Root: Unescape(fields[3]), Point: Unescape(fields[4]), FSType: fields[i+1]})
				break
			}
		}
	}
	return out
}

// Unescape undoes mountinfo's octal escapes (\040 for a space).
func Unescape(s string) string {
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

// MountsBelow lists the mount points at or below dir, deepest first (the
// order to unmount them in).
func MountsBelow(dir string) []string {
	var out []string
	for _, m := range Mounts() {
		if m.Point == dir || strings.HasPrefix(m.Point, dir+"/") {
			out = append(out, m.Point)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// CgroupMounts lists the mount points of every cgroup hierarchy, v1
// controllers and the unified one.
func CgroupMounts() []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range Mounts() {
		if (m.FSType == "cgroup" || m.FSType == "cgroup2") && !seen[m.Point] {
			seen[m.Point] = true
			out = append(out, m.Point)
		}
	}
	return out
}

// PidsWithEnv lists the live processes (not zombies, not this one) whose
// environment holds the entry kv ("NAME=value").
func PidsWithEnv(kv string) []int {
	needle := []byte(kv + "\x00")
	return pids(func(dir string) bool {
		b, err := os.ReadFile(dir + "/environ")
		return err == nil && bytes.Contains(append(b, 0), needle) && !zombie(dir)
	})
}

// PidsMentioning lists the processes (not this one) whose command line
// contains s.
func PidsMentioning(s string) []int {
	return pids(func(dir string) bool {
		b, err := os.ReadFile(dir + "/cmdline")
		return err == nil && strings.Contains(string(b), s)
	})
}

func pids(match func(procDir string) bool) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err == nil && pid != os.Getpid() && match("/proc/"+e.Name()) {
			out = append(out, pid)
		}
	}
	return out
}

// zombie tells whether the process of /proc/<pid> dir is on its way out.
func zombie(dir string) bool {
	st, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(st, ')')
	return i > 0 && len(st) > i+2 && st[i+2] == 'Z'
}

// Cmdline is a process's command line with spaces between the arguments.
func Cmdline(pid int) string {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
}

// RemoveCgroups kills the processes in dirs and removes the directories and
// everything below them, children first, retrying for up to two seconds
// while the processes die. It returns the directories still there.
func RemoveCgroups(dirs []string) []string {
	var all []string
	for _, d := range dirs {
		filepath.WalkDir(d, func(p string, de os.DirEntry, err error) error {
			if err == nil && de.IsDir() {
				all = append(all, p)
			}
			return nil
		})
	}
	sort.SliceStable(all, func(i, j int) bool { return len(all[i]) > len(all[j]) })
	for i := 0; i < 100 && len(all) > 0; i++ {
		var left []string
		for _, d := range all {
			killProcs(d)
			if err := syscall.Rmdir(d); err != nil && err != syscall.ENOENT {
				left = append(left, d)
			}
		}
		all = left
		if len(all) > 0 {
			time.Sleep(20 * time.Millisecond)
		}
	}
	return all
}

func killProcs(dir string) {
	b, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
