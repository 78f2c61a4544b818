package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ptr returns a pointer to a copy of v (for the optional spec fields).
func ptr[T any](v T) *T { return &v }

const mib = 1 << 20

// cgroupDirs maps each hierarchy of pid's /proc/<pid>/cgroup ("memory",
// "cpu", ... and "" for the unified one) to its directory on the host, for
// the hierarchies where the process is not in the root cgroup. Joined v1
// controllers ("cpu,cpuacct") appear once under each name. On a pure
// cgroup v2 host every controller enabled in the cgroup, and "freezer" and
// "devices" (cgroup.freeze and the eBPF device filter are in every v2
// cgroup), map to the one unified directory.
func cgroupDirs(t *testing.T, pid int) map[string]string {
	t.Helper()
	out := map[string]string{}
	for ctrls, p := range cgroupOf(t, pid) {
		if p == "/" {
			continue
		}
		if ctrls == "" {
			if !pureCgroup2() {
				out[""] = filepath.Join("/sys/fs/cgroup/unified", p)
				continue
			}
			dir := filepath.Join("/sys/fs/cgroup", p)
			out[""], out["freezer"], out["devices"] = dir, dir, dir
			for _, c := range strings.Fields(cgFile(t, dir, "cgroup.controllers")) {
				out[c] = dir
			}
			continue
		}
		for _, c := range strings.Split(ctrls, ",") {
			c = strings.TrimPrefix(c, "name=")
			out[c] = filepath.Join("/sys/fs/cgroup", c, p)
		}
	}
	return out
}

// cgroupDir is the directory of pid's cgroup in the v1 hierarchy ctrl.
func cgroupDir(t *testing.T, pid int, ctrl string) string {
	t.Helper()
	d, ok := cgroupDirs(t, pid)[ctrl]
	if !ok {
		t.Fatalf("pid %d is in no %s cgroup of its own: %v", pid, ctrl, cgroupOf(t, pid))
	}
	return d
}

// cgFile reads a cgroup file, trimmed; "" when it does not exist.
func cgFile(t *testing.T, dir, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		if os.IsNotExist(err) {
			return ""
		}
		t.Fatalf("reading cgroup file: %v", err)
	}
	return strings.TrimSpace(string(b))
}

// cgValue is the value of a one-value cgroup file; for files such as
// blkio.bfq.weight ("default 300" or "300") it is the last field of the
// first line.
func cgValue(t *testing.T, dir, file string) string {
	t.Helper()
	s := cgFile(t, dir, file)
	first, _, _ := strings.Cut(s, "\n")
	f := strings.Fields(first)
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}

// memLimit is the memory limit the kernel applies to the cgroup dir:
// memory.max on cgroup v2, memory.limit_in_bytes on v1.
func memLimit(t *testing.T, dir string) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "memory.max")); err == nil {
		return cgValue(t, dir, "memory.max")
	}
	return cgValue(t, dir, "memory.limit_in_bytes")
}

// memUsage is the cgroup's memory usage: v2 memory.current, v1
// memory.usage_in_bytes.
func memUsage(t *testing.T, dir string) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "memory.current")); err == nil {
		return cgValue(t, dir, "memory.current")
	}
	return cgValue(t, dir, "memory.usage_in_bytes")
}

// oomKills is how many processes the kernel's OOM killer has killed in the
// cgroup: oom_kill of v2 memory.events or of v1 memory.oom_control.
func oomKills(t *testing.T, dir string) int64 {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "memory.events")); err == nil {
		return cgKV(t, dir, "memory.events")["oom_kill"]
	}
	return cgKV(t, dir, "memory.oom_control")["oom_kill"]
}

// cgKV reads a "key value" cgroup file (memory.oom_control, pids.events).
func cgKV(t *testing.T, dir, file string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, l := range lines(cgFile(t, dir, file)) {
		f := strings.Fields(l)
		if len(f) == 2 {
			if n, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				out[f[0]] = n
			}
		}
	}
	return out
}

// startDetached runs spec detached under a fresh id, waits until its stdout
// (a file) shows "started", and returns the id, that file and the state.
func (e *env) startDetached(name string, spec *specs.Spec) (string, *os.File, state) {
	e.t.Helper()
	id := e.id(name)
	out := e.tempFile("out")
	if r := e.berthOpts(runOpts{stdout: out}, "run", "-d", "--bundle", e.bundle(spec), id); r.code != 0 {
		e.t.Fatalf("%v", r)
	}
	waitOutput(e.t, out, "started")
	return id, out, e.state(id)
}

// statsEvent is the part of `events --stats` the tests look at.
type statsEvent struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Data struct {
		CPU struct {
			Usage struct {
				Total uint64 `json:"total"`
			} `json:"usage"`
		} `json:"cpu"`
		Memory struct {
			Usage struct {
				Limit   uint64 `json:"limit"`
				Usage   uint64 `json:"usage"`
				Max     uint64 `json:"max"`
				Failcnt uint64 `json:"failcnt"`
			} `json:"usage"`
		} `json:"memory"`
		Pids struct {
			Current uint64 `json:"current"`
			Limit   uint64 `json:"limit"`
		} `json:"pids"`
	} `json:"data"`
}

// stats runs `events --stats id` and decodes its one JSON object.
func (e *env) stats(id string) statsEvent {
	e.t.Helper()
	r := e.mustBerth("events", "--stats", id)
	var ev statsEvent
	if len(lines(r.stdout)) != 1 {
		e.t.Fatalf("events --stats printed %d lines, want one JSON object: %q", len(lines(r.stdout)), r.stdout)
	}
	if err := json.Unmarshal([]byte(r.stdout), &ev); err != nil {
		e.t.Fatalf("events --stats: bad JSON %q: %v", r.stdout, err)
	}
	return ev
}

// lastNumber is the last line of s that is an integer (a counter's output).
func lastNumber(s string) (int, bool) {
	ls := lines(s)
	for i := len(ls) - 1; i >= 0; i-- {
		if n, err := strconv.Atoi(ls[i]); err == nil {
			return n, true
		}
	}
	return 0, false
}

// waitCounterPast waits until the counter printed in f exceeds n and
// returns its value.
func waitCounterPast(t *testing.T, f *os.File, n int) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if v, ok := lastNumber(readFrom(f.Name(), 0)); ok && v > n {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("counter did not pass %d in 10s; output %q", n, readFrom(f.Name(), 0))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// assertCgroupsGone fails for every directory of dirs that still exists.
func assertCgroupsGone(t *testing.T, dirs map[string]string) {
	t.Helper()
	keys := make([]string, 0, len(dirs))
	for k := range dirs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, err := os.Stat(dirs[k]); err == nil {
			t.Errorf("after delete, cgroup %q (hierarchy %q) still exists", dirs[k], k)
		}
	}
}

// waitBg waits at most d for a background berth command.
func waitBg(t *testing.T, b *bg, d time.Duration) result {
	t.Helper()
	select {
	case <-b.done:
	case <-time.After(d):
		b.cmd.Process.Kill()
		<-b.done
		t.Errorf("berth %s: still running after %v; killed it\nstdout so far: %q", strings.Join(b.cmd.Args[1:], " "), d, b.stdoutSoFar())
	}
	return b.wait(t)
}

// statusWithin polls the status of id for up to d until it is want, and
// returns the last status seen.
func (e *env) statusWithin(id, want string, d time.Duration) string {
	e.t.Helper()
	deadline := time.Now().Add(d)
	for {
		s := e.state(id).Status
		if s == want || time.Now().After(deadline) {
			return s
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// freezerState is FROZEN or THAWED, as the kernel has the freezer of the
// cgroup dir: v1 freezer.state (FREEZING too), or v2 cgroup.freeze (1 or 0)
// read as the same words.
func freezerState(t *testing.T, dir string) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "freezer.state")); err == nil {
		return cgFile(t, dir, "freezer.state")
	}
	switch v := cgFile(t, dir, "cgroup.freeze"); v {
	case "1":
		return "FROZEN"
	case "0":
		return "THAWED"
	default:
		return v
	}
}

// thaw thaws a frozen cgroup (v1 freezer.state, v2 cgroup.freeze): the
// tests' own way out when berth leaves a container frozen, so that the
// processes can die and the cleanup can remove it.
func thaw(t *testing.T, freezerDir string) {
	t.Helper()
	if freezerDir == "" {
		return
	}
	file, value := "freezer.state", "THAWED"
	if _, err := os.Stat(filepath.Join(freezerDir, file)); err != nil {
		file, value = "cgroup.freeze", "0"
	}
	b, err := os.ReadFile(filepath.Join(freezerDir, file))
	if err != nil || strings.TrimSpace(string(b)) == value {
		return
	}
	if err := os.WriteFile(filepath.Join(freezerDir, file), []byte(value), 0o644); err != nil {
		t.Logf("thaw %s: %v", freezerDir, err)
	}
}

// thawOnCleanup thaws freezerDir before the env's cleanup deletes the
// container (cleanups run last registered first), so that a failing test
// leaves no frozen process behind.
func thawOnCleanup(t *testing.T, freezerDir string) {
	t.Cleanup(func() { thaw(t, freezerDir) })
}
