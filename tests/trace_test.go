package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// tracedPoint is one "trace" log line: the point, the berth init stage
// that passed it ("" for the command itself) and its timings.
type tracedPoint struct {
	point, side    string
	phase, total   float64
	phaseText, raw string
}

// name is the point as the tests compare it: "point" or "point(side)".
func (p tracedPoint) name() string {
	if p.side == "" {
		return p.point
	}
	return p.point + "(" + p.side + ")"
}

// traceTextLine is a trace line of slog's text handler, as cmd/berth and
// executor/trace.c write it.
var traceTextLine = regexp.MustCompile(`^time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(?:Z|[+-]\d\d:\d\d) level=debug msg=trace point=(\S+) phase_ms=(\S+) total_ms=(\S+)(?: side=(\S+))?$`)

// textTracePoints parses the trace lines of a text log (stderr); other
// lines are skipped. A line that says msg=trace but does not parse fails
// the test.
func textTracePoints(t *testing.T, log string) []tracedPoint {
	t.Helper()
	var out []tracedPoint
	for _, l := range lines(log) {
		if !strings.Contains(l, "msg=trace") {
			continue
		}
		m := traceTextLine.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("trace line not in slog's text format: %q", l)
			continue
		}
		phase, err1 := strconv.ParseFloat(m[2], 64)
		total, err2 := strconv.ParseFloat(m[3], 64)
		if err1 != nil || err2 != nil || phase < 0 || total < phase {
			t.Errorf("trace line with bad timings: %q", l)
		}
		out = append(out, tracedPoint{point: m[1], side: m[4], phase: phase, total: total, phaseText: m[2], raw: l})
	}
	return out
}

// jsonTracePoints parses the trace lines of a --log-format json file.
func jsonTracePoints(t *testing.T, path string) []tracedPoint {
	t.Helper()
	var out []tracedPoint
	for _, l := range jsonLogLines(t, path) {
		if l["msg"] != "trace" {
			continue
		}
		raw, _ := json.Marshal(l)
		point, _ := l["point"].(string)
		side, _ := l["side"].(string)
		phase, ok1 := l["phase_ms"].(float64)
		total, ok2 := l["total_ms"].(float64)
		if l["level"] != "debug" || point == "" || !ok1 || !ok2 || phase < 0 || total < phase {
			t.Errorf("bad trace line: %s", raw)
		}
		out = append(out, tracedPoint{point: point, side: side, phase: phase, total: total, raw: string(raw)})
	}
	return out
}

func pointNames(ps []tracedPoint) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.name()
	}
	return out
}

// The C stages of berth init (stage 0, the C init, its rootfs program)
// trace: `BERTH_TRACE=1 berth run` and `berth --debug run` log their
// phases with timings, between the parent's own points, as the Go init's
// were logged.
func TestTraceShowsCPhases(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.bundle(sh("true"))
	cPhases := []string{"stage0:bootstrap(stage0)", "stage0:namespaces(stage0)", "stage0:cloned(stage0)",
		"init:rootfs-prepare(init)", "init:wait-hooks(init)", "init:pivot(init)", "init:rootfs-finish(init)",
		"init:process(init)"}
	check := func(how string, ps []tracedPoint) {
		t.Helper()
		names := pointNames(ps)
		// Each C phase once, in order, after the parent's point that
		// receives it (create:cgroup for stage 0's pid, create:hooks
		// for the init's "ready").
		at := -1
		for _, want := range cPhases {
			i := slices.Index(names, want)
			if i <= at || slices.Index(names[i+1:], want) >= 0 {
				t.Errorf("%s: C phase %s missing, repeated or out of order in %v", how, want, names)
				return
			}
			at = i
		}
		if s0, h := slices.Index(names, cPhases[0]), slices.Index(names, "create:cgroup"); h < 0 || s0 < h {
			t.Errorf("%s: stage 0's spans are not logged after create:cgroup: %v", how, names)
		}
		if i, r := slices.Index(names, cPhases[7]), slices.Index(names, "create:ready"); r < 0 || i > r {
			t.Errorf("%s: the init's spans are not logged before create:ready: %v", how, names)
		}
		// The init's total counts from stage 0's start: it continues
		// stage 0's clock.
		var last float64
		for _, p := range ps {
			if p.side != "" {
				if p.total < last {
					t.Errorf("%s: %s total %v ms before the previous C point's %v", how, p.name(), p.total, last)
				}
				last = p.total
			}
		}
	}

	r := e.berthEnv([]string{"BERTH_TRACE=1"}, "run", "--bundle", bundle, e.id("trace-run"))
	if r.code != 0 {
		t.Fatalf("BERTH_TRACE=1 run: %v", r)
	}
	check("BERTH_TRACE=1 run", textTracePoints(t, r.stderr))

	log := filepath.Join(e.base, "debug-run.log")
	r = e.berthEnv(nil, "--debug", "--log", log, "--log-format", "json", "run", "--bundle", bundle, e.id("trace-debug"))
	if r.code != 0 {
		t.Fatalf("--debug run: %v", r)
	}
	check("--debug --log-format json run", jsonTracePoints(t, log))

	// Untraced, the init sends no spans and nothing is logged.
	r = e.berthEnv(nil, "run", "--bundle", bundle, e.id("untraced"))
	if r.code != 0 || strings.Contains(r.stderr, "msg=trace") {
		t.Errorf("untraced run: %v", r)
	}
}

// traceWay runs args with GODEBUG=inittrace=1 and the extra environment,
// checks that the Go runtime started exactly when goRT says, and returns
// the trace points it logged (to log in JSON, when given, else stderr).
func (e *env) traceWay(goRT bool, env []string, log string, args ...string) []tracedPoint {
	t := e.t
	t.Helper()
	r := e.berthEnv(append([]string{"GODEBUG=inittrace=1"}, env...), args...)
	if r.code != 0 {
		t.Fatalf("%s: %v", strings.Join(args, " "), r)
	}
	if started := strings.Contains(r.stderr, "init runtime @"); started != goRT {
		t.Errorf("%s (%v): Go runtime started: %v, want %v", strings.Join(args, " "), env, started, goRT)
	}
	if log != "" {
		return jsonTracePoints(t, log)
	}
	return textTracePoints(t, r.stderr)
}

// The commands answered in C trace too, and stay in C while they do
// (before issue 21 tracing sent them to Go): state, start, exec and the
// delete of a stopped container pass the same points, in the same order,
// with the same sides, as their Go twins (BERTH_NO_FASTPATH=1), under
// BERTH_TRACE=1 on stderr and under --debug in a --log file, text or JSON.
func TestTraceFastPaths(t *testing.T) {
	t.Parallel()
	skipUnderSystemdDriver(t) // delete is Go's there
	e := newEnv(t)
	sleeper := e.bundle(sh("sleep 1000"))
	quick := e.bundle(sh("true"))
	ways := []struct {
		name string
		env  []string
		opts func(log string) []string
		json bool
	}{
		{"BERTH_TRACE=1", []string{"BERTH_TRACE=1"}, func(string) []string { return nil }, false},
		{"--debug --log json", nil, func(log string) []string { return []string{"--debug", "--log", log, "--log-format", "json"} }, true},
	}
	sealing, _ := overlaySealing(t) // else exec is Go's (needFastExec)
	n := 0
	for _, w := range ways {
		for _, inGo := range []bool{false, true} {
			n++
			var env []string
			if inGo {
				env = []string{"BERTH_NO_FASTPATH=1"}
			}
			env = append(env, w.env...)
			log := ""
			if w.json {
				log = filepath.Join(e.base, fmt.Sprintf("fast-%d.log", n))
			}
			run := func(args ...string) []string {
				goRT := inGo || args[0] == "exec" && !sealing
				ps := e.traceWay(goRT, env, log, append(w.opts(log), args...)...)
				if log != "" {
					// One file per way: start each command afresh.
					if err := os.Truncate(log, 0); err != nil {
						t.Fatal(err)
					}
				}
				return pointNames(ps)
			}
			where := w.name + map[bool]string{false: " in C", true: " in Go"}[inGo]
			id := e.id("fast")
			e.mustBerth("create", "--bundle", sleeper, id)
			expectPoints(t, where+": state", run("state", id), "state:loaded")
			expectPoints(t, where+": start", run("start", id),
				"start:fifo-open", "start:fifo-byte", "start:fifo-closed", "start:exec", "start:poststart")
			expectPoints(t, where+": exec", run("exec", id, "true"),
				"exec:loaded", "exec:status", "exec:sealed", "exec:started", "exec:cgroup",
				"stage0:bootstrap(stage0)", "stage0:namespaces(stage0)", "stage0:cloned(stage0)",
				"exec:namespaces", "init:process(init)", "exec:ready", "exec:exec")
			e.mustBerth("delete", "--force", id)
			id = e.id("fastdel")
			e.mustBerth("run", "-d", "--bundle", quick, id)
			e.waitStatus(id, "stopped")
			expectPoints(t, where+": delete", run("delete", id), "delete:init-gone", "delete:cgroup", "delete:state-removed")
		}
	}
}

func expectPoints(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s passed\n  %v\nwant\n  %v", what, got, want)
	}
}
