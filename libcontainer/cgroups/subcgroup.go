package cgroups

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
)

// AddPidSub moves pid into the container's cgroups or into existing
// sub-cgroups of them (exec --cgroup): sub maps a controller name to a path
// relative to the container's cgroup of that controller; the key "" applies
// to every controller not named. An empty sub is AddPid.
func (m *Manager) AddPidSub(pid int, sub map[string]string) error {
	if len(sub) == 0 {
		return m.AddPid(pid)
	}
	paths := m.Paths()
	for ctrl := range sub {
		if _, ok := paths[ctrl]; ctrl != "" && !ok {
			return fmt.Errorf("--cgroup %s: the container has no cgroup for controller %q", ctrl, ctrl)
		}
	}
	names := make([]string, 0, len(paths))
	for name := range paths {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		rel, ok := sub[name]
		if !ok {
			rel = sub[""]
		}
		if err := writePid(paths[name], rel, pid); err != nil {
			return err
		}
	}
	return nil
}

// writePid writes pid to cgroup.procs of dir/rel, which must exist: exec
// never creates cgroups (their limits would be unset).
func writePid(dir, rel string, pid int) error {
	target := filepath.Join(dir, rel)
	if rel != "" {
		if fi, err := os.Stat(target); err != nil || !fi.IsDir() {
			return fmt.Errorf("--cgroup %s: no such sub-cgroup %s", rel, target)
		}
	}
	if err := os.WriteFile(filepath.Join(target, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
		return fmt.Errorf("cgroup: place pid %d in %s: %w", pid, target, err)
	}
	return nil
}
