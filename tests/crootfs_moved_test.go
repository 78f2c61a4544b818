package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The configs the C builder used to hand to the Go helper (issue 21, item
// 6), now built in C: each test runs every builder (runEachWay: the C
// builder must have run, its trace says) and checks what the kernel shows.

// copyUpImage fills rootfs/data with one entry of each kind, with modes,
// owners and times a copy could lose.
func copyUpImage(t *testing.T, rootfs string) {
	t.Helper()
	data := filepath.Join(rootfs, "data")
	writeFile(t, filepath.Join(data, "d", "g"), "deep\n")
	writeFile(t, filepath.Join(data, "f"), "hello\n")
	if err := os.Symlink("/etc/passwd", filepath.Join(data, "l")); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(filepath.Join(data, "p"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, own := range map[string][3]int{"d": {0o751, 1000, 1000}, "f": {0o4755, 1000, 1001}, "p": {0o640, 0, 1002}} {
		p := filepath.Join(data, name)
		if err := os.Lchown(p, own[1], own[2]); err != nil {
			t.Fatal(err)
		}
		if err := unix.Fchmodat(unix.AT_FDCWD, p, uint32(own[0]), 0); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, name := range []string{"d/g", "f", "d"} {
		if err := os.Chtimes(filepath.Join(data, name), old, old); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(data, 0o751); err != nil {
		t.Fatal(err)
	}
}

// TestTmpCopyUpAsRunc: a tmpfs with tmpcopyup starts with what the image's
// directory held (files, directories, symlinks as symlinks, a fifo), with
// their modes (set-id bits too), owners and modification times, and the
// tmpfs takes the directory's mode and the options' flags (nosuid here)
// after the copy, with every builder. The C builder refused it before.
func TestTmpCopyUpAsRunc(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	spec := sh(`cd /data && for f in . d d/g f l p; do stat -c '%n %A %u %g %Y %F' $f; done
cat f d/g; readlink l
stat -f -c %T /data
grep ' /data ' /proc/self/mountinfo | cut -d' ' -f6
touch /data/new && echo writable`)
	spec.Mounts = append(spec.Mounts, specs.Mount{Destination: "/data", Type: "tmpfs", Source: "tmpfs", Options: []string{"tmpcopyup", "nosuid", "size=1m"}})
	want := `. drwxr-x--x 0 0 ` // the tmpfs root: its time is the mount's
	wantRest := `d drwxr-x--x 1000 1000 978307200 directory
d/g -rw-r--r-- 0 0 978307200 regular file
f -rwsr-xr-x 1000 1001 978307200 regular file
`
	wantTail := `hello
deep
/etc/passwd
tmpfs
rw,nosuid,relatime
writable
`
	for way, r := range runEachWay(t, e, spec, func(rootfs string) { copyUpImage(t, rootfs) }, nil) {
		out := r.stdout
		if r.code != 0 || !strings.HasPrefix(out, want) || !strings.Contains(out, wantRest) ||
			!strings.Contains(out, "\nl lrwxrwxrwx 0 0 ") || !strings.Contains(out, "\np prw-r----- 0 1002 ") ||
			!strings.HasSuffix(out, wantTail) {
			t.Errorf("%s: %v\nwant %q..., %q, l and p, then %q", way, r, want, wantRest, wantTail)
		}
	}
}

// TestTmpCopyUpReadonly: "ro" with tmpcopyup: the copy is made, then the
// tmpfs turns read-only (at the end, as every ro tmpfs does).
func TestTmpCopyUpReadonly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	spec := sh(`cat /data/f; touch /data/x 2>/dev/null || echo refused
grep ' /data ' /proc/self/mountinfo | cut -d' ' -f6`)
	spec.Mounts = append(spec.Mounts, specs.Mount{Destination: "/data", Type: "tmpfs", Source: "tmpfs", Options: []string{"tmpcopyup", "ro", "noexec"}})
	for way, r := range runEachWay(t, e, spec, func(rootfs string) { copyUpImage(t, rootfs) }, nil) {
		if want := "hello\nrefused\nro,noexec,relatime\n"; r.code != 0 || r.stdout != want {
			t.Errorf("%s: %v, want %q", way, r, want)
		}
	}
}

// TestRemountOption: a mount with "remount" changes the mount an earlier
// entry made: a filesystem remount takes its flags and data (the tmpfs
// turns read-only and grows), a bind remount its per-mount flags, keeping
// the ones it does not name. The C builder refused both before.
func TestRemountOption(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dir := hostDir(t, e, "remount", "bound\n")
	spec := sh(`grep -E ' /(scratch|b) ' /proc/self/mountinfo | cut -d' ' -f5,6 | tr '\n' ' '
grep ' /scratch ' /proc/self/mountinfo | sed 's/.* - //'
touch /scratch/x 2>/dev/null || echo scratch-ro
touch /b/x 2>/dev/null || echo b-ro`)
	spec.Mounts = append(spec.Mounts,
		specs.Mount{Destination: "/scratch", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1m", "nodev"}},
		specs.Mount{Destination: "/scratch", Type: "tmpfs", Source: "tmpfs", Options: []string{"remount", "ro", "nodev", "size=2m"}},
		specs.Mount{Destination: "/b", Type: "bind", Source: dir, Options: []string{"rbind", "nosuid"}},
		specs.Mount{Destination: "/b", Type: "bind", Source: dir, Options: []string{"remount", "bind", "ro"}})
	want := "/scratch ro,nodev,relatime /b ro,nosuid,relatime tmpfs tmpfs ro,size=2048k\n"
	for way, r := range runEachWay(t, e, spec, nil, nil) {
		if r.code != 0 || r.stdout != want+"scratch-ro\nb-ro\n" {
			t.Errorf("%s: %v, want %q... then both read-only", way, r, want)
		}
	}
}

// TestCRootfsWaysIn: a root entered without pivot_root (--no-pivot: moved
// over "/" and chrooted into) or without a mount namespace of its own
// (only chrooted into, no mount made) is built by the C program: the trace
// shows no Go init, and the container sees the root it asked for.
func TestCRootfsWaysIn(t *testing.T) {
	t.Parallel()
	noMountNS := func(s *specs.Spec) {
		var keep []specs.LinuxNamespace
		for _, n := range s.Linux.Namespaces {
			if n.Type != specs.MountNamespace {
				keep = append(keep, n)
			}
		}
		s.Linux.Namespaces = keep
		// What needs a mount namespace is refused without one.
		s.Linux.MaskedPaths, s.Linux.ReadonlyPaths = nil, nil
	}
	for _, tc := range []struct {
		name   string
		modify func(*specs.Spec)
		args   []string
		probe  string
		want   string
	}{
		{"no-pivot", nil, []string{"--no-pivot"}, rootProbe + "echo pid=$$; ls /bin/busybox", "pid=1\n/bin/busybox"},
		{"no-pivot-shared", func(s *specs.Spec) { s.Linux.RootfsPropagation = "rshared" }, []string{"--no-pivot"},
			rootProbe + "echo pid=$$", "pid=1"},
		// No mount: /proc is the image's empty directory.
		{"no-mount-namespace", noMountNS, nil,
			"echo pid=$$ cwd=$(pwd) hostname=$(hostname); ls /proc | wc -l; ls /bin/busybox; cat /proc/self/mountinfo 2>&1 | wc -l",
			"pid=1 cwd=/ hostname=berth\n0\n/bin/busybox\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			spec := sh(tc.probe)
			if tc.modify != nil {
				tc.modify(spec)
			}
			b := e.bundle(spec)
			id := e.id("in")
			roots := hostRootMounts()
			args := append(append([]string{"run"}, tc.args...), "--bundle", b, id)
			r := e.berthOpts(runOpts{env: cRootfs}, args...)
			if r.code != 0 {
				t.Fatalf("%v", r)
			}
			if !traceShowsC(r.stderr) {
				t.Errorf("the trace shows a Go init:\n%s", r.stderr)
			}
			if n := hostRootMounts(); n != roots {
				t.Errorf("the host has %d mounts on / after the run, %d before", n, roots)
			}
			if out := normalize(r.stdout, b, id); !strings.Contains(out, tc.want) {
				t.Errorf("the output lacks %q:\n%s", tc.want, out)
			}
		})
	}
}

// TestCInitExecWithoutMountNamespace: exec into a container that has no
// mount namespace of its own is set up by the C init (the trace shows no
// Go init), in the container's pid namespace, with the mount namespace
// and root it shares with the host (the init alone was chrooted, as runc
// and the Go init did): the bundle directory is visible, cwd is "/".
func TestCInitExecWithoutMountNamespace(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	spec := sh("sleep 1000")
	var keep []specs.LinuxNamespace
	for _, n := range spec.Linux.Namespaces {
		if n.Type != specs.MountNamespace {
			keep = append(keep, n)
		}
	}
	spec.Linux.Namespaces = keep
	spec.Linux.MaskedPaths, spec.Linux.ReadonlyPaths = nil, nil
	b := e.bundle(spec)
	id := e.id("exec-nomnt")
	e.mustBerth("run", "-d", "--bundle", b, id)
	initPid := e.state(id).Pid
	wantNS, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", initPid))
	if err != nil {
		t.Fatal(err)
	}
	probe := "echo cwd=$(pwd) pidns=$(readlink /proc/self/ns/pid); test -d " + b + " && echo bundle=seen"
	r := e.berthOpts(runOpts{env: cRootfs}, "exec", id, "sh", "-c", probe)
	if r.code != 0 {
		t.Fatalf("%v", r)
	}
	if strings.Contains(r.stderr, "point=init:config") || !strings.Contains(r.stderr, "point=init:process") {
		t.Errorf("the C init did not set the process up:\n%s", r.stderr)
	}
	if want := "cwd=/ pidns=" + wantNS + "\nbundle=seen\n"; r.stdout != want {
		t.Errorf("exec saw %q, want %q", r.stdout, want)
	}
}
