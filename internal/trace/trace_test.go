package trace

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// reset puts the package back to its state at process start.
func reset(t *testing.T) {
	t.Helper()
	active, logging, collect, crashAt, logger, spans = false, false, false, "", nil, nil
	t.Cleanup(func() {
		active, logging, collect, crashAt, logger, spans = false, false, false, "", nil, nil
	})
}

// logLines parses the JSON lines a handler wrote.
func logLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if l == "" {
			continue
		}
		m := map[string]any{}
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("bad log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func TestOffCostsNoAllocation(t *testing.T) {
	reset(t)
	Setup(slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil)), false)
	if n := testing.AllocsPerRun(1000, func() { Point("create:phase") }); n != 0 {
		t.Errorf("Point with tracing off: %v allocations, want 0", n)
	}
}

func TestSetupLogsEachPoint(t *testing.T) {
	for _, tc := range []struct {
		name     string
		debug    bool
		env      string
		level    slog.Level
		wantLogs bool
	}{
		{"off", false, "", slog.LevelDebug, false},
		{"--debug", true, "", slog.LevelDebug, true},
		{"BERTH_TRACE=1 at info level", false, "1", slog.LevelInfo, true},
		{"BERTH_TRACE=0", false, "0", slog.LevelDebug, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reset(t)
			t.Setenv("BERTH_TRACE", tc.env)
			var buf bytes.Buffer
			Setup(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: tc.level})), tc.debug)
			Point("a")
			Point("b")
			got := logLines(t, &buf)
			if !tc.wantLogs {
				if len(got) != 0 {
					t.Errorf("logged %v, want nothing", got)
				}
				return
			}
			if len(got) != 2 || got[0]["point"] != "a" || got[1]["point"] != "b" {
				t.Fatalf("logged %v, want points a then b", got)
			}
			for _, l := range got {
				if l["level"] != "DEBUG" || l["msg"] != "trace" {
					t.Errorf("line %v: want level DEBUG, msg trace", l)
				}
				phase, _ := l["phase_ms"].(float64)
				total, _ := l["total_ms"].(float64)
				if phase < 0 || total < phase {
					t.Errorf("line %v: phase_ms %v, total_ms %v", l, phase, total)
				}
			}
		})
	}
}

func TestCollectAndReport(t *testing.T) {
	reset(t)
	Collect(false)
	Point("ignored")
	if got := Collected(); len(got) != 0 {
		t.Fatalf("collected %v with collection off", got)
	}
	Collect(true)
	Point("init:one")
	Point("init:two")
	got := Collected()
	if len(got) != 2 || got[0].Point != "init:one" || got[1].Point != "init:two" {
		t.Fatalf("collected %+v", got)
	}
	if got[1].Total < got[0].Total {
		t.Errorf("totals go backwards: %+v", got)
	}
	if again := Collected(); len(again) != 0 {
		t.Errorf("Collected twice returned %v the second time", again)
	}

	var buf bytes.Buffer
	Setup(slog.New(slog.NewJSONHandler(&buf, nil)), true)
	Report("init", got)
	lines := logLines(t, &buf)
	if len(lines) != 2 || lines[0]["side"] != "init" || lines[1]["point"] != "init:two" {
		t.Errorf("reported %v", lines)
	}
}

// TestCrashHook re-runs this test binary with BERTH_TEST_CRASH_AT set: the
// child must die of SIGKILL at that point and not a line later.
func TestCrashHook(t *testing.T) {
	if os.Getenv("TRACE_TEST_CHILD") == "1" {
		Point("before")
		os.Stdout.WriteString("reached before\n")
		Point("boom")
		os.Stdout.WriteString("reached after\n")
		os.Exit(0)
	}
	for _, tc := range []struct {
		at         string
		wantKilled bool
		wantOut    string
	}{
		{"boom", true, "reached before\n"},
		{"elsewhere", false, "reached before\nreached after\n"},
		{"", false, "reached before\nreached after\n"},
	} {
		t.Run("at="+tc.at, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHook$")
			cmd.Env = append(os.Environ(), "TRACE_TEST_CHILD=1", CrashEnv+"="+tc.at)
			out, err := cmd.Output()
			var ee *exec.ExitError
			killed := errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL
			if killed != tc.wantKilled {
				t.Errorf("killed by SIGKILL: %v, want %v (err %v)", killed, tc.wantKilled, err)
			}
			if string(out) != tc.wantOut {
				t.Errorf("output %q, want %q", out, tc.wantOut)
			}
		})
	}
}

// berth init gets what it needs to trace and crash as its parent does:
// _BERTH_TRACE=1 only while the parent logs, the crash hook as given.
func TestChildEnv(t *testing.T) {
	for _, tc := range []struct {
		logging bool
		crashAt string
		want    []string
	}{
		{false, "", nil},
		{true, "", []string{"_BERTH_TRACE=1"}},
		{false, "init:pivot", []string{CrashEnv + "=init:pivot"}},
		{true, "stage0:cloned", []string{"_BERTH_TRACE=1", CrashEnv + "=stage0:cloned"}},
	} {
		reset(t)
		logging, crashAt = tc.logging, tc.crashAt
		if got := ChildEnv(); strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("logging %v, crash at %q: ChildEnv = %q, want %q", tc.logging, tc.crashAt, got, tc.want)
		}
	}
}
