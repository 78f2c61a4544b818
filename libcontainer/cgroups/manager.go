// Package cgroups is berth's thin adapter over opencontainers/cgroups: it
// turns the container's cgroupsPath into a manager that places the init,
// reports the per-hierarchy paths kept in state.json, lists and removes.
package cgroups

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/manager"
)

// Manager is the cgroup of one container on every hierarchy of the host.
type Manager struct {
	m cgroups.Manager
}

// New prepares (but does not create) the container's cgroup. path is
// linux.cgroupsPath: absolute paths are below each hierarchy's root, relative
// ones below berth's own cgroup, and an empty one is the container id.
func New(id, path string, systemd, rootless bool) (*Manager, error) {
	if systemd && !systemdRunning() {
		return nil, fmt.Errorf("--systemd-cgroup: systemd is not running on this host (no /run/systemd/system); use the default cgroupfs driver")
	}
	cg := &cgroups.Cgroup{
		Path:      path,
		Systemd:   systemd,
		Rootless:  rootless,
		Resources: &cgroups.Resources{},
	}
	if path == "" {
		cg.Path = id
	}
	if systemd {
		cg.Path = ""
		cg.Parent, cg.ScopePrefix, cg.Name = splitSystemdPath(path, id)
	}
	m, err := manager.New(cg)
	if err != nil {
		return nil, fmt.Errorf("cgroup %q: %w", cg.Path, err)
	}
	return &Manager{m: m}, nil
}

// Load returns the manager of an existing container from its saved paths.
func Load(paths map[string]string) (*Manager, error) {
	cg := &cgroups.Cgroup{Resources: &cgroups.Resources{}}
	m, err := manager.NewWithPaths(cg, paths)
	if err != nil {
		return nil, err
	}
	return &Manager{m: m}, nil
}

// Apply creates the cgroup on every hierarchy and moves pid into it.
func (m *Manager) Apply(pid int) error {
	if err := m.m.Apply(pid); err != nil {
		return fmt.Errorf("cgroup: place pid %d: %w", pid, err)
	}
	return nil
}

// Paths maps each subsystem ("" for the unified hierarchy) to its directory.
func (m *Manager) Paths() map[string]string { return m.m.GetPaths() }

// Pids lists every process in the cgroup and its children.
func (m *Manager) Pids() ([]int, error) { return m.m.GetAllPids() }

// Destroy removes the cgroup directories (the cgroup must be empty).
func (m *Manager) Destroy() error {
	if err := m.m.Destroy(); err != nil {
		return fmt.Errorf("cgroup: remove: %w", err)
	}
	return nil
}

// MountPaths maps each hierarchy's mount directory name under
// /sys/fs/cgroup (e.g. "memory", "unified") to the container's cgroup in it,
// which is what the container's cgroup mount binds.
func MountPaths(paths map[string]string) map[string]string {
	out := make(map[string]string, len(paths))
	for _, p := range paths {
		rel, err := filepath.Rel("/sys/fs/cgroup", p)
		if err != nil || strings.HasPrefix(rel, "..") {
			continue
		}
		name, _, _ := strings.Cut(rel, "/")
		out[name] = p
	}
	return out
}

func systemdRunning() bool {
	fi, err := os.Lstat("/run/systemd/system")
	return err == nil && fi.IsDir()
}

// splitSystemdPath splits "slice:prefix:name" (runc's systemd cgroupsPath);
// an empty path is system.slice:berth:<id>.
func splitSystemdPath(path, id string) (slice, prefix, name string) {
	parts := strings.SplitN(path, ":", 3)
	if len(parts) != 3 {
		return "system.slice", "berth", id
	}
	return parts[0], parts[1], parts[2]
}
