package clients

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berthrun/berth/internal/testuser"
)

// rootlessPodman drives podman as an unprivileged user (testuser.Name,
// through setpriv) with berth as its runtime. Rootless podman keeps a
// "pause" process holding a user namespace built from the user's
// /etc/subuid and /etc/subgid ranges (newuidmap, newgidmap) and its mount
// namespace; every podman command joins them, so conmon runs berth as root
// of that namespace with a config that has no user namespace of its own.
// The user's storage, run, tmp, HOME and XDG_RUNTIME_DIR are all below the
// world's directory; nothing of the user's own home is touched. berth keeps
// its default --root, which for root in a user namespace with USER set to
// the user is $XDG_RUNTIME_DIR/berth (runc's rule, where podman's cleanup
// looks for runc's).
type rootlessPodman struct {
	w    *world
	u    *testuser.User
	home string
	xdg  string
	// tunNode, when set, is a 0666 node of /dev/net/tun that the first
	// command (which starts the pause process) binds over the host's in a
	// private mount namespace: the pause process keeps that namespace,
	// and slirp4netns, run from it, opens the tun device as the user.
	tunNode string
}

// rootlessImage is the busybox rootfs imported into the user's storage:
// the pod's infra container needs an image, and podman's own pause image
// needs catatonit, which Debian's podman only recommends.
const rootlessImage = "localhost/berth-busybox:rootless"

// pauseScript is the infra container's command: it sleeps and exits 0 on
// SIGTERM (as pid 1 a plain sleep would ignore it, and `pod stop` would
// wait 10 s for the SIGKILL).
const pauseScript = "#!/bin/sh\ntrap 'exit 0' TERM INT\nsleep 2147483647 &\nwait\n"

func startRootlessPodman(t *testing.T) *rootlessPodman {
	w := newWorld(t, "podman-rootless")
	u, err := testuser.Ensure()
	if err != nil {
		t.Skip("cannot make the unprivileged test user: ", err)
	}
	for _, f := range []string{"/etc/subuid", "/etc/subgid"} {
		if _, size, ok := testuser.SubIDRange(f); !ok || size < 65536 {
			t.Skipf("%s has no range of 65536 ids for %s (rootless podman maps that many)", f, testuser.Name)
		}
	}
	p := &rootlessPodman{w: w, u: u, home: w.path("home"), xdg: w.path("xdg")}
	for _, d := range []string{p.home, p.xdg, w.path("storage"), w.path("run"), w.path("tmp")} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(w.rootfs, "pause"), []byte(pauseScript), 0o755); err != nil {
		t.Fatal(err)
	}
	// The user's podman reads the rootfs and the tarball; as its user
	// namespace's root, the files are root's inside.
	if err := tarRootfs(w.rootfs, w.path("busybox.tar")); err != nil {
		t.Fatal(err)
	}
	if err := testuser.ChownTree(w.dir, u.UID, u.GID); err != nil {
		t.Fatal(err)
	}
	w.berthRoots = []string{filepath.Join(p.xdg, "berth")}
	// After the containers' own cleanups, before the world's: the pause
	// process names nothing of the world in its command line.
	t.Cleanup(p.stopPause)
	p.tunNode = p.prepareTun(t)
	if r := p.podman(t, "info"); r.code != 0 {
		t.Skipf("rootless podman cannot start: %v", r)
	}
	p.tunNode = ""
	mustSucceed(t, p.podman(t, "import", "--quiet", w.path("busybox.tar"), rootlessImage))
	return p
}

// prepareTun makes a 0666 /dev/net/tun node below the world when the
// host's is not open to the user (this development VM's is 0600; Debian's
// default is 0666), so that slirp4netns can be tested all the same. The
// host's node is not touched.
func (p *rootlessPodman) prepareTun(t *testing.T) string {
	fi, err := os.Stat("/dev/net/tun")
	if err != nil {
		return ""
	}
	st := fi.Sys().(*syscall.Stat_t)
	if fi.Mode().Perm()&0o006 == 0o006 || (int(st.Uid) == p.u.UID && fi.Mode().Perm()&0o600 == 0o600) {
		return ""
	}
	node := p.w.path("tun")
	if err := syscall.Mknod(node, syscall.S_IFCHR|0o666, int(st.Rdev)); err != nil {
		t.Logf("no private tun node (%v): slirp4netns will not be usable", err)
		return ""
	}
	os.Chmod(node, 0o666) // mknod's mode is subject to the umask
	return node
}

// stopPause ends the user's podman pause process (and with it the user
// and mount namespaces every podman command joined).
func (p *rootlessPodman) stopPause() {
	b, err := os.ReadFile(p.w.path("tmp", "pause.pid"))
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return
	}
	syscall.Kill(pid, syscall.SIGKILL)
	eventually(10*time.Second, func() bool { return syscall.Kill(pid, 0) != nil })
}

// command is what runs podman as the user: setpriv to the user's ids and
// groups, and only the environment a login would give it.
func (p *rootlessPodman) command(args ...string) (string, []string) {
	user := []string{
		"setpriv", "--reuid=" + strconv.Itoa(p.u.UID), "--regid=" + strconv.Itoa(p.u.GID), "--init-groups",
		"env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + p.home,
		"USER=" + p.u.Name, "LOGNAME=" + p.u.Name, "XDG_RUNTIME_DIR=" + p.xdg, "TERM=xterm",
		"podman", "--root", p.w.path("storage"), "--runroot", p.w.path("run"), "--tmpdir", p.w.path("tmp"),
		"--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "file",
		"--runtime", berthBin, "--conmon", "/usr/bin/conmon",
	}
	if p.tunNode != "" {
		user = append([]string{"unshare", "--mount", "--propagation", "private", "sh", "-c",
			`mount --bind "$0" /dev/net/tun && exec "$@"`, p.tunNode}, user...)
	}
	return user[0], append(user[1:], args...)
}

func (p *rootlessPodman) podman(t *testing.T, args ...string) result {
	t.Helper()
	name, full := p.command(args...)
	return runCmd(t, nil, name, full...)
}

// runArgs is `podman run` of the busybox rootfs with no network.
func (p *rootlessPodman) runArgs(flags []string, command ...string) []string {
	args := append([]string{"run", "--network", "none"}, flags...)
	args = append(args, "--rootfs", p.w.rootfs)
	return append(args, command...)
}

// detached runs `podman run -d --name` of args (flags, image or --rootfs,
// command) and registers the container's removal; it returns the name and
// the host pid.
func (p *rootlessPodman) detached(t *testing.T, args ...string) (string, int) {
	t.Helper()
	name := "rl-" + randHex(4)
	t.Cleanup(func() { p.podman(t, "rm", "--force", "--time", "0", name) })
	mustSucceed(t, p.podman(t, append([]string{"run", "-d", "--name", name}, args...)...))
	return name, inspectPid(t, "podman inspect", p.podman(t, "inspect", "--format", "{{.State.Pid}}", name))
}

// TestPodmanRootless runs podman as an unprivileged user with berth as its
// runtime: run, run -it, exec, stop, slirp4netns, and a pod of two
// containers.
func TestPodmanRootless(t *testing.T) {
	p := startRootlessPodman(t)
	subuid, subsize, _ := testuser.SubIDRange("/etc/subuid")
	t.Run("run", func(t *testing.T) {
		r := p.podman(t, p.runArgs([]string{"--rm"}, "sh", "-c", "echo hello from berth; id -u; cat /proc/self/uid_map; exit 5")...)
		if r.code != 5 {
			t.Fatalf("want the container's exit status 5: %v", r)
		}
		out := lines(r.stdout)
		if len(out) != 4 || out[0] != "hello from berth" || out[1] != "0" {
			t.Fatalf("podman run: %q, want the greeting, uid 0 and two uid_map lines", r.stdout)
		}
		// podman's user namespace: root is the user, the rest its
		// subordinate range.
		want := [][]string{{"0", strconv.Itoa(p.u.UID), "1"}, {"1", strconv.FormatUint(subuid, 10), strconv.FormatUint(subsize, 10)}}
		for i, w := range want {
			if f := strings.Fields(out[2+i]); strings.Join(f, " ") != strings.Join(w, " ") {
				t.Errorf("uid_map line %d: %q, want %q", i, out[2+i], strings.Join(w, " "))
			}
		}
	})
	t.Run("run -it", func(t *testing.T) {
		name, args := p.command(p.runArgs([]string{"--rm", "-it"}, "sh")...)
		s := startOnPTY(t, nil, name, args...)
		interactiveShell(t, s, "rootless podman run -it", 3)
	})
	t.Run("detached and exec", func(t *testing.T) {
		name, pid := p.detached(t, p.runArgs(nil, "sleep", "1000")[1:]...)
		if uid := hostUID(t, pid); uid != p.u.UID {
			t.Errorf("the container's init runs as host uid %d, want the user's %d", uid, p.u.UID)
		}
		id := strings.TrimSpace(mustSucceed(t, p.podman(t, "inspect", "--format", "{{.Id}}", name)))
		if _, err := os.Stat(filepath.Join(p.xdg, "berth", id, "state.json")); err != nil {
			t.Errorf("berth's state is not in $XDG_RUNTIME_DIR/berth: %v", err)
		}
		r := p.podman(t, "exec", name, "sh", "-c", "echo exec-ok; id -u; cat /proc/1/cmdline; exit 3")
		if r.code != 3 {
			t.Fatalf("want the exec's exit status 3: %v", r)
		}
		wantOutput(t, "rootless podman exec", r.stdout, "exec-ok\n0\n", "sleep")
	})
	t.Run("stop and rm", func(t *testing.T) {
		name, _ := p.detached(t, p.runArgs(nil, "sh", "-c", `trap "exit 7" TERM; sleep 1000 & wait`)[1:]...)
		stopAndRemove(t, p.podman, name)
	})
	t.Run("slirp4netns", func(t *testing.T) {
		if _, err := exec.LookPath("slirp4netns"); err != nil {
			t.Skip("slirp4netns is not installed (scripts/install-deps.sh installs it with the clients)")
		}
		args := p.runArgs([]string{"--rm"}, "sh", "-c", "ip -4 addr show tap0; ip route")
		args[2] = "slirp4netns"
		out := mustSucceed(t, p.podman(t, args...))
		// slirp4netns's fixed addresses: the container 10.0.2.100, the
		// gateway 10.0.2.2.
		wantOutput(t, "rootless podman run --network slirp4netns", out, "inet 10.0.2.100/24", "default via 10.0.2.2 dev tap0")
	})
	t.Run("pod", func(t *testing.T) { testRootlessPod(t, p) })
}

// testRootlessPod: a pod (its infra container from the imported image)
// and two containers in it share the infra's uts, ipc and network
// namespaces, each with a pid namespace of its own; `pod stop` and `pod
// rm` end and remove all three.
func testRootlessPod(t *testing.T, p *rootlessPodman) {
	pod := "rlpod-" + randHex(4)
	t.Cleanup(func() { p.podman(t, "pod", "rm", "--force", pod) })
	mustSucceed(t, p.podman(t, "pod", "create", "--name", pod, "--network", "none",
		"--infra-image", rootlessImage, "--infra-command", "/pause"))
	const script = `trap "exit 0" TERM; hostname > /dev/shm/$0; sleep 1000 & wait`
	a, apid := p.detached(t, "--pod", pod, rootlessImage, "sh", "-c", script, "a")
	_, bpid := p.detached(t, "--pod", pod, rootlessImage, "sh", "-c", script, "b")
	infraID := strings.TrimSpace(mustSucceed(t, p.podman(t, "pod", "inspect", "--format", "{{.InfraContainerID}}", pod)))
	infra := inspectPid(t, "podman inspect of the infra container", p.podman(t, "inspect", "--format", "{{.State.Pid}}", infraID))
	for _, ns := range []string{"uts", "ipc", "net"} {
		ni, na, nb := nsOf(t, infra, ns), nsOf(t, apid, ns), nsOf(t, bpid, ns)
		if na != ni || nb != ni {
			t.Errorf("%s namespaces: infra %s, containers %s and %s; want the infra's for both", ns, ni, na, nb)
		}
	}
	if nsOf(t, apid, "pid") == nsOf(t, bpid, "pid") {
		t.Errorf("the pod's containers share a pid namespace; podman gives each its own")
	}
	// Both wrote the pod's hostname into the shared /dev/shm.
	var out string
	if !eventually(10*time.Second, func() bool {
		r := p.podman(t, "exec", a, "sh", "-c", "cat /dev/shm/a /dev/shm/b")
		out = r.stdout
		return r.code == 0
	}) {
		t.Fatalf("the pod's /dev/shm lacks a or b: %q", out)
	}
	if got := lines(out); len(got) != 2 || got[0] != pod || got[1] != pod {
		t.Errorf("hostnames in the pod: %q, want %s twice", out, pod)
	}
	mustSucceed(t, p.podman(t, "pod", "stop", "--time", "20", pod))
	states := mustSucceed(t, p.podman(t, "ps", "-a", "--pod", "--filter", "pod="+pod, "--format", "{{.Names}} {{.Exited}} {{.ExitCode}}"))
	if got := lines(states); len(got) != 3 {
		t.Errorf("podman ps of the pod: %q, want the infra and two containers", states)
	}
	for _, l := range lines(states) {
		if f := strings.Fields(l); len(f) != 3 || f[1] != "true" || f[2] != "0" {
			t.Errorf("after pod stop: %q, want exited with 0 (the TERM traps)", l)
		}
	}
	mustSucceed(t, p.podman(t, "pod", "rm", pod))
	if out := mustSucceed(t, p.podman(t, "ps", "-a", "--format", "{{.Names}}")); strings.TrimSpace(out) != "" {
		t.Errorf("podman ps -a after pod rm: %q, want nothing", out)
	}
}

// nsOf is the namespace of type ns of a host process, as its link reads.
func nsOf(t *testing.T, pid int, ns string) string {
	t.Helper()
	l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, ns))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// hostUID is a host process's real uid.
func hostUID(t *testing.T, pid int) int {
	t.Helper()
	fi, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	if err != nil {
		t.Fatal(err)
	}
	return int(fi.Sys().(*syscall.Stat_t).Uid)
}

// lines splits output into its non-empty lines.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// tarRootfs writes the rootfs as a tar archive for `podman import`.
func tarRootfs(rootfs, tarball string) error {
	if out, err := exec.Command("tar", "-C", rootfs, "-cf", tarball, ".").CombinedOutput(); err != nil {
		return fmt.Errorf("tar of the rootfs: %v: %s", err, out)
	}
	return nil
}
