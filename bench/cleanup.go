package main

import (
	"bufio"
	"bytes"
	"context"
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

// deleteAll force-deletes every container left in the job's root, the way
// its own runtime and mode see it. Workers call it after every case, and
// the driver once more per runtime at the end.
func deleteAll(j *job) error {
	entries, err := os.ReadDir(j.Root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var ids []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			ids = append(ids, e.Name())
		}
	}
	if len(ids) == 0 {
		return nil
	}
	err = forEach(context.Background(), j, ids, 8, func(r *runner, id string) error {
		return r.do("delete", "--force", id)
	})
	if err != nil {
		return fmt.Errorf("cleanup: %w", err)
	}
	return nil
}

// sweep is the last resort after every runtime has deleted its containers:
// it kills any process still carrying this run's tag and removes any cgroup
// named after it (killing what is inside first). It returns what it found,
// which should be nothing.
func sweep(tag string) []string {
	var found []string
	for _, pid := range taggedProcesses(tag) {
		found = append(found, fmt.Sprintf("process %d (%s)", pid, comm(pid)))
		syscall.Kill(pid, syscall.SIGKILL)
	}
	for _, dir := range taggedCgroups(tag) {
		found = append(found, "cgroup "+dir)
		removeCgroup(dir)
	}
	return found
}

// taggedProcesses lists the processes whose environment holds tag.
func taggedProcesses(tag string) []int {
	want := []byte(tagVar + "=" + tag + "\x00")
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err == nil && bytes.Contains(env, want) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func comm(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return strings.TrimSpace(string(b))
}

// taggedCgroups lists, deepest first, the cgroup directories in every
// mounted hierarchy whose name starts with tag (container ids do).
func taggedCgroups(tag string) []string {
	var dirs []string
	for _, mnt := range cgroupMounts() {
		filepath.WalkDir(mnt, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return nil
			}
			if strings.HasPrefix(d.Name(), tag) {
				dirs = append(dirs, path)
			}
			return nil
		})
	}
	sort.Slice(dirs, func(a, b int) bool { return strings.Count(dirs[a], "/") > strings.Count(dirs[b], "/") })
	return dirs
}

// cgroupMounts lists the mount points of cgroup and cgroup2 file systems.
func cgroupMounts() []string {
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		return nil
	}
	defer f.Close()
	var mnts []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) > 2 && (fields[2] == "cgroup" || fields[2] == "cgroup2") {
			mnts = append(mnts, fields[1])
		}
	}
	return mnts
}

// removeCgroup kills the processes in dir and removes it, retrying while
// they die.
func removeCgroup(dir string) {
	for i := 0; i < 100; i++ {
		b, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		if err := syscall.Rmdir(dir); err == nil || errors.Is(err, syscall.ENOENT) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}
