package libcontainer

import (
	"encoding/binary"
	"os"
	"strings"
	"testing"

	"github.com/berthrun/berth/internal/wire"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func cinitConfig() *Config {
	return &Config{
		ID: "c1",
		Spec: &specs.Spec{
			Process: &specs.Process{Args: []string{"true"}, Cwd: "/", Env: []string{"PATH=/bin"}},
			Linux:   &specs.Linux{},
		},
		Namespaces: []Namespace{{Type: specs.MountNamespace}, {Type: specs.PIDNamespace}},
	}
}

// TestCInitTakesEveryProcess: there is no Go init any more; every
// process the parent accepts gets a C plan.
func TestCInitTakesEveryProcess(t *testing.T) {
	adj := 5
	tests := []struct {
		name   string
		change func(c *Config)
		exec   bool
	}{
		{"plain", func(c *Config) {}, false},
		{"plain exec", func(c *Config) {}, true},
		{"oom score and rlimits", func(c *Config) {
			c.Spec.Process.OOMScoreAdj = &adj
			c.Spec.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1, Hard: 2}}
		}, false},
		{"terminal", func(c *Config) { c.Spec.Process.Terminal = true }, false},
		{"terminal exec", func(c *Config) { c.Spec.Process.Terminal = true }, true},
		{"apparmor", func(c *Config) { c.Spec.Process.ApparmorProfile = "p" }, false},
		{"apparmor exec", func(c *Config) { c.Spec.Process.ApparmorProfile = "p" }, true},
		{"selinux", func(c *Config) { c.Spec.Process.SelinuxLabel = "u:r:t:s0" }, false},
		{"scheduler", func(c *Config) { c.Spec.Process.Scheduler = &specs.Scheduler{} }, false},
		{"personality", func(c *Config) { c.Spec.Linux.Personality = &specs.LinuxPersonality{} }, false},
		{"final affinity, exec", func(c *Config) {
			c.Spec.Process.ExecCPUAffinity = &specs.CPUAffinity{Final: "0"}
		}, true},
		{"startContainer hook: the C init runs it", func(c *Config) {
			c.Spec.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{Path: "/bin/true"}}}
		}, false},
		// The C program chroots, or moves the root and chroots.
		{"no mount namespace", func(c *Config) { c.Namespaces = nil }, false},
		{"no pivot", func(c *Config) { c.NoPivot = true }, false},
		{"exec without mount namespace", func(c *Config) { c.Namespaces = nil }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cinitConfig()
			tt.change(c)
			mode := wire.PlanCreate
			if tt.exec {
				mode = wire.PlanExec
			}
			if err := checkProcess(c); err != nil {
				t.Fatalf("checkProcess: %v", err)
			}
			if plan, err := cinitPlan(c, mode, &initParams{Exec: tt.exec}); err != nil || len(plan) == 0 {
				t.Errorf("cinitPlan = %d bytes, %v", len(plan), err)
			}
		})
	}
	for _, proc := range []*specs.Process{nil, {Cwd: "/"}} {
		c := cinitConfig()
		c.Spec.Process = proc
		if err := checkProcess(c); err == nil || !strings.Contains(err.Error(), "process.args: empty") {
			t.Errorf("process %+v: checkProcess = %v, want process.args refused", proc, err)
		}
	}
}

type planRecord struct {
	tag  uint32
	data []byte
}

func decodePlan(t *testing.T, b []byte) []planRecord {
	t.Helper()
	// The C reader checks the plan against the schema before it reads it.
	if err := wire.Check(&wire.Plan, b); err != nil {
		t.Fatal(err)
	}
	var out []planRecord
	for len(b) > 0 {
		if len(b) < 8 {
			t.Fatalf("truncated record header: %d bytes", len(b))
		}
		tag, n := binary.NativeEndian.Uint32(b), binary.NativeEndian.Uint32(b[4:])
		if uint32(len(b)-8) < n {
			t.Fatalf("record %d overruns the plan", tag)
		}
		if tag == wire.PlanRootfs {
			if err := wire.Check(&wire.Rootfs, b[8:8+n]); err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, planRecord{tag, b[8 : 8+n]})
		b = b[8+n:]
	}
	return out
}

func TestCInitPlanRecords(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the plan asks for capabilities the caller must hold")
	}
	c := cinitConfig()
	umask := uint32(0o077)
	adj := -7
	p := c.Spec.Process
	p.Args = []string{"sh", "-c", "x"}
	p.User = specs.User{UID: 5, GID: 6, AdditionalGids: []uint32{7}, Umask: &umask}
	p.Capabilities = &specs.LinuxCapabilities{
		Bounding: []string{"CAP_KILL", "CAP_CHOWN"}, Effective: []string{"CAP_KILL"},
		Permitted: []string{"CAP_KILL", "CAP_CHOWN"}, Inheritable: []string{"CAP_KILL"},
		Ambient: []string{"CAP_KILL", "CAP_CHOWN"}, // CHOWN is not inheritable: dropped
	}
	p.NoNewPrivileges = true
	p.OOMScoreAdj = &adj
	p.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 10, Hard: 20}}
	p.ApparmorProfile = "berth-test"

	tests := []struct {
		mode   uint32
		params initParams
		want   []uint32 // tags in order
	}{
		{wire.PlanCreate, initParams{FifoFd: 9, PreserveFDs: 2}, []uint32{wire.PlanMode, wire.PlanArg, wire.PlanArg, wire.PlanArg, wire.PlanEnv,
			wire.PlanCwd, wire.PlanApparmor, wire.PlanUser, wire.PlanGroups, wire.PlanCaps, wire.PlanNNP, wire.PlanRlimit, wire.PlanPreserve,
			wire.PlanFifo, wire.PlanOOM, wire.PlanKeyring}},
		{wire.PlanRun, initParams{}, []uint32{wire.PlanMode, wire.PlanArg, wire.PlanArg, wire.PlanArg, wire.PlanEnv, wire.PlanCwd, wire.PlanApparmor, wire.PlanUser,
			wire.PlanGroups, wire.PlanCaps, wire.PlanNNP, wire.PlanRlimit, wire.PlanPreserve, wire.PlanOOM, wire.PlanKeyring}},
		{wire.PlanExec, initParams{}, []uint32{wire.PlanMode, wire.PlanArg, wire.PlanArg, wire.PlanArg, wire.PlanEnv, wire.PlanCwd, wire.PlanApparmor, wire.PlanUser,
			wire.PlanGroups, wire.PlanCaps, wire.PlanNNP, wire.PlanRlimit, wire.PlanPreserve}},
	}
	for _, tt := range tests {
		plan, err := cinitPlan(c, tt.mode, &tt.params)
		if err != nil {
			t.Fatal(err)
		}
		recs := decodePlan(t, plan)
		var tags []uint32
		for _, r := range recs {
			tags = append(tags, r.tag)
		}
		if !equalTags(tags, tt.want) {
			t.Errorf("mode %d: tags %v, want %v", tt.mode, tags, tt.want)
			continue
		}
		for _, r := range recs {
			checkRecord(t, tt.mode, r)
		}
	}
}

func equalTags(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// checkRecord checks the payloads TestCInitPlanRecords set.
func checkRecord(t *testing.T, mode uint32, r planRecord) {
	u32 := func(i int) uint32 { return binary.NativeEndian.Uint32(r.data[4*i:]) }
	u64 := func(i int) uint64 { return binary.NativeEndian.Uint64(r.data[8*i:]) }
	switch r.tag {
	case wire.PlanMode:
		if u32(0) != mode {
			t.Errorf("mode record %d, want %d", u32(0), mode)
		}
	case wire.PlanUser:
		if u32(0) != 5 || u32(1) != 6 || u32(2) != 0o077 {
			t.Errorf("user record %d %d %o", u32(0), u32(1), u32(2))
		}
	case wire.PlanCaps:
		kill, chown := uint64(1)<<5, uint64(1)<<0
		want := []uint64{kill | chown, kill, kill | chown, kill, kill}
		for i, w := range want {
			if u64(i) != w {
				t.Errorf("caps set %d = %#x, want %#x", i, u64(i), w)
			}
		}
	case wire.PlanRlimit:
		if u32(0) != 7 || u32(1) != 0 || u64(1) != 10 || u64(2) != 20 || string(r.data[24:]) != "RLIMIT_NOFILE\x00" {
			t.Errorf("rlimit record %v", r.data)
		}
	case wire.PlanOOM:
		if int32(u32(0)) != -7 {
			t.Errorf("oom record %d", int32(u32(0)))
		}
	case wire.PlanKeyring:
		if string(r.data) != "_ses.c1\x00" {
			t.Errorf("keyring record %q", r.data)
		}
	case wire.PlanApparmor:
		if string(r.data) != "berth-test\x00" {
			t.Errorf("apparmor record %q", r.data)
		}
	case wire.PlanFifo:
		if u32(0) != 9 {
			t.Errorf("fifo record %d", u32(0))
		}
	}
}
