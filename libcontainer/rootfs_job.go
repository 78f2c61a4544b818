package libcontainer

import (
	"fmt"
	"github.com/berthrun/berth/internal/wire"
	"os"
	"slices"

	"github.com/berthrun/berth/internal/trace"
	"github.com/berthrun/berth/libcontainer/rootfs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// rootfsJob is what the Go init's building of the container's root
// filesystem takes: the mount plan plus the few settings applied while it
// is built (hostname, sysctls, createContainer hooks, the cwd to create,
// args[0] to check). The C init's root is built by the C program
// (crootfsJob); the Go init's still in Go (docs/design-c-init.md says why).
type rootfsJob struct {
	Plan rootfs.Plan `json:"plan"`
	// OwnMounts: the container has a mount namespace of its own. Without
	// one there is no root filesystem to build (mounting would change the
	// runtime's own mount table): as runc does, the process is only
	// chrooted into the rootfs and the mounts are ignored.
	OwnMounts   bool              `json:"ownMounts,omitempty"`
	Hostname    string            `json:"hostname,omitempty"`
	Domainname  string            `json:"domainname,omitempty"`
	Sysctl      map[string]string `json:"sysctl,omitempty"`
	Cwd         string            `json:"cwd"`
	Arg0        string            `json:"arg0"`
	Env         []string          `json:"env,omitempty"`         // for args[0]'s PATH lookup
	CreateHooks []byte            `json:"createHooks,omitempty"` // a wire.Hooks message
	HookState   *specs.State      `json:"hookState,omitempty"`
	Trace       bool              `json:"trace,omitempty"`
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
	j.CreateHooks = createHooks(spec)
	return j
}

func isCgroupMount(m specs.Mount) bool { return m.Type == "cgroup" }

// crootfsJob is what the C init's pid 1 needs to build the root itself
// (executor/crootfs.c), besides the cgroup paths: then no Go runtime starts
// inside the container.
type crootfsJob struct {
	plan     *rootfs.Plan
	settings *rootfs.CSettings
}

// rootfsInC returns cfg's job for the C builder, or nil when rootfs.CheckC
// sends it to the Go init (the trace says why).
func rootfsInC(cfg *Config) *crootfsJob {
	spec := cfg.Spec
	j := &crootfsJob{
		plan: rootfsPlan(cfg, &initParams{}),
		settings: &rootfs.CSettings{
			Hostname:    spec.Hostname,
			Domainname:  spec.Domainname,
			Sysctl:      spec.Linux.Sysctl,
			Cwd:         spec.Process.Cwd,
			Bundle:      cfg.Bundle,
			CreateHooks: createHooks(spec),
			HookState:   createHooks(spec) != nil || startHooks(spec) != nil,
			OwnMounts:   cfg.NewNamespace(specs.MountNamespace),
		},
	}
	if err := rootfs.CheckC(j.plan, j.settings); err != nil {
		trace.Point("create:rootfs-by-go " + err.Error())
		return nil
	}
	return j
}

// checkRootfs refuses, before anything is made, a root no builder could
// make (rootfs.Check), with the words the builder would have used.
func checkRootfs(cfg *Config) error {
	spec := cfg.Spec
	return rootfs.Check(rootfsPlan(cfg, &initParams{}), &rootfs.CSettings{
		Sysctl:    spec.Linux.Sysctl,
		OwnMounts: cfg.NewNamespace(specs.MountNamespace),
	})
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
	w := wire.NewPlanWriter(plan)
	w.Rootfs(rootfs.CompileC(j.plan, j.settings))
	return w.Bytes()
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
	// relative to it. The C runner runs them, as in the C init.
	if err := runHooksInC(job.CreateHooks, job.HookState, Creating, plan.Root, nil); err != nil {
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
