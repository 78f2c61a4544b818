package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestCompare(t *testing.T) {
	m := func(metric, rt string, v float64) measurement {
		return measurement{Metric: metric, Runtime: rt, Value: v, Stats: &stats{N: 1, Mean: v, Median: v, P95: v}}
	}
	for _, tc := range []struct {
		name   string
		ms     []measurement
		metric string
		peer   string
		ratio  float64 // 0: no ratio expected
		met    bool
	}{
		{"run at the target", []measurement{m("run", "berth", 0.015), m("run", "runc", 0.050)}, "run", "runc", 0.3, true},
		{"run over the target", []measurement{m("run", "berth", 0.040), m("run", "runc", 0.050)}, "run", "runc", 0.8, false},
		{"throughput is higher-is-better", []measurement{m("throughput", "berth", 60), m("throughput", "runc", 20)}, "throughput", "runc", 3, true},
		{"throughput short of it", []measurement{m("throughput", "berth", 50), m("throughput", "runc", 20)}, "throughput", "runc", 2.5, false},
		{"peer failed: no ratio, not met", []measurement{m("exec", "berth", 0.01)}, "exec", "runc", 0, false},
		{"berth failed: no ratio, not met", []measurement{m("exec", "runc", 0.01)}, "exec", "runc", 0, false},
		{"zero peer value gives no ratio", []measurement{m("list", "berth", 0.01), m("list", "runc", 0)}, "list", "runc", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := &report{Measurements: tc.ms}
			rep.compare()
			r, ok := rep.ratio(tc.metric, tc.peer)
			if ok != (tc.ratio != 0) || (ok && !near(r, tc.ratio)) {
				t.Errorf("ratio = %v, %v; want %v", r, ok, tc.ratio)
			}
			if len(rep.Targets) != len(targets) {
				t.Fatalf("%d targets evaluated, want %d", len(rep.Targets), len(targets))
			}
			for _, tr := range rep.Targets {
				if tr.Metric == tc.metric && tr.Peer == tc.peer && tr.Met != tc.met {
					t.Errorf("target %+v: met = %v, want %v", tr.target, tr.Met, tc.met)
				}
			}
		})
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

func TestMarkdown(t *testing.T) {
	rep := &report{
		Params:   params{Containers: 100, Total: 200, InFlight: 8},
		Runtimes: []runtimeSpec{{Name: "berth"}, {Name: "runc"}, {Name: "crun", Dynamic: true}},
		Measurements: []measurement{
			{Metric: "run", Runtime: "berth", Unit: "s", Value: 0.02, Stats: &stats{N: 50, Mean: 0.021, Median: 0.02, P95: 0.025}},
			{Metric: "run", Runtime: "runc", Unit: "s", Value: 0.08, Stats: &stats{N: 50, Mean: 0.081, Median: 0.08, P95: 0.09}},
			{Metric: "size", Runtime: "berth", Unit: "bytes", Value: 8 << 20},
			{Metric: "size", Runtime: "crun", Unit: "bytes", Value: 1 << 19},
		},
		Failures: []string{"crun run: boom"},
	}
	rep.compare()
	var b bytes.Buffer
	rep.markdown(&b)
	out := b.String()
	for _, want := range []string{
		"| `run` of true, sequential | berth | 21.0 | 20.0 | 25.0 | 50 | — |",
		"|  | runc | 81.0 | 80.0 | 90.0 | 50 | 0.25× |",
		"|  | crun | failed | | | | — |",
		"| binary size (MiB) | 8.0 | failed | 0.5 + shared libs | — | 16.00× |",
		"| run ≤ 0.30× runc | 0.25× | ✓ |",
		"| run ≤ 1.00× crun | not measured | ✗ |",
		"- crun run: boom",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
}

func TestShellJoin(t *testing.T) {
	for _, tc := range []struct {
		argv []string
		want string
	}{
		{[]string{"/usr/bin/runc", "--root", "/tmp/x", "state", "id-1"}, "/usr/bin/runc --root /tmp/x state id-1"},
		{[]string{"a b", "it's"}, `'a b' 'it'\''s'`},
		{[]string{"$HOME", ""}, `'$HOME' ''`},
	} {
		if got := shellJoin(tc.argv); got != tc.want {
			t.Errorf("shellJoin(%q) = %s, want %s", tc.argv, got, tc.want)
		}
	}
}

func TestParseFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{nil, ""},
		{[]string{"-smoke"}, ""},
		{[]string{"-runtimes", "berth,runc"}, ""},
		{[]string{"-runs", "0"}, "-runs: must be at least 1"},
		{[]string{"-in-flight", "-2"}, "-in-flight: must be at least 1"},
		{[]string{"-warmup", "-1"}, "-warmup: must not be negative"},
		{[]string{"-runtimes", "runc,berth"}, "-runtimes: must start with berth"},
		{[]string{"-runtimes", "berth,youki"}, `unknown runtime "youki"`},
		{[]string{"extra"}, `unexpected argument "extra"`},
	} {
		_, err := parseFlags(tc.args)
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("parseFlags(%q) = %v, want error containing %q", tc.args, err, tc.wantErr)
		}
	}
	o, _ := parseFlags([]string{"-smoke", "-runs", "9"})
	if o.params.Runs != 1 || o.params.MemRuns != 1 {
		t.Errorf("-smoke: params %+v, want one iteration per case", o.params)
	}
}
