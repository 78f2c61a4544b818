package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berthrun/berth/internal/testuser"
)

// On a cgroup v2 host with systemd, an unprivileged user gets cgroups the
// way systemd hands them out: a user with lingering enabled has its own
// systemd (user@UID.service), whose subtree is delegated to it, memory and
// pids controllers included. These tests run berth as such a user inside
// a unit of its systemd (systemd-run --user), where its processes belong,
// and read the limits from the kernel's files of the container's cgroup.
// They need make vmtest's guest (docs/vmtest.md): the development host has
// neither cgroup v2 nor systemd.

// userSystemd is the test user's systemd instance.
type userSystemd struct {
	cgroup string // user@UID.service's cgroup, below /sys/fs/cgroup
	run    string // its runtime directory, /run/user/UID
	env    []string
}

const v2Limit = 64 << 20

// startUserSystemd enables lingering for the user (undone at the end if it
// was off), waits for user@UID.service and its bus, and checks that memory
// and pids are delegated to it.
func startUserSystemd(t *testing.T, r *rootlessUser) *userSystemd {
	t.Helper()
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err != nil {
		t.Skip("not a cgroup v2 (unified) host: nothing is delegated to users (make vmtest runs this)")
	}
	if !systemdRunning() {
		t.Skip("systemd is not pid 1: there is no user@UID.service to delegate cgroups (make vmtest runs this)")
	}
	for _, b := range []string{"loginctl", "systemd-run", "systemctl"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("no %s", b)
		}
	}
	if _, err := os.Stat("/usr/lib/systemd/user/dbus.socket"); err != nil {
		t.Skip("no dbus-user-session: the user's systemd would have no bus for systemd-run --user and the systemd driver")
	}
	unit := fmt.Sprintf("user@%d.service", r.uid)
	if _, err := os.Stat("/var/lib/systemd/linger/" + rootlessName); err != nil {
		if out, err := exec.Command("loginctl", "enable-linger", rootlessName).CombinedOutput(); err != nil {
			t.Fatalf("loginctl enable-linger %s: %v: %s", rootlessName, err, out)
		}
		// Undone once, at the end of the run (undoLinger): logind stops
		// the user's systemd some time after disable-linger, which would
		// kill the next test's units if each test undid it.
		lingerEnabled = true
	}
	t.Cleanup(func() {
		if t.Failed() {
			j, _ := exec.Command("journalctl", "--no-pager", "-n", "60", "_UID="+strconv.Itoa(r.uid)).CombinedOutput()
			t.Logf("the user's journal ends:\n%s", j)
		}
	})
	u := &userSystemd{run: fmt.Sprintf("/run/user/%d", r.uid)}
	u.env = []string{"XDG_RUNTIME_DIR=" + u.run, "DBUS_SESSION_BUS_ADDRESS=unix:path=" + u.run + "/bus"}
	deadline := time.Now().Add(90 * time.Second)
	for {
		out, _ := exec.Command("systemctl", "is-active", unit).Output()
		_, err := os.Stat(u.run + "/bus")
		if strings.TrimSpace(string(out)) == "active" && err == nil {
			break
		}
		if time.Now().After(deadline) {
			st, _ := exec.Command("systemctl", "status", "--no-pager", unit).CombinedOutput()
			t.Fatalf("%s not active with a bus at %s/bus after lingering was enabled: %s", unit, u.run, st)
		}
		time.Sleep(200 * time.Millisecond)
	}
	out, err := exec.Command("systemctl", "show", "--property", "ControlGroup", "--value", unit).Output()
	if err != nil || !strings.HasPrefix(string(out), "/") {
		t.Fatalf("systemctl show %s: ControlGroup %q (%v)", unit, out, err)
	}
	u.cgroup = strings.TrimSpace(string(out))
	ctrls := strings.Fields(readTrim(t, filepath.Join("/sys/fs/cgroup", u.cgroup, "cgroup.controllers")))
	for _, c := range []string{"memory", "pids"} {
		if !slices.Contains(ctrls, c) {
			t.Skipf("%s is delegated %v, without %s (its Delegate= setting): no %s limit can be set as the user", unit, ctrls, c, c)
		}
	}
	return u
}

// lingerEnabled: this run enabled lingering for the test user.
var lingerEnabled bool

// undoLinger disables the lingering this run enabled, which stops the
// user's systemd; TestMain calls it after every test.
func undoLinger() {
	if lingerEnabled {
		exec.Command("loginctl", "disable-linger", rootlessName).Run()
		exec.Command("systemctl", "stop", fmt.Sprintf("user@%d.service", mustUID())).Run()
	}
}

func mustUID() int {
	u, err := testuser.Ensure()
	if err != nil {
		return -1
	}
	return u.UID
}

func readTrim(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// asUser runs a command as the user with only a login's environment plus
// env, and returns its output and exit code.
func (r *rootlessUser) asUser(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	full := []string{"--reuid=" + strconv.Itoa(r.uid), "--regid=" + strconv.Itoa(r.gid), "--init-groups",
		"env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=/", "USER=" + rootlessName, "LOGNAME=" + rootlessName}
	full = append(append(full, env...), args...)
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "setpriv", full...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%v: timed out: %s", args, out.String())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return out.String(), code
}

// startInUserUnit starts berth args as a transient service of the user's
// systemd (systemd-run --user), with the test's XDG_RUNTIME_DIR so that its
// state is where the test looks; the unit is stopped at the end.
func (r *rootlessUser) startInUserUnit(t *testing.T, u *userSystemd, unit string, props []string, cmd ...string) {
	t.Helper()
	args := []string{"systemd-run", "--user", "--quiet", "--collect", "--unit", unit,
		"--setenv", "XDG_RUNTIME_DIR=" + r.xdg, "--setenv", "DBUS_SESSION_BUS_ADDRESS=unix:path=" + u.run + "/bus"}
	for _, p := range props {
		args = append(args, "--property", p)
	}
	args = append(append(args, "--"), cmd...)
	t.Cleanup(func() { r.asUser(t, u.env, "systemctl", "--user", "stop", unit) })
	if out, code := r.asUser(t, u.env, args...); code != 0 {
		t.Fatalf("systemd-run --user: exit %d: %s", code, out)
	}
}

// runningPid waits until the user's berth says the container runs (the
// unit started it) and returns its pid; a unit that failed is shown.
func (r *rootlessUser) runningPid(t *testing.T, u *userSystemd, unit, id string) int {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var s struct {
			Status string `json:"status"`
			Pid    int    `json:"pid"`
		}
		if res := r.berth("state", id); res.code == 0 && json.Unmarshal([]byte(res.stdout), &s) == nil && s.Status == "running" {
			return s.Pid
		}
		if time.Now().After(deadline) {
			st, _ := r.asUser(t, u.env, "systemctl", "--user", "status", "--no-pager", "--full", unit)
			j, _ := exec.Command("journalctl", "--no-pager", "-n", "30", "_UID="+strconv.Itoa(r.uid)).CombinedOutput()
			t.Fatalf("container %s not running 60s after its unit started:\n%s\njournal:\n%s", id, st, j)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// v2Bundle is the user's bundle with a memory and a pids limit, running
// sleep; edit adjusts it further.
func (r *rootlessUser) v2Bundle(edit func(*specs.Spec)) string {
	return r.bundle(func(s *specs.Spec) {
		limit, pids := int64(v2Limit), int64(50)
		s.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit}, Pids: &specs.LinuxPids{Limit: &pids}}
		s.Process.Args = []string{"sleep", "1000"}
		edit(s)
	})
}

// checkV2Limits reads the container's cgroup from the kernel: the one
// /proc/<pid>/cgroup names must be want, the user's, with memory.max and
// pids.max as set.
func checkV2Limits(t *testing.T, r *rootlessUser, pid int, want string) string {
	t.Helper()
	cg := strings.TrimPrefix(readTrim(t, fmt.Sprintf("/proc/%d/cgroup", pid)), "0::")
	if cg != want {
		t.Fatalf("the container's cgroup is %q, want %q", cg, want)
	}
	dir := filepath.Join("/sys/fs/cgroup", cg)
	if got := readTrim(t, filepath.Join(dir, "memory.max")); got != strconv.Itoa(v2Limit) {
		t.Errorf("%s/memory.max = %s, want %d", dir, got, v2Limit)
	}
	if got := readTrim(t, filepath.Join(dir, "pids.max")); got != "50" {
		t.Errorf("%s/pids.max = %s, want 50", dir, got)
	}
	return dir
}

// waitPathGone waits for a path to disappear.
func waitPathGone(t *testing.T, path, what string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(path); os.IsNotExist(err) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still there after 60s: %s", what, path)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestRootlessCgroup2Delegated: the cgroupfs driver as the user, in a
// service of its systemd with Delegate=yes. The service moves itself into
// a leaf (cgroup v2 lets no cgroup with processes enable controllers for
// its children) and runs berth with linux.cgroupsPath beside it, as an
// engine would: the container's cgroup is the user's, and memory.max and
// pids.max are the config's.
func TestRootlessCgroup2Delegated(t *testing.T) {
	_, r := newRootless(t)
	u := startUserSystemd(t, r)
	id := r.id("v2fs")
	unit := "berth-rl-" + id + ".service"
	// Where the user's systemd puts the unit: a slice of the test's own
	// below user@UID.service (no dash: a dash would nest the slice).
	const slice = "berthrltest.slice"
	svc := u.cgroup + "/" + slice + "/" + unit
	b := r.v2Bundle(func(s *specs.Spec) { s.Linux.CgroupsPath = svc + "/" + id })
	// Writing 0 to cgroup.procs moves the writer (the shell, as echo is
	// a builtin). No "$$": systemd takes it for its own escape of "$".
	leaf := `own=/sys/fs/cgroup$(sed -n 's/^0:://p' /proc/self/cgroup) && mkdir "$own/runner" && echo 0 > "$own/runner/cgroup.procs" && exec "$@"`
	r.startInUserUnit(t, u, unit, []string{"Delegate=yes", "Slice=" + slice}, "/bin/bash", "-c", leaf, "bash", berthBin, "run", "--bundle", b, id)
	pid := r.runningPid(t, u, unit, id)
	dir := checkV2Limits(t, r, pid, svc+"/"+id)
	if owner := fileOwner(t, dir); owner != r.uid {
		t.Errorf("%s belongs to uid %d, want the user's %d", dir, owner, r.uid)
	}
	checkV2Commands(t, r, nil, id, dir)
	r.mustBerth("kill", id, "KILL")
	// berth run returns when the container is gone, deletes it and the
	// unit ends: the cgroup goes with it.
	waitPathGone(t, filepath.Join(r.stateRoot(), id), "the container's state")
	waitPathGone(t, dir, "the container's cgroup")
}

// TestRootlessCgroup2Systemd: --systemd-cgroup as the user. berth talks to
// the user's systemd over its bus (DBUS_SESSION_BUS_ADDRESS), which makes
// the container a scope in its user.slice (runc's default slice for a
// rootless container) with MemoryMax and TasksMax: the kernel's files and
// systemctl --user show agree, and the scope is gone after the container.
func TestRootlessCgroup2Systemd(t *testing.T) {
	_, r := newRootless(t)
	u := startUserSystemd(t, r)
	id := r.id("v2sd")
	unit := "berth-rl-" + id + ".service"
	scope := "berth-" + id + ".scope"
	b := r.v2Bundle(func(*specs.Spec) {})
	r.startInUserUnit(t, u, unit, nil, berthBin, "--systemd-cgroup", "run", "--bundle", b, id)
	pid := r.runningPid(t, u, unit, id)
	dir := checkV2Limits(t, r, pid, u.cgroup+"/user.slice/"+scope)
	out, _ := r.asUser(t, u.env, "systemctl", "--user", "show", "--property", "MemoryMax,TasksMax,ActiveState", scope)
	for _, want := range []string{"MemoryMax=" + strconv.Itoa(v2Limit), "TasksMax=50", "ActiveState=active"} {
		if !strings.Contains(out, want) {
			t.Errorf("systemctl --user show %s: %q, want %s", scope, out, want)
		}
	}
	// update goes through the user's systemd too (the scope's properties).
	checkV2Commands(t, r, []string{"DBUS_SESSION_BUS_ADDRESS=unix:path=" + u.run + "/bus"}, id, dir)
	out, _ = r.asUser(t, u.env, "systemctl", "--user", "show", "--property", "MemoryMax,TasksMax", scope)
	for _, want := range []string{"MemoryMax=" + strconv.Itoa(v2Updated), "TasksMax=60"} {
		if !strings.Contains(out, want) {
			t.Errorf("systemctl --user show %s after update: %q, want %s", scope, out, want)
		}
	}
	r.mustBerth("kill", id, "KILL")
	waitPathGone(t, filepath.Join(r.stateRoot(), id), "the container's state")
	waitPathGone(t, dir, "the container's scope cgroup")
	if out, _ := r.asUser(t, u.env, "systemctl", "--user", "show", "--property", "LoadState", scope); !strings.Contains(out, "LoadState=not-found") {
		t.Errorf("%s after the container: %q, want not-found", scope, out)
	}
}

// v2Updated is the memory limit checkV2Commands's update sets.
const v2Updated = 96 << 20

// checkV2Commands: as the user, with env added, pause and resume (the
// delegated cgroup's cgroup.freeze, which the kernel reports in
// cgroup.events), update of the memory and pids limits (memory.max and
// pids.max), and events --stats (the cgroup's usage) of a running
// container whose cgroup is dir.
func checkV2Commands(t *testing.T, r *rootlessUser, env []string, id, dir string) {
	t.Helper()
	o := r.opts()
	o.env = append(o.env, env...)
	berth := func(args ...string) string {
		t.Helper()
		res := r.e.berthOpts(o, args...)
		if res.code != 0 {
			t.Fatalf("%v", res)
		}
		return res.stdout
	}
	status := func() string {
		var s struct {
			Status string `json:"status"`
		}
		json.Unmarshal([]byte(berth("state", id)), &s)
		return s.Status
	}
	berth("pause", id)
	if st, fr := status(), readTrim(t, filepath.Join(dir, "cgroup.freeze")); st != "paused" || fr != "1" {
		t.Errorf("after pause: status %q, cgroup.freeze %q; want paused and 1", st, fr)
	}
	if ev := readTrim(t, filepath.Join(dir, "cgroup.events")); !strings.Contains(ev, "frozen 1") {
		t.Errorf("after pause: cgroup.events %q, want frozen 1", ev)
	}
	berth("resume", id)
	if st, fr := status(), readTrim(t, filepath.Join(dir, "cgroup.freeze")); st != "running" || fr != "0" {
		t.Errorf("after resume: status %q, cgroup.freeze %q; want running and 0", st, fr)
	}
	berth("update", "--memory", strconv.Itoa(v2Updated), "--pids-limit", "60", id)
	if got := readTrim(t, filepath.Join(dir, "memory.max")); got != strconv.Itoa(v2Updated) {
		t.Errorf("memory.max after update: %s, want %d", got, v2Updated)
	}
	if got := readTrim(t, filepath.Join(dir, "pids.max")); got != "60" {
		t.Errorf("pids.max after update: %s, want 60", got)
	}
	var ev struct {
		Type string `json:"type"`
		Data struct {
			Memory struct {
				Usage struct {
					Usage uint64 `json:"usage"`
					Limit uint64 `json:"limit"`
				} `json:"usage"`
			} `json:"memory"`
			Pids struct {
				Current uint64 `json:"current"`
				Limit   uint64 `json:"limit"`
			} `json:"pids"`
		} `json:"data"`
	}
	out := berth("events", "--stats", id)
	if err := json.Unmarshal([]byte(out), &ev); err != nil {
		t.Fatalf("events --stats: %v: %q", err, out)
	}
	if ev.Type != "stats" || ev.Data.Memory.Usage.Usage == 0 || ev.Data.Memory.Usage.Limit != v2Updated ||
		ev.Data.Pids.Current != 1 || ev.Data.Pids.Limit != 60 {
		t.Errorf("events --stats: %q, want the cgroup's memory usage with limit %d and 1 task of 60", out, v2Updated)
	}
}

func fileOwner(t *testing.T, path string) int {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return int(fi.Sys().(*syscall.Stat_t).Uid)
}
