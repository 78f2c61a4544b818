package cgroups

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	ocgroups "github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/manager"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestSplitSystemdPath(t *testing.T) {
	rows := []struct {
		path, slice, prefix, name, err string
	}{
		{"", "system.slice", "berth", "box", ""},
		{"system.slice:docker:1234", "system.slice", "docker", "1234", ""},
		{"user.slice:podman:abc", "user.slice", "podman", "abc", ""},
		{":berth:box", "system.slice", "berth", "box", ""},
		{"machine.slice::box", "machine.slice", "", "box", ""},
		{"system.slice:docker", "", "", "", `linux.cgroupsPath "system.slice:docker": want "slice:prefix:name" with --systemd-cgroup`},
		{"/abs/path", "", "", "", `want "slice:prefix:name"`},
		{"a:b:c:d", "", "", "", `want "slice:prefix:name"`},
		{"system:docker:1", "", "", "", `slice "system" must be a systemd slice name ending in .slice`},
		{"system.slice:docker:", "", "", "", "empty name"},
		{"system.slice:a/b:c", "", "", "", "must not contain '/'"},
	}
	for _, r := range rows {
		slice, prefix, name, err := SplitSystemdPath(r.path, "box", false)
		if r.err != "" {
			if err == nil || !strings.Contains(err.Error(), r.err) {
				t.Errorf("SplitSystemdPath(%q) error %v, want %q", r.path, err, r.err)
			}
			continue
		}
		if err != nil || slice != r.slice || prefix != r.prefix || name != r.name {
			t.Errorf("SplitSystemdPath(%q) = %q %q %q %v, want %q %q %q", r.path, slice, prefix, name, err, r.slice, r.prefix, r.name)
		}
	}
	// Rootless, the default slice is the user's systemd's user.slice; a
	// slice given is kept.
	for path, want := range map[string]string{"": "user.slice", ":berth:box": "user.slice", "app.slice:berth:box": "app.slice"} {
		if slice, _, _, err := SplitSystemdPath(path, "box", true); err != nil || slice != want {
			t.Errorf("SplitSystemdPath(%q, rootless) slice %q (%v), want %q", path, slice, err, want)
		}
	}
}

// TestMountPaths: the names the container's cgroup mount uses, from the
// paths the cgroup library reports, on each kind of host.
func TestMountPaths(t *testing.T) {
	hybrid := map[string]string{
		"":             "/sys/fs/cgroup/unified/box",
		"cpu":          "/sys/fs/cgroup/cpu,cpuacct/box",
		"cpuacct":      "/sys/fs/cgroup/cpu,cpuacct/box",
		"memory":       "/sys/fs/cgroup/memory/box",
		"name=systemd": "/sys/fs/cgroup/systemd/box",
	}
	rows := []struct {
		name   string
		paths  map[string]string
		pureV2 bool
		want   map[string]string
	}{
		{"hybrid", hybrid, false, map[string]string{
			"unified":     "/sys/fs/cgroup/unified/box",
			"cpu,cpuacct": "/sys/fs/cgroup/cpu,cpuacct/box",
			"memory":      "/sys/fs/cgroup/memory/box",
			"systemd":     "/sys/fs/cgroup/systemd/box",
		}},
		{"pure v2", map[string]string{"": "/sys/fs/cgroup/box"}, true,
			map[string]string{"": "/sys/fs/cgroup/box"}},
		{"pure v2, nested path", map[string]string{"": "/sys/fs/cgroup/system.slice/box.scope"}, true,
			map[string]string{"": "/sys/fs/cgroup/system.slice/box.scope"}},
		{"outside /sys/fs/cgroup", map[string]string{"": "/elsewhere/box"}, true,
			map[string]string{}},
	}
	for _, r := range rows {
		if got := mountPaths(r.paths, r.pureV2); !reflect.DeepEqual(got, r.want) {
			t.Errorf("%s: mountPaths = %v, want %v", r.name, got, r.want)
		}
	}
}

func TestSystemdDriverFailsFast(t *testing.T) {
	if systemdRunning() {
		t.Skip("systemd runs on this host; the fail-fast path is not reachable")
	}
	start := time.Now()
	_, err := New("box", "system.slice:berth:box", true, false)
	if err == nil || !strings.Contains(err.Error(), "--systemd-cgroup: systemd is not running on this host") {
		t.Fatalf("New with systemd: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v to fail", d)
	}
	// A malformed path is reported as such, whatever the host.
	_, err = New("box", "nocolons", true, false)
	if err == nil || !strings.Contains(err.Error(), `linux.cgroupsPath "nocolons"`) {
		t.Errorf("bad systemd path: %v", err)
	}
}

func TestNewRefusesWhatHostCannotApply(t *testing.T) {
	mode, err := Host()
	if err != nil || mode == ModeV2 {
		t.Skip("needs a cgroup v1 or hybrid host")
	}
	res, err := Resources(&specs.LinuxResources{Unified: map[string]string{"memory.max": "1G"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = New("box", "/berth-never-created", false, false, WithResources(res))
	if err == nil || !strings.Contains(err.Error(), `linux.resources.unified["memory.max"]: cannot use unified on cgroup v1: this host has no cgroup2 memory controller`) {
		t.Errorf("New: %v", err)
	}
}

func randomID(t *testing.T) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "berth-unit-" + hex.EncodeToString(b)
}

func readTrim(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	return strings.TrimSpace(string(b))
}

// TestRealCgroup creates a real cgroup, applies resources, pauses, reads
// statistics, sees an OOM kill, kills and removes it. Root only.
func TestRealCgroup(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipped: creating cgroups needs root")
	}
	mode, err := Host()
	if err != nil {
		t.Fatal(err)
	}
	if mode == ModeV2 {
		t.Skip("skipped: this test reads cgroup v1 files; the host is pure cgroup v2")
	}
	id := randomID(t)
	const limit = 32 << 20
	spec := &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: i64(limit), Swap: i64(limit)},
		CPU:    &specs.LinuxCPU{Shares: u64(512), Quota: i64(50000), Period: u64(100000), Cpus: "0", Mems: "0"},
		Pids:   &specs.LinuxPids{Limit: i64(10)},
		Devices: []specs.LinuxDeviceCgroup{
			{Allow: false, Access: "rwm"},
			{Allow: false, Type: "c", Major: i64(1), Minor: i64(7), Access: "rwm"}, // no /dev/full
			{Allow: true, Type: "c", Major: i64(10), Minor: i64(200), Access: "rw"},
		},
	}
	// Without swap accounting the hog below could swap instead of being
	// OOM-killed.
	h, _ := detectHost()
	swapOK := h.hasFile("memory", "memory.memsw.limit_in_bytes")
	if !swapOK {
		spec.Memory.Swap = nil
		t.Log("no swap accounting on this host: memory.swap and the OOM check are not tested")
	}
	blkioOK := true
	weightSpec := &specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: u16(500)}}
	if r, _ := Resources(weightSpec); CheckHost(r, nil) != nil {
		blkioOK = false
		t.Logf("blkio weight not tested: %v", CheckHost(r, nil))
	} else {
		spec.BlockIO = weightSpec.BlockIO
	}
	res, err := Resources(spec)
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(id, "/"+id, false, false, WithResources(res))
	if err != nil {
		t.Fatal(err)
	}
	sleep := exec.Command("sleep", "1000")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = m.Thaw()
		_ = m.Kill()
		_ = sleep.Process.Kill()
		_, _ = sleep.Process.Wait()
		_ = m.Destroy()
	})
	if err := m.Apply(sleep.Process.Pid); err != nil {
		t.Fatal(err)
	}
	if err := m.Set(nil); err != nil {
		t.Fatal(err)
	}
	paths := m.Paths()
	t.Logf("paths: %v", paths)

	// Values read back from the cgroup files.
	want := map[string]string{
		filepath.Join(paths["memory"], "memory.limit_in_bytes"):       "33554432",
		filepath.Join(paths["memory"], "memory.memsw.limit_in_bytes"): "33554432",
		filepath.Join(paths["pids"], "pids.max"):                      "10",
		filepath.Join(paths["cpu"], "cpu.shares"):                     "512",
		filepath.Join(paths["cpu"], "cpu.cfs_quota_us"):               "50000",
		filepath.Join(paths["cpu"], "cpu.cfs_period_us"):              "100000",
		filepath.Join(paths["cpuset"], "cpuset.cpus"):                 "0",
		filepath.Join(paths["cpuset"], "cpuset.mems"):                 "0",
	}
	if !swapOK {
		delete(want, filepath.Join(paths["memory"], "memory.memsw.limit_in_bytes"))
	}
	for file, v := range want {
		if got := readTrim(t, file); got != v {
			t.Errorf("%s = %q, want %q", file, got, v)
		}
	}
	if blkioOK {
		dir := paths["blkio"]
		file := filepath.Join(dir, "blkio.weight")
		if _, err := os.Stat(file); err != nil {
			file = filepath.Join(dir, "blkio.bfq.weight")
		}
		if _, err := os.Stat(file); err != nil {
			t.Logf("blkio weight skipped: neither blkio.weight nor blkio.bfq.weight in %s", dir)
		} else {
			got := readTrim(t, file)
			t.Logf("%s = %q", file, got)
			if !strings.HasSuffix(got, "500") {
				t.Errorf("%s = %q, want 500", file, got)
			}
		}
	}
	list := readTrim(t, filepath.Join(paths["devices"], "devices.list"))
	for _, line := range []string{"c 1:3 rwm", "c 136:* rwm", "c *:* m", "b *:* m", "c 10:200 rw"} {
		if !strings.Contains(list+"\n", line+"\n") {
			t.Errorf("devices.list lacks %q:\n%s", line, list)
		}
	}
	if strings.Contains(list, "c 1:7 ") || strings.Contains(list, "a *:*") {
		t.Errorf("devices.list allows /dev/full or everything:\n%s", list)
	}
	// Setting the same rules again writes nothing and still matches.
	if err := m.Set(nil); err != nil {
		t.Errorf("second Set: %v", err)
	}

	// Freeze and thaw with a real process inside.
	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	if got := readTrim(t, filepath.Join(paths["freezer"], "freezer.state")); got != "FROZEN" {
		t.Errorf("freezer.state = %q after Freeze", got)
	}
	if frozen, err := m.Frozen(); err != nil || !frozen {
		t.Errorf("Frozen() = %v, %v", frozen, err)
	}
	if err := m.Thaw(); err != nil {
		t.Fatal(err)
	}
	if got := readTrim(t, filepath.Join(paths["freezer"], "freezer.state")); got != "THAWED" {
		t.Errorf("freezer.state = %q after Thaw", got)
	}
	if frozen, err := m.Frozen(); err != nil || frozen {
		t.Errorf("Frozen() = %v, %v after Thaw", frozen, err)
	}

	// Statistics.
	st, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.MemoryStats.Usage.Limit != limit {
		t.Errorf("stats memory limit %d, want %d", st.MemoryStats.Usage.Limit, limit)
	}
	if st.PidsStats.Current != 1 || st.PidsStats.Limit != 10 {
		t.Errorf("stats pids %+v, want current 1 limit 10", st.PidsStats)
	}
	ev := ConvertStats(st)
	if ev.Memory.Usage.Limit != limit || ev.Pids.Current != 1 {
		t.Errorf("events stats %+v %+v", ev.Memory.Usage, ev.Pids)
	}

	// An OOM kill is counted and notified.
	var watch *OOMWatch
	if swapOK {
		watch = testOOM(t, m)
		defer watch.Close()
	}
	// Kill a paused container through a manager loaded from the saved
	// paths, as delete does: everything goes.
	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	m, err = Load(paths, false)
	if err != nil {
		t.Fatal(err)
	}
	if frozen, err := m.Frozen(); err != nil || !frozen {
		t.Errorf("loaded manager: Frozen() = %v, %v", frozen, err)
	}
	if err := m.Kill(); err != nil {
		t.Fatal(err)
	}
	_, _ = sleep.Process.Wait()
	if pids, err := m.Pids(); err != nil || len(pids) != 0 {
		t.Errorf("after Kill: pids %v, %v", pids, err)
	}

	// Destroy removes every directory; the OOM watch ends with it.
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	for sub, p := range paths {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s cgroup %s still there (%v)", sub, p, err)
		}
	}
	left, _ := filepath.Glob("/sys/fs/cgroup/*/" + id)
	if len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
	if watch == nil {
		return
	}
	select {
	case _, open := <-watch.C:
		if open {
			// one more merged notification is fine; the close must follow
			if _, open = <-watch.C; open {
				t.Error("OOM watch still open after Destroy")
			}
		}
	case <-time.After(5 * time.Second):
		t.Error("OOM watch not closed after Destroy")
	}
}

// testOOM runs a memory hog in the cgroup (limit 32 MiB, no swap) and
// checks that the OOM kill is notified and counted. The watch stays open.
func testOOM(t *testing.T, m *Manager) *OOMWatch {
	t.Helper()
	if n, err := m.OOMKillCount(); err != nil || n != 0 {
		t.Errorf("OOMKillCount before = %d, %v", n, err)
	}
	watch, err := m.NotifyOOM()
	if err != nil {
		t.Fatal(err)
	}
	hog := exec.Command("sh", "-c", `read go; v=$(head -c 100000000 /dev/zero | tr '\0' a); echo survived`)
	stdin, err := hog.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := hog.Start(); err != nil {
		t.Fatal(err)
	}
	if err := m.Apply(hog.Process.Pid); err != nil {
		t.Fatal(err)
	}
	stdin.Write([]byte("go\n"))
	stdin.Close()
	select {
	case <-watch.C:
	case <-time.After(20 * time.Second):
		t.Error("no OOM notification within 20s")
	}
	_ = hog.Wait()
	if n, err := m.OOMKillCount(); err != nil || n == 0 {
		t.Errorf("OOMKillCount after the hog = %d, %v", n, err)
	}
	return watch
}

// TestRelativePathsMatchLibrary: for relative paths, relativePaths gives the
// directories the library's own lookup gives on this host.
func TestRelativePathsMatchLibrary(t *testing.T) {
	if ocgroups.IsCgroup2UnifiedMode() {
		t.Skip("skipping: a cgroup2-only host has no per-hierarchy paths")
	}
	for _, path := range []string{"box", "a/b/c", "../../escape", "./x/../y"} {
		got, ok := relativePaths(path)
		if !ok {
			t.Fatalf("%q: relativePaths gave up", path)
		}
		m, err := manager.New(&ocgroups.Cgroup{Path: path, Resources: &ocgroups.Resources{}})
		if err != nil {
			t.Fatal(err)
		}
		if want := m.GetPaths(); !reflect.DeepEqual(got, want) {
			t.Errorf("%q: paths\n got %v\nwant %v", path, got, want)
		}
	}
}

// TestLoadNoCgroup: saved paths that name no cgroup of this host load as a
// manager of nothing, never the caller's own cgroup: Pids of it must not
// list this test process's cgroup (which the library would work out from
// empty paths).
func TestLoadNoCgroup(t *testing.T) {
	cases := []map[string]string{nil, {}}
	if mode, err := Host(); err == nil && mode == ModeV2 {
		cases = append(cases, map[string]string{"memory": "/sys/fs/cgroup/memory/box"})
	}
	for _, paths := range cases {
		m, err := Load(paths, false)
		if err != nil {
			t.Fatalf("Load(%v): %v", paths, err)
		}
		// ErrNoCgroup: the caller finds the processes through /proc.
		if pids, err := m.Pids(); !errors.Is(err, ErrNoCgroup) || len(pids) != 0 {
			t.Errorf("Load(%v).Pids() = %v, %v; want none and ErrNoCgroup", paths, pids, err)
		}
		if got := m.Paths(); len(got) != 0 {
			t.Errorf("Load(%v).Paths() = %v, want none", paths, got)
		}
		if m.Exists() {
			t.Errorf("Load(%v).Exists() = true", paths)
		}
	}
}
