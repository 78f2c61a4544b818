package rootfs

import (
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
