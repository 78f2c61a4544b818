package main

import (
	"debug/elf"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// A mode is one way of running a runtime on this host. The bench tries a
// runtime's modes in order and keeps the first whose `run` of true works.
type mode string

const (
	// modeHost runs the runtime as it is, in the host's mount namespace.
	modeHost mode = "host"
	// modeCgroup2 runs it in a private mount namespace where
	// /sys/fs/cgroup is a cgroup2 mount: crun 1.8 refuses hybrid hosts
	// (v1 controllers plus cgroup2 at /sys/fs/cgroup/unified).
	modeCgroup2 mode = "private-cgroup2"
)

// describe says in the report how a runtime in mode m was run.
func (m mode) describe() string {
	switch m {
	case modeCgroup2:
		return "in a private mount namespace with cgroup2 mounted on /sys/fs/cgroup (its cgroups go to the unified hierarchy only)"
	default:
		return "on the host as is (cgroupfs driver)"
	}
}

// runtimeSpec is one runtime under test.
type runtimeSpec struct {
	Name    string   `json:"name"`
	Bin     string   `json:"bin"`               // absolute path
	Version string   `json:"version"`           // first line of --version
	Mode    mode     `json:"mode"`              // how it runs on this host
	Note    string   `json:"note"`              // what the report says about it
	Tried   []string `json:"tried,omitempty"`   // modes that failed, with the error
	Dynamic bool     `json:"dynamic,omitempty"` // dynamically linked
	modes   []mode
}

// peerModes lists the modes to try per runtime; berth and runc run on the
// host as they are.
var peerModes = map[string][]mode{
	"berth": {modeHost},
	"runc":  {modeHost},
	"crun":  {modeHost, modeCgroup2},
}

// findRuntime resolves name (with bin overriding the PATH lookup) and reads
// its version.
func findRuntime(name, bin string) (runtimeSpec, error) {
	if bin == "" {
		p, err := exec.LookPath(name)
		if err != nil {
			return runtimeSpec{}, fmt.Errorf("%s: not found in PATH (make bench installs it: scripts/install-deps.sh runc crun hyperfine)", name)
		}
		bin = p
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		return runtimeSpec{}, fmt.Errorf("%s: %w", name, err)
	}
	if abs, err = filepath.EvalSymlinks(abs); err != nil {
		return runtimeSpec{}, fmt.Errorf("%s: %w (for berth, run make build first)", name, err)
	}
	modes := peerModes[name]
	if modes == nil {
		modes = []mode{modeHost}
	}
	rt := runtimeSpec{Name: name, Bin: abs, modes: modes, Dynamic: isDynamic(abs)}
	out, err := exec.Command(abs, "--version").Output()
	if err != nil {
		return runtimeSpec{}, fmt.Errorf("%s --version: %w", abs, err)
	}
	rt.Version = strings.Join(strings.Fields(strings.SplitN(string(out), "\n", 2)[0]), " ")
	return rt, nil
}

// isDynamic tells whether the ELF file at path has a program interpreter,
// i.e. loads shared libraries that its size does not count.
func isDynamic(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return true
		}
	}
	return false
}

// argv is the command line of one runtime subcommand against root.
func (rt runtimeSpec) argv(root string, args ...string) []string {
	return append([]string{rt.Bin, "--root", root}, args...)
}
