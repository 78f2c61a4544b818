package tests

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// psiData and psiStats are runc's events JSON for a cgroup v2 *.pressure
// file (types/events.go: "psi" under cpu, memory and blkio).
type psiData struct {
	Avg10  *float64 `json:"avg10"`
	Avg60  *float64 `json:"avg60"`
	Avg300 *float64 `json:"avg300"`
	Total  *uint64  `json:"total"`
}

type psiStats struct {
	Some *psiData `json:"some"`
	Full *psiData `json:"full"`
}

type psiEvent struct {
	Data struct {
		CPU struct {
			PSI *psiStats `json:"psi"`
		} `json:"cpu"`
		Memory struct {
			PSI *psiStats `json:"psi"`
		} `json:"memory"`
		Blkio struct {
			PSI *psiStats `json:"psi"`
		} `json:"blkio"`
	} `json:"data"`
}

// pressureTotals reads the total= of each line ("some", "full") of a
// cgroup's *.pressure file.
func pressureTotals(t *testing.T, dir, file string) map[string]uint64 {
	t.Helper()
	out := map[string]uint64{}
	for _, l := range lines(cgFile(t, dir, file)) {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		for _, kv := range f[1:] {
			if v, ok := strings.CutPrefix(kv, "total="); ok {
				n, err := strconv.ParseUint(v, 10, 64)
				if err != nil {
					t.Fatalf("%s/%s: bad total in %q", dir, file, l)
				}
				out[f[0]] = n
			}
		}
	}
	return out
}

// TestEventsStatsPSI: on a cgroup v2 host whose kernel has PSI, `events
// --stats` reports the container's cpu, memory and io pressure as runc
// does (data.cpu.psi, data.memory.psi, data.blkio.psi, each with some and
// full: avg10, avg60, avg300, total), and the totals are the kernel's: two
// busy loops pinned to one cpu make cpu pressure, and what berth reports
// lies between the kernel's totals read just before and just after. On
// cgroup v1 there is no per-cgroup pressure, and no "psi" in runc's stats.
func TestEventsStatsPSI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, one := hostCPUs(t)
	spec := sh(`spin() { while :; do :; done; }; spin & spin & echo started; wait`)
	spec.Linux.Resources = &specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: one}}
	id, _, st := e.startDetached("psi", spec)
	defer e.mustBerth("delete", "--force", id)

	_, kernelPSI := os.Stat("/proc/pressure/cpu")
	if !pureCgroup2() || kernelPSI != nil {
		if r := e.mustBerth("events", "--stats", id); strings.Contains(r.stdout, `"psi"`) {
			t.Errorf("no per-cgroup pressure here, yet events --stats reports psi: %s", r.stdout)
		}
		if !pureCgroup2() {
			t.Skip("cgroup v1 has no per-cgroup pressure files (checked: no psi in events --stats)")
		}
		t.Skipf("the kernel has no PSI (%v; checked: no psi in events --stats)", kernelPSI)
	}
	dir := cgroupDir(t, st.Pid, "")
	deadline := time.Now().Add(20 * time.Second)
	for pressureTotals(t, dir, "cpu.pressure")["some"] == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("two busy loops on one cpu made no cpu pressure in 20s: %s/cpu.pressure %q", dir, cgFile(t, dir, "cpu.pressure"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	files := map[string]string{"cpu": "cpu.pressure", "memory": "memory.pressure", "blkio": "io.pressure"}
	before := map[string]map[string]uint64{}
	for k, f := range files {
		before[k] = pressureTotals(t, dir, f)
	}
	r := e.mustBerth("events", "--stats", id)
	after := map[string]map[string]uint64{}
	for k, f := range files {
		after[k] = pressureTotals(t, dir, f)
	}
	var ev psiEvent
	if err := json.Unmarshal([]byte(r.stdout), &ev); err != nil {
		t.Fatalf("events --stats: bad JSON %q: %v", r.stdout, err)
	}
	for k, p := range map[string]*psiStats{"cpu": ev.Data.CPU.PSI, "memory": ev.Data.Memory.PSI, "blkio": ev.Data.Blkio.PSI} {
		if p == nil {
			t.Errorf("events --stats has no data.%s.psi, though %s/%s exists: %s", k, dir, files[k], r.stdout)
			continue
		}
		for line, d := range map[string]*psiData{"some": p.Some, "full": p.Full} {
			if _, inKernel := after[k][line]; !inKernel {
				continue // the kernel has no such line (cpu "full" before 5.13)
			}
			if d == nil || d.Avg10 == nil || d.Avg60 == nil || d.Avg300 == nil || d.Total == nil {
				t.Errorf("data.%s.psi.%s lacks avg10, avg60, avg300 or total: %s", k, line, r.stdout)
				continue
			}
			for _, avg := range []float64{*d.Avg10, *d.Avg60, *d.Avg300} {
				if avg < 0 || avg > 100 {
					t.Errorf("data.%s.psi.%s has an average of %v%%", k, line, avg)
				}
			}
			if lo, hi := before[k][line], after[k][line]; *d.Total < lo || *d.Total > hi {
				t.Errorf("data.%s.psi.%s.total = %d, but the kernel's %s %s total was %d before and %d after", k, line, *d.Total, files[k], line, lo, hi)
			}
		}
	}
	if p := ev.Data.CPU.PSI; p != nil && p.Some != nil && p.Some.Total != nil && *p.Some.Total == 0 {
		t.Errorf("data.cpu.psi.some.total = 0 while the kernel counts cpu pressure")
	}
}
