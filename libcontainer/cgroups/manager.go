// Package cgroups is berth's thin adapter over opencontainers/cgroups: it
// turns the container's cgroupsPath into a manager that places the init,
// converts and checks linux.resources (Resources, CheckHost), applies them
// (Set), pauses (Freeze, Thaw), reports (Stats, OOMKillCount, NotifyOOM),
// kills every process (Kill), and removes the cgroup (Destroy).
package cgroups

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/manager"
	"golang.org/x/sys/unix"
)

// Manager is the cgroup of one container on every hierarchy of the host.
type Manager struct {
	m       cgroups.Manager
	res     *cgroups.Resources
	systemd bool
	// With the systemd driver: the unit (for the IO* properties and
	// errors) and whether it lives in the user's manager.
	unit     string
	rootless bool
	// paths of a systemd manager, read once it is made: the library's
	// GetPaths takes the lock a call abandoned by withSystemd may hold.
	paths map[string]string
}

// Option adjusts the cgroup New prepares.
type Option func(*cgroups.Cgroup)

// WithResources hands New the container's converted resources (from
// Resources). Apply uses them where a controller must be prepared before the
// process joins (cpuset copies cpus/mems to new parents, realtime cpu
// bandwidth), and Set(nil) applies them.
func WithResources(r *cgroups.Resources) Option {
	return func(cg *cgroups.Cgroup) {
		if r != nil {
			cg.Resources = r
		}
	}
}

// New prepares (but does not create) the container's cgroup. path is
// linux.cgroupsPath: absolute paths are below each hierarchy's root, relative
// ones below berth's own cgroup, and an empty one is the container id. With
// systemd, path is "slice:prefix:name" (empty: system.slice:berth:<id>,
// user.slice for a rootless container).
// Resources given WithResources are checked against the host first
// (CheckHost), so what this host cannot apply fails here, in one line.
func New(id, path string, systemd, rootless bool, opts ...Option) (*Manager, error) {
	cg := &cgroups.Cgroup{
		Path:      path,
		Systemd:   systemd,
		Rootless:  rootless,
		Resources: &cgroups.Resources{},
	}
	for _, o := range opts {
		o(cg)
	}
	if path == "" {
		cg.Path = id
	}
	if systemd {
		parent, prefix, name, err := SplitSystemdPath(path, id, rootless)
		if err != nil {
			return nil, err
		}
		if !systemdRunning() {
			return nil, errors.New("--systemd-cgroup: systemd is not running on this host (no /run/systemd/system); use the default cgroupfs driver")
		}
		cg.Path = ""
		cg.Parent, cg.ScopePrefix, cg.Name = parent, prefix, name
		if ioPropertiesApply() {
			// The unit starts with them: no round trip of its own.
			cg.SystemdProps = append(cg.SystemdProps, ioProperties(cg.Resources)...)
		}
	}
	if err := CheckHost(cg.Resources, nil); err != nil {
		return nil, err
	}
	if !systemd && rootless {
		return newRootless(id, path, cg)
	}
	if !systemd {
		m, err := newManager(cg)
		if err != nil {
			return nil, fmt.Errorf("cgroup %q: %w", cg.Path, err)
		}
		return &Manager{m: m, res: cg.Resources}, nil
	}
	unit := unitName(cg.ScopePrefix, cg.Name)
	var m cgroups.Manager
	// Rootless, the library asks the user's systemd where its slices are.
	err := withSystemd("find the cgroup of "+unit, func() (err error) {
		if m, err = newManager(cg); err != nil {
			return fmt.Errorf("cgroup of %s: %w", unit, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Manager{m: m, res: cg.Resources, systemd: true, unit: unit, rootless: rootless, paths: m.GetPaths()}, nil
}

// newRootless is New's cgroupfs manager for an unprivileged caller. With
// no cgroupsPath the cgroup is named as runc names it (Path empty, Name the
// id: below the caller's own cgroup), which is also what tells the library
// to skip, rather than fail on, a hierarchy it may not write. On v1 and
// hybrid hosts the hierarchies the user cannot write are left out before
// anything is made (rootlessPaths), so state.json records only cgroups the
// container really has.
func newRootless(id, path string, cg *cgroups.Cgroup) (*Manager, error) {
	if path == "" {
		cg.Path, cg.Name = "", id
	}
	m, err := manager.New(cg)
	if err != nil {
		return nil, fmt.Errorf("cgroup %q: %w", id, err)
	}
	keep, err := rootlessPaths(m.GetPaths(), cg.Resources, path)
	if err != nil {
		return nil, err
	}
	if cgroups.IsCgroup2UnifiedMode() {
		if _, ok := keep[""]; !ok {
			return &Manager{m: noCgroup{cg}, res: cg.Resources, rootless: true}, nil
		}
		return &Manager{m: m, res: cg.Resources, rootless: true}, nil
	}
	if m, err = manager.NewWithPaths(cg, keep); err != nil {
		return nil, fmt.Errorf("cgroup %q: %w", id, err)
	}
	return &Manager{m: m, res: cg.Resources, rootless: true}, nil
}

// unitName is the unit the library makes for prefix and name: a scope
// "prefix-name.scope", or the slice itself when name is one.
func unitName(prefix, name string) string {
	if strings.HasSuffix(name, ".slice") {
		return name
	}
	return prefix + "-" + name + ".scope"
}

// newManager is manager.New, with the paths of a relative cgroupfs path on
// a v1 or hybrid host worked out by relativePaths.
func newManager(cg *cgroups.Cgroup) (cgroups.Manager, error) {
	if !cg.Systemd && !cg.Rootless && cg.Path != "" && !filepath.IsAbs(cg.Path) && !cgroups.IsCgroup2UnifiedMode() {
		if paths, ok := relativePaths(cg.Path); ok {
			return manager.NewWithPaths(cg, paths)
		}
	}
	return manager.New(cg)
}

// Prepare creates the cgroup and sets its resources with no process in it,
// so that create can do this while the init's binary starts; Join then only
// moves the pid in. The systemd driver makes its unit with the first pid:
// there Prepare does nothing and Join does it all.
func (m *Manager) Prepare() error {
	if m.systemd {
		return nil
	}
	// ErrRootless: a hierarchy the library could not write was skipped,
	// as it should be for a rootless container without limits there.
	if err := m.m.Apply(-1); err != nil && !(m.rootless && errors.Is(err, cgroups.ErrRootless)) {
		return fmt.Errorf("cgroup: create: %w", err)
	}
	return m.Set(nil)
}

// Join places pid in the cgroup Prepare made.
func (m *Manager) Join(pid int) error {
	if !m.systemd {
		return m.AddPid(pid)
	}
	if err := m.Apply(pid); err != nil {
		return err
	}
	return m.Set(nil)
}

// Load returns the manager of an existing container from its saved paths;
// rootless is the container's Config.Rootless (its paths then hold only
// the hierarchies it could write).
func Load(paths map[string]string, rootless bool) (*Manager, error) {
	res := &cgroups.Resources{}
	cg := &cgroups.Cgroup{Resources: res, Rootless: rootless}
	if namesNoCgroup(paths) {
		// No cgroup of this host is named: a rootless container that
		// could write none (nil or empty), or paths of another cgroup
		// mode (v1 paths read on a v2 host). The library would take them
		// for "work them out" and land on the caller's own cgroup: ps
		// would list, and delete kill, everything in it.
		return &Manager{m: noCgroup{cg}, res: res, rootless: rootless}, nil
	}
	m, err := manager.NewWithPaths(cg, paths)
	if err != nil {
		return nil, err
	}
	return &Manager{m: m, res: res, rootless: rootless}, nil
}

// LoadSystemd is Load for a container made with the systemd driver: its
// unit is named again from id and cgroupsPath as New named it, so that
// Set goes through the unit's properties (systemctl show agrees with the
// kernel) and Destroy stops the unit instead of only removing the
// directory under systemd's feet. Reading (pids, stats, freezer) still goes
// to the saved paths, with no D-Bus connection.
func LoadSystemd(id, path string, rootless bool, paths map[string]string) (*Manager, error) {
	parent, prefix, name, err := SplitSystemdPath(path, id, rootless)
	if err != nil {
		return nil, err
	}
	res := &cgroups.Resources{}
	cg := &cgroups.Cgroup{Systemd: true, Rootless: rootless, Parent: parent, ScopePrefix: prefix, Name: name, Resources: res}
	if systemdHung() != nil {
		// Making the library's systemd manager takes the connection lock
		// that the abandoned call holds. The cleanup of the failed create
		// only reads the directories and removes them (Destroy): the
		// cgroupfs manager does that.
		cg = &cgroups.Cgroup{Resources: res}
	}
	m, err := manager.NewWithPaths(cg, paths)
	if err != nil {
		return nil, err
	}
	return &Manager{m: m, res: res, systemd: true, unit: unitName(prefix, name), rootless: rootless, paths: m.GetPaths()}, nil
}

// Apply creates the cgroup on every hierarchy and moves pid into it.
func (m *Manager) Apply(pid int) error {
	return m.bound("start "+m.unit, func() error {
		if err := m.m.Apply(pid); err != nil {
			return fmt.Errorf("cgroup: place pid %d: %w", pid, err)
		}
		return nil
	})
}

// bound runs op under the systemd deadline (withSystemd) when op may talk
// to systemd; with cgroupfs it just runs it, adding nothing to that path.
func (m *Manager) bound(what string, op func() error) error {
	if !m.systemd {
		return op()
	}
	return withSystemd(what, op)
}

// AddPid moves pid into the container's existing cgroup on every hierarchy.
func (m *Manager) AddPid(pid int) error {
	return m.bound("attach a process to "+m.unit, func() error {
		if err := m.m.AddPid("", pid); err != nil {
			return fmt.Errorf("cgroup: place pid %d: %w", pid, err)
		}
		return nil
	})
}

// Set applies r; nil applies the resources given to New. What the host
// cannot apply is refused first (CheckHost); a write the kernel refuses is
// reported with the file and the value, e.g.
//
//	cgroup: set resources: failed to write "1": write /sys/fs/cgroup/memory/x/memory.limit_in_bytes: device or resource busy
//
// Set leaves the freezer alone unless r.Freezer says otherwise.
//
// With the systemd driver on cgroup v2, an r given here (update) also sets
// the unit's IO* properties, which the library does not; Set(nil) is the
// create's, whose unit started with them.
func (m *Manager) Set(r *cgroups.Resources) error {
	update := r != nil
	if r == nil {
		r = m.res
	}
	if err := CheckHost(r, nil); err != nil {
		return err
	}
	if m.rootless && !m.systemd {
		if err := checkRootlessLimits(m.m.GetPaths(), r); err != nil {
			return err
		}
	}
	return m.bound("set properties of "+m.unit, func() error {
		if err := m.m.Set(r); err != nil {
			return fmt.Errorf("cgroup: set resources: %w", err)
		}
		if !m.systemd || !update || !ioPropertiesApply() {
			return nil
		}
		if props := ioProperties(r); len(props) > 0 {
			return setUnitIOProperties(context.Background(), m.unit, m.rootless, props)
		}
		return nil
	})
}

// Paths maps each subsystem ("" for the unified hierarchy) to its directory.
func (m *Manager) Paths() map[string]string {
	if m.systemd {
		return m.paths
	}
	return m.m.GetPaths()
}

// Pids lists every process in the cgroup and its children. A rootless
// container without a devices cgroup (the one the library lists from on
// v1) has no list: ErrNoCgroup.
func (m *Manager) Pids() ([]int, error) {
	if m.NoCgroup() {
		return nil, ErrNoCgroup
	}
	return m.m.GetAllPids()
}

// NoCgroup reports whether this is a rootless container that got no cgroup
// to list its processes from.
func (m *Manager) NoCgroup() bool {
	if !m.rootless || m.systemd {
		return false
	}
	key := "devices"
	if cgroups.IsCgroup2UnifiedMode() {
		key = ""
	}
	return m.m.Path(key) == ""
}

// Exists reports whether the cgroup is still there.
func (m *Manager) Exists() bool { return m.m.Exists() }

// Freeze stops every process in the cgroup (v1 freezer.state, v2
// cgroup.freeze) and returns once they are all frozen.
//
// The library (v0.1.0) freezes through cgroupfs with either driver; the
// bound is there for a manager that asks systemd instead.
func (m *Manager) Freeze() error {
	if m.rootless && !m.systemd && m.m.Path("freezer") == "" && !cgroups.IsCgroup2UnifiedMode() {
		return fmt.Errorf("cgroup: freeze: rootless: the container has no freezer cgroup (the freezer hierarchy is not writable by uid %d; cgroup v1 does not delegate it to unprivileged users)", os.Geteuid())
	}
	if m.rootless && !m.systemd && m.NoCgroup() && cgroups.IsCgroup2UnifiedMode() {
		return fmt.Errorf("cgroup: freeze: rootless: the container has no cgroup (uid %d could not write the cgroup berth ran in when it was created; run berth in a cgroup delegated to the user, e.g. systemd-run --user -p Delegate=yes, or use --systemd-cgroup)", os.Geteuid())
	}
	return m.bound("freeze "+m.unit, func() error {
		if err := m.m.Freeze(cgroups.Frozen); err != nil {
			return fmt.Errorf("cgroup: freeze: %w", err)
		}
		return nil
	})
}

// Thaw lets the processes of a frozen cgroup run again.
func (m *Manager) Thaw() error {
	return m.bound("thaw "+m.unit, func() error {
		if err := m.m.Freeze(cgroups.Thawed); err != nil {
			return fmt.Errorf("cgroup: thaw: %w", err)
		}
		return nil
	})
}

// Frozen reports whether the cgroup itself is frozen (paused). A cgroup
// frozen only through an ancestor is not.
func (m *Manager) Frozen() (bool, error) {
	st, err := m.m.GetFreezerState()
	if err != nil {
		return false, fmt.Errorf("cgroup: freezer state: %w", err)
	}
	return st == cgroups.Frozen, nil
}

// Stats reads the cgroup's statistics from every controller.
func (m *Manager) Stats() (*cgroups.Stats, error) {
	st, err := m.m.GetStats()
	if err != nil {
		return nil, fmt.Errorf("cgroup: stats: %w", err)
	}
	return st, nil
}

// OOMKillCount is how many processes the kernel's OOM killer has killed in
// the cgroup (v1: memory.oom_control oom_kill, Linux ≥ 4.13; v2:
// memory.events oom_kill).
func (m *Manager) OOMKillCount() (uint64, error) {
	n, err := m.m.OOMKillCount()
	if err != nil {
		return 0, fmt.Errorf("cgroup: oom kill count: %w", err)
	}
	return n, nil
}

// Destroy removes the cgroup directories (the cgroup must be empty); with
// systemd, it stops the unit.
//
// When systemd already missed a deadline in this process (the cleanup of a
// create whose unit never started), Destroy does not ask it again: it
// removes whatever directories exist itself, so the failed create leaves
// nothing behind; a unit systemd makes later has no process and goes. A
// delete that finds systemd hung fails instead, keeping the state so that
// it can be run again.
func (m *Manager) Destroy() error {
	if m.systemd && systemdHung() != nil {
		if err := cgroups.RemovePaths(m.paths); err != nil {
			return fmt.Errorf("cgroup: remove: %w", err)
		}
		return nil
	}
	return m.bound("stop "+m.unit, func() error {
		if err := m.m.Destroy(); err != nil {
			return fmt.Errorf("cgroup: remove: %w", err)
		}
		return nil
	})
}

// killTimeout bounds how long Kill waits for the cgroup to empty.
const killTimeout = 10 * time.Second

// Kill sends SIGKILL to every process in the cgroup (and its children) and
// waits until none is left. cgroup v2 kernels ≥ 5.14 do it in one write to
// cgroup.kill; otherwise the cgroup is frozen (when it has a freezer) so
// nothing can fork while the pids are listed and signalled, then thawed so
// the signals are delivered, until it is empty. A paused container is
// killed too. Processes that are berth's own children must still be reaped
// by the caller; the kernel removes them from the cgroup as they exit.
func (m *Manager) Kill() error {
	deadline := time.Now().Add(killTimeout)
	if dir := m.unifiedDir(); dir != "" {
		err := cgroups.WriteFile(dir, "cgroup.kill", "1")
		if err == nil {
			return m.waitEmpty(deadline)
		}
		if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("cgroup: kill: %w", err)
		}
	}
	for {
		pids, err := m.Pids()
		if err != nil {
			if errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ENODEV) {
				return nil
			}
			return fmt.Errorf("cgroup: kill: list processes: %w", err)
		}
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cgroup: kill: %d processes left after SIGKILL (pids %v)", len(pids), pids)
		}
		m.killOnce()
		time.Sleep(5 * time.Millisecond)
	}
}

// killOnce freezes (if it can), signals what is there, and thaws.
func (m *Manager) killOnce() {
	frozen := m.m.Freeze(cgroups.Frozen) == nil
	if pids, err := m.Pids(); err == nil {
		for _, pid := range pids {
			_ = unix.Kill(pid, unix.SIGKILL)
		}
	}
	if frozen {
		_ = m.m.Freeze(cgroups.Thawed)
	}
}

func (m *Manager) waitEmpty(deadline time.Time) error {
	for {
		pids, err := m.Pids()
		if err != nil && (errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ENODEV)) {
			return nil // removed, or being removed (systemd stops an emptied scope)
		}
		if err == nil && len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cgroup: kill: %d processes left after cgroup.kill (pids %v)", len(pids), pids)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// unifiedDir is the container's cgroup v2 directory when the host is pure
// cgroup v2 (in hybrid mode the v2 tree holds no controllers and berth does
// not kill through it).
func (m *Manager) unifiedDir() string {
	if !cgroups.IsCgroup2UnifiedMode() {
		return ""
	}
	return m.m.Path("")
}

// MountPaths maps each hierarchy's mount directory name under
// /sys/fs/cgroup (e.g. "memory", "unified") to the container's cgroup in it,
// which is what the container's cgroup mount binds. On a pure cgroup2 host
// the one hierarchy is /sys/fs/cgroup itself: its name is "".
func MountPaths(paths map[string]string) map[string]string {
	return mountPaths(paths, cgroups.IsCgroup2UnifiedMode())
}

func mountPaths(paths map[string]string, pureV2 bool) map[string]string {
	out := make(map[string]string, len(paths))
	for key, p := range paths {
		rel, err := filepath.Rel("/sys/fs/cgroup", p)
		if err != nil || strings.HasPrefix(rel, "..") {
			continue
		}
		name, _, _ := strings.Cut(rel, "/")
		if pureV2 && key == "" {
			// The first element is the container's own cgroup path
			// here, not a hierarchy.
			name = ""
		}
		out[name] = p
	}
	return out
}

func systemdRunning() bool {
	fi, err := os.Lstat("/run/systemd/system")
	return err == nil && fi.IsDir()
}

// SplitSystemdPath splits a systemd cgroupsPath "slice:prefix:name" (runc's
// format, e.g. "system.slice:docker:1234"; the unit becomes
// <prefix>-<name>.scope in <slice>). An empty path is
// <default slice>:berth:<id>; an empty slice is the default slice:
// system.slice, or for a rootless container user.slice (as runc and the
// cgroup library choose): the user's systemd has no system.slice of its
// own, and a unit asking for one would make a slice of that name inside
// user@UID.service. Anything else is refused in one line.
func SplitSystemdPath(path, id string, rootless bool) (slice, prefix, name string, err error) {
	def := "system.slice"
	if rootless {
		def = "user.slice"
	}
	if path == "" {
		return def, "berth", id, nil
	}
	parts := strings.Split(path, ":")
	if len(parts) != 3 {
		return "", "", "", fmt.Errorf("linux.cgroupsPath %q: want \"slice:prefix:name\" with --systemd-cgroup (e.g. \"system.slice:berth:%s\")", path, id)
	}
	slice, prefix, name = parts[0], parts[1], parts[2]
	switch {
	case slice == "":
		slice = def
	case !strings.HasSuffix(slice, ".slice") || strings.Contains(slice, "/"):
		return "", "", "", fmt.Errorf("linux.cgroupsPath %q: slice %q must be a systemd slice name ending in .slice", path, slice)
	}
	if name == "" {
		return "", "", "", fmt.Errorf("linux.cgroupsPath %q: empty name; want \"slice:prefix:name\"", path)
	}
	if strings.Contains(prefix, "/") || strings.Contains(name, "/") {
		return "", "", "", fmt.Errorf("linux.cgroupsPath %q: prefix and name must not contain '/'", path)
	}
	return slice, prefix, name, nil
}
