package cgroups

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/opencontainers/cgroups"
	"golang.org/x/sys/unix"
)

// errFrozen is CheckUnused's refusal of a frozen cgroup, in runc's words
// (as is the one of a cgroup with processes): clients match on them.
var errFrozen = errors.New("container's cgroup unexpectedly frozen")

// CheckUnused refuses a cgroup that something else already uses, before
// berth creates or joins anything, as runc does:
//
//   - one with processes in it: the container would share its limits,
//     its freezer and its kill with them (and a failed create's cleanup
//     would kill them). Like runc, only the hierarchy Exists and Pids look
//     at is read (devices on v1): reading every v1 hierarchy would cost a
//     dozen walks on every create.
//   - one that is frozen: the init would be frozen the moment it joined,
//     and create would wait for it forever. The freezer is read whether or
//     not Exists says the cgroup is there, since on v1 someone may have
//     made it in the freezer hierarchy only. On a hybrid host the init also
//     joins the unified hierarchy, whose cgroup.freeze stops it just as
//     well, so that is read too (runc does not).
//
// A cgroup that does not exist yet, or exists empty and thawed, passes.
func (m *Manager) CheckUnused() error {
	if m.m.Exists() {
		pids, err := m.m.GetAllPids()
		// The cgroup may go between the two calls.
		if err != nil && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, unix.ENODEV) {
			return fmt.Errorf("cgroup: list processes: %w", err)
		}
		if len(pids) != 0 {
			return fmt.Errorf("container's cgroup is not empty: %d process(es) found", len(pids))
		}
	}
	st, err := m.m.GetFreezerState()
	if err != nil {
		return fmt.Errorf("cgroup: freezer state: %w", err)
	}
	if st == cgroups.Frozen {
		return errFrozen
	}
	if dir := m.hybridUnifiedDir(); dir != "" {
		frozen, err := freezeSet(dir)
		if err != nil {
			return err
		}
		if frozen {
			return errFrozen
		}
	}
	return nil
}

// hybridUnifiedDir is the container's directory in the unified hierarchy of
// a hybrid host ("" elsewhere: on a pure v2 host GetFreezerState reads it).
func (m *Manager) hybridUnifiedDir() string {
	if !hybridHost() {
		return ""
	}
	return m.m.GetPaths()[""]
}

// hybridHost reports whether v1 hierarchies sit beside a unified one (a
// variable so that the unit tests can play either kind of host).
var hybridHost = cgroups.IsCgroup2HybridMode

// freezeSet reports whether dir's cgroup.freeze asks for the cgroup to be
// frozen. A missing file (no such cgroup, or a kernel before 5.2) is not.
func freezeSet(dir string) (bool, error) {
	b, err := os.ReadFile(dir + "/cgroup.freeze")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ENODEV) {
			return false, nil
		}
		return false, fmt.Errorf("cgroup: freezer state: %w", err)
	}
	return strings.TrimSpace(string(b)) == "1", nil
}
