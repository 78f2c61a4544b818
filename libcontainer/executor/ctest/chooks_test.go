package ctest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berthrun/berth/internal/wire"
)

// hookRec starts a hook in a hooks message (libcontainer/hooks_c.go
// writes the same records).
func hookRec(timeout, flags uint32, path, name string, args, env []string) []byte {
	w := wire.NewHookWriter(nil)
	w.Hook(timeout, flags, path, name)
	for _, a := range args {
		w.Arg(a)
	}
	for _, e := range env {
		w.Env(e)
	}
	return w.Bytes()
}

// TestHooksParse: the argv and envp each hook gets from its records.
func TestHooksParse(t *testing.T) {
	penv := []string{"PATH=/bin", "HOME=/root"}
	for _, tt := range []struct {
		name string
		msg  []byte
		penv []string
		want string // or the error
		ok   bool
	}{
		{"none", nil, nil, "", true},
		{"args and env", hookRec(5, 0, "/bin/sh", "h0", []string{"sh", "-c", "x"}, []string{"A=1"}), penv,
			"hook h0 path /bin/sh timeout 5\nargv [sh] [-c] [x]\nenvp [A=1]\n", true},
		{"no args: the path is argv[0]", hookRec(0, 0, "/bin/true", "h0", nil, nil), penv,
			"hook h0 path /bin/true timeout 0\nargv [/bin/true]\nenvp\n", true},
		{"no env, process env asked", hookRec(0, wire.HookFlagProcessEnv, "/bin/true", "h0", nil, nil), penv,
			"hook h0 path /bin/true timeout 0\nargv [/bin/true]\nenvp [PATH=/bin] [HOME=/root]\n", true},
		{"own env wins over the process's", hookRec(0, wire.HookFlagProcessEnv, "/bin/true", "h0", nil, []string{"B=2"}), penv,
			"hook h0 path /bin/true timeout 0\nargv [/bin/true]\nenvp [B=2]\n", true},
		{"process env asked, none given", hookRec(0, wire.HookFlagProcessEnv, "/bin/true", "h0", nil, nil), nil,
			"hook h0 path /bin/true timeout 0\nargv [/bin/true]\nenvp\n", true},
		{"two hooks", cat(hookRec(0, 0, "/a", "h0", []string{"a"}, []string{"X=1"}), hookRec(1, 0, "/b", "h1", []string{"b", "c"}, nil)), nil,
			"hook h0 path /a timeout 0\nargv [a]\nenvp [X=1]\nhook h1 path /b timeout 1\nargv [b] [c]\nenvp\n", true},
		{"arg before any hook", rec(wire.HookArg, []byte("x\x00")), nil, "hooks: record 2 before the first hook", false},
		{"truncated hook", rec(wire.HookHook, wire.Raw{}.U32(1, 0).Str("/a")), nil, "record 1 (hook): unterminated string", false},
		{"unknown record", rec(9, nil), nil, "unknown record 9", false},
	} {
		got, ok := Hooks(tt.msg, tt.penv)
		if ok != tt.ok || got != tt.want {
			t.Errorf("%s: got %q (ok %v), want %q (ok %v)", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

// TestHookStatusText: a wait status reads as Go's os.ProcessState says it,
// for every signal (the Go runner's wording, which clients may parse).
func TestHookStatusText(t *testing.T) {
	for _, code := range []int{0, 1, 3, 127, 255} {
		ws := syscall.WaitStatus(code << 8)
		if got, want := HookStatus(int(ws)), "exit status "+strconv.Itoa(code); got != want {
			t.Errorf("exit %d: %q, want %q", code, got, want)
		}
	}
	for sig := 1; sig < 65; sig++ {
		if sig == int(syscall.SIGSTOP) {
			continue // 0x137f is a stopped status, not a death
		}
		for _, core := range []int{0, 0x80} {
			ws := syscall.WaitStatus(sig | core)
			want := "signal: " + syscall.Signal(sig).String()
			if core != 0 {
				want += " (core dumped)"
			}
			if got := HookStatus(int(ws)); got != want {
				t.Errorf("signal %d core %#x: %q, want %q", sig, core, got, want)
			}
		}
	}
}

// TestHookOutputText: what a failed hook printed, trimmed and cut as the
// Go runner did.
func TestHookOutputText(t *testing.T) {
	long := strings.Repeat("x", 250)
	for _, tt := range []struct{ out, want string }{
		{"", "e"},
		{" \n\t", "e"},
		{"  boom \n", "e: boom"},
		{"two\nlines\n", "e: two\nlines"},
		{long[:200], "e: " + long[:200]},
		{long, "e: " + long[:200] + "..."},
	} {
		if got := HookOutput("e", []byte(tt.out)); got != tt.want {
			t.Errorf("output %q: %q, want %q", tt.out, got, tt.want)
		}
	}
}

// TestHooksRun runs real hooks (no root needed): the state on stdin, the
// environment exactly the hook's (none of this process's), the cwd, the
// timeout killing a hook and the child holding its output, an exec
// failure, and the first failure stopping the list.
func TestHooksRun(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	t.Setenv("CTEST_CANARY", "leaked")
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	sh := func(name, script string, env []string) []byte {
		return hookRec(0, 0, "/bin/sh", name, []string{"sh", "-c", script}, env)
	}
	msg := cat(
		sh("stdin", "cat > "+out+".stdin", nil),
		sh("env", "/bin/cat /proc/self/environ > "+out+".env", []string{"A=1"}),
		sh("cwd", "pwd -P > "+out+".cwd", nil),
		hookRec(0, wire.HookFlagProcessEnv, "/bin/sh", "penv", []string{"sh", "-c", "echo $P > " + out + ".penv"}, nil),
	)
	if err := RunHooks(msg, []byte(`{"status":"creating"}`), dir, []string{"P=process"}); err != "" {
		t.Fatal(err)
	}
	for suffix, want := range map[string]string{
		".stdin": `{"status":"creating"}`, ".env": "A=1\x00PWD=" + dir + "\x00", ".cwd": dir + "\n", ".penv": "process\n",
	} {
		b, err := os.ReadFile(out + suffix)
		if err != nil || string(b) != want {
			t.Errorf("%s: %q (%v), want %q", suffix, b, err, want)
		}
	}

	start := time.Now()
	slow := hookRec(1, 0, "/bin/sh", "slow", []string{"sh", "-c", "sleep 30 & sleep 30"}, nil)
	if err := RunHooks(slow, nil, "", nil); err != "slow: timed out after 1s" {
		t.Errorf("timeout: %q", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("a 1s timeout took %v", took)
	}

	// Exit 0 with a child holding the output past the 1 s WaitDelay.
	held := hookRec(0, 0, "/bin/sh", "held", []string{"sh", "-c", "sleep 3 &"}, nil)
	if err := RunHooks(held, nil, "", nil); err != "held: exec: WaitDelay expired before I/O complete" {
		t.Errorf("output held open: %q", err)
	}

	never := filepath.Join(dir, "never")
	list := cat(hookRec(0, 0, "/no/such", "missing", nil, nil), sh("after", "touch "+never, nil))
	if err := RunHooks(list, nil, "", nil); err != "missing: fork/exec /no/such: no such file or directory" {
		t.Errorf("exec failure: %q", err)
	}
	if _, err := os.Stat(never); err == nil {
		t.Error("a hook ran after a failing one")
	}
}
