package clients

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/berthrun/berth/internal/testuser"
)

// buildah drives buildah with berth as its OCI runtime (`buildah run
// --runtime`, `buildah build --runtime`), as an unprivileged user
// (testuser.Name, through setpriv) or as root. A rootless buildah re-execs
// itself into a user namespace made with newuidmap and newgidmap from the
// user's /etc/subuid and /etc/subgid ranges (it keeps no pause process),
// then runs berth there as root of that namespace with a config that has
// no user namespace of its own: berth's default --root is then
// $XDG_RUNTIME_DIR/berth (runc's rule; buildah sets USER). Storage, run
// root, TMPDIR (where buildah writes each run's bundle), HOME and
// XDG_RUNTIME_DIR are all below the world's directory.
type buildah struct {
	w    *world
	u    *testuser.User // nil: root
	home string
	xdg  string
	// tunNode: as for rootless podman, a 0666 /dev/net/tun bound over the
	// host's in a private mount namespace for the commands that use
	// slirp4netns, when the host's is not open to the user.
	tunNode string
	// tun is the node withTun made, once.
	tun     string
	tunMade bool
}

// buildahImage is the busybox rootfs committed as an image in the
// world's storage: buildah has no import, so it is `from scratch`, `add`
// of the rootfs tarball, and `commit`.
const buildahImage = "localhost/berth-busybox:buildah"

func startBuildah(t *testing.T, rootless bool) *buildah {
	name := "buildah"
	if rootless {
		name = "buildah-rootless"
	}
	w := newWorld(t, name)
	b := &buildah{w: w, home: w.path("home"), xdg: w.path("xdg")}
	for _, d := range []string{b.home, b.xdg, w.path("storage"), w.path("run"), w.path("tmp")} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := tarRootfs(w.rootfs, w.path("busybox.tar")); err != nil {
		t.Fatal(err)
	}
	w.berthRoots = []string{defaultBerthRoot}
	if rootless {
		u, err := testuser.Ensure()
		if err != nil {
			t.Skip("cannot make the unprivileged test user: ", err)
		}
		for _, f := range []string{"/etc/subuid", "/etc/subgid"} {
			if _, size, ok := testuser.SubIDRange(f); !ok || size < 65536 {
				t.Skipf("%s has no range of 65536 ids for %s (rootless buildah maps that many)", f, testuser.Name)
			}
		}
		b.u = u
		if err := testuser.ChownTree(w.dir, u.UID, u.GID); err != nil {
			t.Fatal(err)
		}
		w.berthRoots = []string{filepath.Join(b.xdg, "berth")}
	}
	if r := b.buildah(t, "info"); r.code != 0 {
		t.Skipf("buildah cannot start: %v", r)
	}
	work := strings.TrimSpace(mustSucceed(t, b.buildah(t, "from", "scratch")))
	mustSucceed(t, b.buildah(t, "add", work, w.path("busybox.tar"), "/"))
	mustSucceed(t, b.buildah(t, "commit", "--quiet", work, buildahImage))
	mustSucceed(t, b.buildah(t, "rm", work))
	return b
}

// command is buildah with the world's storage, as the user when rootless
// (setpriv to its ids, and only the environment a login would give it).
func (b *buildah) command(args ...string) (string, []string) {
	full := []string{"buildah", "--root", b.w.path("storage"), "--runroot", b.w.path("run"), "--storage-driver", "vfs"}
	full = append(full, args...)
	env := []string{"env", "TMPDIR=" + b.w.path("tmp")}
	if b.u != nil {
		env = []string{
			"setpriv", "--reuid=" + strconv.Itoa(b.u.UID), "--regid=" + strconv.Itoa(b.u.GID), "--init-groups",
			"env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + b.home,
			"USER=" + b.u.Name, "LOGNAME=" + b.u.Name, "XDG_RUNTIME_DIR=" + b.xdg, "TERM=xterm", "TMPDIR=" + b.w.path("tmp"),
		}
	}
	full = append(env, full...)
	if b.tunNode != "" {
		full = append([]string{"unshare", "--mount", "--propagation", "private", "sh", "-c",
			`mount --bind "$0" /dev/net/tun && exec "$@"`, b.tunNode}, full...)
	}
	return full[0], full[1:]
}

func (b *buildah) buildah(t *testing.T, args ...string) result {
	t.Helper()
	name, full := b.command(args...)
	return runCmd(t, nil, name, full...)
}

// from makes a working container of the image and registers its removal.
func (b *buildah) from(t *testing.T) string {
	t.Helper()
	name := "bw-" + randHex(4)
	mustSucceed(t, b.buildah(t, "from", "--pull=never", "--name", name, buildahImage))
	t.Cleanup(func() { b.buildah(t, "rm", name) })
	return name
}

// run is `buildah run` of command in the working container c with berth as
// the runtime; flags come before the container.
func (b *buildah) run(t *testing.T, c string, flags []string, command ...string) result {
	t.Helper()
	args := append([]string{"run", "--runtime", berthBin}, flags...)
	return b.buildah(t, append(append(args, c, "--"), command...)...)
}

// withTun runs f with the private tun node in place (slirp4netns), or
// skips when slirp4netns cannot be used here.
func (b *buildah) withTun(t *testing.T, f func()) {
	t.Helper()
	if _, err := exec.LookPath("slirp4netns"); err != nil {
		t.Skip("slirp4netns is not installed (scripts/install-deps.sh installs it with the clients)")
	}
	if !b.tunMade {
		b.tun, b.tunMade = (&rootlessPodman{w: b.w, u: b.u}).prepareTun(t), true
	}
	b.tunNode = b.tun
	defer func() { b.tunNode = "" }()
	f()
}

// assertNoBundles checks buildah removed every run's bundle from TMPDIR.
func (b *buildah) assertNoBundles(t *testing.T) {
	t.Helper()
	entries, _ := os.ReadDir(b.w.path("tmp"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "buildah") {
			t.Errorf("leak: buildah's bundle %s left in TMPDIR", e.Name())
		}
	}
}

// assertNoState checks berth's state root holds no container.
func (b *buildah) assertNoState(t *testing.T) {
	t.Helper()
	for _, root := range b.w.berthRoots {
		entries, _ := os.ReadDir(root)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), "buildah-") {
				t.Errorf("leak: berth state %s left in %s", e.Name(), root)
			}
		}
	}
}

// TestBuildahRootless: an unprivileged user's buildah runs commands in a
// working container with berth as the runtime: uid 0 inside mapped to the
// user and its subordinate range, the command's output and exit status,
// a command that cannot start, a terminal (run -t), slirp4netns, the
// host's pid namespace (with buildah's ping_group_range sysctl), and a
// build with RUN steps; nothing is left in $XDG_RUNTIME_DIR/berth.
func TestBuildahRootless(t *testing.T) {
	b := startBuildah(t, true)
	c := b.from(t)
	subuid, subsize, _ := testuser.SubIDRange("/etc/subuid")
	none := []string{"--network", "none"}
	t.Run("run", func(t *testing.T) {
		r := b.run(t, c, none, "sh", "-c", "echo hello from berth; id -u; cat /proc/self/uid_map; exit 5")
		if r.code != 5 {
			t.Fatalf("want the command's exit status 5: %v", r)
		}
		out := lines(r.stdout)
		if len(out) != 4 || out[0] != "hello from berth" || out[1] != "0" {
			t.Fatalf("buildah run: %q, want the greeting, uid 0 and two uid_map lines", r.stdout)
		}
		want := [][]string{{"0", strconv.Itoa(b.u.UID), "1"}, {"1", strconv.FormatUint(subuid, 10), strconv.FormatUint(subsize, 10)}}
		for i, w := range want {
			if f := strings.Fields(out[2+i]); strings.Join(f, " ") != strings.Join(w, " ") {
				t.Errorf("uid_map line %d: %q, want %q", i, out[2+i], strings.Join(w, " "))
			}
		}
		// The image's files are root's inside (the user's on the host).
		if out := mustSucceed(t, b.run(t, c, none, "stat", "-c", "%u %a", "/bin/busybox")); strings.TrimSpace(out) != "0 755" {
			t.Errorf("stat /bin/busybox inside: %q, want owner 0, mode 755", out)
		}
	})
	t.Run("failing command", func(t *testing.T) {
		if r := b.run(t, c, none, "false"); r.code != 1 {
			t.Errorf("buildah run false: want exit status 1: %v", r)
		}
		r := b.run(t, c, none, "/no/such/command")
		if r.code == 0 {
			t.Fatalf("a command that does not exist ran: %v", r)
		}
		wantOutput(t, "buildah run of a missing command", r.stderr, `process.args[0] "/no/such/command"`, "no such file or directory")
	})
	t.Run("run -t", func(t *testing.T) {
		name, args := b.command("run", "-t", "--network", "none", "--runtime", berthBin, c, "sh")
		s := startOnPTY(t, nil, name, args...)
		interactiveShell(t, s, "rootless buildah run -t", 3)
	})
	t.Run("slirp4netns", func(t *testing.T) {
		b.withTun(t, func() {
			out := mustSucceed(t, b.run(t, c, nil, "sh", "-c", "ip -4 addr show tap0; ip route; cat /proc/sys/net/ipv4/ping_group_range"))
			// slirp4netns's fixed addresses; buildah lets root ping.
			wantOutput(t, "rootless buildah run with slirp4netns", out, "inet 10.0.2.100/24", "default via 10.0.2.2 dev tap0", "0\t0")
		})
	})
	t.Run("host pid namespace", func(t *testing.T) {
		// buildah binds the host's /proc and still sets its sysctl in the
		// container's network namespace: the user namespace cannot mount
		// a procfs of the host's pid namespace to write it through.
		b.withTun(t, func() {
			out := mustSucceed(t, b.run(t, c, []string{"--pid", "host"}, "sh", "-c",
				"echo pid=$$; cat /proc/sys/net/ipv4/ping_group_range"))
			got := lines(out)
			if len(got) != 2 || got[0] == "pid=1" || strings.Join(strings.Fields(got[1]), " ") != "0 0" {
				t.Errorf("buildah run --pid host: %q, want a host pid (not 1) and ping_group_range 0 0", out)
			}
		})
	})
	t.Run("host namespaces", func(t *testing.T) {
		out := mustSucceed(t, b.run(t, c, []string{"--network", "host", "--uts", "host", "--pid", "host"},
			"sh", "-c", "hostname; echo pid=$$; id -u"))
		host, _ := os.Hostname()
		if got := lines(out); len(got) != 3 || got[0] != host || got[1] == "pid=1" || got[2] != "0" {
			t.Errorf("buildah run with the host's network, uts and pid namespaces: %q, want hostname %s, a host pid, uid 0", out, host)
		}
	})
	t.Run("build", func(t *testing.T) { testBuildahBuild(t, b) })
	b.assertNoBundles(t)
	b.assertNoState(t)
}

// testBuildahBuild builds an image whose RUN steps berth runs, then runs
// the result: the steps' files are in the image.
func testBuildahBuild(t *testing.T, b *buildah) {
	dir := b.w.path("context")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	file := "FROM " + buildahImage + "\nRUN echo built-by-berth > /built && id -u >> /built\nRUN cat /built\n"
	if err := os.WriteFile(filepath.Join(dir, "Containerfile"), []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	if b.u != nil {
		if err := testuser.ChownTree(dir, b.u.UID, b.u.GID); err != nil {
			t.Fatal(err)
		}
	}
	const image = "localhost/berth-built:latest"
	r := b.buildah(t, "build", "--runtime", berthBin, "--network", "none", "--pull=never", "--layers=false", "-t", image, dir)
	mustSucceed(t, r)
	t.Cleanup(func() { b.buildah(t, "rmi", image) })
	wantOutput(t, "buildah build", r.stdout, "built-by-berth\n0\n")
	name := "bb-" + randHex(4)
	mustSucceed(t, b.buildah(t, "from", "--pull=never", "--name", name, image))
	defer b.buildah(t, "rm", name)
	if out := mustSucceed(t, b.run(t, name, []string{"--network", "none"}, "cat", "/built")); out != "built-by-berth\n0\n" {
		t.Errorf("/built in the built image: %q", out)
	}
}

// TestBuildah: root's buildah with berth as the runtime: the command's
// output, uid and exit status, and nothing left in /run/berth.
func TestBuildah(t *testing.T) {
	b := startBuildah(t, false)
	c := b.from(t)
	r := b.run(t, c, []string{"--network", "none"}, "sh", "-c", "echo hello from berth; id -u; cat /proc/self/uid_map; exit 7")
	if r.code != 7 {
		t.Fatalf("want the command's exit status 7: %v", r)
	}
	out := lines(r.stdout)
	if len(out) != 3 || out[0] != "hello from berth" || out[1] != "0" || strings.Join(strings.Fields(out[2]), " ") != "0 0 4294967295" {
		t.Errorf("buildah run as root: %q, want the greeting, uid 0 and the host's uid_map", r.stdout)
	}
	t.Run("build", func(t *testing.T) { testBuildahBuild(t, b) })
	b.assertNoBundles(t)
	b.assertNoState(t)
}
