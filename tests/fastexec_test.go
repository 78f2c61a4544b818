package tests

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// A plain `exec [-d] ID COMMAND [ARG...]` runs from
// libcontainer/executor/fastexec.c before the Go runtime starts;
// BERTH_NO_FASTPATH=1 makes Go do it. These tests run the same execs both
// ways and compare what is observable, and check that everything else is
// left to Go.

// execProbe adds to the C init's probe what only an exec shows: the
// namespaces it joined and the cgroups it was placed in.
const execProbe = probe + `; for f in /proc/self/ns/*; do readlink $f; done; cat /proc/self/cgroup`

// sleeperLike starts a detached container running sleep with spec's
// process settings.
func (e *env) sleeperLike(spec *specs.Spec) string {
	e.t.Helper()
	s := *spec
	p := *spec.Process
	p.Args = []string{"sleep", "1000"}
	s.Process = &p
	id := e.id("fexec")
	e.mustBerth("run", "-d", "--bundle", e.bundle(&s), id)
	return id
}

// needFastExec skips a test that wants a plain exec answered in C where
// this host cannot have it: fastexec.c runs berth's binary through a
// lower-only overlay whose second layer is a detached tmpfs, which older
// kernels refuse (Debian 12's 6.1: "overlayfs: failed to clone lowerpath";
// the development host's 6.18 takes it). There Go does every exec, from its
// sealed memfd; berth check's overlayfs-sealing line says which.
func needFastExec(t *testing.T) {
	t.Helper()
	if ok, why := overlaySealing(t); !ok {
		t.Skip("no overlayfs sealing on this host, so no exec in C: " + why)
	}
}

var overlaySealingOnce struct {
	sync.Once
	ok  bool
	why string
}

// overlaySealing is berth check's overlayfs-sealing line: whether it works
// here and, if not, why.
func overlaySealing(t *testing.T) (bool, string) {
	t.Helper()
	o := &overlaySealingOnce
	o.Do(func() {
		out, _ := exec.Command(berthBin, "check", "--format", "json").Output()
		var rep checkReport
		if err := json.Unmarshal(out, &rep); err != nil {
			o.why = fmt.Sprintf("berth check --format json: %v (%q)", err, out)
			return
		}
		for _, c := range rep.Checks {
			if c.Name == "overlayfs-sealing" {
				o.ok, o.why = c.OK, c.Host
				return
			}
		}
		o.why = "berth check has no overlayfs-sealing line"
	})
	return o.ok, o.why
}

func TestFastExecParity(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	needFastExec(t)
	for name, spec := range cinitSpecs() {
		id := e.sleeperLike(spec)
		for _, args := range [][]string{
			{"sh", "-c", execProbe},
			{"sh", "-c", "echo out; echo err >&2; exit 7"},
			{"sh", "-c", "kill -KILL $$"},
			{"nosuch"},
			{"/etc/passwd"},
			{"./relative"},
		} {
			full := append([]string{"exec", id}, args...)
			viaC := e.berthWay(inC, nil, full...)
			viaGo := e.berthWay(inGo, nil, full...)
			if c, g := opsSeen(viaC, id), opsSeen(viaGo, id); c != g {
				t.Errorf("%s: exec %q differs\nC:  %s\nGo: %s", name, args, c, g)
			}
		}
	}
}

func TestFastExecStdinAndDetach(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	needFastExec(t)
	id := e.startSleeper()
	for _, w := range bothWays {
		r := e.berthOpts(runOpts{stdin: "from stdin\n", env: append([]string{"GODEBUG=inittrace=1"}, w.env...)}, "exec", id, "cat")
		if r.code != 0 || r.stdout != "from stdin\n" {
			t.Errorf("%s: exec cat: %v", w.name, r)
		}
		file := "/tmp/detached-" + w.name
		if r := e.berthWay(w, nil, "exec", "-d", id, "sh", "-c", "sleep 0.2; echo done > "+file); r.code != 0 || r.stdout != "" {
			t.Errorf("%s: exec -d: %v", w.name, r)
		}
		// The command outlives exec -d: the file appears afterwards.
		deadline := time.Now().Add(10 * time.Second)
		for {
			r := e.berth("exec", id, "cat", file)
			if r.code == 0 && r.stdout == "done\n" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: exec -d: %s never written: %v", w.name, file, r)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// TestFastExecForwardsSignals: a signal to `berth exec` reaches the
// process, and its exit code comes back.
func TestFastExecForwardsSignals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	needFastExec(t)
	id := e.startSleeper()
	for _, w := range bothWays {
		script := `trap 'echo got-term; exit 42' TERM; echo ready; while :; do sleep 0.05; done`
		b := e.berthBackgroundEnv(w.env, "exec", id, "sh", "-c", script)
		waitOutput(t, b.out, "ready")
		if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		r := b.wait(t)
		if r.code != 42 || !strings.Contains(r.stdout, "got-term") {
			t.Errorf("%s: SIGTERM to exec: %v", w.name, r)
		}
	}
}

// TestFastExecLogsErrors: with --log, the error line goes to the log file
// in the format asked for, as Go writes it.
func TestFastExecLogsErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	needFastExec(t)
	id := e.startSleeper()
	for _, format := range []string{"text", "json"} {
		var lines [2]string
		for i, w := range bothWays {
			log := filepath.Join(e.base, "log-"+format+"-"+w.name)
			r := e.berthWay(w, nil, "--log", log, "--log-format", format, "exec", id, "nosuch")
			if r.code != 255 {
				t.Fatalf("%s: %v", w.name, r)
			}
			lines[i] = logLine(t, log, format)
		}
		if lines[0] != lines[1] || !strings.Contains(lines[0], "nosuch") {
			t.Errorf("--log-format %s: C logged %q, Go %q", format, lines[0], lines[1])
		}
	}
}

// TestFastExecLeavesTheRestToGo: every exec that is not plain, and every
// container the brief does not clear, runs through Go, with Go's errors.
func TestFastExecLeavesTheRestToGo(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	running := e.startSleeper()
	affinity := sh("sleep 1000")
	affinity.Process.ExecCPUAffinity = &specs.CPUAffinity{Initial: "0"}
	pinned := e.id("pinned")
	e.mustBerth("run", "-d", "--bundle", e.bundle(affinity), pinned)
	paused := e.startSleeper()
	e.mustBerth("pause", paused)
	stopped := e.id("stopped")
	e.mustBerth("run", "--bundle", e.bundle(sh("true")), stopped)
	defer e.berth("resume", paused)

	tests := []struct {
		name     string
		env      []string
		args     []string
		wantCode int
	}{
		{"a flag", nil, []string{"exec", "--env", "X=1", running, "true"}, 0},
		{"execCPUAffinity", nil, []string{"exec", pinned, "true"}, 0},
		{"paused", nil, []string{"exec", paused, "true"}, 255},
		{"stopped", nil, []string{"exec", stopped, "true"}, 255},
		{"unknown id", nil, []string{"exec", noID, "true"}, 255},
		{"no command", nil, []string{"exec", running}, 255},
		{"help", nil, []string{"exec", "--help"}, 0},
		{"no id", nil, []string{"exec"}, 1},
	}
	for _, tt := range tests {
		r := e.berthWay(byGo, tt.env, tt.args...)
		if r.code != tt.wantCode {
			t.Errorf("%s: %v, want exit %d", tt.name, r, tt.wantCode)
		}
	}
}

// execIgnoringSIGCHLD, in this test binary's environment, names a command
// line (JSON) to exec with SIGCHLD ignored: the disposition survives execve,
// and a runtime that relies on SIGCHLD must undo it.
const execIgnoringSIGCHLD = "BERTH_TEST_EXEC_IGNORING_SIGCHLD"

func init() {
	argv := os.Getenv(execIgnoringSIGCHLD)
	if argv == "" {
		return
	}
	var args []string
	if err := json.Unmarshal([]byte(argv), &args); err != nil || len(args) == 0 {
		os.Exit(2)
	}
	os.Unsetenv(execIgnoringSIGCHLD)
	signal.Ignore(syscall.SIGCHLD)
	syscall.Exec(args[0], args, os.Environ())
	os.Exit(2)
}

// TestFastExecUndoesIgnoredSIGCHLD: started with SIGCHLD ignored, exec still
// waits for its process and returns its status (else the kernel reaps it
// unseen and exec waits forever).
func TestFastExecUndoesIgnoredSIGCHLD(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	needFastExec(t)
	id := e.startSleeper()
	for _, w := range bothWays {
		argv, _ := json.Marshal(append(append([]string{berthBin}, e.globals()...), "exec", id, "sh", "-c", "exit 7"))
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		cmd := exec.CommandContext(ctx, os.Args[0])
		cmd.Env = append(append(os.Environ(), execIgnoringSIGCHLD+"="+string(argv), tagVar+"="+e.tag), w.env...)
		err := cmd.Run()
		timedOut := ctx.Err() != nil
		cancel()
		var ee *exec.ExitError
		if timedOut || !errors.As(err, &ee) || ee.ExitCode() != 7 {
			t.Errorf("%s: exec with SIGCHLD ignored: %v (timed out: %v), want exit 7", w.name, err, timedOut)
		}
	}
}
