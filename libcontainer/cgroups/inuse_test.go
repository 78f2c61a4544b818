package cgroups

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ocgroups "github.com/opencontainers/cgroups"
)

// fakeInUse is a cgroup manager that answers only what CheckUnused asks.
type fakeInUse struct {
	ocgroups.Manager // nil: any other call panics
	exists           bool
	pids             []int
	pidsErr          error
	state            ocgroups.FreezerState
	stateErr         error
	paths            map[string]string
}

func (f *fakeInUse) Exists() bool                                    { return f.exists }
func (f *fakeInUse) GetAllPids() ([]int, error)                      { return f.pids, f.pidsErr }
func (f *fakeInUse) GetFreezerState() (ocgroups.FreezerState, error) { return f.state, f.stateErr }
func (f *fakeInUse) GetPaths() map[string]string                     { return f.paths }

func TestCheckUnused(t *testing.T) {
	// A unified cgroup of a hybrid host, frozen and thawed by cgroup.freeze.
	dir := t.TempDir()
	frozenV2, thawedV2 := filepath.Join(dir, "frozen"), filepath.Join(dir, "thawed")
	for d, v := range map[string]string{frozenV2: "1\n", thawedV2: "0\n"} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "cgroup.freeze"), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rows := []struct {
		name   string
		m      fakeInUse
		hybrid bool
		want   string // "" for no error
	}{
		{"not there yet", fakeInUse{state: ocgroups.Undefined}, false, ""},
		{"there, empty, thawed", fakeInUse{exists: true, state: ocgroups.Thawed}, false, ""},
		{"processes in it", fakeInUse{exists: true, pids: []int{10, 11}, state: ocgroups.Thawed}, false,
			"container's cgroup is not empty: 2 process(es) found"},
		{"removed while listed", fakeInUse{exists: true, pidsErr: os.ErrNotExist}, false, ""},
		{"cannot list", fakeInUse{exists: true, pidsErr: os.ErrPermission}, false, "cgroup: list processes"},
		// v1: the freezer hierarchy alone may hold the cgroup.
		{"frozen, devices cgroup absent", fakeInUse{state: ocgroups.Frozen}, false, "container's cgroup unexpectedly frozen"},
		{"frozen and busy: busy first", fakeInUse{exists: true, pids: []int{1}, state: ocgroups.Frozen}, false, "not empty: 1 process(es)"},
		{"freezer unreadable", fakeInUse{stateErr: errors.New("boom")}, false, "cgroup: freezer state: boom"},
		{"hybrid, unified frozen", fakeInUse{state: ocgroups.Thawed, paths: map[string]string{"": frozenV2}}, true,
			"container's cgroup unexpectedly frozen"},
		{"hybrid, unified thawed", fakeInUse{state: ocgroups.Thawed, paths: map[string]string{"": thawedV2}}, true, ""},
		{"hybrid, unified absent", fakeInUse{paths: map[string]string{"": filepath.Join(dir, "none")}}, true, ""},
		{"not hybrid: unified path not read", fakeInUse{paths: map[string]string{"": frozenV2}}, false, ""},
	}
	defer func(h func() bool) { hybridHost = h }(hybridHost)
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			hybridHost = func() bool { return r.hybrid }
			m := &Manager{m: &r.m}
			err := m.CheckUnused()
			switch {
			case r.want == "" && err != nil:
				t.Errorf("CheckUnused: %v", err)
			case r.want != "" && (err == nil || !strings.Contains(err.Error(), r.want)):
				t.Errorf("CheckUnused: %v, want %q", err, r.want)
			}
		})
	}
}
