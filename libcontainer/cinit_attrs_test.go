package libcontainer

import (
	"bytes"
	"strings"
	"testing"

	"github.com/berthrun/berth/internal/wire"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Each process attribute and the terminal become one record with the
// numbers the kernel takes; a final CPU affinity only for exec.
func TestCInitPlanAttrs(t *testing.T) {
	word := func(bits ...int) []byte {
		var w uint64
		for _, b := range bits {
			w |= 1 << b
		}
		return wire.Raw{}.U64(w)
	}
	for _, tt := range []struct {
		name   string
		change func(c *Config)
		params initParams
		mode   uint32
		tag    uint32
		want   []byte // nil: no record of tag
	}{
		{"terminal proxied", func(c *Config) {
			c.Spec.Process.Terminal = true
			c.Spec.Process.ConsoleSize = &specs.Box{Height: 24, Width: 80}
		}, initParams{ConsoleFd: 5, ConsoleProxied: true}, wire.PlanRun, wire.PlanConsole, wire.Raw{}.U32(5, 1, 24, 80, 1)},
		{"terminal on a console socket", func(c *Config) { c.Spec.Process.Terminal = true },
			initParams{ConsoleFd: 4}, wire.PlanExec, wire.PlanConsole, wire.Raw{}.U32(4, 0, 0, 0, 0)},
		{"no terminal", func(c *Config) {}, initParams{}, wire.PlanRun, wire.PlanConsole, nil},
		{"personality", func(c *Config) {
			c.Spec.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux32, Flags: []specs.LinuxPersonalityFlag{"ADDR_NO_RANDOMIZE"}}
		}, initParams{}, wire.PlanCreate, wire.PlanPersonality, wire.Raw{}.U32(0x40008)},
		{"memory policy", func(c *Config) {
			c.Spec.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0,2", Flags: []specs.MemoryPolicyFlagType{specs.MpolFStaticNodes}}
		}, initParams{}, wire.PlanCreate, wire.PlanMempolicy,
			append(wire.Raw{}.U32(2|1<<15, 65).Str("MPOL_BIND", "0,2"), word(0, 2)...)},
		{"local memory policy", func(c *Config) {
			c.Spec.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolLocal}
		}, initParams{}, wire.PlanCreate, wire.PlanMempolicy, wire.Raw{}.U32(4, 0).Str("MPOL_LOCAL", "")},
		{"io priority", func(c *Config) {
			c.Spec.Process.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_RT, Priority: 2}
		}, initParams{}, wire.PlanExec, wire.PlanIoprio, wire.Raw{}.U32(1<<13 | 2).Str("IOPRIO_CLASS_RT").U32(2)},
		{"scheduler", func(c *Config) {
			c.Spec.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedDeadline, Nice: -3, Runtime: 1, Deadline: 2, Period: 3,
				Flags: []specs.LinuxSchedulerFlag{specs.SchedFlagResetOnFork}}
		}, initParams{}, wire.PlanCreate, wire.PlanSched,
			wire.Raw{}.U32(6).U64(1).U32(uint32(0xfffffffd), 0).U64(1, 2, 3).Str("SCHED_DEADLINE")},
		{"final affinity, exec", func(c *Config) {
			c.Spec.Process.ExecCPUAffinity = &specs.CPUAffinity{Initial: "0", Final: "1,65"}
		}, initParams{}, wire.PlanExec, wire.PlanAffinity, append(append(wire.Raw{}.Str("1,65"), word(1)...), word(1)...)},
		{"final affinity, not for the init", func(c *Config) {
			c.Spec.Process.ExecCPUAffinity = &specs.CPUAffinity{Final: "1"}
		}, initParams{}, wire.PlanCreate, wire.PlanAffinity, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := cinitConfig()
			tt.change(c)
			plan, err := cinitPlan(c, tt.mode, &tt.params)
			if err != nil {
				t.Fatal(err)
			}
			if plan == nil {
				t.Fatal("no plan: the C init refused the config")
			}
			var got []byte
			for _, r := range decodePlan(t, plan) {
				if r.tag == tt.tag {
					got = r.data
				}
			}
			if !bytes.Equal(got, tt.want) {
				t.Errorf("record %d: %v, want %v", tt.tag, got, tt.want)
			}
		})
	}
}

// What no init could set up is refused before anything is made.
func TestCheckProcess(t *testing.T) {
	for _, tt := range []struct {
		name   string
		change func(s *specs.Spec)
		want   string // "" for no error
	}{
		{"plain", func(s *specs.Spec) {}, ""},
		{"NUL in an arg", func(s *specs.Spec) { s.Process.Args = []string{"a\x00b"} }, "process: a NUL byte in args, env or cwd"},
		{"NUL in env", func(s *specs.Spec) { s.Process.Env = []string{"A=b\x00"} }, "process: a NUL byte"},
		{"NUL in cwd", func(s *specs.Spec) { s.Process.Cwd = "/\x00" }, "process: a NUL byte"},
		{"unknown rlimit", func(s *specs.Spec) {
			s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE"}, {Type: "RLIMIT_BOGUS"}}
		}, `process.rlimits[1].type "RLIMIT_BOGUS": unknown rlimit`},
		{"seccomp that does not compile", func(s *specs.Spec) {
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{"SCMP_ARCH_BOGUS"}}
		}, `linux.seccomp.architectures[0]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := cinitConfig()
			tt.change(cfg.Spec)
			err := checkProcess(cfg)
			if (err == nil) != (tt.want == "") || err != nil && !strings.Contains(err.Error(), tt.want) {
				t.Errorf("checkProcess = %v, want %q", err, tt.want)
			}
		})
	}
}
