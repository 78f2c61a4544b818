package clients

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// containerd is a private containerd and ctr pointed at it. Its
// namespace is the world's cgroup name, so the runc shim puts containers
// in /<namespace>/<id> of every hierarchy, below a cgroup of the world.
// Under the harness switch BERTH_TEST_SYSTEMD_CGROUP=1 each container is
// the systemd scope <namespace>-<id>.scope in system.slice instead.
type containerd struct {
	w        *world
	sock     string
	ns       string
	runcRoot string // berth's --root, as the shim passes it
	fifoDir  string
}

func startContainerd(t *testing.T) *containerd {
	w := newWorld(t, "containerd")
	c := &containerd{w: w, sock: w.path("containerd.sock"), ns: w.cgroup,
		runcRoot: w.path("berth-root"), fifoDir: w.path("fifo")}
	w.berthRoots = []string{filepath.Join(c.runcRoot, c.ns)} // the shim adds the namespace
	// Only what ctr run needs: no CRI.
	w.startContainerdDaemon(c.sock, []string{"io.containerd.grpc.v1.cri"}, "")
	if systemdCgroup {
		// After every subtest's own removal, before the world's cleanup:
		// a scope of this world still there is a container berth or
		// systemd failed to remove.
		t.Cleanup(func() { c.checkNoScopes(t) })
	}
	return c
}

// scopeSlice is the slice the ctr scenarios put their scopes in under the
// systemd driver, as Docker and ctr's own example do.
const scopeSlice = "system.slice"

// scope is the systemd unit of container id under the systemd driver.
func (c *containerd) scope(id string) string { return c.ns + "-" + id + ".scope" }

// cgroupPath is the cgroup the container id is in, under either driver.
func (c *containerd) cgroupPath(id string) string {
	if systemdCgroup {
		return "/" + scopeSlice + "/" + c.scope(id)
	}
	return "/" + c.ns + "/" + id
}

// checkNoScopes fails the test if a scope of this world is still loaded
// or its cgroup still exists (systemd drops a stopped transient unit soon
// after; it gets a while).
func (c *containerd) checkNoScopes(t *testing.T) {
	pattern := filepath.Join("/sys/fs/cgroup", scopeSlice, c.ns+"-*.scope")
	var left []string
	if !eventually(10*time.Second, func() bool { left, _ = filepath.Glob(pattern); return len(left) == 0 }) {
		t.Errorf("leak: scopes of %s remain: %v", c.ns, left)
	}
	out, _ := exec.Command("systemctl", "list-units", "--all", "--no-legend", "--plain", c.ns+"-*.scope").Output()
	if s := strings.TrimSpace(string(out)); s != "" {
		t.Errorf("leak: systemd still has units of %s:\n%s", c.ns, s)
	}
}

// hostProbingPlugins are containerd plugins no suite needs that probe the
// host or reach outside the world: snapshotters of other filesystems,
// the /opt plugin directory, tracing.
var hostProbingPlugins = []string{"io.containerd.internal.v1.opt",
	"io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
	"io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
	"io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"}

// startContainerdDaemon starts a containerd of the world: root, state and
// sockets below its directory, the host-probing plugins and disabled
// turned off, and extra (TOML plugin sections) appended to its config.
// It returns the daemon once ctr gets an answer on sock.
func (w *world) startContainerdDaemon(sock string, disabled []string, extra string) *daemon {
	w.t.Helper()
	// The runc shim puts its socket in /run/containerd/s whatever the
	// daemon's state directory.
	w.noteRunDir("/run/containerd", "/run/containerd/s")
	quoted := make([]string, 0, len(hostProbingPlugins)+len(disabled))
	for _, p := range append(slices.Clone(hostProbingPlugins), disabled...) {
		quoted = append(quoted, strconv.Quote(p))
	}
	config := fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = [%s]
[grpc]
  address = %q
[ttrpc]
  address = %q
%s`, w.path("root"), w.path("state"), strings.Join(quoted, ", "), sock, sock+".ttrpc", extra)
	cfg := w.path("config.toml")
	if err := os.WriteFile(cfg, []byte(config), 0o644); err != nil {
		w.t.Fatal(err)
	}
	return w.startDaemon("containerd", func() error {
		return exec.Command("ctr", "--address", sock, "version").Run()
	}, "containerd", "--config", cfg)
}

// ctr runs ctr against the private daemon in the test's namespace.
func (c *containerd) ctr(t *testing.T, args ...string) result {
	t.Helper()
	return runCmd(t, nil, "ctr", c.args(args...)...)
}

func (c *containerd) args(args ...string) []string {
	return append([]string{"--address", c.sock, "--namespace", c.ns}, args...)
}

// runArgs is `ctr run` with berth as the runc binary, on the busybox
// rootfs: flags, then id and the command line.
func (c *containerd) runArgs(flags []string, id string, command ...string) []string {
	args := append([]string{"run", "--runc-binary", berthBin, "--runc-root", c.runcRoot, "--fifo-dir", c.fifoDir}, flags...)
	if systemdCgroup {
		// The shim's SystemdCgroup option (berth --systemd-cgroup) and a
		// systemd cgroupsPath, slice:prefix:name, which ctr requires with it.
		args = append(args, "--runc-systemd-cgroup", "--cgroup", scopeSlice+":"+c.ns+":"+id)
	}
	args = append(args, "--rootfs", c.w.rootfs, id)
	return append(args, command...)
}

// task returns the pid and status `ctr task ls` shows for id.
func (c *containerd) task(t *testing.T, id string) (int, string) {
	t.Helper()
	out := mustSucceed(t, c.ctr(t, "task", "ls"))
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) == 3 && f[0] == id {
			pid, _ := strconv.Atoi(f[1])
			return pid, f[2]
		}
	}
	return 0, ""
}

// waitTask polls until the task of id has status want, and returns its pid.
func (c *containerd) waitTask(t *testing.T, id, want string) int {
	t.Helper()
	var pid int
	var status string
	if !eventually(20*time.Second, func() bool { pid, status = c.task(t, id); return status == want }) {
		t.Fatalf("task %s: status %q, want %q", id, status, want)
	}
	return pid
}

// detached starts a detached container running command and registers
// its removal (kill, task rm, container rm) for the end of the test.
func (c *containerd) detached(t *testing.T, flags []string, command ...string) (string, int) {
	t.Helper()
	id := "ctd-" + randHex(4)
	t.Cleanup(func() { c.remove(t, id) })
	mustSucceed(t, runCmd(t, nil, "ctr", c.args(c.runArgs(append([]string{"-d"}, flags...), id, command...)...)...))
	return id, c.waitTask(t, id, "RUNNING")
}

// remove kills the task of id if it runs and deletes task and container.
func (c *containerd) remove(t *testing.T, id string) {
	if _, status := c.task(t, id); status == "RUNNING" || status == "PAUSED" {
		if status == "PAUSED" {
			c.ctr(t, "task", "resume", id)
		}
		c.ctr(t, "task", "kill", "-s", "SIGKILL", id)
		c.waitTask(t, id, "STOPPED")
	}
	c.ctr(t, "task", "rm", id)
	c.ctr(t, "container", "rm", id)
}

func TestContainerd(t *testing.T) {
	c := startContainerd(t)
	t.Run("run", func(t *testing.T) {
		id := "ctd-" + randHex(4)
		// The whole file: on a pure cgroup v2 host there is no memory line.
		r := c.ctr(t, c.runArgs([]string{"--rm"}, id, "sh", "-c", "echo hello from berth; cat /proc/self/cgroup; exit 5")...)
		if r.code != 5 {
			t.Fatalf("want the container's exit status 5: %v", r)
		}
		wantOutput(t, "ctr run", r.stdout, "hello from berth", c.cgroupPath(id)+"\n")
	})
	t.Run("error shows berth's message", func(t *testing.T) {
		id := "ctd-" + randHex(4)
		r := c.ctr(t, c.runArgs([]string{"--rm"}, id, "/no/such/binary")...)
		c.ctr(t, "container", "rm", id)
		if r.code == 0 {
			t.Fatalf("a missing binary ran: %v", r)
		}
		// The shim reads berth's last "level":"error" line of --log.
		wantOutput(t, "ctr run", r.stderr, "OCI runtime create failed", `process.args[0] "/no/such/binary"`)
	})
	t.Run("detached, exec, ps", func(t *testing.T) {
		id, pid := c.detached(t, nil, "sleep", "1000")
		r := c.ctr(t, "task", "exec", "--fifo-dir", c.fifoDir, "--exec-id", "e1", id, "sh", "-c", "echo exec-ok; cat /proc/1/cmdline; exit 3")
		if r.code != 3 {
			t.Fatalf("want the exec's exit status 3: %v", r)
		}
		wantOutput(t, "ctr task exec", r.stdout, "exec-ok", "sleep")
		mustSucceed(t, c.ctr(t, "task", "exec", "--fifo-dir", c.fifoDir, "-d", "--exec-id", "e2", id, "sleep", "999"))
		var ps string
		if !eventually(10*time.Second, func() bool {
			ps = mustSucceed(t, c.ctr(t, "task", "ps", id))
			return len(pidsIn(ps)) == 2
		}) {
			t.Fatalf("ctr task ps: want the init and the exec, got %q", ps)
		}
		for _, p := range pidsIn(ps) {
			cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p))
			if !strings.HasPrefix(string(cmdline), "sleep\x00") {
				t.Errorf("ps lists pid %d running %q, want sleep", p, cmdline)
			}
		}
		if !strings.Contains(ps, strconv.Itoa(pid)) {
			t.Errorf("ps %q does not list the init pid %d", ps, pid)
		}
	})
	t.Run("kill", func(t *testing.T) {
		id := "ctd-" + randHex(4)
		fg := exec.Command("ctr", c.args(c.runArgs([]string{"--rm"}, id, "sh", "-c", `trap "exit 7" TERM; sleep 1000 & wait`)...)...)
		var out strings.Builder
		fg.Stdout, fg.Stderr = &out, &out
		if err := fg.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- fg.Wait() }()
		t.Cleanup(func() { c.remove(t, id) })
		pid := c.waitTask(t, id, "RUNNING")
		// The trap is set once sh has started sleep.
		if !eventually(10*time.Second, func() bool { return len(childrenOf(pid)) > 0 }) {
			t.Fatalf("the container never started sleep")
		}
		mustSucceed(t, c.ctr(t, "task", "kill", id)) // SIGTERM
		select {
		case <-done:
		case <-time.After(commandTimeout):
			fg.Process.Kill()
			t.Fatalf("ctr run still running after ctr task kill; output %q", out.String())
		}
		if code := fg.ProcessState.ExitCode(); code != 7 {
			t.Errorf("ctr run exited %d after SIGTERM, want 7 (the trap's); output %q", code, out.String())
		}
	})
	t.Run("pause and resume", func(t *testing.T) {
		id, pid := c.detached(t, nil, "sleep", "1000")
		mustSucceed(t, c.ctr(t, "task", "pause", id))
		c.waitTask(t, id, "PAUSED")
		if s := freezerState(t, pid); s != "FROZEN" {
			t.Errorf("paused: freezer state %q, want FROZEN", s)
		}
		mustSucceed(t, c.ctr(t, "task", "resume", id))
		c.waitTask(t, id, "RUNNING")
		if s := freezerState(t, pid); s != "THAWED" {
			t.Errorf("resumed: freezer state %q, want THAWED", s)
		}
		wantOutput(t, "exec after resume", mustSucceed(t, c.ctr(t, "task", "exec", "--fifo-dir", c.fifoDir, "--exec-id", "e1", id, "echo", "awake")), "awake")
	})
	t.Run("memory limit and metrics", func(t *testing.T) {
		const limit = 64 << 20
		id, pid := c.detached(t, []string{"--memory-limit", strconv.Itoa(limit)}, "sleep", "1000")
		if got := memoryLimit(t, pid); got != strconv.Itoa(limit) {
			t.Errorf("memory limit in the container's cgroup %s, want %d", got, limit)
		}
		m := mustSucceed(t, c.ctr(t, "task", "metrics", id))
		wantOutput(t, "ctr task metrics", m, strconv.Itoa(limit), "pids.current")
		if !metricAtLeast(m, "pids.current", 1) {
			t.Errorf("metrics do not count the container's process: %q", m)
		}
	})
	t.Run("OOM kill event", func(t *testing.T) {
		// containerd's shim watches the container's memory cgroup (v1's
		// eventfd, v2's memory.events) and publishes /tasks/oom: the
		// cgroup berth made must be the one the shim finds.
		events := exec.Command("ctr", c.args("events")...)
		var out syncBuffer
		events.Stdout = &out
		if err := events.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { events.Process.Kill(); events.Wait() }()
		// The OOM killer takes a child, and the container lives on for a
		// moment, as a pod's main process outlives a killed worker: the
		// shim reads the event from a cgroup that is still there (under
		// the systemd driver a scope goes with its last process).
		id := "ctd-" + randHex(4)
		r := c.ctr(t, c.runArgs([]string{"--rm", "--memory-limit", strconv.Itoa(16 << 20)}, id,
			"sh", "-c", "dd if=/dev/zero of=/dev/null bs=64M count=1; echo dd=$?; sleep 2")...)
		if r.code != 0 || !strings.Contains(r.stdout, "dd=137") {
			t.Fatalf("a 64 MiB buffer under a 16 MiB limit: %v, want dd killed (137) by the OOM killer", r)
		}
		if !eventually(20*time.Second, func() bool {
			return strings.Contains(out.String(), "/tasks/oom") && strings.Contains(out.String(), id)
		}) {
			t.Errorf("no /tasks/oom event for %s from containerd; events:\n%s", id, out.String())
		}
	})
	t.Run("systemd scope", func(t *testing.T) {
		if !systemdCgroup {
			t.Skip("the cgroupfs driver: BERTH_TEST_SYSTEMD_CGROUP=1 runs this")
		}
		const limit = 48 << 20
		id, pid := c.detached(t, []string{"--memory-limit", strconv.Itoa(limit)}, "sleep", "1000")
		unit := c.scope(id)
		if got := unifiedCgroup(t, pid); got != c.cgroupPath(id) {
			t.Errorf("the container's cgroup is %q, want the scope %q", got, c.cgroupPath(id))
		}
		show := unitProperties(t, unit)
		for k, want := range map[string]string{"LoadState": "loaded", "ActiveState": "active",
			"ControlGroup": c.cgroupPath(id), "Slice": scopeSlice, "MemoryMax": strconv.Itoa(limit)} {
			if show[k] != want {
				t.Errorf("systemctl show %s: %s=%q, want %q", unit, k, show[k], want)
			}
		}
		if got := memoryLimit(t, pid); got != strconv.Itoa(limit) {
			t.Errorf("memory.max of the scope %s, want %d", got, limit)
		}
		// kill, task rm, container rm: the scope goes with the container.
		mustSucceed(t, c.ctr(t, "task", "kill", "-s", "SIGKILL", id))
		c.waitTask(t, id, "STOPPED")
		mustSucceed(t, c.ctr(t, "task", "rm", id))
		mustSucceed(t, c.ctr(t, "container", "rm", id))
		var st map[string]string
		if !eventually(10*time.Second, func() bool {
			st = unitProperties(t, unit)
			return st["LoadState"] == "not-found"
		}) {
			t.Errorf("after kill and delete, systemd still has %s: LoadState=%s ActiveState=%s", unit, st["LoadState"], st["ActiveState"])
		}
		if _, err := os.Stat(filepath.Join("/sys/fs/cgroup", c.cgroupPath(id))); !os.IsNotExist(err) {
			t.Errorf("after kill and delete, the scope's cgroup remains (%v)", err)
		}
	})
	t.Run("run -t", func(t *testing.T) {
		id := "ctd-" + randHex(4)
		t.Cleanup(func() { c.ctr(t, "container", "rm", id) })
		s := startOnPTY(t, nil, "ctr", c.args(c.runArgs([]string{"--rm", "-t"}, id, "sh")...)...)
		interactiveShell(t, s, "ctr run -t", 3)
	})
	t.Run("task exec -t", func(t *testing.T) {
		id, _ := c.detached(t, nil, "sleep", "1000")
		s := startOnPTY(t, nil, "ctr", c.args("task", "exec", "--fifo-dir", c.fifoDir, "-t", "--exec-id", "t1", id, "sh")...)
		interactiveShell(t, s, "ctr task exec -t", 4)
	})
}

// pidsIn returns the pids of `ctr task ps` output (first column).
func pidsIn(ps string) []int {
	var out []int
	for _, l := range strings.Split(ps, "\n") {
		f := strings.Fields(l)
		if len(f) > 0 {
			if p, err := strconv.Atoi(f[0]); err == nil {
				out = append(out, p)
			}
		}
	}
	return out
}

// childrenOf lists the children of pid.
func childrenOf(pid int) []string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	return strings.Fields(string(b))
}

// freezerState reads the freezer state of pid's cgroup: v1 freezer.state,
// or v2 cgroup.freeze ("1" is FROZEN).
func freezerState(t *testing.T, pid int) string {
	t.Helper()
	if onUnifiedOnly() {
		if cgroupFile(t, pid, "", "cgroup.freeze") == "1" {
			return "FROZEN"
		}
		return "THAWED"
	}
	return cgroupFile(t, pid, "freezer", "freezer.state")
}

// memoryLimit reads the memory limit of pid's cgroup (v1 or v2).
func memoryLimit(t *testing.T, pid int) string {
	t.Helper()
	if onUnifiedOnly() {
		return cgroupFile(t, pid, "", "memory.max")
	}
	return cgroupFile(t, pid, "memory", "memory.limit_in_bytes")
}

// pidsMax reads the pids limit of pid's cgroup (v1 or v2).
func pidsMax(t *testing.T, pid int) string {
	t.Helper()
	if onUnifiedOnly() {
		return cgroupFile(t, pid, "", "pids.max")
	}
	return cgroupFile(t, pid, "pids", "pids.max")
}

// onUnifiedOnly reports whether the host runs cgroup v2 alone.
func onUnifiedOnly() bool {
	_, err := os.Stat("/sys/fs/cgroup/cgroup.controllers")
	return err == nil
}

// metricAtLeast reports whether the `ctr task metrics` row name has a
// value of at least min.
func metricAtLeast(metrics, name string, min int64) bool {
	for _, l := range strings.Split(metrics, "\n") {
		f := strings.Fields(l)
		if len(f) == 2 && f[0] == name {
			v, err := strconv.ParseInt(f[1], 10, 64)
			return err == nil && v >= min
		}
	}
	return false
}

// cpuQuota reads the CPU quota of pid's cgroup in microseconds per
// period (v1 cpu.cfs_quota_us, or the first field of v2 cpu.max).
func cpuQuota(t *testing.T, pid int) string {
	t.Helper()
	if onUnifiedOnly() {
		return strings.Fields(cgroupFile(t, pid, "", "cpu.max"))[0]
	}
	return cgroupFile(t, pid, "cpu", "cpu.cfs_quota_us")
}

// unifiedCgroup is pid's cgroup in the unified hierarchy ("0::<path>").
func unifiedCgroup(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatalf("cgroup of pid %d: %v", pid, err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(l, "0::"); ok {
			return p
		}
	}
	t.Fatalf("pid %d: no unified cgroup in %q", pid, b)
	return ""
}

// unitProperties is what `systemctl show` says of a unit, as a map.
func unitProperties(t *testing.T, unit string) map[string]string {
	t.Helper()
	out := mustSucceed(t, runCmd(t, nil, "systemctl", "show", "-p", "LoadState,ActiveState,ControlGroup,Slice,MemoryMax", unit))
	m := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			m[k] = v
		}
	}
	return m
}

// syncBuffer is a bytes.Buffer a command writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
