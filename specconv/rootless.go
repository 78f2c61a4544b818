package specconv

import (
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ToRootless adapts an Example spec for a container run by an unprivileged
// user, as `berth spec --rootless` writes it:
//
//   - a new user namespace maps the current user (and group) to root in the
//     container, since that is the only id an unprivileged user may map;
//   - there is no network namespace: an unprivileged user cannot create the
//     devices to connect one, so the container shares the host's network;
//   - /sys is bind-mounted from the host, because mounting a new sysfs needs
//     a network namespace owned by the container's user namespace;
//   - uid= and gid= mount options are dropped: they name ids (like the tty
//     group 5 for devpts) that are not mapped in the container;
//   - linux.resources is dropped: cgroup limits need a delegated cgroup,
//     which an unprivileged user may not have.
func ToRootless(spec *specs.Spec) {
	if spec.Linux == nil {
		spec.Linux = &specs.Linux{}
	}
	spec.Linux.Namespaces = rootlessNamespaces(spec.Linux.Namespaces)
	spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(os.Geteuid()), Size: 1}}
	spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(os.Getegid()), Size: 1}}
	spec.Mounts = rootlessMounts(spec.Mounts)
	spec.Linux.Resources = nil
}

// rootlessNamespaces drops the network namespace and adds a new user
// namespace (replacing any user namespace the spec had).
func rootlessNamespaces(list []specs.LinuxNamespace) []specs.LinuxNamespace {
	out := make([]specs.LinuxNamespace, 0, len(list)+1)
	for _, ns := range list {
		if ns.Type == specs.NetworkNamespace || ns.Type == specs.UserNamespace {
			continue
		}
		out = append(out, ns)
	}
	return append(out, specs.LinuxNamespace{Type: specs.UserNamespace})
}

// rootlessMounts replaces the sysfs mount of /sys with a read-only rbind of
// the host's /sys and strips the options that name unmapped ids.
func rootlessMounts(mounts []specs.Mount) []specs.Mount {
	out := make([]specs.Mount, 0, len(mounts))
	for _, m := range mounts {
		if filepath.Clean(m.Destination) == "/sys" {
			out = append(out, specs.Mount{
				Destination: "/sys",
				Type:        "none",
				Source:      "/sys",
				Options:     []string{"rbind", "nosuid", "noexec", "nodev", "ro"},
			})
			continue
		}
		m.Options = withoutIDOptions(m.Options)
		out = append(out, m)
	}
	return out
}

func withoutIDOptions(options []string) []string {
	var out []string
	for _, o := range options {
		if strings.HasPrefix(o, "uid=") || strings.HasPrefix(o, "gid=") {
			continue
		}
		out = append(out, o)
	}
	return out
}
