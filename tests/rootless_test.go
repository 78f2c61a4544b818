package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berthrun/berth/internal/testbundle"
	"github.com/berthrun/berth/internal/testuser"
)

// The rootless tests run berth as a real unprivileged user, berth-rootless,
// made here if the host lacks it (useradd gives it /etc/subuid and
// /etc/subgid ranges), through setpriv, with an XDG_RUNTIME_DIR of its own
// below the test's base and no --root: berth must find its state directory
// itself, as it does for a user on a desktop.

const rootlessName = testuser.Name

// subIDRange is the test user's first range in a subuid/subgid file.
func subIDRange(file string) (start, size uint64, ok bool) { return testuser.SubIDRange(file) }

// rootlessUser is the unprivileged user and what a test gave it.
type rootlessUser struct {
	e        *env
	uid, gid int
	xdg      string // its XDG_RUNTIME_DIR (0700, its own)
	ids      []string
}

// newRootless prepares the user for one test; its cleanup force-deletes
// the user's containers (as the user) before the harness checks for
// leaks, and reports anything left in its state directory.
func newRootless(t *testing.T) (*env, *rootlessUser) {
	t.Helper()
	e := newEnv(t)
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("no setpriv (util-linux) to run berth as an unprivileged user")
	}
	u, err := testuser.Ensure()
	if err != nil {
		t.Skip("cannot make the unprivileged test user: ", err)
	}
	r := &rootlessUser{e: e, uid: u.UID, gid: u.GID, xdg: filepath.Join(e.base, "xdg")}
	if err := os.Mkdir(r.xdg, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(r.xdg, r.uid, r.gid); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, id := range r.ids {
			if res := r.berth("delete", "--force", id); res.code != 0 && !t.Failed() {
				t.Errorf("cleanup: %v", res)
			}
		}
		entries, _ := os.ReadDir(r.stateRoot())
		for _, de := range entries {
			t.Errorf("leak: %s remains in the user's state root", filepath.Join(r.stateRoot(), de.Name()))
		}
	})
	return e, r
}

// stateRoot is where berth must keep the user's state: $XDG_RUNTIME_DIR/berth.
func (r *rootlessUser) stateRoot() string { return filepath.Join(r.xdg, "berth") }

func (r *rootlessUser) env() []string {
	return []string{"XDG_RUNTIME_DIR=" + r.xdg, "USER=" + rootlessName, "LOGNAME=" + rootlessName, "HOME=/home/" + rootlessName}
}

func (r *rootlessUser) opts() runOpts {
	return runOpts{
		noRoot: true,
		env:    r.env(),
		wrap:   []string{"setpriv", "--reuid=" + strconv.Itoa(r.uid), "--regid=" + strconv.Itoa(r.gid), "--init-groups"},
	}
}

// berth runs berth as the user, without --root.
func (r *rootlessUser) berth(args ...string) result {
	r.e.t.Helper()
	return r.e.berthOpts(r.opts(), args...)
}

func (r *rootlessUser) mustBerth(args ...string) result {
	r.e.t.Helper()
	res := r.berth(args...)
	if res.code != 0 {
		r.e.t.Fatalf("%v", res)
	}
	return res
}

func (r *rootlessUser) id(name string) string {
	id := r.e.id(name)
	r.ids = append(r.ids, id)
	return id
}

// bundle is what a user does: `berth spec --rootless` in a directory of its
// own, then edit adjusts the config, over a busybox root the user owns.
func (r *rootlessUser) bundle(edit func(*specs.Spec)) string {
	t := r.e.t
	t.Helper()
	d := r.e.dir("rootless-bundle")
	if err := testbundle.Rootfs(filepath.Join(d, "rootfs")); err != nil {
		t.Fatal(err)
	}
	if err := testuser.ChownTree(d, r.uid, r.gid); err != nil {
		t.Fatal(err)
	}
	o := r.opts()
	o.dir = d
	if res := r.e.berthOpts(o, "spec", "--rootless"); res.code != 0 {
		t.Fatalf("%v", res)
	}
	path := filepath.Join(d, "config.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var spec specs.Spec
	if err := json.Unmarshal(b, &spec); err != nil {
		t.Fatal(err)
	}
	spec.Process.Terminal = false
	edit(&spec)
	if b, err = json.Marshal(&spec); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return d
}

func withArgs(args ...string) func(*specs.Spec) {
	return func(s *specs.Spec) { s.Process.Args = args }
}

// assertNothingLeft checks the user's state directory is empty.
func (r *rootlessUser) assertNothingLeft() {
	t := r.e.t
	t.Helper()
	entries, err := os.ReadDir(r.stateRoot())
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, de := range entries {
		t.Errorf("%s left behind in %s", de.Name(), r.stateRoot())
	}
}

// TestRootlessRun is the issue's check: as an unprivileged user, `berth
// spec --rootless` then `berth run` prints uid 0 inside, the user's id is
// what root maps to, the cgroup mount is read-only, and the state lives in
// $XDG_RUNTIME_DIR/berth (0700 and sticky, the user's) and is gone after.
func TestRootlessRun(t *testing.T) {
	e, r := newRootless(t)
	_ = e
	b := r.bundle(withArgs("sh", "-c", `id -u; cat /proc/self/uid_map; grep " /sys/fs/cgroup " /proc/self/mountinfo | tail -1`))
	id := r.id("run")
	res := r.mustBerth("run", "--bundle", b, id)
	out := lines(res.stdout)
	if len(out) < 3 || out[0] != "0" {
		t.Fatalf("id -u inside: %q, want 0 first", res.stdout)
	}
	if f := strings.Fields(out[1]); len(f) != 3 || f[0] != "0" || f[1] != strconv.Itoa(r.uid) || f[2] != "1" {
		t.Errorf("uid_map inside: %q, want 0 %d 1", out[1], r.uid)
	}
	if opts := strings.Fields(out[2]); len(opts) < 6 || !strings.HasPrefix(opts[5], "ro") {
		t.Errorf("the cgroup mount is not read-only: %q", out[2])
	}
	fi, err := os.Stat(r.stateRoot())
	if err != nil {
		t.Fatalf("no state root at $XDG_RUNTIME_DIR/berth: %v", err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if int(st.Uid) != r.uid || fi.Mode().Perm() != 0o700 || fi.Mode()&os.ModeSticky == 0 {
		t.Errorf("state root %s: owner %d mode %v, want %d and drwx-----T", r.stateRoot(), st.Uid, fi.Mode(), r.uid)
	}
	r.assertNothingLeft()
}

// TestRootlessLifecycle: create/start, state and list (the C fast path and
// Go), exec, ps, kill and delete as the user, with the state under
// $XDG_RUNTIME_DIR/berth; what cgroup v1 cannot give an unprivileged user
// (pause, update) fails in one line naming why.
func TestRootlessLifecycle(t *testing.T) {
	_, r := newRootless(t)
	b := r.bundle(withArgs("sleep", "1000"))
	id := r.id("life")
	r.mustBerth("create", "--bundle", b, id)
	if _, err := os.Stat(filepath.Join(r.stateRoot(), id, "state.json")); err != nil {
		t.Fatalf("state not under $XDG_RUNTIME_DIR/berth: %v", err)
	}
	r.mustBerth("start", id)
	var fast, slow struct {
		Status string `json:"status"`
		Pid    int    `json:"pid"`
	}
	if err := json.Unmarshal([]byte(r.mustBerth("state", id).stdout), &fast); err != nil {
		t.Fatal(err)
	}
	o := r.opts()
	o.env = append(o.env, "BERTH_NO_FASTPATH=1")
	if err := json.Unmarshal([]byte(r.e.berthOpts(o, "state", id).stdout), &slow); err != nil {
		t.Fatal(err)
	}
	if fast.Status != "running" || fast != slow {
		t.Errorf("state: fast path %+v, Go %+v; want both running", fast, slow)
	}
	if l := r.mustBerth("list", "-q").stdout; strings.TrimSpace(l) != id {
		t.Errorf("list -q: %q, want %s", l, id)
	}
	if got := strings.TrimSpace(r.mustBerth("exec", id, "id", "-u").stdout); got != "0" {
		t.Errorf("exec id -u: %q, want 0", got)
	}
	r.mustBerth("exec", "-d", id, "sleep", "999")
	var pids []int
	if err := json.Unmarshal([]byte(r.mustBerth("ps", "--format", "json", id).stdout), &pids); err != nil {
		t.Fatal(err)
	}
	if len(pids) != 2 || (pids[0] != fast.Pid && pids[1] != fast.Pid) {
		t.Errorf("ps --format json: %v, want the init %d and the exec'd sleep", pids, fast.Pid)
	}
	if fi, err := os.Stat("/sys/fs/cgroup/freezer"); err == nil && int(fi.Sys().(*syscall.Stat_t).Uid) != r.uid {
		res := r.berth("pause", id)
		assertError(t, res, "freezer")
	}
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		// cgroup v2, berth run from this test's (root's) cgroup: the
		// container got none, and v2 freezes only through one.
		res := r.berth("pause", id)
		assertError(t, res, "rootless", "no cgroup")
	}
	if fi, err := os.Stat("/sys/fs/cgroup/memory"); err == nil && int(fi.Sys().(*syscall.Stat_t).Uid) != r.uid {
		res := r.berth("update", "--memory", "64m", id)
		assertError(t, res, "linux.resources.memory.limit", "rootless")
	}
	if ev := r.mustBerth("events", "--stats", id).stdout; !strings.Contains(ev, `"type":"stats"`) {
		t.Errorf("events --stats: %q", ev)
	}
	r.mustBerth("kill", "--all", id, "KILL")
	waitGoneAs(t, r, id)
	r.mustBerth("delete", id)
	r.assertNothingLeft()
	for _, pid := range pids {
		if syscall.Kill(pid, 0) == nil {
			if s, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); !strings.Contains(string(s), ") Z") {
				t.Errorf("pid %d of the container is still alive", pid)
			}
		}
	}
}

// waitGoneAs waits until the user's berth says the container stopped.
func waitGoneAs(t *testing.T, r *rootlessUser, id string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var s struct {
			Status string `json:"status"`
		}
		json.Unmarshal([]byte(r.mustBerth("state", id).stdout), &s)
		if s.Status == "stopped" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s still %s after kill", id, s.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRootlessExecTerminal: exec -t as the user, on a terminal it owns.
func TestRootlessExecTerminal(t *testing.T) {
	e, r := newRootless(t)
	b := r.bundle(withArgs("sleep", "1000"))
	id := r.id("tty")
	r.mustBerth("run", "-d", "--bundle", b, id)
	term := newTerminal(t, 30, 90)
	if err := os.Chown(term.slave.Name(), r.uid, r.gid); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(berthBin, "exec", "-t", id, "sh", "-c", `tty; echo "uid=$(id -u)"; exit 3`)
	cmd.Env = append(append(os.Environ(), tagVar+"="+e.tag), r.env()...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = term.slave, term.slave, term.slave
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setsid: true, Setctty: true, Ctty: 0,
		Credential: &syscall.Credential{Uid: uint32(r.uid), Gid: uint32(r.gid), Groups: []uint32{}},
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if code := waitExit(t, cmd); code != 3 {
		t.Errorf("exec -t exited %d, want 3; terminal: %q", code, term.shown())
	}
	out := term.shown()
	if !strings.Contains(out, "/dev/pts/") || !strings.Contains(out, "uid=0") {
		t.Errorf("exec -t as the user: terminal shows %q, want /dev/pts/N and uid=0", out)
	}
	r.mustBerth("delete", "--force", id)
	r.assertNothingLeft()
}

// TestRootlessSubordinateIDs: more than the user's own id is mapped through
// newuidmap/newgidmap from its /etc/subuid and /etc/subgid ranges: a file
// chowned to 1000:1000 inside belongs to the range's 1000th id on the
// host. A range the user was not granted is refused, naming the entry.
func TestRootlessSubordinateIDs(t *testing.T) {
	_, r := newRootless(t)
	for _, h := range []string{"newuidmap", "newgidmap"} {
		if _, err := exec.LookPath(h); err != nil {
			t.Skipf("no %s (Debian package uidmap; scripts/install-deps.sh installs it)", h)
		}
	}
	ustart, usize, ok1 := subIDRange("/etc/subuid")
	gstart, gsize, ok2 := subIDRange("/etc/subgid")
	if !ok1 || !ok2 || usize < 2000 || gsize < 2000 {
		t.Skip("the test user has no subordinate ranges of 2000 ids or more")
	}
	maps := func(self int, start uint64) []specs.LinuxIDMapping {
		return []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(self), Size: 1}, {ContainerID: 1, HostID: uint32(start), Size: 1999}}
	}
	b := r.bundle(func(s *specs.Spec) {
		s.Root.Readonly = false
		// The default capabilities (runc's) have no CAP_CHOWN.
		c := s.Process.Capabilities
		c.Bounding = append(c.Bounding, "CAP_CHOWN")
		c.Effective = append(c.Effective, "CAP_CHOWN")
		c.Permitted = append(c.Permitted, "CAP_CHOWN")
		s.Linux.UIDMappings = maps(r.uid, ustart)
		s.Linux.GIDMappings = maps(r.gid, gstart)
		s.Process.Args = []string{"sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; touch /owned && chown 1000:1000 /owned"}
	})
	id := r.id("subids")
	res := r.mustBerth("run", "--bundle", b, id)
	if n := len(lines(res.stdout)); n != 4 {
		t.Errorf("uid_map and gid_map inside: %q, want two lines each", res.stdout)
	}
	fi, err := os.Stat(filepath.Join(b, "rootfs", "owned"))
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if uint64(st.Uid) != ustart+999 || uint64(st.Gid) != gstart+999 {
		t.Errorf("/owned chowned to 1000:1000 inside is %d:%d on the host, want %d:%d", st.Uid, st.Gid, ustart+999, gstart+999)
	}

	outside := r.bundle(func(s *specs.Spec) {
		s.Linux.UIDMappings = maps(r.uid, ustart+usize)
		s.Process.Args = []string{"true"}
	})
	res = r.berth("run", "--bundle", outside, r.id("outside"))
	assertError(t, res, "linux.uidMappings[1]", "/etc/subuid", strconv.FormatUint(ustart+usize, 10))
	r.assertNothingLeft()
}

// TestRootlessRefusals: what a user namespace on a cgroup v1 host cannot
// give an unprivileged user fails before anything is made, in one line
// naming the field; what it can give works.
func TestRootlessRefusals(t *testing.T) {
	_, r := newRootless(t)
	own := 0
	if b, err := os.ReadFile("/proc/self/oom_score_adj"); err == nil {
		own, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	var hard uint64 = 1 << 20
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil && lim.Max < 1<<30 {
		hard = lim.Max + 1
	}
	cases := []struct {
		name string
		edit func(*specs.Spec)
		want []string
		skip string
	}{
		{name: "oom-below-own", edit: func(s *specs.Spec) { v := own - 1; s.Process.OOMScoreAdj = &v },
			want: []string{"process.oomScoreAdj", "below"}, skip: map[bool]string{true: "oom_score_adj already at -1000"}[own == -1000]},
		{name: "rlimit-above-hard", edit: func(s *specs.Spec) {
			s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: hard, Soft: 1024}}
		}, want: []string{"process.rlimits[0]", "RLIMIT_NOFILE"}},
		{name: "memory-limit", edit: func(s *specs.Spec) {
			l := int64(64 << 20)
			s.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &l}}
		}, want: []string{"linux.resources.memory.limit", "rootless"}},
		{name: "net-sysctl-without-netns", edit: func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"} },
			want: []string{`linux.sysctl["net.ipv4.ip_forward"]`}},
	}
	// The memory cgroup berth would make is below the caller's own (this
	// test's, root's): v1's memory hierarchy, or on v2 the one hierarchy.
	memDir := "/sys/fs/cgroup/memory"
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		b, _ := os.ReadFile("/proc/self/cgroup")
		memDir = filepath.Join("/sys/fs/cgroup", strings.TrimPrefix(strings.TrimSpace(string(b)), "0::"))
	}
	if fi, err := os.Stat(memDir); err != nil || int(fi.Sys().(*syscall.Stat_t).Uid) == r.uid {
		cases[2].skip = "the memory cgroup " + memDir + " is the user's (or absent): a limit may be set"
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.skip != "" {
				t.Skip(c.skip)
			}
			b := r.bundle(func(s *specs.Spec) { s.Process.Args = []string{"true"}; c.edit(s) })
			res := r.berth("run", "--bundle", b, r.id(c.name))
			assertError(t, res, c.want...)
			r.assertNothingLeft()
		})
	}
	t.Run("oom-above-own", func(t *testing.T) {
		want := own + 100
		if want > 1000 {
			t.Skip("oom_score_adj too high to raise")
		}
		b := r.bundle(func(s *specs.Spec) {
			s.Process.OOMScoreAdj = &want
			s.Process.Args = []string{"cat", "/proc/self/oom_score_adj"}
		})
		res := r.mustBerth("run", "--bundle", b, r.id("oom-up"))
		if got := strings.TrimSpace(res.stdout); got != strconv.Itoa(want) {
			t.Errorf("oom_score_adj inside: %q, want %d", got, want)
		}
	})
}
