package tests

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berthrun/berth/internal/testbundle"
)

// systemctlShow returns the properties of unit as systemd reports them
// (`systemctl show -p NAME ...`); a property systemd lists more than once
// (DeviceAllow) keeps its last line, allOf gives them all.
func systemctlShow(t *testing.T, unit string, props ...string) map[string]string {
	t.Helper()
	args := []string{"show", unit}
	for _, p := range props {
		args = append(args, "-p", p)
	}
	out, err := exec.Command("systemctl", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("systemctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return parseKV(string(out))
}

// TestSystemdDriver: with --systemd-cgroup a container is a transient scope
// named by its cgroupsPath ("slice:prefix:name"), whose properties carry the
// limits (as systemd shows them, and as the kernel has them), update changes
// both, and delete -f stops the scope so that nothing of it is left.
func TestSystemdDriver(t *testing.T) {
	e := newEnv(t)
	if !systemdRunning() {
		t.Skip("systemd is not pid 1 on this host (no /run/systemd/system): the systemd driver has nothing to talk to")
	}
	requireTool(t, "systemctl")
	id := e.id("sd")
	unit := "berth-e2e-" + id + ".scope"
	spec := sh("echo started; exec sleep 1000")
	spec.Linux.CgroupsPath = "system.slice:berth-e2e:" + id
	spec.Linux.Resources = &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: ptr(int64(64 * mib))},
		Pids:   &specs.LinuxPids{Limit: ptr(int64(50))},
		Devices: []specs.LinuxDeviceCgroup{
			{Allow: false, Access: "rwm"},
			// /dev/fuse, read and write: one more DeviceAllow entry.
			{Allow: true, Type: "c", Major: ptr(int64(10)), Minor: ptr(int64(229)), Access: "rw"},
		},
	}
	out := e.tempFile("out")
	args := []string{"run", "-d", "--bundle", e.bundle(spec), id}
	if !systemdCgroup { // else every command carries it already
		args = append([]string{"--systemd-cgroup"}, args...)
	}
	if r := e.berthOpts(runOpts{stdout: out}, args...); r.code != 0 {
		t.Fatalf("%v", r)
	}
	waitOutput(t, out, "started")
	pid := e.state(id).Pid

	show := systemctlShow(t, unit, "ActiveState", "Slice", "Delegate", "ControlGroup", "MemoryMax", "TasksMax", "DevicePolicy")
	for k, want := range map[string]string{
		"ActiveState": "active", "Slice": "system.slice", "Delegate": "yes",
		"MemoryMax": "67108864", "TasksMax": "50", "DevicePolicy": "strict",
	} {
		if show[k] != want {
			t.Errorf("systemctl show %s: %s=%q, want %q", unit, k, show[k], want)
		}
	}
	allow := deviceAllow(t, unit)
	for _, want := range []string{"/dev/char/10:229 rw", "/dev/char/1:3 rwm", "char-136 rwm"} {
		if !slices.Contains(allow, want) {
			t.Errorf("DeviceAllow of %s lacks %q: %q", unit, want, allow)
		}
	}
	// The kernel's view: the container's cgroup is the scope's.
	dirs := cgroupDirs(t, pid)
	mem, pids := dirs["memory"], dirs["pids"]
	if !strings.HasSuffix(mem, "/"+unit) && !strings.Contains(mem, "/"+unit+"/") {
		t.Fatalf("container's memory cgroup %q is not in %s (systemd's ControlGroup=%q)", mem, unit, show["ControlGroup"])
	}
	wantMem, wantPids := memLimit(t, mem), cgValue(t, pids, "pids.max")
	if wantMem != "67108864" || wantPids != "50" {
		t.Errorf("kernel: memory limit %s, pids.max %s; want 67108864 and 50", wantMem, wantPids)
	}

	e.mustBerth("update", "--memory", "128m", "--pids-limit", "80", id)
	show = systemctlShow(t, unit, "MemoryMax", "TasksMax")
	if show["MemoryMax"] != "134217728" || show["TasksMax"] != "80" {
		t.Errorf("after update: systemctl show %s: MemoryMax=%q TasksMax=%q, want 134217728 and 80", unit, show["MemoryMax"], show["TasksMax"])
	}
	if m, p := memLimit(t, mem), cgValue(t, pids, "pids.max"); m != "134217728" || p != "80" {
		t.Errorf("after update, kernel: memory limit %s, pids.max %s; want 134217728 and 80", m, p)
	}

	e.mustBerth("delete", "-f", id)
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := systemctlShow(t, unit, "LoadState", "ActiveState")
		if st["LoadState"] == "not-found" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after delete -f, %s is still loaded: LoadState=%s ActiveState=%s", unit, st["LoadState"], st["ActiveState"])
		}
		time.Sleep(50 * time.Millisecond)
	}
	assertCgroupsGone(t, dirs)
}

// deviceAllow lists the DeviceAllow entries of unit ("PATH ACCESS").
func deviceAllow(t *testing.T, unit string) []string {
	t.Helper()
	out, err := exec.Command("systemctl", "show", unit, "-p", "DeviceAllow").CombinedOutput()
	if err != nil {
		t.Fatalf("systemctl show %s -p DeviceAllow: %v\n%s", unit, err, out)
	}
	var list []string
	for _, l := range lines(string(out)) {
		if v, ok := strings.CutPrefix(l, "DeviceAllow="); ok && v != "" {
			list = append(list, v)
		}
	}
	return list
}

// TestSystemdUnresponsive: with --systemd-cgroup, a systemd that accepts
// the connection but never answers (overloaded, hung: runc #3904), or that
// is not there at all, makes create fail within BERTH_SYSTEMD_TIMEOUT with
// one line that says so, and leaves no state, cgroup or process behind.
// berth runs in a private mount namespace whose /run is a directory of the
// test's: /run/systemd/system says systemd is pid 1, and
// /run/systemd/private (the socket go-systemd dials as root once the
// system bus at /run/dbus is not there) is what each case needs. So this
// runs on any host, systemd or not.
func TestSystemdUnresponsive(t *testing.T) {
	if skipReason != "" {
		t.Skip(skipReason)
	}
	requireTool(t, "unshare")
	requireTool(t, "mount")
	const timeout = 2 * time.Second
	for _, c := range []struct {
		name   string
		socket func(t *testing.T, path string)
		want   []string
	}{
		{"hung", listenNeverAnswer, []string{"--systemd-cgroup: systemd did not answer within 2s", "start berth-", "BERTH_SYSTEMD_TIMEOUT"}},
		{"absent", func(*testing.T, string) {}, []string{"--systemd-cgroup: cannot connect to systemd", "/run/systemd/private", "no such file or directory", "cgroupfs driver"}},
		{"dead", listenClosed, []string{"--systemd-cgroup: cannot connect to systemd", "connection refused"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			id := e.id("sd" + c.name)
			start := time.Now()
			r := e.berthOpts(e.fakeSystemd(c.socket, timeout), sdArgs("create", "--bundle", e.bundle(testbundle.Spec("sleep", "1000")), id)...)
			took := time.Since(start)
			assertError(t, r, c.want...)
			if c.name == "hung" && took < timeout {
				t.Errorf("create failed after %v, before the %v it should wait for systemd", took, timeout)
			}
			// Under TCG a berth command alone takes seconds.
			if took > timeout+15*time.Second {
				t.Errorf("create took %v, want about %v", took, timeout)
			}
			if _, err := os.Lstat(filepath.Join(e.root, id)); !os.IsNotExist(err) {
				t.Errorf("state dir of %s left behind (%v)", id, err)
			}
			if left := cgroupDirsNamed(id); len(left) > 0 {
				t.Errorf("cgroups of %s left behind: %q", id, left)
			}
		})
	}
}

// sdArgs is args with --systemd-cgroup, unless the harness adds it already.
func sdArgs(args ...string) []string {
	if systemdCgroup {
		return args
	}
	return append([]string{"--systemd-cgroup"}, args...)
}

// fakeSystemd runs berth in a private mount namespace whose /run is a
// directory of the test's: /run/systemd/system says systemd is pid 1,
// socket puts at /run/systemd/private what the case needs, and there is no
// system bus (/run/dbus), so go-systemd, as root, dials that socket.
// Each systemd interaction waits at most timeout.
func (e *env) fakeSystemd(socket func(t *testing.T, path string), timeout time.Duration) runOpts {
	e.t.Helper()
	run := e.dir("run")
	if err := os.MkdirAll(filepath.Join(run, "systemd", "system"), 0o755); err != nil {
		e.t.Fatal(err)
	}
	socket(e.t, filepath.Join(run, "systemd", "private"))
	return runOpts{
		wrap: []string{"unshare", "-m", "--propagation", "private", "sh", "-c", `mount --bind "$0" /run && exec "$@"`, run},
		env:  []string{"BERTH_SYSTEMD_TIMEOUT=" + timeout.String()},
	}
}

// TestSystemdHungAfterCreate: update and delete -f of a systemd container
// whose systemd stops answering fail within BERTH_SYSTEMD_TIMEOUT in one
// line; the failed delete keeps the state, so that a delete once systemd
// answers again removes everything.
func TestSystemdHungAfterCreate(t *testing.T) {
	e := newEnv(t)
	if !systemdRunning() {
		t.Skip("systemd is not pid 1 on this host (no /run/systemd/system): no systemd container to start")
	}
	requireTool(t, "unshare")
	requireTool(t, "mount")
	requireTool(t, "systemctl")
	id := e.id("sdhung")
	unit := "berth-e2e-" + id + ".scope"
	spec := testbundle.Spec("sleep", "1000")
	spec.Linux.CgroupsPath = "system.slice:berth-e2e:" + id
	if r := e.berthOpts(runOpts{}, sdArgs("run", "-d", "--bundle", e.bundle(spec), id)...); r.code != 0 {
		t.Fatalf("%v", r)
	}
	dirs := cgroupDirs(t, e.state(id).Pid)
	const timeout = 2 * time.Second
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"update", "--memory", "100m", id}, "(set properties of " + unit + ")"},
		{[]string{"delete", "-f", id}, "(stop " + unit + ")"},
	} {
		start := time.Now()
		r := e.berthOpts(e.fakeSystemd(listenNeverAnswer, timeout), sdArgs(c.args...)...)
		took := time.Since(start)
		assertError(t, r, "--systemd-cgroup: systemd did not answer within 2s", c.want)
		if took < timeout || took > timeout+15*time.Second {
			t.Errorf("%s took %v, want about %v", c.args[0], took, timeout)
		}
	}
	if _, err := os.Lstat(filepath.Join(e.root, id)); err != nil {
		t.Fatalf("the failed delete -f removed the state of %s (%v): a later delete cannot finish the job", id, err)
	}
	e.mustBerth("delete", "-f", id)
	if st := systemctlShow(t, unit, "LoadState"); st["LoadState"] != "not-found" {
		// systemd stops a scope whose processes are gone on its own.
		deadline := time.Now().Add(10 * time.Second)
		for systemctlShow(t, unit, "LoadState")["LoadState"] != "not-found" {
			if time.Now().After(deadline) {
				t.Fatalf("after delete -f, %s is still loaded", unit)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	assertCgroupsGone(t, dirs)
}

// listenNeverAnswer makes path a unix socket that accepts every connection
// and never writes a byte, as a systemd stuck before its D-Bus reply.
func listenNeverAnswer(t *testing.T, path string) {
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
}

// listenClosed leaves at path a unix socket nobody listens on, as a
// systemd that died.
func listenClosed(t *testing.T, path string) {
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close()
}

// TestSystemdResourceProperties: with --systemd-cgroup on cgroup v2, every
// cpu, cpuset and block I/O limit is a property of the container's scope
// (systemctl show: CPUWeight, CPUQuotaPerSecUSec, CPUQuotaPeriodUSec,
// AllowedCPUs, AllowedMemoryNodes, IOWeight, IODeviceWeight, IO*Max), so
// systemd re-realizing the unit keeps them, and the kernel's files hold
// the same values; update changes both.
func TestSystemdResourceProperties(t *testing.T) {
	e := newEnv(t)
	if !systemdRunning() {
		t.Skip("systemd is not pid 1 on this host (no /run/systemd/system): the systemd driver has nothing to talk to")
	}
	if !pureCgroup2() {
		t.Skip("berth sets systemd's IO* properties on cgroup v2 only (v1 has BlockIO* ones)")
	}
	requireTool(t, "systemctl")
	disk := hostBlockDevice(t)
	dev := specs.LinuxBlockIODevice{Major: disk.major, Minor: disk.minor}
	devNum := fmt.Sprintf("%d:%d", disk.major, disk.minor)
	id := e.id("sdres")
	unit := "berth-e2e-" + id + ".scope"
	spec := sh("echo started; exec sleep 1000")
	spec.Linux.CgroupsPath = "system.slice:berth-e2e:" + id
	spec.Linux.Resources = &specs.LinuxResources{
		CPU: &specs.LinuxCPU{
			Shares: ptr(uint64(512)), Quota: ptr(int64(50000)), Period: ptr(uint64(100000)),
			Cpus: "0", Mems: "0",
		},
		BlockIO: &specs.LinuxBlockIO{
			Weight:                  ptr(uint16(500)),
			WeightDevice:            []specs.LinuxWeightDevice{{LinuxBlockIODevice: dev, Weight: ptr(uint16(200))}},
			ThrottleReadBpsDevice:   []specs.LinuxThrottleDevice{{LinuxBlockIODevice: dev, Rate: 1048576}},
			ThrottleWriteBpsDevice:  []specs.LinuxThrottleDevice{{LinuxBlockIODevice: dev, Rate: 2097152}},
			ThrottleReadIOPSDevice:  []specs.LinuxThrottleDevice{{LinuxBlockIODevice: dev, Rate: 100}},
			ThrottleWriteIOPSDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: dev, Rate: 50}},
		},
	}
	out := e.tempFile("out")
	args := []string{"run", "-d", "--bundle", e.bundle(spec), id}
	if !systemdCgroup {
		args = append([]string{"--systemd-cgroup"}, args...)
	}
	if r := e.berthOpts(runOpts{stdout: out}, args...); r.code != 0 {
		t.Fatalf("%v", r)
	}
	waitOutput(t, out, "started")
	dir := cgroupDirs(t, e.state(id).Pid)[""]
	if !strings.HasSuffix(dir, "/"+unit) {
		t.Fatalf("container's cgroup %q is not the scope %s", dir, unit)
	}
	path := fmt.Sprintf("/dev/block/%d:%d", dev.Major, dev.Minor)
	check := func(when string, w sdResources) {
		t.Helper()
		show := systemctlShow(t, unit, "CPUWeight", "CPUQuotaPerSecUSec", "CPUQuotaPeriodUSec", "AllowedCPUs", "AllowedMemoryNodes",
			"IOWeight", "IODeviceWeight", "IOReadBandwidthMax", "IOWriteBandwidthMax", "IOReadIOPSMax", "IOWriteIOPSMax")
		for k, want := range map[string]string{
			"CPUWeight":          fmt.Sprint(w.cpuWeight),
			"CPUQuotaPerSecUSec": fmt.Sprintf("%dms", uint64(w.quota)*1000/w.period),
			"CPUQuotaPeriodUSec": fmt.Sprintf("%dms", w.period/1000),
			"AllowedCPUs":        w.cpus,
			"AllowedMemoryNodes": "0",
			"IOWeight":           fmt.Sprint(blkioToIOWeight(w.weight)),
			"IODeviceWeight":     fmt.Sprintf("%s %d", path, blkioToIOWeight(200)),
			"IOReadBandwidthMax": fmt.Sprintf("%s %d", path, w.rbps),
			// The write limits are not updated: they stay.
			"IOWriteBandwidthMax": path + " 2097152",
			"IOReadIOPSMax":       fmt.Sprintf("%s %d", path, w.riops),
			"IOWriteIOPSMax":      path + " 50",
		} {
			if show[k] != want {
				t.Errorf("%s: systemctl show %s: %s=%q, want %q", when, unit, k, show[k], want)
			}
		}
		ioMax := ""
		for _, l := range lines(cgFile(t, dir, "io.max")) {
			if strings.HasPrefix(l, devNum+" ") {
				ioMax = l
			}
		}
		for file, want := range map[string]string{
			"cpu.weight":  fmt.Sprint(w.cpuWeight),
			"cpu.max":     fmt.Sprintf("%d %d", w.quota, w.period),
			"cpuset.cpus": w.cpus,
			"cpuset.mems": "0",
			"io.weight":   fmt.Sprintf("default %d", blkioToIOWeight(w.weight)),
			"io.max":      fmt.Sprintf("%s rbps=%d wbps=2097152 riops=%d wiops=50", devNum, w.rbps, w.riops),
		} {
			got := cgFile(t, dir, file)
			switch file {
			case "io.weight": // "default N" and a line per device
				got, _, _ = strings.Cut(got, "\n")
			case "io.max": // a line per device
				got = ioMax
			}
			if got != want {
				t.Errorf("%s: kernel: %s/%s = %q, want %q", when, dir, file, got, want)
			}
		}
	}
	check("at create", sdResources{shares: 512, cpuWeight: 59, quota: 50000, period: 100000, cpus: "0", weight: 500, rbps: 1048576, riops: 100})

	upd := sdResources{shares: 2048, cpuWeight: 174, quota: 20000, period: 50000, cpus: "0", weight: 800, rbps: 4194304, riops: 200}
	if onlineCPUs(t) > 1 {
		upd.cpus = "1"
	}
	r := e.berthOpts(runOpts{stdin: fmt.Sprintf(`{"cpu":{"shares":%d,"quota":%d,"period":%d,"cpus":%q},`+
		`"blockIO":{"weight":%d,"throttleReadBpsDevice":[{"major":%d,"minor":%d,"rate":%d}],"throttleReadIOPSDevice":[{"major":%d,"minor":%d,"rate":%d}]}}`,
		upd.shares, upd.quota, upd.period, upd.cpus, upd.weight, dev.Major, dev.Minor, upd.rbps, dev.Major, dev.Minor, upd.riops)},
		"update", "--resources", "-", id)
	if r.code != 0 {
		t.Fatalf("%v", r)
	}
	check("after update", upd)
	// systemd realizes the unit again from its properties (as on a
	// daemon-reload): the limits are still there.
	if out, err := exec.Command("systemctl", "daemon-reload").CombinedOutput(); err != nil {
		t.Fatalf("systemctl daemon-reload: %v\n%s", err, out)
	}
	check("after daemon-reload", upd)
}

// sdResources are the values TestSystemdResourceProperties sets.
type sdResources struct {
	// cpuWeight is cgroup v2's weight for shares, as the library
	// converts them (a curve through 2→1, 1024→100 and 262144→10000).
	shares, cpuWeight, period uint64
	quota                     int64
	cpus                      string
	weight                    uint16
	rbps, riops               uint64
}

// blkioToIOWeight is io.weight for a blkio weight (10..1000 to 1..10000).
func blkioToIOWeight(w uint16) uint64 { return 1 + (uint64(w)-10)*9999/990 }

// onlineCPUs counts the CPUs in /sys/devices/system/cpu/online ("0-1,3").
func onlineCPUs(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/sys/devices/system/cpu/online")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range strings.Split(strings.TrimSpace(string(b)), ",") {
		lo, hi, found := strings.Cut(r, "-")
		if !found {
			n++
			continue
		}
		var a, z int
		fmt.Sscan(lo, &a)
		fmt.Sscan(hi, &z)
		n += z - a + 1
	}
	return n
}
