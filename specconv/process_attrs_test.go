package specconv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// fakeHostLists points the possible-CPU and possible-node lists at files
// saying "0-3" CPUs and node "0-1" for the test.
func fakeHostLists(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	cpus, nodes := filepath.Join(dir, "cpus"), filepath.Join(dir, "nodes")
	if err := os.WriteFile(cpus, []byte("0-3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(nodes, []byte("0-1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	oldCPU, oldNode, oldRdt := cpuPossiblePath, nodePossiblePath, resctrlPath
	cpuPossiblePath, nodePossiblePath, resctrlPath = cpus, nodes, dir // dir: not a resctrl
	t.Cleanup(func() { cpuPossiblePath, nodePossiblePath, resctrlPath = oldCPU, oldNode, oldRdt })
}

func TestProcessAttrs(t *testing.T) {
	fakeHostLists(t)
	tests := []struct {
		name    string
		mutate  func(*specs.Spec)
		wantErr string // "" = accepted
	}{
		{"fifo", func(s *specs.Spec) { s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedFIFO, Priority: 10} }, ""},
		{"other nice", func(s *specs.Spec) { s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedOther, Nice: 5} }, ""},
		{"deadline", func(s *specs.Spec) {
			s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedDeadline, Runtime: 10000, Deadline: 20000, Period: 30000}
		}, ""},
		{"flags", func(s *specs.Spec) {
			s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedBatch, Flags: []specs.LinuxSchedulerFlag{specs.SchedFlagResetOnFork}}
		}, ""},
		{"no policy", func(s *specs.Spec) { s.Process.Scheduler = &specs.Scheduler{} }, "process.scheduler.policy: missing"},
		{"iso", func(s *specs.Spec) { s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedISO} }, `process.scheduler.policy "SCHED_ISO": not implemented`},
		{"bad policy", func(s *specs.Spec) { s.Process.Scheduler = &specs.Scheduler{Policy: "SCHED_FAST"} }, `process.scheduler.policy "SCHED_FAST": unknown policy`},
		{"nice", func(s *specs.Spec) { s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedOther, Nice: 20} }, "process.scheduler.nice 20: out of range"},
		{"rt prio 0", func(s *specs.Spec) { s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedRR} }, "process.scheduler.priority 0: out of range for SCHED_RR"},
		{"other prio", func(s *specs.Spec) { s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedOther, Priority: 3} }, "process.scheduler.priority 3: only SCHED_FIFO and SCHED_RR"},
		{"runtime without deadline policy", func(s *specs.Spec) {
			s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedOther, Runtime: 5000}
		}, "process.scheduler: runtime, deadline and period only apply to SCHED_DEADLINE"},
		{"deadline small runtime", func(s *specs.Spec) {
			s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedDeadline, Runtime: 10, Deadline: 20}
		}, "process.scheduler.runtime 10: too small"},
		{"deadline order", func(s *specs.Spec) {
			s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedDeadline, Runtime: 5000, Deadline: 4000}
		}, "process.scheduler.deadline 4000: less than runtime 5000"},
		{"period order", func(s *specs.Spec) {
			s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedDeadline, Runtime: 5000, Deadline: 6000, Period: 5500}
		}, "process.scheduler.period 5500: less than deadline 6000"},
		{"sched flag", func(s *specs.Spec) {
			s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedOther, Flags: []specs.LinuxSchedulerFlag{"SCHED_FLAG_FAST"}}
		}, `process.scheduler.flags[0] "SCHED_FLAG_FAST": unknown flag`},

		{"ioprio", func(s *specs.Spec) {
			s.Process.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 7}
		}, ""},
		{"ioprio class", func(s *specs.Spec) { s.Process.IOPriority = &specs.LinuxIOPriority{Class: "BE"} }, `process.ioPriority.class "BE": unknown class`},
		{"ioprio prio", func(s *specs.Spec) {
			s.Process.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_RT, Priority: 8}
		}, "process.ioPriority.priority 8: out of range"},

		{"affinity", func(s *specs.Spec) { s.Process.ExecCPUAffinity = &specs.CPUAffinity{Initial: "0-1,3", Final: "2"} }, ""},
		{"affinity syntax", func(s *specs.Spec) { s.Process.ExecCPUAffinity = &specs.CPUAffinity{Initial: "0-"} }, `process.execCPUAffinity.initial "0-": "0-": want a number`},
		{"affinity down", func(s *specs.Spec) { s.Process.ExecCPUAffinity = &specs.CPUAffinity{Final: "3-1"} }, `process.execCPUAffinity.final "3-1": "3-1": the range goes down`},
		{"affinity absent cpu", func(s *specs.Spec) { s.Process.ExecCPUAffinity = &specs.CPUAffinity{Final: "1,4"} }, `process.execCPUAffinity.final "1,4": CPU 4 does not exist on this host (it has 0-3)`},

		{"personality", func(s *specs.Spec) {
			s.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux32, Flags: []specs.LinuxPersonalityFlag{"ADDR_NO_RANDOMIZE"}}
		}, ""},
		{"personality domain", func(s *specs.Spec) { s.Linux.Personality = &specs.LinuxPersonality{Domain: "BSD"} }, `linux.personality.domain "BSD": unknown domain`},
		{"personality flag", func(s *specs.Spec) {
			s.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux, Flags: []specs.LinuxPersonalityFlag{"FAST"}}
		}, `linux.personality.flags[0] "FAST": unknown flag`},

		{"mempolicy bind", func(s *specs.Spec) {
			s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0-1"}
		}, ""},
		{"mempolicy local", func(s *specs.Spec) { s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolLocal} }, ""},
		{"mempolicy relative", func(s *specs.Spec) {
			s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolInterleave, Nodes: "0-7", Flags: []specs.MemoryPolicyFlagType{specs.MpolFRelativeNodes}}
		}, ""},
		{"mempolicy mode", func(s *specs.Spec) { s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: "MPOL_FAST"} }, `linux.memoryPolicy.mode "MPOL_FAST": unknown mode`},
		{"mempolicy default nodes", func(s *specs.Spec) {
			s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolDefault, Nodes: "0"}
		}, `linux.memoryPolicy.nodes "0": MPOL_DEFAULT takes no nodes`},
		{"mempolicy bind no nodes", func(s *specs.Spec) { s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind} }, "linux.memoryPolicy.nodes: missing (MPOL_BIND needs at least one node)"},
		{"mempolicy absent node", func(s *specs.Spec) { s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "2"} }, `linux.memoryPolicy.nodes "2": NUMA node 2 does not exist on this host (it has 0-1)`},
		{"mempolicy flags exclusive", func(s *specs.Spec) {
			s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0", Flags: []specs.MemoryPolicyFlagType{specs.MpolFStaticNodes, specs.MpolFRelativeNodes}}
		}, "linux.memoryPolicy.flags: MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other"},
		{"mempolicy flag", func(s *specs.Spec) {
			s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0", Flags: []specs.MemoryPolicyFlagType{"MPOL_F_X"}}
		}, `linux.memoryPolicy.flags[0] "MPOL_F_X": unknown flag`},

		{"intelRdt", func(s *specs.Spec) { s.Linux.IntelRdt = &specs.LinuxIntelRdt{ClosID: "x"} }, "linux.intelRdt: this host has no resctrl filesystem"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := Example()
			tt.mutate(spec)
			err := checkProcessAttrs(spec.Process)
			if err == nil {
				err = checkLinuxAttrs(spec.Linux)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// TestProcessAttrsInProcessFile: an exec process file gets the same
// checks, with fields named as in that file.
func TestProcessAttrsInProcessFile(t *testing.T) {
	fakeHostLists(t)
	_, err := ParseProcess([]byte(`{"args":["sh"],"cwd":"/","ioPriority":{"class":"IOPRIO_CLASS_BE","priority":9}}`))
	if err == nil || !strings.HasPrefix(err.Error(), "ioPriority.priority 9: out of range") {
		t.Errorf("process file: %v", err)
	}
}
