package tests

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/berthrun/berth/internal/testbundle"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// /dev shaped by the image or changed behind berth's back: /dev/null that
// is not the null device when masking binds it over paths, /dev/console a
// symlink when the pty is bound on it, /dev itself a symlink.

const corePattern = "/proc/sys/kernel/core_pattern"

// withoutDevMounts drops the spec's mounts on /dev and below.
func withoutDevMounts(s *specs.Spec, keep ...string) {
	var out []specs.Mount
	for _, m := range s.Mounts {
		if (m.Destination == "/dev" || strings.HasPrefix(m.Destination, "/dev/")) && !contains(keep, m.Destination) {
			continue
		}
		out = append(out, m)
	}
	s.Mounts = out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// createContainerHook runs script with sh in the container's namespaces
// before pivot_root, with $ROOTFS the rootfs as it sees it.
func createContainerHook(s *specs.Spec, rootfs, script string) {
	s.Hooks = &specs.Hooks{CreateContainer: []specs.Hook{{
		Path: "/bin/sh", Args: []string{"sh", "-c", script},
		Env: []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "ROOTFS=" + rootfs},
	}}}
}

// hostNullIsNull checks that the host's /dev/null is still the device.
func hostNullIsNull(t *testing.T) {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat("/dev/null", &st); err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFCHR || st.Rdev != 259 {
		t.Errorf("the host's /dev/null is no longer the null device: %+v %v", st, err)
	}
}

// TestCVE2025_31133MaskWithFakeNull: masked paths get /dev/null bound over
// them; a /dev/null that is a symlink (to a procfs file the container must
// not write), a plain file, or missing, must stop the create instead of
// exposing or silently not masking.
func TestCVE2025_31133MaskWithFakeNull(t *testing.T) {
	t.Parallel()
	before, err := os.ReadFile(corePattern)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		shape func(e *env, s *specs.Spec, rootfs string)
	}{
		{"dev-bind-null-symlink", func(e *env, s *specs.Spec, _ string) {
			dev := e.dir("dev")
			os.Symlink(corePattern, filepath.Join(dev, "null"))
			withoutDevMounts(s)
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/dev", Type: "bind", Source: dev, Options: []string{"bind"}})
		}},
		{"dev-bind-without-null", func(e *env, s *specs.Spec, _ string) {
			withoutDevMounts(s)
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/dev", Type: "bind", Source: e.dir("dev"), Options: []string{"bind"}})
		}},
		{"hook-swaps-null-for-symlink", func(e *env, s *specs.Spec, rootfs string) {
			createContainerHook(s, rootfs, `rm "$ROOTFS/dev/null" && ln -s `+corePattern+` "$ROOTFS/dev/null"`)
		}},
		{"hook-swaps-null-for-file", func(e *env, s *specs.Spec, rootfs string) {
			createContainerHook(s, rootfs, `rm "$ROOTFS/dev/null" && echo x > "$ROOTFS/dev/null"`)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			spec := sh("echo escaped > " + corePattern + "; cat /proc/kcore")
			privileged(spec, allCaps(t))
			b := e.dir("bundle")
			tt.shape(e, spec, filepath.Join(b, "rootfs"))
			if err := testbundle.New(b, spec); err != nil {
				t.Fatal(err)
			}
			id := e.id("null")
			assertError(t, e.berth("run", "--bundle", b, id), "maskedPaths", "/dev/null")
			if now, _ := os.ReadFile(corePattern); string(now) != string(before) {
				t.Errorf("the host's core_pattern changed from %q to %q", before, now)
			}
			hostNullIsNull(t)
		})
	}
}

// TestCVE2025_52565ConsoleSymlink: /dev/console a symlink to a procfs file
// (from the image, or made by a hook after /dev was populated): the pty
// must not be bound over the symlink's target.
func TestCVE2025_52565ConsoleSymlink(t *testing.T) {
	t.Parallel()
	before, err := os.ReadFile(corePattern)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		shape func(s *specs.Spec, rootfs string)
	}{
		{"image-dev", func(s *specs.Spec, rootfs string) {
			withoutDevMounts(s, "/dev/pts") // the image's /dev is used
			if err := os.Symlink(corePattern, filepath.Join(rootfs, "dev", "console")); err != nil {
				t.Fatal(err)
			}
		}},
		{"hook", func(s *specs.Spec, rootfs string) {
			createContainerHook(s, rootfs, `ln -s `+corePattern+` "$ROOTFS/dev/console"`)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			sock, _ := recvTTY(t, e.dir("console"))
			spec := sh("echo escaped > /dev/console")
			spec.Process.Terminal = true
			privileged(spec, allCaps(t))
			b := e.dir("bundle")
			if err := testbundle.New(b, spec); err != nil {
				t.Fatal(err)
			}
			tt.shape(spec, filepath.Join(b, "rootfs"))
			if err := testbundle.Write(b, spec); err != nil {
				t.Fatal(err)
			}
			id := e.id("console")
			assertError(t, e.berth("run", "-d", "--console-socket", sock, "--bundle", b, id), "/dev/console", "symlink")
			if now, _ := os.ReadFile(corePattern); string(now) != string(before) {
				t.Errorf("the host's core_pattern changed from %q to %q", before, now)
			}
		})
	}
}

// TestCVE2026_41579DevSymlink: the image's /dev is a symlink, to a host
// directory (absolute or climbing with ".."), to the root, or into /proc.
// /dev is resolved inside the rootfs: berth builds it there or refuses;
// nothing lands on the host.
func TestCVE2026_41579DevSymlink(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		target  func(hostDev string) string
		refusal string // "": may run (inside the rootfs)
	}{
		{"absolute-host-dir", func(d string) string { return d }, ""},
		{"climbing", func(d string) string { return strings.Repeat("../", 20) + strings.TrimPrefix(d, "/") }, ""},
		{"root", func(string) string { return "/" }, "resolves to the container root"},
		{"proc", func(string) string { return "/proc" }, "procfs"},
		{"itself", func(string) string { return "/dev" }, "symbolic links"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			hostDev := e.dir("hostdev")
			spec := sh("ls -l /dev/null /dev/zero")
			b := e.bundle(spec)
			dev := filepath.Join(b, "rootfs", "dev")
			if err := os.Remove(dev); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(tt.target(hostDev), dev); err != nil {
				t.Fatal(err)
			}
			r := e.berth("run", "--bundle", b, e.id("devlink"))
			if tt.refusal != "" {
				assertError(t, r, `destination "/dev"`, tt.refusal)
			} else if r.code != 0 {
				t.Errorf("a /dev symlink into the rootfs must work: %v", r)
			} else {
				l := lines(r.stdout)
				if len(l) != 2 || !strings.HasPrefix(l[0], "crw") || !strings.Contains(l[0], "1,   3") || !strings.Contains(l[1], "1,   5") {
					t.Errorf("/dev inside is not berth's: %q", r.stdout)
				}
			}
			assertEmptyDir(t, hostDev)
			hostNullIsNull(t)
		})
	}
}
