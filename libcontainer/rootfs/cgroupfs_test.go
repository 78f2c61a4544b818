package rootfs

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
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

// TestRootfsCgroupNSOptions: in a cgroup namespace each v1 hierarchy is
// mounted afresh with the host's options, whether Prepare reads them from
// the mount table or the caller brings them in Plan.CgroupOptions (berth's
// parent does, for the C init's rootfs helper).
func TestRootfsCgroupNSOptions(t *testing.T) {
	requireRoot(t)
	if _, err := os.Stat("/proc/self/ns/cgroup"); err != nil {
		t.Skip("skipping: no cgroup namespaces")
	}
	host, err := HostCgroupOptions()
	if err != nil {
		t.Fatal(err)
	}
	cgPaths := hostCgroupPaths(t)
	checked := 0
	for _, given := range []map[string]string{nil, host} {
		h := newTestHost(t)
		rep := h.run(t, &childRequest{Plan: Plan{
			Root: h.root, Mounts: h.typicalMounts(), CgroupNS: true,
			CgroupPaths: cgPaths, CgroupOptions: given,
		}}, syscall.CLONE_NEWCGROUP)
		if rep.Error != "" {
			t.Fatalf("child (options given: %v) failed: %s", given != nil, rep.Error)
		}
		for name, want := range host {
			if _, ok := cgPaths[name]; !ok {
				continue
			}
			line := mountInfoAt(rep.MountInfo, "/sys/fs/cgroup/"+name)
			f := strings.Fields(line)
			if len(f) == 0 || f[len(f)-3] != "cgroup" || hierarchyOptions(f[len(f)-1]) != want {
				t.Errorf("options given: %v: /sys/fs/cgroup/%s is %q, want a cgroup mount with %q", given != nil, name, line, want)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Skip("skipping: no v1 cgroup hierarchies on this host")
	}
}
