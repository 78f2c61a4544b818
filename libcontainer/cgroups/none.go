package cgroups

import (
	"errors"

	"github.com/opencontainers/cgroups"
)

// errNoCgroup is what a container without a cgroup of its own answers to
// what needs one (freeze, limits); its stats are empty, as an empty path
// set gives them.
var errNoCgroup = errors.New("the container has no cgroup of its own (none was writable when it was created)")

// noCgroup is the manager of a container whose saved paths name no cgroup
// on this host: a rootless container that could write none, or paths of
// another cgroup mode (v1 paths read on a v2 host). The library's manager
// would take the missing paths for "work them out" and land on the
// caller's own cgroup, where delete would kill and ps list every process.
type noCgroup struct{}

var _ cgroups.Manager = noCgroup{}

func (noCgroup) Apply(int) error                      { return errNoCgroup }
func (noCgroup) AddPid(string, int) error             { return nil } // an exec has nothing to join
func (noCgroup) GetPids() ([]int, error)              { return nil, nil }
func (noCgroup) GetAllPids() ([]int, error)           { return nil, nil }
func (noCgroup) GetStats() (*cgroups.Stats, error)    { return cgroups.NewStats(), nil } // nothing counted
func (noCgroup) Freeze(cgroups.FreezerState) error    { return errNoCgroup }
func (noCgroup) Destroy() error                       { return nil }
func (noCgroup) Path(string) string                   { return "" }
func (noCgroup) Set(*cgroups.Resources) error         { return errNoCgroup }
func (noCgroup) GetPaths() map[string]string          { return map[string]string{} }
func (noCgroup) GetCgroups() (*cgroups.Cgroup, error) { return &cgroups.Cgroup{}, nil }
func (noCgroup) Exists() bool                         { return false }
func (noCgroup) OOMKillCount() (uint64, error)        { return 0, nil }

func (noCgroup) Stats(*cgroups.StatsOptions) (*cgroups.Stats, error) { return cgroups.NewStats(), nil }

func (noCgroup) GetFreezerState() (cgroups.FreezerState, error) { return cgroups.Undefined, nil }

// namesNoCgroup reports whether saved paths name no cgroup this host can
// use: none at all, or no unified path on a pure cgroup v2 host.
func namesNoCgroup(paths map[string]string) bool {
	if len(paths) == 0 {
		return true
	}
	return cgroups.IsCgroup2UnifiedMode() && paths[""] == ""
}
