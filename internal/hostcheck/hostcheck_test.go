package hostcheck

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestParseRelease(t *testing.T) {
	tests := []struct {
		release      string
		major, minor int
		ok           bool
	}{
		{"6.18.44-fc-v769", 6, 18, true},
		{"5.11.0", 5, 11, true},
		{"5.11-rc1", 5, 11, true},
		{"4.19.0-26-amd64", 4, 19, true},
		{"6.1", 6, 1, true},
		{"6", 0, 0, false},
		{"", 0, 0, false},
		{"x.y", 0, 0, false},
	}
	for _, tt := range tests {
		major, minor, ok := parseRelease(tt.release)
		if major != tt.major || minor != tt.minor || ok != tt.ok {
			t.Errorf("parseRelease(%q) = %d, %d, %v; want %d, %d, %v", tt.release, major, minor, ok, tt.major, tt.minor, tt.ok)
		}
	}
}

func TestReadCgroups(t *testing.T) {
	dir := t.TempDir()
	mountinfo := filepath.Join(dir, "mountinfo")
	procCgroups := filepath.Join(dir, "cgroups")
	os.WriteFile(mountinfo, []byte(`30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
41 22 0:38 / /mnt/other rw shared:5 - cgroup2 cgroup2 rw
bad line
`), 0o644)
	os.WriteFile(procCgroups, []byte("#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t1\t3\t1\nmemory\t4\t27\t1\nrdma\t0\t1\t0\n"), 0o644)
	f, err := readCgroups(mountinfo, procCgroups)
	if err != nil {
		t.Fatal(err)
	}
	wantV1 := map[string]string{"cpu": "/sys/fs/cgroup/cpu,cpuacct", "cpuacct": "/sys/fs/cgroup/cpu,cpuacct", "memory": "/sys/fs/cgroup/memory"}
	if !reflect.DeepEqual(f.V1, wantV1) {
		t.Errorf("v1 = %v, want %v", f.V1, wantV1)
	}
	if f.V2Mount != "/sys/fs/cgroup/unified" {
		t.Errorf("v2 mount %q, want the first cgroup2 mount", f.V2Mount)
	}
	if want := []string{"cpu", "memory"}; !reflect.DeepEqual(f.Enabled, want) {
		t.Errorf("enabled = %v, want %v", f.Enabled, want)
	}
	if _, err := readCgroups(filepath.Join(dir, "absent"), procCgroups); err == nil {
		t.Error("no error for a missing mountinfo")
	}
}

func TestDescribeCgroups(t *testing.T) {
	tests := []struct {
		f    CgroupFacts
		want string
	}{
		{CgroupFacts{}, "no cgroup filesystem mounted"},
		{CgroupFacts{Mode: "v2", V2Mount: "/sys/fs/cgroup", V2Controllers: []string{"cpu", "memory"}}, "v2; cgroup2 at /sys/fs/cgroup (cpu,memory)"},
		{CgroupFacts{Mode: "hybrid", V1: map[string]string{"pids": "/p", "cpu": "/c"}, V2Mount: "/sys/fs/cgroup/unified"},
			"hybrid: v1 cpu,pids; cgroup2 at /sys/fs/cgroup/unified (no controllers)"},
		{CgroupFacts{Mode: "v1", V1: map[string]string{}}, "v1: v1 no controllers"},
	}
	for _, tt := range tests {
		if got := describeCgroups(tt.f); got != tt.want {
			t.Errorf("describeCgroups(%+v) = %q, want %q", tt.f, got, tt.want)
		}
	}
}

func TestRunReportsMissingRequired(t *testing.T) {
	check := func(name string, required, ok bool) func() Check {
		return func() Check { return Check{Name: name, Required: required, OK: ok} }
	}
	tests := []struct {
		name        string
		probes      []func() Check
		wantOK      bool
		wantMissing []string
		wantStatus  []string
	}{
		{"all there", []func() Check{check("a", true, true), check("b", false, true)}, true, []string{}, []string{"ok", "ok"}},
		{"optional absent", []func() Check{check("a", true, true), check("b", false, false)}, true, []string{}, []string{"ok", "no"}},
		{"required absent", []func() Check{check("a", true, false), check("b", false, false), check("c", true, false)},
			false, []string{"a", "c"}, []string{"missing", "no", "missing"}},
	}
	for _, tt := range tests {
		r := run(tt.probes)
		var status []string
		for _, c := range r.Checks {
			status = append(status, c.Status())
		}
		if r.OK != tt.wantOK || !reflect.DeepEqual(r.Missing, tt.wantMissing) || !reflect.DeepEqual(status, tt.wantStatus) {
			t.Errorf("%s: ok %v missing %v status %v; want %v %v %v", tt.name, r.OK, r.Missing, status, tt.wantOK, tt.wantMissing, tt.wantStatus)
		}
	}
}

// TestStoppedChildLeavesNothing: the probe child is in its own namespace
// while it lives and gone (reaped, not a zombie) after kill.
func TestStoppedChildLeavesNothing(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a network namespace")
	}
	child, err := startStopped(&syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET})
	if err != nil {
		t.Fatal(err)
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(child.pid) + "/stat")
	if err != nil || !strings.Contains(string(stat), ") t ") {
		t.Errorf("child %d is not stopped by its tracer: %q %v", child.pid, stat, err)
	}
	if same, err := sameNamespace(child.nsPath("net"), "/proc/self/ns/net"); err != nil || same {
		t.Errorf("child's network namespace is ours (%v, %v)", same, err)
	}
	child.kill()
	if _, err := os.Stat("/proc/" + strconv.Itoa(child.pid)); !os.IsNotExist(err) {
		t.Errorf("child %d still exists after kill: %v", child.pid, err)
	}
}

// TestProbesOnThisHost: the development host (Linux 6.x, root) has every
// required feature; a failure names the probe and what it saw.
func TestProbesOnThisHost(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the probes need root to see everything")
	}
	r := Run()
	for _, c := range r.Checks {
		if c.Required && !c.OK {
			t.Errorf("%s: %s", c.Name, c.Host)
		}
		if c.Host == "" || c.Berth == "" {
			t.Errorf("%s: empty column: host %q berth %q", c.Name, c.Host, c.Berth)
		}
	}
}
