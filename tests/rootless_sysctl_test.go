package tests

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// withNetNS gives a rootless config (which `spec --rootless` makes without
// one) a network namespace of its own, so that net.* sysctls are the
// container's.
func withNetNS(s *specs.Spec) {
	s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.NetworkNamespace})
}

// withoutUserNS drops the config's user namespace and maps: berth runs in
// one already (engineUserNS), as under buildah or rootless podman.
func withoutUserNS(s *specs.Spec) {
	var kept []specs.LinuxNamespace
	for _, ns := range s.Linux.Namespaces {
		if ns.Type != specs.UserNamespace {
			kept = append(kept, ns)
		}
	}
	s.Linux.Namespaces = kept
	s.Linux.UIDMappings, s.Linux.GIDMappings = nil, nil
}

// engineUserNS runs berth as the user's root in a user namespace of its
// own (unshare --map-root-user), as buildah and rootless podman run their
// runtime: berth is root there, but not over the host's pid namespace.
func (r *rootlessUser) engineUserNS() runOpts {
	o := r.opts()
	o.wrap = append(o.wrap, "unshare", "--user", "--map-root-user")
	return o
}

// withoutPidNS drops the config's pid namespace: the container shares the
// host's, as `buildah run --pid host` asks. A user namespace cannot mount
// the procfs of a pid namespace it does not own, so /proc is the host's
// bound, as buildah binds it.
func withoutPidNS(s *specs.Spec) {
	var kept []specs.LinuxNamespace
	for _, ns := range s.Linux.Namespaces {
		if ns.Type != specs.PIDNamespace {
			kept = append(kept, ns)
		}
	}
	s.Linux.Namespaces = kept
	for i, m := range s.Mounts {
		if m.Destination == "/proc" {
			s.Mounts[i] = specs.Mount{Destination: "/proc", Type: "bind", Source: "/proc", Options: []string{"rbind", "nosuid", "noexec", "nodev"}}
		}
	}
}

// TestRootlessSysctls: the sysctls of the container's own namespaces are
// set as the user, also when it shares the host's pid namespace (where its
// user namespace may not mount a procfs of its own: they go through the
// /proc the container mounted, as runc writes them); one the user
// namespace may not write fails in one line naming it; one of a namespace
// the container does not have is refused before anything is made.
func TestRootlessSysctls(t *testing.T) {
	_, r := newRootless(t)
	const probe = "cat /proc/sys/net/ipv4/ping_group_range /proc/sys/net/ipv4/ip_unprivileged_port_start"
	set := func(s *specs.Spec) {
		s.Linux.Sysctl = map[string]string{"net.ipv4.ping_group_range": "0 0", "net.ipv4.ip_unprivileged_port_start": "80"}
	}
	ok := []struct {
		name     string
		edit     func(*specs.Spec)
		engineNS bool
	}{
		{"own pid namespace", func(s *specs.Spec) { withNetNS(s); set(s) }, false},
		{"host pid namespace", func(s *specs.Spec) { withNetNS(s); withoutPidNS(s); set(s) }, false},
		{"engine's user namespace", func(s *specs.Spec) { withNetNS(s); withoutUserNS(s); set(s) }, true},
		// buildah run --pid host: the init cannot mount a procfs.
		{"engine's user namespace, host pid namespace", func(s *specs.Spec) {
			withNetNS(s)
			withoutUserNS(s)
			withoutPidNS(s)
			set(s)
		}, true},
	}
	for _, c := range ok {
		t.Run(c.name, func(t *testing.T) {
			b := r.bundle(func(s *specs.Spec) { c.edit(s); s.Process.Args = []string{"sh", "-c", probe} })
			o := r.opts()
			if c.engineNS {
				o = r.engineUserNS()
			}
			res := r.e.berthOpts(o, "run", "--bundle", b, r.id("sysctl"))
			if res.code != 0 {
				t.Fatalf("%v", res)
			}
			if got := strings.Join(strings.Fields(res.stdout), " "); got != "0 0 80" {
				t.Errorf("sysctls inside: %q, want ping_group_range 0 0 and ip_unprivileged_port_start 80", res.stdout)
			}
			r.assertNothingLeft()
		})
	}
	bad := []struct {
		name     string
		edit     func(*specs.Spec)
		want     []string
		engineNS bool
	}{
		// net.core.rmem_max is the host's limit: a network namespace that
		// a user namespace owns shows it read-only (Linux 6.18: EACCES)
		// or not at all (6.1, the guest: ENOENT). Either way the error
		// names it.
		{"not writable in the user namespace", func(s *specs.Spec) {
			withNetNS(s)
			s.Linux.Sysctl = map[string]string{"net.core.rmem_max": "4096"}
		}, []string{`linux.sysctl["net.core.rmem_max"]`, "/proc/sys/net/core/rmem_max"}, false},
		{"not writable, host pid namespace", func(s *specs.Spec) {
			withNetNS(s)
			withoutPidNS(s)
			s.Linux.Sysctl = map[string]string{"net.core.rmem_max": "4096"}
		}, []string{`linux.sysctl["net.core.rmem_max"]`, "/proc/sys/net/core/rmem_max"}, false},
		{"not writable, engine's user namespace, host pid namespace", func(s *specs.Spec) {
			withNetNS(s)
			withoutUserNS(s)
			withoutPidNS(s)
			s.Linux.Sysctl = map[string]string{"net.core.rmem_max": "4096"}
		}, []string{`linux.sysctl["net.core.rmem_max"]`, "/proc/sys/net/core/rmem_max"}, true},
		{"no network namespace", func(s *specs.Spec) {
			s.Linux.Sysctl = map[string]string{"net.ipv4.ping_group_range": "0 0"}
		}, []string{`linux.sysctl["net.ipv4.ping_group_range"]`, "network namespace"}, false},
		{"not namespaced", func(s *specs.Spec) {
			s.Linux.Sysctl = map[string]string{"vm.swappiness": "10"}
		}, []string{`linux.sysctl["vm.swappiness"]`, "not namespaced"}, false},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			b := r.bundle(func(s *specs.Spec) { c.edit(s); s.Process.Args = []string{"true"} })
			o := r.opts()
			if c.engineNS {
				o = r.engineUserNS()
			}
			assertError(t, r.e.berthOpts(o, "run", "--bundle", b, r.id("sysctl")), c.want...)
			r.assertNothingLeft()
		})
	}
}
