package procfs

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: needs root to mount procfs and make mount namespaces")
	}
}

// inMountNS runs fn on a thread of its own in a new, private mount
// namespace. The thread is never unlocked, so it dies with fn's goroutine
// and the namespace goes with it.
func inMountNS(t *testing.T, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
			t.Errorf("unshare mount namespace: %v", err)
			return
		}
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			t.Errorf("make / private: %v", err)
			return
		}
		fn()
	}()
	<-done
}

func mount(t *testing.T, src, dst, fstype string, flags uintptr) bool {
	t.Helper()
	if err := unix.Mount(src, dst, fstype, flags, ""); err != nil {
		t.Errorf("mount %s on %s: %v", src, dst, err)
		return false
	}
	return true
}

func readAll(t *testing.T, h *Handle, name string) (string, error) {
	t.Helper()
	f, err := h.OpenFile(name, unix.O_RDONLY)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	return string(b), err
}

// TestOpeners: each way of getting a handle yields a working procfs.
func TestOpeners(t *testing.T) {
	requireRoot(t)
	runtime.LockOSThread() // thread-self must stay this thread
	defer runtime.UnlockOSThread()
	for name, open := range map[string]func() (*Handle, error){
		"Open":        Open,
		"fresh":       openFresh,
		"clone":       func() (*Handle, error) { return openClone("/proc") },
		"OpenMounted": func() (*Handle, error) { return OpenMounted("/proc") },
	} {
		t.Run(name, func(t *testing.T) {
			h, err := open()
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			if s, err := readAll(t, h, "sys/kernel/ostype"); err != nil || s != "Linux\n" {
				t.Errorf("sys/kernel/ostype: %q, %v", s, err)
			}
			self, err := readAll(t, h, "thread-self/stat")
			want := strconv.Itoa(unix.Gettid()) + " "
			if err != nil || !strings.HasPrefix(self, want) {
				t.Errorf("thread-self/stat is %q (%v), want this thread (%s)", self, err, want)
			}
		})
	}
}

// TestRefusedPaths: names that would leave the procfs or follow a link.
func TestRefusedPaths(t *testing.T) {
	requireRoot(t)
	h, err := OpenMounted("/proc")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	for _, name := range []string{
		"mounts",           // a symlink to self/mounts
		"self/cwd/etc",     // a magic link
		"../etc/hostname",  // climbs out
		"/etc/hostname",    // absolute
		"sys/../../etc/os", // climbs out further down
	} {
		if f, err := h.OpenFile(name, unix.O_RDONLY); err == nil {
			f.Close()
			t.Errorf("%s: opened, want refused", name)
		}
	}
}

// TestOvermountRefused: in a private mount namespace, a tmpfs over a
// /proc directory and a file bound over a /proc file are detected when
// going through the mounted /proc (the write is refused and the file
// covering it untouched), while a fresh instance is not affected at all.
func TestOvermountRefused(t *testing.T) {
	requireRoot(t)
	decoy := filepath.Join(t.TempDir(), "decoy")
	if err := os.WriteFile(decoy, []byte("decoy\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	inMountNS(t, func() {
		if !mount(t, "tmpfs", "/proc/sys/kernel", "tmpfs", 0) {
			return
		}
		if !mount(t, decoy, "/proc/thread-self/comm", "", unix.MS_BIND) {
			return
		}
		mounted, err := OpenMounted("/proc")
		if err != nil {
			t.Errorf("OpenMounted: %v", err)
			return
		}
		defer mounted.Close()
		if _, err := readAll(t, mounted, "sys/kernel/ostype"); !errors.Is(err, unix.EXDEV) {
			t.Errorf("sys/kernel/ostype under a tmpfs: %v, want EXDEV", err)
		}
		err = mounted.WriteFile("thread-self/comm", []byte("pwned"))
		if !errors.Is(err, unix.EXDEV) || !strings.Contains(err.Error(), "mounted") {
			t.Errorf("write to a bind-mounted thread-self/comm: %v, want EXDEV", err)
		}
		if b, _ := os.ReadFile(decoy); string(b) != "decoy\n" {
			t.Errorf("the file mounted over /proc was written: %q", b)
		}
		if _, err := walkBeneath(int(mounted.root.Fd()), "sys/kernel/ostype", unix.O_RDONLY); !errors.Is(err, unix.EXDEV) {
			t.Errorf("walk without openat2 under a tmpfs: %v, want EXDEV", err)
		}
		fresh, err := Open()
		if err != nil {
			t.Errorf("Open: %v", err)
			return
		}
		defer fresh.Close()
		if s, err := readAll(t, fresh, "sys/kernel/ostype"); err != nil || s != "Linux\n" {
			t.Errorf("fresh instance: sys/kernel/ostype %q, %v", s, err)
		}
		if err := fresh.WriteFile("thread-self/comm", []byte("procfs-test")); err != nil {
			t.Errorf("fresh instance: write thread-self/comm: %v", err)
		}
	})
}

// TestNotProcfsRoot: a look-alike directory and a procfs subdirectory bound
// where /proc is expected are both refused.
func TestNotProcfsRoot(t *testing.T) {
	requireRoot(t)
	inMountNS(t, func() {
		fake, sub := t.TempDir(), t.TempDir()
		if !mount(t, "tmpfs", fake, "tmpfs", 0) || !mount(t, "/proc/sys", sub, "", unix.MS_BIND) {
			return
		}
		for dir, want := range map[string]string{fake: "not a procfs", sub: "not the root of a procfs"} {
			h, err := OpenMounted(dir)
			if err == nil {
				h.Close()
				t.Errorf("%s accepted as a procfs root", dir)
			} else if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %v, want %q", dir, err, want)
			}
		}
		// /proc itself replaced by a look-alike: Open still gets a real one.
		if !mount(t, "tmpfs", "/proc", "tmpfs", 0) {
			return
		}
		if err := os.MkdirAll("/proc/sys/kernel", 0o755); err != nil {
			t.Error(err)
			return
		}
		h, err := Open()
		if err != nil {
			t.Errorf("Open with a tmpfs on /proc: %v", err)
			return
		}
		defer h.Close()
		if s, err := readAll(t, h, "sys/kernel/ostype"); err != nil || s != "Linux\n" {
			t.Errorf("sys/kernel/ostype: %q, %v", s, err)
		}
	})
}

func TestPidPath(t *testing.T) {
	for s, want := range map[string]bool{
		"1": true, "4242": true, "12/task/13": true,
		"": false, "+1": false, "1/task": false, "1/x/2": false, "../1": false, "1/task/a": false,
	} {
		if got := pidPath(s); got != want {
			t.Errorf("pidPath(%q) = %v, want %v", s, got, want)
		}
	}
}
