package rootfs

import (
	"os"
	"path/filepath"
	"testing"
)

func TestHierarchyOptions(t *testing.T) {
	tests := map[string]string{
		"rw,cpu,cpuacct":                   "cpu,cpuacct",
		"rw,name=systemd":                  "name=systemd",
		"ro,xattr,release_agent=/x,memory": "xattr,memory",
	}
	for in, want := range tests {
		if got := hierarchyOptions(in); got != want {
			t.Errorf("hierarchyOptions(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLinkComounted(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	names := []string{"cpu,cpuacct", "memory", "net_cls,net_prio", "name=systemd", "pids"}
	if err := linkComounted(f, names); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"cpu": "cpu,cpuacct", "cpuacct": "cpu,cpuacct", "net_cls": "net_cls,net_prio", "net_prio": "net_cls,net_prio"}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(want) {
		t.Errorf("got %d entries, want %d: %v", len(entries), len(want), entries)
	}
	for link, target := range want {
		if got, err := os.Readlink(filepath.Join(dir, link)); err != nil || got != target {
			t.Errorf("%s -> %q (%v), want %q", link, got, err, target)
		}
	}
}
