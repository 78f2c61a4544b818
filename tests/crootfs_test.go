package tests

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berthrun/berth/internal/hostscan"
)

// The C rootfs builder (libcontainer/executor/crootfs.c, program compiled
// by rootfs.CompileC) builds every root; there is no Go builder any more.
// Each config runs one probe and checks what the container saw.

var (
	cRootfs = []string{"BERTH_TRACE=1"}
	// cHostile: the C code meets the image's symlinks itself (the parent
	// no longer looks at the rootfs before choosing the builder).
	cHostile = cRootfs
)

// rootProbe prints what the rootfs builder decides: the mount table
// without ids, every node under /dev and /sys/fs/cgroup without times,
// hostname, domainname, cwd and a sysctl.
const rootProbe = `cut -d' ' -f4- /proc/self/mountinfo
echo == dev
find /dev | sort | while read -r f; do stat -c '%A %u %g %t:%T %N' "$f"; done
echo == cgroup
for f in /sys/fs/cgroup/*; do stat -c '%A %u %g %N' "$f"; done
echo hostname=$(hostname) domainname=$(cat /proc/sys/kernel/domainname)
echo cwd=$(pwd) ip_forward=$(cat /proc/sys/net/ipv4/ip_forward)
`

// peerGroup: shared:N numbers are allocated afresh by every run.
var peerGroup = regexp.MustCompile(`shared:[0-9]+`)

// normalize takes out of a probe's output what differs between two runs
// of the same config: the bundle's path, the container id (in cgroup
// paths) and peer group numbers.
func normalize(out, bundle, id string) string {
	out = strings.NewReplacer(bundle, "$BUNDLE", id, "$ID").Replace(out)
	return peerGroup.ReplaceAllString(out, "shared:N")
}

// traceShowsC tells whether the C builder ran (no Go rootfs helper, no
// refusal), from the stderr of a run with BERTH_TRACE=1. Both builders
// pass the init:rootfs-* points (side=init); only a Go one passes
// init:config, when it has read what to build.
func traceShowsC(stderr string) bool {
	return !strings.Contains(stderr, "point=init:config")
}

// rootCase is one config of the parity table.
type rootCase struct {
	name   string
	modify func(t *testing.T, e *env, s *specs.Spec) // host files made here serve both runs
	image  func(t *testing.T, bundle string)         // applied to each run's own bundle
	probe  string                                    // run after rootProbe
	want   string                                    // in the output: the config took effect
}

// bindCase is a bind of a fresh host directory at /mnt/b with options.
func bindCase(name string, opts ...string) rootCase {
	return rootCase{name: name, modify: func(t *testing.T, e *env, s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt/b", Type: "bind", Source: hostDir(t, e, "bind", "x\n"), Options: opts})
	}, probe: "cat /mnt/b/hello.txt; touch /mnt/b/new 2>&1; echo touch=$?", want: "/mnt/b "}
}

// flaggedBind binds a host tmpfs mounted nosuid,nodev,noexec,noatime at
// /tmp/f (where a user namespace's root can make it) with opts: options
// that name a flag give the bind exactly their flags, as runc does, except
// in a user namespace, where the source's flags count as locked and stay
// (TestBindFlagsAsRunc).
func flaggedBind(opts ...string) func(*testing.T, *env, *specs.Spec) {
	return func(t *testing.T, e *env, s *specs.Spec) {
		d := e.dir("flagged")
		if err := syscall.Mount("tmpfs", d, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC|syscall.MS_NOATIME, "size=1m"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { syscall.Unmount(d, syscall.MNT_DETACH) })
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/tmp/f", Type: "bind", Source: d, Options: opts})
	}
}

// addMount appends m to the spec's mounts.
func addMount(m specs.Mount) func(*testing.T, *env, *specs.Spec) {
	return func(_ *testing.T, _ *env, s *specs.Spec) { s.Mounts = append(s.Mounts, m) }
}

func rootCases() []rootCase {
	fm := os.FileMode(0o600)
	nullMode := os.FileMode(0o640)
	return []rootCase{
		{name: "default", want: "/sys/fs/cgroup"},
		{name: "cgroupns", modify: func(_ *testing.T, _ *env, s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.CgroupNamespace})
		}, want: "/sys/fs/cgroup"},
		{name: "no-cgroup-mount", modify: func(_ *testing.T, _ *env, s *specs.Spec) {
			s.Mounts = s.Mounts[:len(s.Mounts)-1] // the last one is /sys/fs/cgroup
		}},
		bindCase("rbind-ro", "rbind", "ro"),
		bindCase("bind-rw-nosuid-nodev-noexec", "bind", "rw", "nosuid", "nodev", "noexec"),
		bindCase("rbind-rprivate", "rbind", "rprivate"),
		{name: "bind-file-new-dest", modify: func(t *testing.T, e *env, s *specs.Spec) {
			f := filepath.Join(hostDir(t, e, "file", "single\n"), "hello.txt")
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/etc/new/single.txt", Type: "bind", Source: f, Options: []string{"bind", "ro", "rslave"}})
		}, probe: "stat -c '%F %a %s' /etc/new /etc/new/single.txt; cat /etc/new/single.txt", want: "/etc/new/single.txt ro"},
		{name: "bind-relative-source", modify: addMount(specs.Mount{Destination: "/data", Type: "bind", Source: "data", Options: []string{"rbind"}}),
			image: func(t *testing.T, b string) { writeFile(t, filepath.Join(b, "data", "f"), "in-bundle\n") },
			probe: "cat /data/f", want: "in-bundle"},
		{name: "bind-nested-new-path", modify: func(t *testing.T, e *env, s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/a/b/c", Type: "bind", Source: hostDir(t, e, "nested", "deep\n"), Options: []string{"bind"}})
		}, probe: "stat -c '%n %F %a %u' /a /a/b /a/b/c; cat /a/b/c/hello.txt", want: "deep"},
		{name: "tmpfs-options", modify: addMount(specs.Mount{Destination: "/scratch", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1m", "mode=700", "uid=1000"}}),
			probe: "stat -c '%a %u %g' /scratch", want: "700 1000 0"},
		{name: "bind-rro", modify: func(t *testing.T, e *env, s *specs.Spec) {
			d := hostDir(t, e, "rro", "top\n")
			sub := filepath.Join(d, "sub")
			if err := os.Mkdir(sub, 0o755); err != nil {
				t.Fatal(err)
			}
			hostMount(t, sub) // recursive: the submount must be read-only too
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt/rro", Type: "bind", Source: d, Options: []string{"rbind", "rro"}})
		}, probe: "touch /mnt/rro/sub/x 2>&1; echo touch=$?", want: "/mnt/rro/sub ro"},
		{name: "devices", modify: func(_ *testing.T, _ *env, s *specs.Spec) {
			s.Linux.Devices = []specs.LinuxDevice{
				{Path: "/dev/net/tun", Type: "c", Major: 10, Minor: 200, FileMode: &fm, UID: u32(1000), GID: u32(1000)},
				{Path: "/dev/null", Type: "c", Major: 1, Minor: 3, FileMode: &nullMode},
			}
		}, want: "crw-r----- 0 0 1:3 /dev/null"},
		// The missing cwd must be made before the root turns read-only.
		{name: "readonly-root", modify: func(_ *testing.T, _ *env, s *specs.Spec) { s.Root.Readonly, s.Process.Cwd = true, "/work/here" },
			probe: "touch /x 2>&1; echo touch=$? cwd=$(pwd)", want: "touch=1 cwd=/work/here"},
		{name: "masked-paths", modify: func(_ *testing.T, _ *env, s *specs.Spec) {
			s.Linux.MaskedPaths = append(s.Linux.MaskedPaths, "/home", "/etc/hosts", "/no/such/path")
		}, probe: "ls -A /home; wc -c < /etc/hosts", want: "/home ro"},
		{name: "readonly-paths", modify: func(_ *testing.T, _ *env, s *specs.Spec) {
			s.Linux.ReadonlyPaths = append(s.Linux.ReadonlyPaths, "/home", "/etc/passwd", "/no/such/path")
		}, probe: "touch /home/x 2>&1; echo touch=$?", want: "/etc/passwd ro"},
		{name: "sysctl", modify: func(_ *testing.T, _ *env, s *specs.Spec) {
			// A new net namespace here starts with ip_forward=1 already:
			// shm_rmid_forced (0 in a new ipc namespace) shows the write.
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1", "kernel.shm_rmid_forced": "1"}
		}, probe: "echo shm_rmid_forced=$(cat /proc/sys/kernel/shm_rmid_forced)", want: "ip_forward=1\nshm_rmid_forced=1"},
		{name: "hostname-domainname", modify: func(_ *testing.T, _ *env, s *specs.Spec) {
			s.Hostname, s.Domainname = "crbox", "example.org"
		}, want: "hostname=crbox domainname=example.org"},
		{name: "missing-cwd", modify: func(_ *testing.T, _ *env, s *specs.Spec) { s.Process.Cwd = "/work/here" },
			probe: "stat -c '%n %a %u' /work /work/here", want: "cwd=/work/here"},
		// The parent's hooks run between the mounts and pivot_root: what a
		// createRuntime hook writes into the rootfs is there at start.
		{name: "createRuntime-hook", modify: func(_ *testing.T, _ *env, s *specs.Spec) {
			s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c",
				`b=$(sed -n 's/.*"bundle": *"\([^"]*\)".*/\1/p'); echo hooked > "$b/rootfs/hooked"`}}}}
		}, probe: "cat /hooked", want: "hooked"},
		{name: "propagation-rprivate", modify: func(_ *testing.T, _ *env, s *specs.Spec) { s.Linux.RootfsPropagation = "rprivate" }},
		// Shared or non-recursive: the rootfs's parent mount may stay
		// shared, and crootfs.c reads the mount table to make it private.
		{name: "propagation-private", modify: func(_ *testing.T, _ *env, s *specs.Spec) { s.Linux.RootfsPropagation = "private" }},
		{name: "propagation-shared", modify: func(_ *testing.T, _ *env, s *specs.Spec) { s.Linux.RootfsPropagation = "shared" },
			want: "shared:N"},
		{name: "propagation-rshared", modify: func(_ *testing.T, _ *env, s *specs.Spec) { s.Linux.RootfsPropagation = "rshared" },
			want: "shared:N"},
		{name: "propagation-runbindable", modify: func(_ *testing.T, _ *env, s *specs.Spec) { s.Linux.RootfsPropagation = "runbindable" },
			want: "unbindable"},
		{name: "bind-flags-as-options", modify: flaggedBind("bind", "ro"), want: "/tmp/f ro,noatime"},
		{name: "bind-keeps-host-flags", modify: flaggedBind("rbind"), want: "/tmp/f rw,nosuid,nodev,noexec,noatime"},
		{name: "bind-atime-option", modify: flaggedBind("rbind", "relatime", "exec"), want: "/tmp/f rw,relatime"},
		// A symlink of the image on a destination's path is followed
		// inside the root by the C code (no Go fallback).
		{name: "symlink-on-destination", modify: addMount(specs.Mount{Destination: "/linkdir/x", Type: "tmpfs", Source: "tmpfs"}),
			image: func(t *testing.T, b string) { symlink(t, filepath.Join(b, "rootfs"), "linkdir", "/mnt") },
			probe: "stat -f -c %T /mnt/x", want: "/mnt/x rw"},
		// lxcfs's way: a file bound over one of the procfs files that may
		// be covered.
		{name: "proc-overmount", modify: func(t *testing.T, e *env, s *specs.Spec) {
			f := filepath.Join(hostDir(t, e, "uptime", "4242.00 1.00\n"), "hello.txt")
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/proc/uptime", Type: "bind", Source: f, Options: []string{"bind", "ro"}})
		}, probe: "cat /proc/uptime", want: "4242.00 1.00"},
		// No /dev mounted: the nodes go into the image's own /dev.
		{name: "image-dev", modify: func(_ *testing.T, _ *env, s *specs.Spec) {
			withoutDevMounts(s)
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/net/tun", Type: "c", Major: 10, Minor: 200, FileMode: &fm}}
		}, image: func(t *testing.T, b string) { writeFile(t, filepath.Join(b, "rootfs/dev/null"), "not a device\n") },
			want: "crw------- 0 0 a:c8 /dev/net/tun\ncrw-rw-rw- 0 0 1:3 /dev/null"},
		// A bind source inside the rootfs is the image's: its symlink to
		// /etc leads to the image's /etc, not the host's.
		{name: "bind-source-in-rootfs", modify: addMount(specs.Mount{Destination: "/mnt/e", Type: "bind", Source: "rootfs/evil", Options: []string{"rbind", "ro"}}),
			image: func(t *testing.T, b string) {
				writeFile(t, filepath.Join(b, "rootfs/etc/marker"), "in-image\n")
				symlink(t, filepath.Join(b, "rootfs"), "evil", "/etc")
			}, probe: "cat /mnt/e/marker", want: "in-image"},
		{name: "tmpcopyup", modify: addMount(specs.Mount{Destination: "/home", Type: "tmpfs", Source: "tmpfs", Options: []string{"tmpcopyup", "noexec"}}),
			probe: "find /home | sort | while read -r f; do stat -c '%A %u %g %N' \"$f\"; done", want: "/home rw,noexec"},
		{name: "remount", modify: func(_ *testing.T, _ *env, s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/scratch", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1m"}},
				specs.Mount{Destination: "/scratch", Type: "tmpfs", Source: "tmpfs", Options: []string{"remount", "ro", "size=2m"}})
		}, want: "/scratch ro,relatime - tmpfs tmpfs ro,size=2048k"},
		{name: "userns", modify: func(t *testing.T, e *env, s *specs.Spec) {
			userMapped(s)
			flaggedBind("bind", "ro")(t, e, s)
		}, probe: "cat /proc/self/uid_map", want: "/tmp/f ro,nosuid,nodev,noexec,noatime"},
	}
}

// TestCRootfsRoots: the C builder gives the container the root each
// config asks for.
func TestCRootfsRoots(t *testing.T) {
	t.Parallel()
	for _, tc := range rootCases() {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			spec := sh(rootProbe + tc.probe)
			if tc.modify != nil {
				tc.modify(t, e, spec)
			}
			b := e.bundle(spec)
			if tc.image != nil {
				tc.image(t, b)
			}
			id := e.id("cr")
			r := e.berthOpts(runOpts{env: cRootfs}, "run", "--bundle", b, id)
			if r.code != 0 {
				t.Fatalf("%v", r)
			}
			if !traceShowsC(r.stderr) {
				t.Errorf("the trace shows a Go init:\n%s", r.stderr)
			}
			if out := normalize(r.stdout, b, id); !strings.Contains(out, tc.want) {
				t.Errorf("the output lacks %q:\n%s", tc.want, out)
			}
		})
	}
}

// withoutTrace drops the trace lines from a run's stderr, leaving the
// error line the contract is about.
func withoutTrace(r result) result {
	var keep []string
	for _, l := range strings.SplitAfter(r.stderr, "\n") {
		if !strings.Contains(l, "msg=trace") {
			keep = append(keep, l)
		}
	}
	r.stderr = strings.Join(keep, "")
	return r
}

// TestCRootfsErrors: what fails while building the root fails alike with
// both builders, naming the same field; the leak check after the test
// makes sure nothing is left behind.
func TestCRootfsErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tt := range []struct {
		name   string
		modify func(s *specs.Spec)
		want   []string
	}{
		{"bind source missing", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/x", Type: "bind", Source: "/no/such/dir-" + randHex(4), Options: []string{"bind"}})
		}, []string{`mounts[7] destination "/x"`, "no such file or directory"}},
		{"unknown sysctl", func(s *specs.Spec) {
			s.Linux.Sysctl = map[string]string{"net.ipv4.no_such_thing": "1"}
		}, []string{`linux.sysctl["net.ipv4.no_such_thing"]`, "no such file or directory"}},
		{"bad tmpfs option", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/x", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=bogus"}})
		}, []string{`mounts[7] destination "/x"`, "invalid argument"}},
		{"bind a directory onto a file", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/etc/passwd", Type: "bind", Source: "/tmp", Options: []string{"bind"}})
		}, []string{`mounts[7] destination "/etc/passwd"`, "not a directory"}},
		{"mount over a second procfs", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt/p2", Type: "proc", Source: "proc"},
				specs.Mount{Destination: "/mnt/p2/sys", Type: "tmpfs", Source: "tmpfs"})
		}, []string{`mounts[8] destination "/mnt/p2/sys"`, "refusing to mount over procfs path"}},
	} {
		spec := sh("echo should-not-run")
		tt.modify(spec)
		for name, env := range map[string][]string{"C": cRootfs} {
			r := e.berthOpts(runOpts{env: env}, "run", "--bundle", e.bundle(spec), e.id("err"+name))
			if name == "C" && !traceShowsC(r.stderr) {
				t.Errorf("%s: the C builder did not run:\n%s", tt.name, r.stderr)
			}
			assertError(t, withoutTrace(r), tt.want...)
		}
	}
}

// hostileCase is an image whose symlinks would lead a builder that
// follows them naively out of the root. unique names a host path under
// /tmp that nothing may create.
type hostileCase struct {
	name    string
	spec    func(t *testing.T, e *env, unique string) *specs.Spec
	image   func(t *testing.T, rootfs, unique string)
	refusal []string // nil: the run must succeed
	want    string   // in the output of a successful run
	// inRoot: the run must have made /tmp/<unique> (the symlink's target,
	// resolved in the root) inside the rootfs.
	inRoot bool
}

// symlink makes rootfs/name a symlink to target, replacing what is there.
func symlink(t *testing.T, rootfs, name, target string) {
	t.Helper()
	p := filepath.Join(rootfs, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(p); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}

// writeFile writes content to path, making its directory.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// hostRootMounts counts the host's mounts on "/": a mount that escaped
// the rootfs through a link to "/" adds one.
func hostRootMounts() int {
	n := 0
	for _, m := range hostscan.Mounts() {
		if m.Point == "/" {
			n++
		}
	}
	return n
}

// climbOut binds a host directory (or its file) at /evil, a symlink in
// the image that climbs above "/" to /tmp/<unique>: the bind must land at
// /tmp/<unique> inside the rootfs.
func climbOut(name, file, cat string) hostileCase {
	return hostileCase{name: name, spec: func(t *testing.T, e *env, _ string) *specs.Spec {
		s := sh("cat " + cat)
		src := filepath.Join(hostDir(t, e, "evil", "bound\n"), file)
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/evil", Type: "bind", Source: src, Options: []string{"bind"}})
		return s
	}, image: func(t *testing.T, rootfs, unique string) {
		symlink(t, rootfs, "evil", "/../../../../tmp/"+unique)
	}, want: "bound", inRoot: true}
}

func hostileCases() []hostileCase {
	withMount := func(script string, m specs.Mount) func(*testing.T, *env, string) *specs.Spec {
		return func(*testing.T, *env, string) *specs.Spec {
			s := sh(script)
			s.Mounts = append(s.Mounts, m)
			return s
		}
	}
	return []hostileCase{
		{name: "dev-is-root", spec: func(*testing.T, *env, string) *specs.Spec { return sh("ls /dev") },
			image:   func(t *testing.T, rootfs, _ string) { symlink(t, rootfs, "dev", "/") },
			refusal: []string{`destination "/dev"`, "resolves to the container root"}},
		climbOut("bind-dest-climbs-out", "", "/evil/hello.txt"),
		climbOut("bind-file-dest-climbs-out", "hello.txt", "/evil"),
		// As TestCVE2026_41579DevSymlink's absolute-host-dir: /dev is built
		// at the link's target inside the rootfs.
		{name: "dev-to-host-path", spec: func(*testing.T, *env, string) *specs.Spec { return sh("ls -l /dev/null") },
			image: func(t *testing.T, rootfs, unique string) { symlink(t, rootfs, "dev", "/tmp/"+unique) },
			want:  "1,   3", inRoot: true},
		{name: "dest-into-proc-sys", spec: withMount("true", specs.Mount{Destination: "/mnt/x", Type: "tmpfs", Source: "tmpfs"}),
			image:   func(t *testing.T, rootfs, _ string) { symlink(t, rootfs, "mnt/x", "/proc/sys/kernel") },
			refusal: []string{`destination "/mnt/x"`, `refusing to mount over procfs path "/proc/sys/kernel"`}},
		{name: "dest-magic-link", spec: withMount("true", specs.Mount{Destination: "/mnt/y", Type: "tmpfs", Source: "tmpfs"}),
			image:   func(t *testing.T, rootfs, _ string) { symlink(t, rootfs, "mnt/y", "/proc/self/cwd") },
			refusal: []string{`destination "/mnt/y"`, "symbolic links"}},
		{name: "masked-symlinks", spec: func(*testing.T, *env, string) *specs.Spec {
			s := sh("echo inside=$(wc -c < /etc/inside.txt) hosts=$(wc -c < /etc/hosts) passwd=$(grep -q root /etc/passwd && echo kept)")
			s.Linux.MaskedPaths = append(s.Linux.MaskedPaths, "/masklink", "/masklink2")
			return s
		}, image: func(t *testing.T, rootfs, _ string) {
			writeFile(t, filepath.Join(rootfs, "etc/inside.txt"), "inside\n")
			symlink(t, rootfs, "masklink", "/etc/inside.txt")
			symlink(t, rootfs, "masklink2", "../../../../../../../etc/hosts")
		}, want: "inside=0 hosts=0 passwd=kept"},
	}
}

// TestCRootfsHostileImage: the C code resolves every path of a hostile
// image inside the root, as the Go helper does; each case runs with both
// builders, and nothing lands on the host.
func TestCRootfsHostileImage(t *testing.T) {
	t.Parallel()
	for _, tc := range hostileCases() {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			unique := "berth-crootfs-" + randHex(6)
			hostPath := filepath.Join("/tmp", unique)
			t.Cleanup(func() { os.RemoveAll(hostPath) })
			spec := tc.spec(t, e, unique)
			for name, env := range map[string][]string{"C": cHostile} {
				b := e.bundle(spec)
				rootfs := filepath.Join(b, "rootfs")
				tc.image(t, rootfs, unique)
				roots := hostRootMounts()
				r := e.berthOpts(runOpts{env: env}, "run", "--bundle", b, e.id("hostile"+name))
				if r.code == 0 && !traceShowsC(r.stderr) {
					t.Errorf("C: the C builder did not run:\n%s", r.stderr)
				}
				r = withoutTrace(r)
				refusal := tc.refusal
				switch {
				case refusal != nil:
					assertError(t, r, refusal...)
				case r.code != 0:
					t.Errorf("%s: %v", name, r)
				case !strings.Contains(r.stdout, tc.want):
					t.Errorf("%s: output %q, want %q", name, r.stdout, tc.want)
				}
				if n := hostRootMounts(); n != roots {
					t.Errorf("%s: the host has %d mounts on / after the run, %d before", name, n, roots)
				}
				if _, err := os.Lstat(hostPath); err == nil {
					t.Errorf("%s: %s was created on the host", name, hostPath)
				}
				if tc.inRoot && r.code == 0 {
					if _, err := os.Lstat(filepath.Join(rootfs, "tmp", unique)); err != nil {
						t.Errorf("%s: the destination was not made inside the rootfs: %v", name, err)
					}
				}
			}
		})
	}
}
