package seal

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// TestSealedHandles: each way of sealing gives a handle with the binary's
// bytes that cannot be opened for writing, even after the read-only flag
// of a mount holding it is cleared (the attack on an open_tree clone).
func TestSealedHandles(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: overlayfs and fsmount")
	}
	src := filepath.Join(t.TempDir(), "dir:with\\specials", "bin")
	if err := os.MkdirAll(filepath.Dir(src), 0o755); err != nil {
		t.Fatal(err)
	}
	want := bytes.Repeat([]byte("berth"), 4096)
	if err := os.WriteFile(src, want, 0o755); err != nil {
		t.Fatal(err)
	}
	// Where the kernel takes no detached mount as an overlay layer (Linux
	// 6.1 refuses it with EINVAL), Exe is the memfd copy: its write fails
	// with the memfd's EPERM, and the overlay case has nothing to test.
	probe, overlayErr := Overlay(src)
	exeWrite := unix.EROFS
	if overlayErr == nil {
		probe.Close()
	} else {
		exeWrite = unix.EPERM
	}
	for _, tc := range []struct {
		name      string
		open      func(string) (*os.File, error)
		wantWrite error
	}{
		{"overlay", Overlay, unix.EROFS},
		{"memfd", Memfd, unix.EPERM},
		{"exe", Exe, exeWrite},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "overlay" && overlayErr != nil {
				t.Skipf("no lower-only overlay with a detached layer on this kernel: %v", overlayErr)
			}
			f, err := tc.open(src)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got := make([]byte, len(want)+1)
			n, _ := f.ReadAt(got, 0)
			if !bytes.Equal(got[:n], want) {
				t.Fatalf("the sealed handle reads %d bytes, not the binary's %d", n, len(want))
			}
			_ = unix.MountSetattr(int(f.Fd()), "", unix.AT_EMPTY_PATH, &unix.MountAttr{Attr_clr: unix.MOUNT_ATTR_RDONLY})
			// The overlay refuses the open, the memfd's seals the write.
			w, err := os.OpenFile("/proc/self/fd/"+strconv.Itoa(int(f.Fd())), os.O_WRONLY, 0)
			if err == nil {
				_, err = w.Write([]byte("pwned"))
				w.Close()
			}
			if !errors.Is(err, tc.wantWrite) {
				t.Errorf("writing through the handle: %v, want %v", err, tc.wantWrite)
			}
		})
	}
}

// TestSameFile: how Overlay tells that the file it opened through the
// overlay is the one it was asked for, not a replacement.
func TestSameFile(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a")
	if err := os.WriteFile(a, []byte("one"), 0o755); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(a)
	other := filepath.Join(dir, "b")
	if err := os.WriteFile(other, []byte("two"), 0o755); err != nil {
		t.Fatal(err)
	}
	ost, _ := os.Stat(other)
	if sameFile(st, ost) {
		t.Fatal("two different files compare as the same")
	}
	if !sameFile(st, st) {
		t.Fatal("a file does not compare as itself")
	}
}

func TestEscapeLower(t *testing.T) {
	for in, want := range map[string]string{"/usr/bin": "/usr/bin", "/a:b": `/a\:b`, `/a\b`: `/a\\b`} {
		if got := escapeLower(in); got != want {
			t.Errorf("escapeLower(%q) = %q, want %q", in, got, want)
		}
	}
}
