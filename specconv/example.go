package specconv

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// defaultCaps are the capabilities of the example container: enough for a
// shell to kill its children, bind low ports and write audit records, and
// nothing that reaches the host.
var defaultCaps = []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}

// Example returns the default config that `berth spec` writes: an
// interactive busybox shell in a fresh set of namespaces, with a read-only
// root at bundle/rootfs and the usual kernel filesystems, the same shape as
// `runc spec` so that tutorials written for runc work unchanged.
func Example() *specs.Spec {
	return &specs.Spec{
		Version:  specs.Version,
		Root:     &specs.Root{Path: "rootfs", Readonly: true},
		Process:  exampleProcess(),
		Hostname: "berth",
		Mounts:   exampleMounts(),
		Linux: &specs.Linux{
			Resources: &specs.LinuxResources{
				// Deny every device; the runtime adds back the default
				// ones (null, zero, tty...) it creates itself.
				Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
			},
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace},
				{Type: specs.NetworkNamespace},
				{Type: specs.IPCNamespace},
				{Type: specs.UTSNamespace},
				{Type: specs.MountNamespace},
				{Type: specs.CgroupNamespace},
			},
			MaskedPaths:   exampleMaskedPaths(),
			ReadonlyPaths: exampleReadonlyPaths(),
		},
	}
}

func exampleProcess() *specs.Process {
	return &specs.Process{
		Terminal: true,
		User:     specs.User{UID: 0, GID: 0},
		Args:     []string{"sh"},
		Env: []string{
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"TERM=xterm",
		},
		Cwd: "/",
		Capabilities: &specs.LinuxCapabilities{
			Bounding:  clone(defaultCaps),
			Effective: clone(defaultCaps),
			Permitted: clone(defaultCaps),
		},
		Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}},
		NoNewPrivileges: true,
	}
}

func exampleMounts() []specs.Mount {
	return []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc"},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs",
			Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts",
			Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm",
			Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue",
			Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs",
			Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup",
			Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
	}
}

// exampleMaskedPaths hides the kernel files that leak host information or
// offer a way to attack the host (kcore, keys, timer and scheduler stats,
// firmware, power readings usable as a side channel).
func exampleMaskedPaths() []string {
	return []string{
		"/proc/acpi",
		"/proc/asound",
		"/proc/kcore",
		"/proc/keys",
		"/proc/latency_stats",
		"/proc/timer_list",
		"/proc/timer_stats",
		"/proc/sched_debug",
		"/proc/scsi",
		"/sys/firmware",
		"/sys/devices/virtual/powercap",
	}
}

// exampleReadonlyPaths keeps the /proc files that configure the host
// readable but not writable.
func exampleReadonlyPaths() []string {
	return []string{
		"/proc/bus",
		"/proc/fs",
		"/proc/irq",
		"/proc/sys",
		"/proc/sysrq-trigger",
	}
}

// clone gives each capability set its own backing array, so that editing one
// set of the returned spec does not edit the others.
func clone(s []string) []string {
	return append([]string(nil), s...)
}
