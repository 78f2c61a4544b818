package libcontainer

import (
	"fmt"

	"github.com/berthrun/berth/libcontainer/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// cgroup is the manager of the container's cgroup, through the driver it
// was made with.
func (c *Container) cgroup() (*cgroups.Manager, error) {
	cfg := c.st.Config
	if cfg.SystemdCgroup {
		return cgroups.LoadSystemd(cfg.ID, cfg.CgroupsPath, cfg.Rootless, c.st.CgroupPaths)
	}
	return cgroups.Load(c.st.CgroupPaths, cfg.Rootless)
}

// Pause freezes every process of a running container.
func (c *Container) Pause() error {
	if status := c.Status(); status != Running {
		return fmt.Errorf("container %q is %s: only a running container can be paused", c.st.ID, status)
	}
	m, err := c.cgroup()
	if err != nil {
		return err
	}
	return m.Freeze()
}

// Resume thaws a paused container.
func (c *Container) Resume() error {
	if status := c.Status(); status != Paused {
		return fmt.Errorf("container %q is %s: only a paused container can be resumed", c.st.ID, status)
	}
	m, err := c.cgroup()
	if err != nil {
		return err
	}
	return m.Thaw()
}

// Update merges r into the container's resources, applies the result and
// saves it, so that a later update or events sees the new values. Nothing is
// saved when applying fails.
func (c *Container) Update(r *specs.LinuxResources) error {
	switch status := c.Status(); status {
	case Created, Running, Paused:
	default:
		return fmt.Errorf("container %q is %s: only a live container can be updated", c.st.ID, status)
	}
	linux := c.st.Config.Spec.Linux
	merged := MergeResources(linux.Resources, r)
	res, err := cgroups.Resources(merged)
	if err != nil {
		return err
	}
	if r.Devices == nil {
		res.SkipDevices = true // as runc: leave the device rules alone
	}
	if err := cgroups.CheckHost(res, merged.Unified); err != nil {
		return err
	}
	m, err := c.cgroup()
	if err != nil {
		return err
	}
	err = m.LeaveIdle(res)
	if err == nil {
		err = m.Set(res)
	}
	if err != nil {
		// Controllers are written one by one: put back what was saved, so
		// a failed update changes nothing.
		if old, cerr := cgroups.Resources(linux.Resources); cerr == nil {
			old.SkipDevices = res.SkipDevices
			m.Set(old)
		}
		return err
	}
	linux.Resources = merged
	return c.rt.store().save(c.st)
}

// Stats returns the container's cgroup statistics in runc's events format.
func (c *Container) Stats() (*cgroups.Stats, error) {
	if status := c.Status(); status == Stopped || status == Creating {
		return nil, fmt.Errorf("container %q is %s: no statistics", c.st.ID, status)
	}
	m, err := c.cgroup()
	if err != nil {
		return nil, err
	}
	st, err := m.Stats()
	if err != nil {
		return nil, fmt.Errorf("container %q: stats: %w", c.st.ID, err)
	}
	return cgroups.ConvertStats(st), nil
}

// NotifyOOM watches the container's cgroup for OOM kills.
func (c *Container) NotifyOOM() (*cgroups.OOMWatch, error) {
	m, err := c.cgroup()
	if err != nil {
		return nil, err
	}
	return m.NotifyOOM()
}
