package tests

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berthrun/berth/internal/hostscan"
	"github.com/berthrun/berth/internal/testbundle"
)

// soakCycles is the number of mixed cycles: $BERTH_SOAK (make soak: 1000),
// or a short run for make test.
func soakCycles() int {
	if n, err := strconv.Atoi(os.Getenv("BERTH_SOAK")); err == nil && n > 0 {
		return n
	}
	return 60
}

// rssTolerance is the growth of the long run parent's resident memory the
// soak accepts. The parent only waits and forwards signals, so its heap
// does not grow, but the Go runtime maps and touches memory lazily (a
// first GC cycle, a signal-handling goroutine's stack, heap arenas): about
// a megabyte can appear once. A real leak of even 2 KiB per cycle would
// exceed this over the 1,000 cycles of make soak.
const rssTolerance = 2 << 20

// soakSample is what the soak measures before and after.
type soakSample struct {
	hostMounts  int      // lines of our /proc/self/mountinfo (informational: other tests mount too)
	testMounts  int      // of those, mounts at or below the test's directory
	longMounts  int      // lines of the long container's mountinfo
	cgroups     int      // soak containers' cgroup directories, every hierarchy
	cgroupProcs int      // processes in those cgroups (the long container's init)
	stateDirs   int      // entries in --root
	zombies     []string // lasting zombie children of the test, the run parent and the container's init
	strays      int      // processes in the test's directories (an init that never pivoted)
	tagged      int      // live processes carrying the test's tag (the run parent is one)
	parentFDs   int      // open fds of the long run parent
	parentRSSKB int64    // VmRSS of the long run parent
}

func (s soakSample) String() string {
	return fmt.Sprintf("host mounts %d, test mounts %d, container mounts %d, cgroup dirs %d, processes in them %d, state dirs %d, zombies %v, processes in test dirs %d, tagged processes %d, run parent fds %d, run parent RSS %d kB",
		s.hostMounts, s.testMounts, s.longMounts, s.cgroups, s.cgroupProcs, s.stateDirs, s.zombies, s.strays, s.tagged, s.parentFDs, s.parentRSSKB)
}

// soak is the state of one soak run.
type soak struct {
	e         *env
	prefix    string // every soak container id starts with it
	n         int
	sleeper   string // bundle: sleep forever
	quick     string // bundle: exit 0
	failing   string // bundle: exit 3
	broken    string // bundle: its process does not exist (create fails in the init)
	long      string // id of the long-running container
	longRun   *bg
	parentPid int
	initPid   int
}

// TestSoak runs N mixed run/create/start/exec/kill/delete cycles, failures
// included, beside a long-running foreground `run` that keeps forwarding
// signals, and checks that nothing grows: mounts, cgroups, state dirs,
// zombies, stray processes, the run parent's fds and (within
// rssTolerance) its memory. N is $BERTH_SOAK; make soak runs 1,000.
func TestSoak(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := &soak{e: e, prefix: "e2e-soak" + e.tag[:6] + "-",
		sleeper: e.bundle(sh("sleep 100000")),
		quick:   e.bundle(sh("true")),
		failing: e.bundle(sh("exit 3")),
		broken:  e.bundle(testbundle.Spec("no-such-binary")),
	}
	// Soak ids are not registered one by one (the leak check walks every
	// cgroup hierarchy per id); whatever a failure leaves is found by list.
	t.Cleanup(func() {
		for _, id := range lines(e.berthQuiet("list", "-q").stdout) {
			e.track(id)
		}
	})
	s.startLong()
	cycles := soakCycles()
	for i := 0; i < len(soakSteps); i++ { // warm up: every kind once
		s.cycle(i)
	}
	before := s.sample()
	for i := 0; i < cycles; i++ {
		s.cycle(i)
		if t.Failed() {
			t.Fatalf("soak: failed in cycle %d", i)
		}
	}
	after := s.sample()
	t.Logf("soak: %d cycles (%d berth commands)\n  before: %v\n  after:  %v", cycles, s.n, before, after)
	s.compare(before, after)
	s.stopLong()
}

// startLong starts the long-running foreground run and waits for it. Its
// init is `sleep` as pid 1 of its pid namespace: signals it has no handler
// for (those the soak forwards) are dropped, so it never exits by itself.
func (s *soak) startLong() {
	e := s.e
	s.long = s.prefix + "long"
	e.track(s.long)
	b := e.bundle(testbundle.Spec("sleep", "100000"))
	fg := e.berthBackground("run", "--bundle", b, s.long)
	s.parentPid = fg.cmd.Process.Pid
	s.longRun = fg
	for i := 0; ; i++ { // until run has created it
		if r := e.berth("state", s.long); r.code == 0 {
			break
		}
		if i == 500 {
			e.t.Fatalf("the long run never created its container: %v", fg.wait(e.t))
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.initPid = e.waitStatus(s.long, "running").Pid
}

// stopLong kills the long container: its run parent, still working after
// the soak, must notice, clean up and exit 137.
func (s *soak) stopLong() {
	e := s.e
	e.mustBerth("kill", s.long, "KILL")
	if r := s.longRun.wait(e.t); r.code != 128+int(syscall.SIGKILL) {
		e.t.Errorf("long run parent after kill -9 of its container: want exit 137\n%v", r)
	}
	assertError(e.t, e.berth("state", s.long), "does not exist")
}

// soakSteps are the kinds of cycle, taken in turn.
var soakSteps = []func(s *soak, id string){
	(*soak).runForeground,
	(*soak).fullLifecycle,
	(*soak).createDelete,
	(*soak).failures,
	(*soak).poke,
	(*soak).detachedRun,
}

func (s *soak) cycle(i int) {
	soakSteps[i%len(soakSteps)](s, s.prefix+strconv.Itoa(i))
}

// must runs a berth command that must succeed.
func (s *soak) must(args ...string) result {
	s.n++
	return s.e.mustBerth(args...)
}

// fail runs a berth command that must fail with one line containing want.
func (s *soak) fail(want string, args ...string) {
	s.n++
	assertError(s.e.t, s.e.berth(args...), want)
}

func (s *soak) runForeground(id string) {
	s.must("run", "--bundle", s.quick, id)
	s.n++
	if r := s.e.berth("run", "--bundle", s.failing, id+"-x"); r.code != 3 {
		s.e.t.Errorf("run of exit 3: %v", r)
	}
}

func (s *soak) fullLifecycle(id string) {
	s.must("create", "--bundle", s.sleeper, id)
	s.must("start", id)
	if out := s.must("exec", id, "echo", "hi").stdout; out != "hi\n" {
		s.e.t.Errorf("exec echo: %q", out)
	}
	s.must("kill", id, "KILL")
	s.e.waitStatus(id, "stopped")
	s.must("delete", id)
}

func (s *soak) createDelete(id string) {
	s.must("create", "--bundle", s.sleeper, id)
	s.must("delete", id)
}

// failures: each bad request fails cleanly and changes nothing.
func (s *soak) failures(id string) {
	s.must("run", "-d", "--bundle", s.sleeper, id)
	s.fail("already exists", "create", "--bundle", s.sleeper, id)
	s.n++
	assertExecError(s.e.t, s.e.berth("exec", id, "no-such-binary"), "no-such-binary")
	s.fail("use delete --force", "delete", id)
	s.fail("not created", "start", id)
	s.must("kill", id, "KILL")
	s.e.waitStatus(id, "stopped")
	s.fail("container not running", "kill", id, "KILL")
	s.must("delete", id)
	s.fail("does not exist", "kill", id)
	s.fail("no-such-binary", "create", "--bundle", s.broken, id)
	s.fail("no-such-binary", "run", "--bundle", s.broken, id)
}

// poke works on the long container: exec into it, signal it through berth
// and through its run parent (which forwards), inspect it.
func (s *soak) poke(string) {
	e := s.e
	if out := s.must("exec", s.long, "cat", "/proc/1/comm").stdout; out != "sleep\n" {
		e.t.Errorf("exec into the long container: %q", out)
	}
	s.must("kill", s.long, "USR1")
	if err := syscall.Kill(s.parentPid, syscall.SIGUSR2); err != nil {
		e.t.Errorf("signal the run parent: %v", err)
	}
	if st := e.state(s.long); st.Status != "running" || st.Pid != s.initPid {
		e.t.Errorf("long container: %+v", st)
	}
	s.n++
}

func (s *soak) detachedRun(id string) {
	s.must("run", "-d", "--bundle", s.sleeper, id)
	s.must("delete", "--force", id)
}

func (s *soak) sample() soakSample {
	e := s.e
	var m soakSample
	host, _ := os.ReadFile("/proc/self/mountinfo")
	m.hostMounts = bytes.Count(host, []byte("\n"))
	m.testMounts = len(hostscan.MountsBelow(e.base))
	long, _ := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", s.initPid))
	m.longMounts = bytes.Count(long, []byte("\n"))
	dirs := cgroupDirsWithPrefix(s.prefix)
	m.cgroups = len(dirs)
	m.cgroupProcs = cgroupProcs(dirs)
	if entries, err := os.ReadDir(e.root); err == nil {
		m.stateDirs = len(entries)
	}
	m.zombies = zombieChildren(os.Getpid(), s.parentPid, s.initPid)
	m.strays = len(procsBelow(e.base))
	m.tagged = len(hostscan.PidsWithEnv(tagVar + "=" + e.tag))
	if fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", s.parentPid)); err == nil {
		m.parentFDs = len(fds)
	}
	m.parentRSSKB = statusKB(s.parentPid, "VmRSS")
	return m
}

// compare fails on any growth; only the run parent's RSS has a tolerance.
func (s *soak) compare(before, after soakSample) {
	t := s.e.t
	for _, c := range []struct {
		what          string
		before, after int
	}{
		{"mounts below the test directory", before.testMounts, after.testMounts},
		{"mounts of the long container", before.longMounts, after.longMounts},
		{"cgroup directories", before.cgroups, after.cgroups},
		{"processes in the containers' cgroups", before.cgroupProcs, after.cgroupProcs},
		{"state directories", before.stateDirs, after.stateDirs},
		{"zombies", len(before.zombies), len(after.zombies)},
		{"processes in the test's directories", before.strays, after.strays},
		{"tagged processes", before.tagged, after.tagged},
		{"open fds of the run parent", before.parentFDs, after.parentFDs},
	} {
		if c.after > c.before {
			t.Errorf("soak: %s grew from %d to %d", c.what, c.before, c.after)
			if c.what == "zombies" {
				t.Errorf("soak: zombies after the cycles: %v", after.zombies)
			}
		}
	}
	if after.parentRSSKB == 0 || after.parentRSSKB-before.parentRSSKB > rssTolerance>>10 {
		t.Errorf("soak: run parent RSS %d kB → %d kB (tolerance %d kB)", before.parentRSSKB, after.parentRSSKB, rssTolerance>>10)
	}
	if after.stateDirs != 1 || after.tagged != 1 {
		t.Errorf("soak: after the cycles want only the long container (1 state dir, 1 tagged process): %v", after)
	}
}

// cgroupDirsWithPrefix lists cgroup directories whose name starts with
// prefix, directly below a hierarchy's root or below our own cgroup (where
// berth puts containers without a cgroupsPath).
func cgroupDirsWithPrefix(prefix string) []string {
	starts, _ := filepath.Glob("/sys/fs/cgroup/*")
	starts = append(starts, ownCgroupDirs()...)
	seen := map[string]bool{}
	var out []string
	for _, dir := range starts {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, de := range entries {
			p := filepath.Join(dir, de.Name())
			if de.IsDir() && strings.HasPrefix(de.Name(), prefix) && !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// cgroupProcs counts the distinct processes in the cgroup directories.
func cgroupProcs(dirs []string) int {
	pids := map[string]bool{}
	for _, d := range dirs {
		b, _ := os.ReadFile(filepath.Join(d, "cgroup.procs"))
		for _, p := range strings.Fields(string(b)) {
			pids[p] = true
		}
	}
	return len(pids)
}

// zombieChildren lists the zombie processes whose parent is one of parents
// and which stay zombies: the test process is also the parent of other
// parallel tests' berth commands, each a zombie for the moment between its
// exit and its Wait, so a zombie counts only if it is still there 200 ms
// later. Each is described as "pid (comm) of ppid".
func zombieChildren(parents ...int) []string {
	first := zombiesOf(parents)
	if len(first) == 0 {
		return nil
	}
	time.Sleep(200 * time.Millisecond)
	var out []string
	for pid, desc := range zombiesOf(parents) {
		if first[pid] == desc {
			out = append(out, desc)
		}
	}
	sort.Strings(out)
	return out
}

// zombiesOf maps the pid of each zombie child of parents to its description.
func zombiesOf(parents []int) map[int]string {
	want := map[int]bool{}
	for _, p := range parents {
		want[p] = true
	}
	entries, _ := os.ReadDir("/proc")
	found := map[int]string{}
	for _, de := range entries {
		pid, err := strconv.Atoi(de.Name())
		if err != nil {
			continue
		}
		st, err := os.ReadFile("/proc/" + de.Name() + "/stat")
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(st, ')')
		j := bytes.IndexByte(st, '(')
		if i < 0 || j < 0 || j > i {
			continue
		}
		f := strings.Fields(string(st[i+1:]))
		if len(f) < 2 || f[0] != "Z" {
			continue
		}
		if ppid, _ := strconv.Atoi(f[1]); want[ppid] {
			found[pid] = fmt.Sprintf("%d (%s) of %d", pid, st[j+1:i], ppid)
		}
	}
	return found
}

// statusKB reads a "Name: N kB" field of /proc/<pid>/status.
func statusKB(pid int, name string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}
