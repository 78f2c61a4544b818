package libcontainer

import (
	"slices"

	"github.com/berthrun/berth/internal/userns"
	"github.com/berthrun/berth/internal/wire"

	"github.com/berthrun/berth/libcontainer/rootfs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func isCgroupMount(m specs.Mount) bool { return m.Type == "cgroup" }

// crootfsJob is what the C init's pid 1 needs to build the root itself
// (executor/crootfs.c), besides the cgroup paths: then no Go runtime starts
// inside the container.
type crootfsJob struct {
	plan     *rootfs.Plan
	settings *rootfs.CSettings
}

// rootfsInC returns cfg's job for the C builder; create's checkRootfs
// refused what no builder could make.
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
			HookState:   hasInitHooks(spec),
			OwnMounts:   cfg.NewNamespace(specs.MountNamespace),
		},
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

// rootfsPlan is the mount plan of cfg; p carries the host-opened bind
// sources once nsenter has them.
func rootfsPlan(cfg *Config, p *initParams) *rootfs.Plan {
	spec := cfg.Spec
	plan := &rootfs.Plan{
		Root:          cfg.Rootfs,
		Mounts:        spec.Mounts,
		Devices:       spec.Linux.Devices,
		Propagation:   spec.Linux.RootfsPropagation,
		Readonly:      spec.Root.Readonly,
		MaskedPaths:   spec.Linux.MaskedPaths,
		ReadonlyPaths: spec.Linux.ReadonlyPaths,
		NoPivot:       cfg.NoPivot,
		InUserNS:      hasNamespace(cfg, specs.UserNamespace),
		BindDevices:   hasNamespace(cfg, specs.UserNamespace) || userns.Running(),
		Rootless:      cfg.Rootless,
		CgroupNS:      cfg.NewNamespace(specs.CgroupNamespace),
		CgroupPaths:   p.CgroupPaths,
	}
	if len(p.HostSrc) > 0 {
		plan.HostFds = map[int]int{}
		for k, src := range rootfs.HostSources(plan, cfg.Bundle) {
			if k < len(p.HostSrc) {
				plan.HostFds[src.Index] = p.HostSrc[k]
			}
		}
	}
	return plan
}
