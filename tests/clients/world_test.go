package clients

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berthrun/berth/internal/hostscan"
	"github.com/berthrun/berth/internal/testbundle"
)

// world is one suite's private world: a directory holding its daemon's
// root, state and socket, a busybox rootfs, and a cgroup parent of its
// own. Its cleanup stops the daemon, reports what was left behind (stray
// processes, cgroups still in use, berth state), and removes it all:
// leftover mounts below the directory, the cgroups, the directory.
type world struct {
	t      *testing.T
	name   string
	dir    string
	rootfs string // busybox root filesystem
	// cgroup is the top-level cgroup name the client puts its
	// containers (and shims or conmon) under.
	cgroup string
	// runDirs are host directories the client creates outside dir
	// (shim sockets, plugin sockets); removed at the end when empty.
	runDirs []string
	// berthRoots are the --root directories the client runs berth with;
	// the cleanup checks that no container of the world is left there.
	berthRoots []string
	daemons    []*daemon
}

// newWorld prepares a suite, or skips it when the suites cannot run.
func newWorld(t *testing.T, name string) *world {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	if systemdCgroup && name != "containerd" {
		t.Skip("BERTH_TEST_SYSTEMD_CGROUP=1: only the ctr scenarios have a systemd-driver form")
	}
	requireSuiteBinaries(t, name)
	dir, err := os.MkdirTemp("", "berth-"+name+"-")
	if err != nil {
		t.Fatal(err)
	}
	// Traversable by a container's non-root user (--user tests).
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, name: name, dir: dir, rootfs: filepath.Join(dir, "rootfs"), cgroup: "berth-" + name + "-" + randHex(4)}
	t.Cleanup(w.cleanup)
	if err := testbundle.Rootfs(w.rootfs); err != nil {
		t.Fatalf("busybox rootfs: %v", err)
	}
	return w
}

// path returns a path below the world's directory.
func (w *world) path(elem ...string) string {
	return filepath.Join(append([]string{w.dir}, elem...)...)
}

// daemon is a client daemon the suite started.
type daemon struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// startDaemon starts bin with args, logging to a file, and polls ready
// until it succeeds. A daemon that exits or is not ready within 60 s
// skips the suite: that is the one reason a client suite may skip.
func (w *world) startDaemon(name string, ready func() error, bin string, args ...string) *daemon {
	w.t.Helper()
	d := &daemon{name: name, log: w.path(name + ".log"), done: make(chan struct{})}
	logf, err := os.Create(d.log)
	if err != nil {
		w.t.Fatal(err)
	}
	defer logf.Close()
	d.cmd = exec.Command(bin, args...)
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	// Its own process group, so a signal to the test run's group does
	// not reach it before its cleanup runs.
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.cmd.Start(); err != nil {
		w.t.Skipf("%s cannot start: %v", name, err)
	}
	go func() { d.cmd.Wait(); close(d.done) }()
	w.daemons = append(w.daemons, d)
	var lastErr error
	up := eventually(60*time.Second, func() bool {
		select {
		case <-d.done:
			return true
		default:
		}
		lastErr = ready()
		return lastErr == nil
	})
	select {
	case <-d.done:
		w.t.Skipf("%s cannot start: it exited (%v); its log ends:\n%s", name, d.cmd.ProcessState, tail(d.log, 20))
	default:
	}
	if !up {
		w.t.Skipf("%s cannot start: not ready after 60s (%v); its log ends:\n%s", name, lastErr, tail(d.log, 20))
	}
	return d
}

// stop ends the daemon with SIGTERM (SIGKILL after 30 s) and waits.
func (d *daemon) stop(t *testing.T) {
	select {
	case <-d.done:
		return
	default:
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(30 * time.Second):
		t.Errorf("%s ignored SIGTERM for 30s; killing it", d.name)
		d.cmd.Process.Kill()
		<-d.done
	}
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	l := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

func (w *world) cleanup() {
	t := w.t
	for i := len(w.daemons) - 1; i >= 0; i-- {
		w.daemons[i].stop(t)
	}
	if t.Failed() {
		for _, d := range w.daemons {
			t.Logf("%s log ends:\n%s", d.name, tail(d.log, 30))
		}
	}
	w.killStrays()
	for _, root := range w.berthRoots {
		w.checkBerthRoot(root)
	}
	w.removeCgroups()
	// The clients may leave overlay, shm or netns mounts below their
	// roots: unmount them (deepest first) so RemoveAll stays inside.
	for _, m := range hostscan.MountsBelow(w.dir) {
		t.Logf("unmounting %s left by %s", m, w.name)
		syscall.Unmount(m, syscall.MNT_DETACH)
	}
	if left := hostscan.MountsBelow(w.dir); len(left) > 0 {
		t.Errorf("leak: cannot unmount %v; left %s in place", left, w.dir)
	} else {
		os.RemoveAll(w.dir)
	}
	for i := len(w.runDirs) - 1; i >= 0; i-- {
		os.Remove(w.runDirs[i]) // only when empty: another user may be there
	}
}

// killStrays reports and kills processes still running from this world
// (shims, conmon, containers): their command line names its directory.
// Clients finish some work after their command returns (conmon runs
// podman's cleanup when a container exits), so they get a while first.
func (w *world) killStrays() {
	eventually(20*time.Second, func() bool { return len(hostscan.PidsMentioning(w.dir)) == 0 })
	for _, pid := range hostscan.PidsMentioning(w.dir) {
		w.t.Errorf("leak: process %d still running after %s stopped: %s", pid, w.name, hostscan.Cmdline(pid))
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// removeCgroups removes the world's cgroup tree from every hierarchy. A
// cgroup that cannot be removed still has processes: a leak.
func (w *world) removeCgroups() {
	for _, root := range hostscan.CgroupMounts() {
		top := filepath.Join(root, w.cgroup)
		var dirs []string
		filepath.WalkDir(top, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- { // children first
			if err := os.Remove(dirs[i]); err != nil && !errors.Is(err, os.ErrNotExist) {
				procs, _ := os.ReadFile(filepath.Join(dirs[i], "cgroup.procs"))
				w.t.Errorf("leak: cgroup %s not removable (%v); processes: %q", dirs[i], err, procs)
			}
		}
	}
}

// noteRunDir remembers a host directory the client may create outside
// the world (only if it does not exist yet), to remove it when empty.
func (w *world) noteRunDir(dirs ...string) {
	for _, d := range dirs {
		if _, err := os.Stat(d); errors.Is(err, os.ErrNotExist) {
			w.runDirs = append(w.runDirs, d)
		}
	}
}

// checkBerthRoot fails the test if berth's --root still holds the state
// of a container of this world (its bundle is below the world's
// directory): every container the client removed must have been deleted.
// What is left is force-deleted.
func (w *world) checkBerthRoot(root string) {
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(root, e.Name(), "state.json"))
		if err != nil || !strings.Contains(string(b), w.dir+"/") {
			continue
		}
		w.t.Errorf("leak: berth state of %s left in %s", e.Name(), root)
		exec.Command(berthBin, "--root", root, "delete", "--force", e.Name()).Run()
	}
}

// cgroupFile reads a cgroup file of a host process: file of controller
// (e.g. "memory", "memory.limit_in_bytes") in the cgroup /proc/pid/cgroup
// names, on v1 or on the unified hierarchy (controller "").
func cgroupFile(t *testing.T, pid int, controller, file string) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatalf("cgroup of pid %d: %v", pid, err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		parts := strings.SplitN(l, ":", 3)
		if len(parts) != 3 {
			continue
		}
		ctrls := strings.Split(parts[1], ",")
		if (controller == "" && parts[1] == "") || (controller != "" && slices.Contains(ctrls, controller)) {
			for _, root := range hostscan.CgroupMounts() {
				p := filepath.Join(root, parts[2], file)
				if v, err := os.ReadFile(p); err == nil {
					return strings.TrimSpace(string(v))
				}
			}
		}
	}
	t.Fatalf("pid %d: no %s file %s in %q", pid, controller, file, b)
	return ""
}
