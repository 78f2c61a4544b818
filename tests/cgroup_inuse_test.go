package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hostHierarchies finds, from this host's mount table, the directories an
// absolute cgroupsPath lands in for the checks of a cgroup already in use:
// "freezer" and "devices" (v1 hierarchies, present on a v1 or hybrid host),
// "unified" (the cgroup2 mount, whatever the host). pureV2 says whether
// the cgroup2 mount is the only one.
func hostHierarchies(t *testing.T) (dirs map[string]string, pureV2 bool) {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	dirs = map[string]string{}
	for point, m := range parseMountinfo(t, string(b)) {
		switch m.fstype {
		case "cgroup2":
			dirs["unified"] = point
		case "cgroup":
			for _, c := range []string{"freezer", "devices"} {
				if _, ok := m.super[c]; ok {
					dirs[c] = point
				}
			}
		}
	}
	_, v1 := dirs["freezer"]
	return dirs, !v1 && dirs["unified"] != ""
}

// userCgroup is a cgroup the test makes itself, as a user would before
// pointing cgroupsPath at it; its cleanup thaws it, kills what is in it
// (only processes the test started, or a berth init it let in) and
// removes it, before the env's leak check runs.
type userCgroup struct {
	t    *testing.T
	name string   // the cgroupsPath is "/" + name
	dirs []string // every directory made, in one hierarchy each
}

func newUserCgroup(t *testing.T, e *env) *userCgroup {
	t.Helper()
	u := &userCgroup{t: t, name: "berth-e2e-inuse-" + randHex(4)}
	e.track(u.name) // the leak check then finds what berth made of it
	t.Cleanup(u.remove)
	return u
}

// mkdir makes the cgroup in the hierarchy mounted at hier.
func (u *userCgroup) mkdir(hier string) string {
	u.t.Helper()
	d := filepath.Join(hier, u.name)
	if err := os.Mkdir(d, 0o755); err != nil {
		u.t.Fatal(err)
	}
	u.dirs = append(u.dirs, d)
	return d
}

func (u *userCgroup) remove() {
	for _, d := range u.dirs {
		writeCg(d, "freezer.state", "THAWED")
		writeCg(d, "cgroup.freeze", "0")
	}
	for _, d := range u.dirs {
		for i := 0; i < 200; i++ {
			for _, p := range strings.Fields(readCg(d, "cgroup.procs")) {
				if pid, err := strconv.Atoi(p); err == nil {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}
			if err := os.Remove(d); err == nil || os.IsNotExist(err) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

func writeCg(dir, file, v string) error {
	return os.WriteFile(filepath.Join(dir, file), []byte(v), 0o644)
}

func readCg(dir, file string) string {
	b, _ := os.ReadFile(filepath.Join(dir, file))
	return strings.TrimSpace(string(b))
}

// TestCgroupPreFrozenRefused: a cgroupsPath naming a cgroup the user froze
// (v1 freezer.state, v2 cgroup.freeze, and on a hybrid host the unified
// hierarchy's cgroup.freeze, which freezes the init just as well) is refused
// as runc refuses it, instead of create waiting forever for an init frozen
// the moment it joined. The user's cgroup stays, frozen; berth makes nothing.
func TestCgroupPreFrozenRefused(t *testing.T) {
	t.Parallel()
	if systemdCgroup {
		t.Skip("the systemd driver makes its own scope: a cgroupfs path made beforehand is not a systemd cgroupsPath (slice:prefix:name)")
	}
	dirs, pureV2 := hostHierarchies(t)
	type freezer struct{ hier, file, frozen string }
	var cases []freezer
	if pureV2 {
		cases = append(cases, freezer{"unified", "cgroup.freeze", "1"})
	} else {
		cases = append(cases, freezer{"freezer", "freezer.state", "FROZEN"})
		if dirs["unified"] != "" {
			cases = append(cases, freezer{"unified", "cgroup.freeze", "1"})
		}
	}
	for _, c := range cases {
		t.Run(c.hier, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			u := newUserCgroup(t, e)
			d := u.mkdir(dirs[c.hier])
			if err := writeCg(d, c.file, c.frozen); err != nil {
				t.Skipf("cannot freeze %s: %v", d, err)
			}
			spec := sh("echo ran")
			spec.Linux.CgroupsPath = "/" + u.name
			b := e.bundle(spec)
			// A hang is the fault: bound each command well below the
			// harness's own timeout.
			o := runOpts{timeout: 10 * time.Second}
			for _, cmd := range []string{"run", "create"} {
				assertError(t, e.berthOpts(o, cmd, "--bundle", b, e.id("frozen")),
					`linux.cgroupsPath "/`+u.name+`"`, "container's cgroup unexpectedly frozen")
			}
			if got := readCg(d, c.file); got != c.frozen {
				t.Errorf("%s of the user's cgroup: %q, want it left %q", c.file, got, c.frozen)
			}
			if procs := readCg(d, "cgroup.procs"); procs != "" {
				t.Errorf("processes left in the user's cgroup: %q", procs)
			}
		})
	}
}

// TestCgroupNotEmptyRefused: a cgroupsPath naming a cgroup that already holds
// a process is refused with runc's words, and the process is neither killed
// nor moved, nor the cgroup removed, by the failed create's cleanup (berth
// used to join it, and its delete killed everything in the cgroup).
func TestCgroupNotEmptyRefused(t *testing.T) {
	t.Parallel()
	if systemdCgroup {
		t.Skip("the systemd driver makes its own scope: a cgroupfs path made beforehand is not a systemd cgroupsPath (slice:prefix:name)")
	}
	dirs, pureV2 := hostHierarchies(t)
	hier := "devices" // the hierarchy runc and berth list processes in on v1
	if pureV2 {
		hier = "unified"
	}
	if dirs[hier] == "" {
		t.Skipf("no %s hierarchy on this host", hier)
	}
	e := newEnv(t)
	u := newUserCgroup(t, e)
	d := u.mkdir(dirs[hier])
	sleeper := exec.Command("sleep", "1000")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	pid := sleeper.Process.Pid
	t.Cleanup(func() { sleeper.Process.Kill(); sleeper.Wait() })
	if err := writeCg(d, "cgroup.procs", strconv.Itoa(pid)); err != nil {
		t.Fatal(err)
	}
	spec := sh("echo ran")
	spec.Linux.CgroupsPath = "/" + u.name
	b := e.bundle(spec)
	for _, cmd := range []string{"run", "create"} {
		assertError(t, e.berthOpts(runOpts{timeout: 10 * time.Second}, cmd, "--bundle", b, e.id("busy")),
			`linux.cgroupsPath "/`+u.name+`"`, "container's cgroup is not empty: 1 process(es) found")
	}
	if !pidAlive(pid) {
		t.Fatalf("the process in the user's cgroup was killed")
	}
	if procs := readCg(d, "cgroup.procs"); procs != strconv.Itoa(pid) {
		t.Errorf("cgroup.procs of the user's cgroup: %q, want only %d", procs, pid)
	}
}
