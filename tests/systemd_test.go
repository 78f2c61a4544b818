package tests

import (
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
			run := e.dir("run")
			if err := os.MkdirAll(filepath.Join(run, "systemd", "system"), 0o755); err != nil {
				t.Fatal(err)
			}
			c.socket(t, filepath.Join(run, "systemd", "private"))
			id := e.id("sd" + c.name)
			args := []string{"create", "--bundle", e.bundle(testbundle.Spec("sleep", "1000")), id}
			if !systemdCgroup {
				args = append([]string{"--systemd-cgroup"}, args...)
			}
			start := time.Now()
			r := e.berthOpts(runOpts{
				wrap: []string{"unshare", "-m", "--propagation", "private", "sh", "-c", `mount --bind "$0" /run && exec "$@"`, run},
				env:  []string{"BERTH_SYSTEMD_TIMEOUT=" + timeout.String()},
			}, args...)
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
