package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/berthrun/berth/internal/hostscan"
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
	for _, pid := range hostscan.PidsWithEnv(tagVar + "=" + tag) {
		found = append(found, fmt.Sprintf("process %d (%s)", pid, hostscan.Cmdline(pid)))
		syscall.Kill(pid, syscall.SIGKILL)
	}
	dirs := taggedCgroups(tag)
	for _, dir := range dirs {
		found = append(found, "cgroup "+dir)
	}
	hostscan.RemoveCgroups(dirs)
	return found
}

// taggedCgroups lists the cgroup directories in every mounted hierarchy
// whose name starts with tag (container ids do).
func taggedCgroups(tag string) []string {
	var dirs []string
	for _, mnt := range hostscan.CgroupMounts() {
		filepath.WalkDir(mnt, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() && strings.HasPrefix(d.Name(), tag) {
				dirs = append(dirs, path)
				return filepath.SkipDir // RemoveCgroups takes what is below
			}
			return nil
		})
	}
	return dirs
}
