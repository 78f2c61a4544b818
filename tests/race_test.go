package tests

import "testing"

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

// TestConcurrentCreate: of several creates racing for one id, exactly one
// wins; the others fail saying the id exists, and nothing is corrupted.
func TestConcurrentCreate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.bundle(sh("sleep 1000"))
	id := e.id("race-create")
	var bgs []*bg
	for i := 0; i < 4; i++ {
		bgs = append(bgs, e.berthBackground("create", "--bundle", b, id))
	}
	wins := 0
	for _, x := range bgs {
		r := x.wait(t)
		switch r.code {
		case 0:
			wins++
		default:
			assertError(t, r, id)
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
