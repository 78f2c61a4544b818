package rootfs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOrdinaryDir: procfs and sysfs destinations must be directories of
// the image itself; a symlink (to a directory, dangling, or climbing out)
// or a file there is refused with the filesystem named, and a missing one
// is made. Symlinks above the last component resolve in the root as for any
// destination.
func TestOrdinaryDir(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"proc", "real", "real/sys", "outside"} {
		if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{
		"sys":      "/real/sys",
		"dangling": "/nowhere",
		"climb":    "../../../../outside",
		"via":      "/real",
	} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	rows := []struct {
		dest, fstype string
		want         string // "" = accepted; else part of the refusal
		made         string // accepted: the directory that must exist in root afterwards
	}{
		{"/proc", "proc", "", "proc"},
		{"/newdir", "sysfs", "", "newdir"},
		{"/via/sys", "sysfs", "", "real/sys"}, // a symlinked parent resolves in the root
		{"/sys", "sysfs", `filesystem "sysfs" must be mounted on an ordinary directory: /sys is a symlink`, ""},
		{"sys/", "sysfs", "/sys is a symlink", ""},
		{"/dangling", "proc", `filesystem "proc" must be mounted on an ordinary directory: /dangling is a symlink`, ""},
		{"/climb", "proc", "/climb is a symlink", ""},
		{"/file", "proc", "/file is not a directory", ""},
	}
	tr, err := openTree(root)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.close()
	for _, r := range rows {
		h, err := tr.ordinaryDir(r.dest, r.fstype)
		switch {
		case r.want != "" && (err == nil || !strings.Contains(err.Error(), r.want)):
			t.Errorf("ordinaryDir(%q): %v, want %q", r.dest, err, r.want)
		case r.want == "" && err != nil:
			t.Errorf("ordinaryDir(%q): %v", r.dest, err)
		case r.want == "":
			if fi, err := os.Stat(filepath.Join(root, r.made)); err != nil || !fi.IsDir() {
				t.Errorf("ordinaryDir(%q): %s is not a directory in the root: %v", r.dest, r.made, err)
			}
		}
		if h != nil {
			h.Close()
		}
	}
	if _, err := os.Lstat(filepath.Join(root, "nowhere")); err == nil {
		t.Errorf("a dangling symlink's target was created")
	}
}
