package cgroups

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/cgroups"
)

func TestLimitField(t *testing.T) {
	one := int64(1)
	cases := []struct {
		name string
		res  cgroups.Resources
		want string
	}{
		{"memory", cgroups.Resources{}, ""},
		{"memory", cgroups.Resources{Memory: 1 << 20}, "linux.resources.memory.limit"},
		{"memory", cgroups.Resources{OomKillDisable: true}, "linux.resources.memory.disableOOMKiller"},
		{"cpu", cgroups.Resources{CpuQuota: 5000}, "linux.resources.cpu.quota"},
		{"cpuset", cgroups.Resources{CpusetCpus: "0"}, "linux.resources.cpu.cpus"},
		{"pids", cgroups.Resources{PidsLimit: &one}, "linux.resources.pids.limit"},
		{"blkio", cgroups.Resources{BlkioWeight: 100}, "linux.resources.blockIO.weight"},
		{"devices", cgroups.Resources{Memory: 1}, ""}, // device rules are no limit here
		{"freezer", cgroups.Resources{Memory: 1}, ""},
		{"", cgroups.Resources{PidsLimit: &one}, "linux.resources.pids.limit"},
		{"", cgroups.Resources{}, ""},
	}
	for _, c := range cases {
		if got := limitField(c.name, &c.res); got != c.want {
			t.Errorf("limitField(%q, %+v) = %q, want %q", c.name, c.res, got, c.want)
		}
	}
}

// TestRootlessPaths keeps what may be written and refuses a limit in, or
// an explicit cgroupsPath over, what may not. As root everything is
// writable, so the unwritable side is a path below a file (ENOTDIR).
func TestRootlessPaths(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
	}
	ok := filepath.Join(t.TempDir(), "new", "c1")
	bad := filepath.Join(file, "c1")
	paths := map[string]string{"pids": ok, "memory": bad, "devices": bad}

	keep, err := rootlessPaths(paths, &cgroups.Resources{}, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(keep) != 1 || keep["pids"] != ok {
		t.Errorf("kept %v, want pids only", keep)
	}
	_, err = rootlessPaths(paths, &cgroups.Resources{Memory: 1 << 20}, "")
	if err == nil || !strings.HasPrefix(err.Error(), "linux.resources.memory.limit: ") {
		t.Errorf("memory limit in an unwritable hierarchy: %v", err)
	}
	_, err = rootlessPaths(paths, &cgroups.Resources{}, "/mine")
	if err == nil || !strings.Contains(err.Error(), `linux.cgroupsPath "/mine"`) {
		t.Errorf("explicit cgroupsPath over an unwritable hierarchy: %v", err)
	}
	if err := checkRootlessLimits(keep, &cgroups.Resources{Memory: 1 << 20}); err == nil || !strings.Contains(err.Error(), "linux.resources.memory.limit") {
		t.Errorf("update of a limit the container has no cgroup for: %v", err)
	}
	one := int64(5)
	if err := checkRootlessLimits(map[string]string{"pids": ok, "devices": ok, "memory": ok, "cpu": ok, "cpuset": ok, "blkio": ok, "hugetlb": ok, "net_cls": ok, "net_prio": ok, "rdma": ok, "": ok}, &cgroups.Resources{PidsLimit: &one}); err != nil {
		t.Errorf("update of a limit the container has a cgroup for: %v", err)
	}
}
