package ctest

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// copyTestTree makes one entry of each kind under dir, with modes and
// times a copy could lose.
func copyTestTree(t *testing.T, dir string) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "d", "e"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "d", "e", "g"), []byte("deep\n"), 0o600))
	must(os.WriteFile(filepath.Join(dir, "f"), []byte(strings.Repeat("x", 200<<10)), 0o644))
	must(os.Symlink("../../outside", filepath.Join(dir, "l")))
	must(unix.Mkfifo(filepath.Join(dir, "p"), 0o640))
	must(unix.Fchmodat(unix.AT_FDCWD, filepath.Join(dir, "f"), 0o2755, 0))
	must(os.Chmod(filepath.Join(dir, "d"), 0o710))
	old := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, n := range []string{"d/e/g", "f", "d/e", "d"} {
		must(os.Chtimes(filepath.Join(dir, n), old, old))
	}
}

// describe lists a tree: path, type and mode, size, mtime, link target.
func describe(t *testing.T, dir string) string {
	t.Helper()
	var out []string
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		st := fi.Sys().(*syscall.Stat_t)
		line := rel + " " + fi.Mode().String() + " " + time.Unix(st.Mtim.Unix()).UTC().Format(time.RFC3339)
		if fi.Mode()&os.ModeSymlink != 0 {
			target, _ := os.Readlink(p)
			line += " -> " + target
		} else if fi.Mode().IsRegular() {
			line += " " + string(rune('0'+fi.Size()%10))
		}
		out = append(out, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, "\n")
}

func openDir(t *testing.T, dir string) int {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// TestCopyUp: copyup_tree copies files, directories, symlinks (as links,
// never followed) and fifos with their modes (set-id bits too) and times;
// the symlink's target outside the tree is not touched.
func TestCopyUp(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	copyTestTree(t, src)
	what, err := CopyUp(openDir(t, src), openDir(t, dst))
	if err != nil {
		t.Fatalf("copyup_tree: %s: %v", what, err)
	}
	want, got := describe(t, src), describe(t, dst)
	if got != want {
		t.Errorf("copy:\n%s\nwant:\n%s", got, want)
	}
	if !strings.Contains(got, "f grwxr-xr-x") || !strings.Contains(got, "l Lrwxrwxrwx") {
		t.Errorf("the set-gid file or the symlink is missing:\n%s", got)
	}
	if b, err := os.ReadFile(filepath.Join(dst, "f")); err != nil || len(b) != 200<<10 {
		t.Errorf("f: %d bytes, %v", len(b), err)
	}
}

// TestCopyUpErrors: what fails is named, with its errno: an entry that
// is already in the destination, a source that is no directory.
func TestCopyUpErrors(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	copyTestTree(t, src)
	if err := os.WriteFile(filepath.Join(dst, "f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	what, err := CopyUp(openDir(t, src), openDir(t, dst))
	if what != `copy "f"` || !errors.Is(err, unix.EEXIST) {
		t.Errorf("existing entry: %q %v, want copy \"f\" and EEXIST", what, err)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(file, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	what, err = CopyUp(fd, openDir(t, dst))
	if what != `read "."` || !errors.Is(err, unix.ENOTDIR) {
		t.Errorf("file source: %q %v, want read \".\" and ENOTDIR", what, err)
	}
}
