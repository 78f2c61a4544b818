package cgroups

import (
	"errors"
	"fmt"
	"os"

	"github.com/opencontainers/cgroups"
)

// LeaveIdle writes cpu.idle 0 ahead of Set when r takes the group out of
// SCHED_IDLE and sets a weight: while the group is idle the kernel refuses
// a weight (EINVAL), and the cgroup v1 driver writes cpu.shares before
// cpu.idle, so Set alone would fail. Nothing is done when r keeps the
// group idle or sets no weight, or when the kernel has no cpu.idle.
func (m *Manager) LeaveIdle(r *cgroups.Resources) error {
	if r == nil || r.CPUIdle == nil || *r.CPUIdle != 0 || (r.CpuShares == 0 && r.CpuWeight == 0) {
		return nil
	}
	dir := m.m.Path("cpu")
	if dir == "" {
		return nil
	}
	if err := cgroups.WriteFile(dir, "cpu.idle", "0"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("cgroup: set resources: %w", err)
	}
	return nil
}
