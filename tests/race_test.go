package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestConcurrentDelete: two deletes racing on one container: exactly the
// container goes, nothing is corrupted, at least one succeeds.
func TestConcurrentDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.id("race")
	e.mustBerth("run", "-d", "--bundle", e.bundle(sh("sleep 1000")), id)
	a := e.berthBackground("delete", "--force", id)
	b := e.berthBackground("delete", "--force", id)
	ra, rb := a.wait(t), b.wait(t)
	if ra.code != 0 && rb.code != 0 {
		t.Errorf("both deletes failed:\n%v\n%v", ra, rb)
	}
	assertError(t, e.berth("state", id))
}

// TestConcurrentCreate: of 8 creates racing for one id, exactly one wins;
// the others fail saying the id exists, and nothing is corrupted.
func TestConcurrentCreate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.bundle(sh("sleep 1000"))
	id := e.id("race-create")
	var bgs []*bg
	for i := 0; i < 8; i++ {
		bgs = append(bgs, e.berthBackground("create", "--bundle", b, id))
	}
	wins := 0
	for _, x := range bgs {
		r := x.wait(t)
		switch r.code {
		case 0:
			wins++
		default:
			assertError(t, r, id, "already exists")
		}
	}
	if wins != 1 {
		t.Errorf("%d creates of one id succeeded, want exactly 1", wins)
	}
	s := e.state(id)
	if s.Status != "created" || !pidAlive(s.Pid) {
		t.Errorf("the winner: %+v", s)
	}
	if n := len(lines(e.mustBerth("list", "-q").stdout)); n != 1 {
		t.Errorf("list shows %d containers, want 1", n)
	}
}

// TestConcurrentKillDeleteState: kills, deletes, states and lists racing on
// one running container, several rounds. Every command finishes (no
// deadlock: each is bounded by the harness's timeout), succeeds or fails
// with one clear line, what state and list print is valid, and the
// container ends up deleted.
func TestConcurrentKillDeleteState(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.bundle(sh("sleep 1000"))
	for round := 0; round < 3; round++ {
		id := e.id("race-mixed")
		e.mustBerth("run", "-d", "--bundle", b, id)
		var ops []*bg
		for i := 0; i < 3; i++ {
			ops = append(ops,
				e.berthBackground("state", id),
				e.berthBackground("kill", id, "KILL"),
				e.berthBackground("list", "--format", "json"))
		}
		ops = append(ops, e.berthBackground("delete", "--force", id), e.berthBackground("delete", "--force", id))
		deleted := 0
		for _, op := range ops {
			r := op.wait(t)
			verb := r.args[len(e.globals())] // the command, after the global flags
			if r.code != 0 {
				// Too late: the container is stopped or already gone.
				assertError(t, r, id)
				if !strings.Contains(r.stderr, "does not exist") && !strings.Contains(r.stderr, "container not running") {
					t.Errorf("%s failed for an unexpected reason: %v", verb, r)
				}
				continue
			}
			switch verb {
			case "delete":
				deleted++
			case "state":
				var s state
				if err := json.Unmarshal([]byte(r.stdout), &s); err != nil || s.ID != id || (s.Status != "running" && s.Status != "stopped") {
					t.Errorf("state printed %q (%v)", r.stdout, err)
				}
			case "list":
				var all []state
				if err := json.Unmarshal([]byte(r.stdout), &all); err != nil || len(all) > 1 {
					t.Errorf("list printed %q (%v)", r.stdout, err)
				}
			}
		}
		if deleted == 0 {
			t.Errorf("round %d: no delete --force succeeded", round)
		}
		assertError(t, e.berth("state", id), "does not exist")
	}
}

// TestParallelCreate32: 32 containers of one bundle created at once, then
// started at once and deleted at once: each one is created with its own
// init, nothing is mixed up, and nothing is left.
func TestParallelCreate32(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.bundle(sh("sleep 1000"))
	const n = 32
	ids := make([]string, n)
	for i := range ids {
		ids[i] = e.id("par")
	}
	all := func(args ...string) {
		t.Helper()
		bgs := make([]*bg, n)
		for i, id := range ids {
			bgs[i] = e.berthBackground(append(args, id)...)
		}
		for _, x := range bgs {
			if r := x.wait(t); r.code != 0 {
				t.Errorf("%v", r)
			}
		}
	}
	all("create", "--bundle", b)
	listed := lines(e.mustBerth("list", "-q").stdout)
	want := append([]string(nil), ids...)
	sort.Strings(want)
	if strings.Join(listed, " ") != strings.Join(want, " ") {
		t.Errorf("list -q shows %v, want %v", listed, want)
	}
	pids := map[int]string{}
	for _, id := range ids {
		s := e.state(id)
		if s.Status != "created" || !pidAlive(s.Pid) {
			t.Errorf("%s: %+v", id, s)
		}
		if other, dup := pids[s.Pid]; dup {
			t.Errorf("%s and %s share the init pid %d", id, other, s.Pid)
		}
		pids[s.Pid] = id
	}
	all("start")
	for _, id := range ids {
		if s := e.state(id); s.Status != "running" {
			t.Errorf("%s after start: %+v", id, s)
		}
	}
	all("delete", "--force")
	if left := e.mustBerth("list", "-q").stdout; left != "" {
		t.Errorf("after deleting all, list -q shows %q", left)
	}
}

// TestLockTimeout: a command waiting for a container's lock gives up after
// $BERTH_LOCK_TIMEOUT with one line naming the container, the holder's pid
// and the wait, and changes nothing; with the lock released in time it
// just proceeds. state takes no lock and always answers.
func TestLockTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.id("locked")
	e.mustBerth("run", "-d", "--bundle", e.bundle(sh("sleep 1000")), id)
	hold := func() *os.File {
		f, err := os.Open(filepath.Join(e.root, id))
		if err != nil {
			t.Fatal(err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			t.Fatal(err)
		}
		return f
	}
	lock := hold()
	short := []string{"BERTH_LOCK_TIMEOUT=300ms"}
	for _, args := range [][]string{{"kill", id, "KILL"}, {"delete", "--force", id}, {"start", id}, {"pause", id}} {
		r := e.berthEnv(short, args...)
		assertError(t, r, id, "is locked by another berth command", fmt.Sprintf("(pid %d)", os.Getpid()), "timed out after 300ms")
	}
	if s := e.state(id); s.Status != "running" || !pidAlive(s.Pid) {
		t.Errorf("after the timed-out commands: %+v, want it running untouched", s)
	}
	// Released while a kill waits (default timeout): the kill goes through.
	waiter := e.berthBackground("kill", id, "KILL")
	time.Sleep(300 * time.Millisecond)
	lock.Close()
	if r := waiter.wait(t); r.code != 0 {
		t.Errorf("kill waiting for a released lock: %v", r)
	}
	e.waitStatus(id, "stopped")
}
