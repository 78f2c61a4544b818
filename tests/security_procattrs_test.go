package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berthrun/berth/internal/testbundle"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The process attributes the kernel keeps across execve (scheduler, I/O
// priority, personality, memory policy, CPU affinity), seen from inside by
// the container process and by an exec'd one.

// statFields returns the fields of a /proc/<pid>/stat line after the
// command name, so that field N of proc(5) is fields[N-3].
func statFields(t *testing.T, line string) []string {
	t.Helper()
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		t.Fatalf("not a stat line: %q", line)
	}
	return strings.Fields(line[i+1:])
}

// schedOf returns policy, rt_priority and nice from a stat line.
func schedOf(t *testing.T, line string) (policy, prio, nice string) {
	t.Helper()
	f := statFields(t, line)
	if len(f) < 39 {
		t.Fatalf("short stat line: %q", line)
	}
	return f[41-3], f[40-3], f[19-3]
}

// processFile writes an exec process file and returns its path.
func (e *env) processFile(p *specs.Process) string {
	e.t.Helper()
	b, err := json.Marshal(p)
	if err != nil {
		e.t.Fatal(err)
	}
	path := filepath.Join(e.dir("process"), "process.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		e.t.Fatal(err)
	}
	return path
}

// execProcess is the process of an exec running args, as runc's
// process.json would have it.
func execProcess(args ...string) *specs.Process {
	return testbundle.Spec(args...).Process
}

// hostRTGroupSched reports whether the kernel has realtime group
// scheduling in a mounted cpu hierarchy (cgroup v1 cpu.rt_runtime_us): there
// a realtime task needs runtime in its cpu cgroup, which is 0 in a new one.
func hostRTGroupSched() bool {
	for _, d := range append(ownCgroupDirs(), "/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct") {
		if _, err := os.Stat(filepath.Join(d, "cpu.rt_runtime_us")); err == nil {
			return true
		}
	}
	return false
}

func TestProcessScheduler(t *testing.T) {
	t.Parallel()
	rt := func(s *specs.Spec) {
		// Where the kernel has realtime group scheduling, a realtime
		// policy needs runtime in the container's cpu cgroup; elsewhere
		// (cgroup v2, kernels without CONFIG_RT_GROUP_SCHED) there is no
		// such knob and none is needed.
		if hostRTGroupSched() {
			s.Linux.Resources = &specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimeRuntime: ptr(int64(10000)), RealtimePeriod: ptr(uint64(1000000))}}
		}
	}
	tests := []struct {
		name                   string
		sched                  specs.Scheduler
		modify                 func(*specs.Spec)
		policy, prio, wantNice string
	}{
		{"other-nice", specs.Scheduler{Policy: specs.SchedOther, Nice: 7}, nil, "0", "0", "7"},
		{"batch", specs.Scheduler{Policy: specs.SchedBatch, Nice: 3}, nil, "3", "0", "3"},
		{"idle", specs.Scheduler{Policy: specs.SchedIdle}, nil, "5", "0", "0"},
		{"fifo", specs.Scheduler{Policy: specs.SchedFIFO, Priority: 10}, rt, "1", "10", "0"},
		{"rr", specs.Scheduler{Policy: specs.SchedRR, Priority: 42}, rt, "2", "42", "0"},
		{"deadline", specs.Scheduler{Policy: specs.SchedDeadline, Runtime: 1000000, Deadline: 10000000, Period: 10000000}, nil, "6", "0", "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			// cat reads its own stat: no fork (a deadline task may not fork).
			spec := testbundle.Spec("cat", "/proc/self/stat")
			spec.Process.Scheduler = &tt.sched
			if tt.modify != nil {
				tt.modify(spec)
			}
			policy, prio, nice := schedOf(t, e.mustRun(spec))
			if policy != tt.policy || prio != tt.prio || nice != tt.wantNice {
				t.Errorf("policy %s priority %s nice %s, want %s %s %s", policy, prio, nice, tt.policy, tt.prio, tt.wantNice)
			}
		})
	}
}

// TestExecProcessAttrs: an exec'd process gets its own scheduler and I/O
// priority, and the container's personality and memory policy.
func TestExecProcessAttrs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	spec := sh("sleep 1000")
	spec.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux32}
	spec.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolInterleave, Nodes: "0"}
	id := e.id("attrs")
	e.mustBerth("run", "-d", "--bundle", e.bundle(spec), id)

	p := execProcess("cat", "/proc/self/stat")
	p.Scheduler = &specs.Scheduler{Policy: specs.SchedBatch, Nice: 11}
	policy, _, nice := schedOf(t, e.mustBerth("exec", "--process", e.processFile(p), id).stdout)
	if policy != "3" || nice != "11" {
		t.Errorf("exec'd process: policy %s nice %s, want SCHED_BATCH (3) nice 11", policy, nice)
	}
	p = execProcess("ionice")
	p.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_IDLE}
	if out := e.mustBerth("exec", "--process", e.processFile(p), id).stdout; strings.TrimSpace(out) != "idle" {
		t.Errorf("exec'd process: ionice says %q, want idle", out)
	}
	out := e.mustBerth("exec", id, "sh", "-c", "cat /proc/self/personality; head -n1 /proc/self/numa_maps").stdout
	l := lines(out)
	if len(l) != 2 || l[0] != "00000008" || !strings.Contains(l[1], " interleave:0 ") {
		t.Errorf("exec'd process: personality and memory policy %q, want LINUX32 (00000008) and interleave:0", out)
	}
}

func TestProcessIOPriority(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		prio specs.LinuxIOPriority
		want string
	}{
		{specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 6}, "best-effort: prio 6"},
		{specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_RT, Priority: 2}, "realtime: prio 2"},
		{specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_IDLE}, "idle"},
	} {
		t.Run(string(tt.prio.Class), func(t *testing.T) {
			e := newEnv(t)
			spec := testbundle.Spec("ionice")
			spec.Process.IOPriority = &tt.prio
			if out := strings.TrimSpace(e.mustRun(spec)); out != tt.want {
				t.Errorf("ionice says %q, want %q", out, tt.want)
			}
		})
	}
}

func TestPersonality(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name           string
		p              specs.LinuxPersonality
		persona, uname string
	}{
		{"linux", specs.LinuxPersonality{Domain: specs.PerLinux}, "00000000", "x86_64"},
		{"linux32", specs.LinuxPersonality{Domain: specs.PerLinux32}, "00000008", "i686"},
		{"no-randomize", specs.LinuxPersonality{Domain: specs.PerLinux, Flags: []specs.LinuxPersonalityFlag{"ADDR_NO_RANDOMIZE"}}, "00040000", "x86_64"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			spec := sh("cat /proc/self/personality; uname -m")
			spec.Linux.Personality = &tt.p
			l := lines(e.mustRun(spec))
			if len(l) != 2 || l[0] != tt.persona || l[1] != tt.uname {
				t.Errorf("personality, uname -m: %q, want %s %s", l, tt.persona, tt.uname)
			}
		})
	}
}

func TestMemoryPolicy(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/self/numa_maps"); err != nil {
		t.Skipf("this kernel has no NUMA support (/proc/self/numa_maps: %v)", err)
	}
	for _, tt := range []struct {
		p    specs.LinuxMemoryPolicy
		want string
	}{
		{specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0"}, "bind:0"},
		{specs.LinuxMemoryPolicy{Mode: specs.MpolInterleave, Nodes: "0"}, "interleave:0"},
		{specs.LinuxMemoryPolicy{Mode: specs.MpolPreferred, Nodes: "0"}, "prefer:0"},
		{specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0", Flags: []specs.MemoryPolicyFlagType{specs.MpolFStaticNodes}}, "bind=static:0"},
		{specs.LinuxMemoryPolicy{Mode: specs.MpolLocal}, "local"},
	} {
		t.Run(tt.want, func(t *testing.T) {
			e := newEnv(t)
			// The policy of the process's mappings: every line starts
			// "address policy".
			spec := testbundle.Spec("head", "-n1", "/proc/self/numa_maps")
			spec.Linux.MemoryPolicy = &tt.p
			if f := strings.Fields(e.mustRun(spec)); len(f) < 2 || f[1] != tt.want {
				t.Errorf("numa_maps policy %v, want %s", f, tt.want)
			}
		})
	}
}

// kernelAtLeast reports whether the running kernel's release is at least
// major.minor.
func kernelAtLeast(t *testing.T, major, minor int) bool {
	t.Helper()
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Fatal(err)
	}
	rel := unix.ByteSliceToString(u.Release[:])
	var ma, mi int
	if _, err := fmt.Sscanf(rel, "%d.%d", &ma, &mi); err != nil {
		t.Fatalf("kernel release %q: %v", rel, err)
	}
	return ma > major || ma == major && mi >= minor
}

// TestExecCPUAffinity: initial pins the exec before it joins the cgroup,
// final is what the process runs with; the container's init is not
// affected. With an initial and no final, what the process ends up with
// is the kernel's: since Linux 6.2 ("sched: Always preserve the user
// requested cpumask") a task keeps its own affinity across a cpuset move;
// before, the move resets it to the cpuset's cpus.
func TestExecCPUAffinity(t *testing.T) {
	t.Parallel()
	all, last := hostCPUs(t)
	if all == last {
		t.Skip("needs at least two CPUs")
	}
	initialOnly := last
	if !kernelAtLeast(t, 6, 2) {
		initialOnly = all
		t.Logf("Linux before 6.2: an initial affinity with no final ends at the cpuset's cpus (%s)", all)
	}
	first := all[:strings.IndexAny(all, ",-")]
	e := newEnv(t)
	spec := sh("grep Cpus_allowed_list /proc/self/status; sleep 1000")
	spec.Process.ExecCPUAffinity = &specs.CPUAffinity{Final: first}
	id := e.id("affinity")
	e.mustBerth("run", "-d", "--bundle", e.bundle(spec), id)
	cpus := func(r result) string {
		if r.code != 0 {
			t.Fatalf("%v", r)
		}
		return strings.TrimSpace(strings.TrimPrefix(r.stdout, "Cpus_allowed_list:"))
	}
	grep := []string{"grep", "Cpus_allowed_list", "/proc/self/status"}
	// From config.json's process, as runc does for exec without --process.
	if got := cpus(e.berth(append([]string{"exec", id}, grep...)...)); got != first {
		t.Errorf("exec with config.json's final %s: runs on %s", first, got)
	}
	for _, tt := range []struct {
		initial, final, want string
	}{
		{last, "", initialOnly},
		{last, first, first},
		{"", last, last},
		{all, "", all},
	} {
		p := execProcess(grep...)
		p.ExecCPUAffinity = &specs.CPUAffinity{Initial: tt.initial, Final: tt.final}
		if got := cpus(e.berth("exec", "--process", e.processFile(p), id)); got != tt.want {
			t.Errorf("initial %q final %q: runs on %s, want %s", tt.initial, tt.final, got, tt.want)
		}
	}
	p := execProcess(grep...)
	p.ExecCPUAffinity = &specs.CPUAffinity{Final: "4000"}
	assertExecError(t, e.berth("exec", "--process", e.processFile(p), id), "execCPUAffinity.final", "4000")
}

// TestProcessAttrErrors: a bad value is one line naming the field, exit 1
// and nothing left behind.
func TestProcessAttrErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		modify func(*specs.Spec)
		want   []string
	}{
		{"sched-policy", func(s *specs.Spec) { s.Process.Scheduler = &specs.Scheduler{Policy: "SCHED_FAST"} }, []string{`process.scheduler.policy "SCHED_FAST"`}},
		{"sched-priority", func(s *specs.Spec) { s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedFIFO, Priority: 100} }, []string{"process.scheduler.priority 100", "1 to 99"}},
		{"sched-fifo-without-rt-runtime", func(s *specs.Spec) { s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedFIFO, Priority: 1} }, []string{"process.scheduler SCHED_FIFO", "realtimeRuntime"}},
		{"ioprio", func(s *specs.Spec) { s.Process.IOPriority = &specs.LinuxIOPriority{Class: "IOPRIO_CLASS_NONE"} }, []string{`process.ioPriority.class "IOPRIO_CLASS_NONE"`}},
		{"affinity", func(s *specs.Spec) { s.Process.ExecCPUAffinity = &specs.CPUAffinity{Initial: "0-x"} }, []string{`process.execCPUAffinity.initial "0-x"`}},
		{"affinity-absent-cpu", func(s *specs.Spec) { s.Process.ExecCPUAffinity = &specs.CPUAffinity{Final: "4000"} }, []string{`process.execCPUAffinity.final "4000"`, "does not exist"}},
		{"personality", func(s *specs.Spec) { s.Linux.Personality = &specs.LinuxPersonality{Domain: "LINUX64"} }, []string{`linux.personality.domain "LINUX64"`}},
		{"mempolicy-node", func(s *specs.Spec) { s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "7"} }, []string{`linux.memoryPolicy.nodes "7"`, "NUMA node 7 does not exist"}},
		{"mempolicy-mode", func(s *specs.Spec) {
			s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolLocal, Nodes: "0"}
		}, []string{`linux.memoryPolicy.nodes "0"`, "MPOL_LOCAL takes no nodes"}},
		{"intelRdt", func(s *specs.Spec) { s.Linux.IntelRdt = &specs.LinuxIntelRdt{L3CacheSchema: "L3:0=f"} }, []string{"linux.intelRdt: this host has no resctrl filesystem"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "sched-fifo-without-rt-runtime" && !hostRTGroupSched() {
				t.Skip("no realtime group scheduling on this host: SCHED_FIFO needs no cgroup runtime here")
			}
			e := newEnv(t)
			spec := sh("true")
			tt.modify(spec)
			id := e.id("bad")
			assertError(t, e.berth("create", "--bundle", e.bundle(spec), id), tt.want...)
			assertError(t, e.berth("state", id), id)
		})
	}
}
