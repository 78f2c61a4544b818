// Package trace marks the phases of berth's commands so that anyone can see
// where create, start, exec and delete spend their time.
//
// Each phase ends with a Point. When tracing is on (environment BERTH_TRACE=1,
// or the global --debug flag through Setup) every Point logs one debug line
// with the time since the previous point and since the process started. When
// it is off a Point is a single bool check: no allocation, no clock read.
//
// The container's init cannot log (its stderr may be the container's): with
// Collect it keeps its points in memory instead, and hands them to the parent
// (Collected), which logs them with Report.
//
// Test-only crash hook: when the environment variable BERTH_TEST_CRASH_AT
// equals a point's name, the process SIGKILLs itself right there. The crash
// tests use it to check that a berth killed at any phase leaves nothing that
// state, list and delete --force cannot handle. Nothing else should set it.
package trace

import (
	"context"
	"log/slog"
	"os"
	"syscall"
	"time"
)

// CrashEnv names the test-only crash hook's environment variable.
const CrashEnv = "BERTH_TEST_CRASH_AT"

// Span is one traced phase: the point that ended it, its duration and the
// time since the process started.
type Span struct {
	Point string        `json:"point"`
	Phase time.Duration `json:"phase"`
	Total time.Duration `json:"total"`
}

var (
	// active is the only thing Point reads when tracing is off: true when
	// there is anything to do (logging, collecting or a crash point).
	active  bool
	logging bool
	collect bool
	crashAt string
	logger  *slog.Logger

	// processStart is as close to the process start as Go code gets: the
	// package's initialisation, after the runtime started.
	processStart = time.Now()
	last         = processStart
	spans        []Span
)

func init() {
	crashAt = os.Getenv(CrashEnv)
	active = crashAt != ""
}

// Setup turns logging of points on when debug is set or BERTH_TRACE=1, and
// sends them to l (nil: slog's default logger). Lines are logged at debug
// level even when l's handler would drop debug lines (BERTH_TRACE=1 without
// --debug).
func Setup(l *slog.Logger, debug bool) {
	logger = l
	logging = debug || os.Getenv("BERTH_TRACE") == "1"
	active = active || logging
}

// Enabled reports whether points are being logged: the parent then asks the
// init to Collect.
func Enabled() bool { return logging }

// ChildEnv is what `berth init` needs in its environment to trace and
// crash as this process does: _BERTH_TRACE=1 while logging (its C stages
// then keep their points for the parent, libcontainer/executor/trace.c),
// and the crash hook as given. The C twin is berth_trace_child_env.
func ChildEnv() []string {
	var env []string
	if logging {
		env = append(env, "_BERTH_TRACE=1")
	}
	if crashAt != "" {
		env = append(env, CrashEnv+"="+crashAt)
	}
	return env
}

// Collect makes Points record spans in memory (the init's side) when on.
func Collect(on bool) {
	if on {
		collect = true
		active = true
	}
}

// Collected returns the spans recorded since the last call.
func Collected() []Span {
	out := spans
	spans = nil
	return out
}

// Point marks the end of a phase.
func Point(name string) {
	if active {
		point(name)
	}
}

func point(name string) {
	if name == crashAt {
		crash()
	}
	if !logging && !collect {
		return
	}
	now := time.Now()
	s := Span{Point: name, Phase: now.Sub(last), Total: now.Sub(processStart)}
	last = now
	if collect {
		spans = append(spans, s)
	}
	if logging {
		emit("", s)
	}
}

// Report logs the spans another process (the init) collected, each named
// with side.
func Report(side string, ss []Span) {
	if !logging {
		return
	}
	for _, s := range ss {
		emit(side, s)
	}
}

// emit writes one debug line straight to the handler, so that BERTH_TRACE=1
// shows points even when the logger's level is info.
func emit(side string, s Span) {
	l := logger
	if l == nil {
		l = slog.Default()
	}
	r := slog.NewRecord(time.Now(), slog.LevelDebug, "trace", 0)
	r.AddAttrs(slog.String("point", s.Point), slog.Float64("phase_ms", ms(s.Phase)), slog.Float64("total_ms", ms(s.Total)))
	if side != "" {
		r.AddAttrs(slog.String("side", side))
	}
	_ = l.Handler().Handle(context.Background(), r)
}

// ms is d in milliseconds rounded to the microsecond.
func ms(d time.Duration) float64 {
	return float64(d.Round(time.Microsecond)) / float64(time.Millisecond)
}

// crash is the test-only hook: SIGKILL ourselves, as an OOM kill or a
// `kill -9` would, with no deferred cleanup.
func crash() {
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	// The signal is delivered on the way back from kill(2); never go on.
	// Only a pid namespace's init (the Go init) outlives it, since it
	// ignores signals from inside its namespace: it exits at once with
	// the status a SIGKILL gives in a shell, running no deferred code.
	time.Sleep(50 * time.Millisecond)
	os.Exit(128 + int(syscall.SIGKILL))
}
