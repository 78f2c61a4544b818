package tests

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Issue 22, "Mounts": where the OCI spec is silent, berth's mounts behave as
// runc's (main branch, 1.5) do. The root is built by the C init's C
// builder (there is no other).

// mountWays are the builders; the C builder's trace must show it ran.
var mountWays = []callerWay{
	{"C builder", cRootfs},
}

// runEachWay runs spec once per builder in a fresh bundle, shaped by image
// (may be nil), and returns each run's result by builder name. cEnv, when
// set, replaces the C builder's (cHostile: it meets the image's symlinks).
func runEachWay(t *testing.T, e *env, spec *specs.Spec, image func(rootfs string), cEnv []string) map[string]result {
	t.Helper()
	out := map[string]result{}
	for _, w := range mountWays {
		env := w.env
		if w.name == "C builder" && cEnv != nil {
			env = cEnv
		}
		b := e.bundle(spec)
		if image != nil {
			image(filepath.Join(b, "rootfs"))
		}
		r := e.berthOpts(runOpts{env: env}, "run", "--bundle", b, e.id("runc-contract"))
		if r.code == 0 && !traceShowsC(r.stderr) {
			t.Errorf("the C builder did not run:\n%s", r.stderr)
		}
		out[w.name] = withoutTrace(r)
	}
	return out
}

// flaggedTmpfs mounts a tmpfs with nosuid,nodev,noexec,noatime at dir for
// the test's length.
func flaggedTmpfs(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC|syscall.MS_NOATIME, "size=1m"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
}

// mountOpts reads the per-mount options of each mount point from mountinfo
// text (the last entry of a point wins), sorted, comma-joined.
func mountOpts(t *testing.T, text string) map[string]string {
	out := map[string]string{}
	for p, m := range parseMountinfo(t, text) {
		var o []string
		for k := range m.opts {
			o = append(o, k)
		}
		sort.Strings(o)
		out[p] = strings.Join(o, ",")
	}
	return out
}

// TestBindFlagsAsRunc: a bind mount whose options name a flag gets exactly
// the flags they set: what the source has besides (nosuid, nodev, noexec)
// is cleared, as runc does; options that name none keep the source's
// flags, and the atime mode stays unless the options name one. Where the
// source's flags are locked (a container with a user namespace: a source
// the host opened, or one inside the rootfs, which the namespace's copy of
// the mount table locked), they are kept, as runc keeps them, and options
// that clear one are refused. berth kept every flag the options left
// unnamed before, on every builder.
func TestBindFlagsAsRunc(t *testing.T) {
	t.Parallel()
	binds := []struct {
		dest string
		opts []string
		want string // without a user namespace
		// wantLocked: with one (sorted options).
		wantLocked string
	}{
		{"/tmp/ro", []string{"bind", "ro"}, "noatime,ro", "noatime,nodev,noexec,nosuid,ro"},
		{"/tmp/plain", []string{"rbind"}, "noatime,nodev,noexec,nosuid,rw", "noatime,nodev,noexec,nosuid,rw"},
		{"/tmp/nosuid", []string{"bind", "nosuid"}, "noatime,nosuid,rw", "noatime,nodev,noexec,nosuid,rw"},
		{"/tmp/exec", []string{"rbind", "relatime", "exec"}, "relatime,rw", ""},
	}
	for _, tc := range []struct {
		name   string
		userns bool
		inRoot bool // the source is a tmpfs inside the rootfs
	}{
		{"host-source", false, false},
		{"userns-host-source", true, false},
		{"userns-rootfs-source", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			source := e.dir("flagged")
			var image func(string)
			if tc.inRoot {
				// Relative: the bundle's; the Go builders take a source in the rootfs.
				source = "rootfs/flagged"
				image = func(rootfs string) { flaggedTmpfs(t, filepath.Join(rootfs, "flagged")) }
			} else {
				flaggedTmpfs(t, source)
			}
			spec, refused := sh("cat /proc/self/mountinfo"), sh("true")
			if tc.userns {
				userMapped(spec)
				userMapped(refused)
			}
			for _, b := range binds {
				m := specs.Mount{Destination: b.dest, Type: "bind", Source: source, Options: b.opts}
				if tc.userns && b.wantLocked == "" {
					refused.Mounts = append(refused.Mounts, m)
				} else {
					spec.Mounts = append(spec.Mounts, m)
				}
			}
			for way, r := range runEachWay(t, e, spec, image, nil) {
				if r.code != 0 {
					t.Errorf("%s: %v", way, r)
					continue
				}
				got := mountOpts(t, r.stdout)
				for _, b := range binds {
					want := b.want
					if tc.userns {
						want = b.wantLocked
					}
					if want != "" && got[b.dest] != want {
						t.Errorf("%s: %s %v: %q, want %q", way, b.dest, b.opts, got[b.dest], want)
					}
				}
			}
			if !tc.userns {
				return
			}
			// Clearing a locked flag (exec of a noexec source) is refused.
			for way, r := range runEachWay(t, e, refused, image, nil) {
				if r.code == 0 || !strings.Contains(r.stderr, "cannot clear locked flags noexec") {
					t.Errorf("%s: %v, want the locked noexec refused", way, r)
				}
			}
		})
	}
}

// TestTmpfsModeAsRunc: a tmpfs on a directory of the image takes that
// directory's mode (setgid bit included), an explicit mode= wins, and a
// tmpfs on a directory made for it has the kernel's 1777, as with runc.
// berth gave every tmpfs without mode= 1777.
func TestTmpfsModeAsRunc(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	spec := sh("stat -c '%n %a' /data /explicit /new")
	spec.Mounts = append(spec.Mounts,
		specs.Mount{Destination: "/data", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1m"}},
		specs.Mount{Destination: "/explicit", Type: "tmpfs", Source: "tmpfs", Options: []string{"mode=700"}},
		specs.Mount{Destination: "/new", Type: "tmpfs", Source: "tmpfs"})
	image := func(rootfs string) {
		for d, mode := range map[string]os.FileMode{"data": 0o751 | os.ModeSetgid, "explicit": 0o750} {
			p := filepath.Join(rootfs, d)
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, mode); err != nil {
				t.Fatal(err)
			}
		}
	}
	for way, r := range runEachWay(t, e, spec, image, nil) {
		if want := "/data 2751\n/explicit 700\n/new 1777\n"; r.code != 0 || r.stdout != want {
			t.Errorf("%s: %v, want %q", way, r, want)
		}
	}
}

// TestReadonlyTmpfsAsRunc: "ro" on the /dev tmpfs works: as runc does, the
// tmpfs is made read-only at the end, after the device nodes and links are
// in it. Any ro tmpfs is: a later mount under it gets its mount point made.
// berth failed both ("mkdir /dev/pts: read-only file system").
func TestReadonlyTmpfsAsRunc(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	spec := sh(`stat -c '%n %t:%T' /dev/null; readlink /dev/ptmx; readlink /dev/fd
touch /dev/x 2>/dev/null && echo dev-writable
touch /ro/x 2>/dev/null && echo ro-writable
cat /ro/sub/hello.txt
echo ====
cat /proc/self/mountinfo`)
	for i := range spec.Mounts {
		if spec.Mounts[i].Destination == "/dev" {
			spec.Mounts[i].Options = append(spec.Mounts[i].Options, "ro")
		}
	}
	spec.Mounts = append(spec.Mounts,
		specs.Mount{Destination: "/ro", Type: "tmpfs", Source: "tmpfs", Options: []string{"ro", "nosuid"}},
		specs.Mount{Destination: "/ro/sub", Type: "bind", Source: hostDir(t, e, "sub", "under-ro\n"), Options: []string{"rbind"}})
	for way, r := range runEachWay(t, e, spec, nil, nil) {
		before, table, _ := strings.Cut(r.stdout, "====\n")
		if want := "/dev/null 1:3\npts/ptmx\n/proc/self/fd\nunder-ro\n"; r.code != 0 || before != want {
			t.Errorf("%s: %v, want %q before the mount table", way, r, want)
			continue
		}
		got := mountOpts(t, table)
		if !strings.HasPrefix(got["/dev"], "nosuid,ro") || got["/ro"] != "nosuid,relatime,ro" || !strings.Contains(got["/ro/sub"], "rw") {
			t.Errorf("%s: /dev %q, /ro %q, /ro/sub %q: want /dev and /ro read-only, /ro/sub not", way, got["/dev"], got["/ro"], got["/ro/sub"])
		}
	}
}

// TestMountOrderAsRunc: mounts apply in the config's order: a mount under
// an earlier one gets its mount point made in it, a later mount on the same
// destination covers an earlier one, and a bind source inside the rootfs
// is looked up when its turn comes, through the mounts made before it (the
// host directory bound at /data, the fresh tmpfs at /t), as with runc.
// berth already did; the test guards it.
func TestMountOrderAsRunc(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := hostDir(t, e, "a", "from-a\n"), hostDir(t, e, "b", "from-b\n")
	if err := os.Mkdir(filepath.Join(a, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(a, "sub", "f"), "a-sub\n")
	// C builder: no source inside the rootfs.
	inC := sh("cat /m/x/hello.txt /m/y/hello.txt; ls /m")
	inC.Mounts = append(inC.Mounts,
		specs.Mount{Destination: "/m", Type: "tmpfs", Source: "tmpfs"},
		specs.Mount{Destination: "/m/x", Type: "bind", Source: a, Options: []string{"rbind"}},
		specs.Mount{Destination: "/m/y", Type: "bind", Source: a, Options: []string{"rbind"}},
		specs.Mount{Destination: "/m/y", Type: "bind", Source: b, Options: []string{"rbind"}})
	for way, r := range runEachWay(t, e, inC, nil, nil) {
		if want := "from-a\nfrom-b\nx\ny\n"; r.code != 0 || r.stdout != want {
			t.Errorf("%s: %v, want %q", way, r, want)
		}
	}
	// Sources inside the rootfs, under earlier mounts (the Go builders).
	inRoot := sh("cat /x/f; ls -A /y | wc -l")
	inRoot.Mounts = append(inRoot.Mounts,
		specs.Mount{Destination: "/data", Type: "bind", Source: a, Options: []string{"rbind"}},
		specs.Mount{Destination: "/x", Type: "bind", Source: "rootfs/data/sub", Options: []string{"rbind"}},
		specs.Mount{Destination: "/t", Type: "tmpfs", Source: "tmpfs"},
		specs.Mount{Destination: "/y", Type: "bind", Source: "rootfs/t", Options: []string{"rbind"}})
	image := func(rootfs string) {
		writeFile(t, filepath.Join(rootfs, "data/sub/f"), "image\n")
		writeFile(t, filepath.Join(rootfs, "t/img"), "image\n")
	}
	for way, r := range runEachWay(t, e, inRoot, image, nil) {
		if want := "a-sub\n0\n"; r.code != 0 || r.stdout != want {
			t.Errorf("%s: %v, want %q", way, r, want)
		}
	}
}

// TestDanglingSymlinkDestAsRunc: a bind destination through a dangling
// symlink, as its last component (a directory or a file) or a middle one,
// is made at the link's target inside the root and mounted there, as runc
// does; the links stay links. The C builder meets the links itself
// (cHostile).
func TestDanglingSymlinkDestAsRunc(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := hostDir(t, e, "a", "from-a\n")
	spec := sh(`cat /mnt/l/hello.txt /mnt/f /mnt/m/d/hello.txt
stat -c '%n %F' /target /target-file /target2/d /mnt/l /mnt/f /mnt/m`)
	spec.Mounts = append(spec.Mounts,
		specs.Mount{Destination: "/mnt/l", Type: "bind", Source: a, Options: []string{"rbind"}},
		specs.Mount{Destination: "/mnt/f", Type: "bind", Source: filepath.Join(a, "hello.txt"), Options: []string{"bind"}},
		specs.Mount{Destination: "/mnt/m/d", Type: "bind", Source: a, Options: []string{"rbind"}})
	image := func(rootfs string) {
		symlink(t, rootfs, "mnt/l", "/target")
		symlink(t, rootfs, "mnt/f", "/target-file")
		symlink(t, rootfs, "mnt/m", "/target2")
	}
	want := `from-a
from-a
from-a
/target directory
/target-file regular file
/target2/d directory
/mnt/l symbolic link
/mnt/f symbolic link
/mnt/m symbolic link
`
	for way, r := range runEachWay(t, e, spec, image, cHostile) {
		if r.code != 0 || r.stdout != want {
			t.Errorf("%s: %v, want %q", way, r, want)
		}
	}
}

// TestMaskedPathsAsRunc: a path listed twice is masked once, and every
// masked directory shows the same read-only tmpfs (one filesystem, bound
// onto each, as runc 1.5 does), however many there are. berth stacked a
// second mask on a repeated path and mounted a tmpfs per directory.
func TestMaskedPathsAsRunc(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	spec := sh("cat /proc/self/mountinfo")
	var dirs []string
	for i := range 20 {
		dirs = append(dirs, "/masked/d"+string(rune('a'+i)))
	}
	spec.Linux.MaskedPaths = append(append([]string{}, dirs...), "/masked/da", "/masked/db/", "/masked/f", "/masked/f")
	image := func(rootfs string) {
		for _, d := range dirs {
			writeFile(t, filepath.Join(rootfs, d, "secret"), "s\n")
		}
		writeFile(t, filepath.Join(rootfs, "masked/f"), "s\n")
	}
	for way, r := range runEachWay(t, e, spec, image, nil) {
		if r.code != 0 {
			t.Errorf("%s: %v", way, r)
			continue
		}
		count := map[string]int{}
		devs := map[string]bool{}
		for _, l := range lines(r.stdout) {
			f := strings.Fields(l)
			if len(f) < 6 || !strings.HasPrefix(f[4], "/masked/") {
				continue
			}
			count[f[4]]++
			if f[4] != "/masked/f" {
				devs[f[2]] = true
				if !strings.HasPrefix(f[5], "ro,") {
					t.Errorf("%s: %s is %s, want read-only", way, f[4], f[5])
				}
			}
		}
		for _, p := range append(dirs, "/masked/f") {
			if count[p] != 1 {
				t.Errorf("%s: %s has %d mounts, want 1", way, p, count[p])
			}
		}
		if len(devs) != 1 {
			t.Errorf("%s: the masked directories are on %d filesystems, want 1", way, len(devs))
		}
	}
}
