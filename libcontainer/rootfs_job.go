package libcontainer

import (
	"encoding/json"
	"fmt"
	"github.com/berthrun/berth/internal/wire"
	"os"
	"slices"

	"github.com/berthrun/berth/internal/trace"
	"github.com/berthrun/berth/libcontainer/rootfs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// rootfsJob is what building the container's root filesystem takes: the
// mount plan plus the few settings applied while it is built (hostname,
// sysctls, createContainer hooks, the cwd to create, args[0] to check).
//
// The C init's rootfs helper receives only this, not the whole Config: the
// helper is a fresh Go process on the create path, and encoding/json builds
// its caches for every type reachable from what it decodes, which for a
// Config is the whole OCI spec (~1-2 ms of the helper's start on the
// development VM). The Go init derives the same job from its Config, so
// both inits build the root alike.
type rootfsJob struct {
	Plan rootfs.Plan `json:"plan"`
	// OwnMounts: the container has a mount namespace of its own. Without
	// one there is no root filesystem to build (mounting would change the
	// runtime's own mount table): as runc does, the process is only
	// chrooted into the rootfs and the mounts are ignored.
	OwnMounts       bool              `json:"ownMounts,omitempty"`
	Hostname        string            `json:"hostname,omitempty"`
	Domainname      string            `json:"domainname,omitempty"`
	Sysctl          map[string]string `json:"sysctl,omitempty"`
	Cwd             string            `json:"cwd"`
	Arg0            string            `json:"arg0"`
	Env             []string          `json:"env,omitempty"` // for args[0]'s PATH lookup
	CreateContainer []specs.Hook      `json:"createContainer,omitempty"`
	HookState       *specs.State      `json:"hookState,omitempty"`
	Trace           bool              `json:"trace,omitempty"`
}

// newRootfsJob picks the job out of cfg; p carries the cgroup paths and the
// hook state the parent worked out.
func newRootfsJob(cfg *Config, p *initParams) *rootfsJob {
	spec := cfg.Spec
	j := &rootfsJob{
		Plan:       *rootfsPlan(cfg, p),
		OwnMounts:  cfg.NewNamespace(specs.MountNamespace),
		Hostname:   spec.Hostname,
		Domainname: spec.Domainname,
		Sysctl:     spec.Linux.Sysctl,
		Cwd:        spec.Process.Cwd,
		Arg0:       spec.Process.Args[0],
		Env:        spec.Process.Env,
		HookState:  p.HookState,
		Trace:      p.Trace,
	}
	if spec.Hooks != nil {
		j.CreateContainer = spec.Hooks.CreateContainer
	}
	return j
}

// helperJob is newRootfsJob for the C init's rootfs helper, with the host's
// cgroup options read here for a cgroup namespace's "cgroup" mounts: the
// parent has time while the helper's Go runtime starts, and in the helper
// the read of the mount table (~0.5 ms) delays the container's start.
func helperJob(cfg *Config, p *initParams) *rootfsJob {
	j := newRootfsJob(cfg, p)
	if j.Plan.CgroupNS && slices.ContainsFunc(j.Plan.Mounts, isCgroupMount) {
		// On an error the helper reads them itself and reports it as before.
		if opts, err := rootfs.HostCgroupOptions(); err == nil {
			j.Plan.CgroupOptions = opts
		}
	}
	return j
}

func isCgroupMount(m specs.Mount) bool { return m.Type == "cgroup" }

// crootfsJob is what the C init's pid 1 needs to build the root itself
// (nsenter/crootfs.c), besides the cgroup paths: then no Go runtime starts
// inside the container.
type crootfsJob struct {
	plan     *rootfs.Plan
	settings *rootfs.CSettings
}

// rootfsInC returns cfg's job for the C builder, or nil when rootfs.CheckC
// sends it to the Go helper (the trace says why).
func rootfsInC(cfg *Config) *crootfsJob {
	spec := cfg.Spec
	j := &crootfsJob{
		plan: rootfsPlan(cfg, &initParams{}),
		settings: &rootfs.CSettings{
			Hostname:             spec.Hostname,
			Domainname:           spec.Domainname,
			Sysctl:               spec.Linux.Sysctl,
			Cwd:                  spec.Process.Cwd,
			Bundle:               cfg.Bundle,
			CreateContainerHooks: spec.Hooks != nil && len(spec.Hooks.CreateContainer) > 0,
		},
	}
	if err := rootfs.CheckC(j.plan, j.settings); err != nil {
		trace.Point("create:rootfs-by-go " + err.Error())
		return nil
	}
	return j
}

// withProgram appends the job's program to the C init's plan, now that the
// container's cgroup paths are known.
func (j *crootfsJob) withProgram(plan []byte, cgroupPaths map[string]string) []byte {
	j.plan.CgroupPaths = cgroupPaths
	if j.plan.CgroupNS && slices.ContainsFunc(j.plan.Mounts, isCgroupMount) {
		// On an error the hierarchies are mounted by their names.
		if opts, err := rootfs.HostCgroupOptions(); err == nil {
			j.plan.CgroupOptions = opts
		}
	}
	w := &planWriter{B: plan}
	w.Rec(wire.PlanRootfs, rootfs.CompileC(j.plan, j.settings))
	return w.B
}

// warmRootfsJob builds encoding/json's encoders for rootfsJob (marshalling
// a zero value compiles them for every field's type) while create waits for
// the init's namespaces, so that sending the job later costs no ~1 ms of
// reflection on the path. internal/warmjson does the same for the spec.
func warmRootfsJob() {
	json.Marshal(&rootfsJob{}) //nolint:errcheck // only the side effect matters
}

// runRootfsHelper is the C init's rootfs helper: it builds the root, checks
// args[0] and hands over to pid 1, which sets up the process (cinit.c).
func runRootfsHelper(sync *syncSocket, job *rootfsJob) error {
	trace.Collect(job.Trace)
	trace.Point("init:config")
	if _, err := buildRootfs(sync, job, nil); err != nil {
		return err
	}
	return helperDone(sync, job.Trace)
}

// buildRootfs prepares the mounts, meets the parent for its hooks, runs the
// createContainer hooks, enters the new root and finishes it, and returns
// args[0] looked up in it. processEnv, when set, runs after the root's own
// settings and before Finish (the Go init's rlimits, oom score and keyring).
func buildRootfs(sync *syncSocket, job *rootfsJob, processEnv func() error) (string, error) {
	plan := &job.Plan
	if job.OwnMounts {
		if err := rootfs.Prepare(plan); err != nil {
			return "", fmt.Errorf("rootfs: %w", err)
		}
	}
	trace.Point(wire.PointInitRootfsPrepare)
	if err := sync.send(&message{Type: wire.SyncHooks}); err != nil {
		return "", err
	}
	if _, err := sync.expect(wire.SyncHooksDone); err != nil {
		return "", err
	}
	trace.Point(wire.PointInitWaitHooks)
	// In the container's root, as runc runs them: a hook may use paths
	// relative to it.
	if err := runHooksIn("createContainer", plan.Root, job.CreateContainer, job.HookState); err != nil {
		return "", err
	}
	trace.Point("init:createContainer-hooks")
	if err := enterRoot(plan, job.OwnMounts); err != nil {
		return "", fmt.Errorf("rootfs: %w", err)
	}
	trace.Point(wire.PointInitPivot)
	// Before Finish: sysctls go to /proc/sys, which readonlyPaths usually
	// makes read-only, and a missing cwd cannot be made under a read-only root.
	if err := setupRoot(job); err != nil {
		return "", err
	}
	if processEnv != nil {
		if err := processEnv(); err != nil {
			return "", err
		}
	}
	trace.Point("init:environment")
	if job.OwnMounts {
		if err := rootfs.Finish(plan); err != nil {
			return "", fmt.Errorf("rootfs: %w", err)
		}
	}
	trace.Point(wire.PointInitRootfsFinish)
	return lookPath(job.Arg0, job.Env)
}

// setupRoot applies what needs privileges inside the new root: hostname,
// domainname, sysctls, and a missing cwd.
func setupRoot(job *rootfsJob) error {
	if job.Hostname != "" {
		if err := unix.Sethostname([]byte(job.Hostname)); err != nil {
			return fmt.Errorf("hostname %q: %w", job.Hostname, err)
		}
	}
	if job.Domainname != "" {
		if err := unix.Setdomainname([]byte(job.Domainname)); err != nil {
			return fmt.Errorf("domainname %q: %w", job.Domainname, err)
		}
	}
	for key, value := range job.Sysctl {
		if err := writeSysctl(key, value); err != nil {
			return err
		}
	}
	// runc creates a missing cwd; doing it here, as root, avoids permission
	// surprises for a non-root process user.
	if job.OwnMounts {
		if err := os.MkdirAll(job.Cwd, 0o755); err != nil {
			return fmt.Errorf("process.cwd %q: %w", job.Cwd, err)
		}
	}
	return nil
}
