package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// hookLog is a log file the hooks of one test append to: on the host at
// host, and inside the container (bind-mounted) at /hooklog/log.
type hookLog struct {
	dir, host string
}

func newHookLog(t *testing.T, e *env) *hookLog {
	d := e.dir("hooklog")
	os.Chmod(d, 0o777)
	return &hookLog{dir: d, host: filepath.Join(d, "log")}
}

// mount is the bind mount that makes the log reachable from hooks that run
// after pivot_root (startContainer).
func (h *hookLog) mount() specs.Mount {
	return specs.Mount{Destination: "/hooklog", Type: "bind", Source: h.dir, Options: []string{"rbind", "rw"}}
}

// hook returns a hook that appends "<name> <status> <pid> <var> <mntns>"
// to the log at path (as the hook sees it) and then exits with code.
func hook(name, path string, code int) specs.Hook {
	script := `s=$(cat)
st=$(printf '%s' "$s" | sed -n 's/.*"status": *"\([a-z]*\)".*/\1/p')
pid=$(printf '%s' "$s" | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
echo "` + name + ` ${st:-none} ${pid:-0} ${HOOKVAR:-unset} $(readlink /proc/self/ns/mnt)" >> ` + path + `
exit ` + strconv.Itoa(code)
	return specs.Hook{
		Path: "/bin/sh",
		Args: []string{"sh", "-c", script},
		Env:  []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOOKVAR=" + name + "-env"},
	}
}

// hookEntry is one line of the hook log.
type hookEntry struct {
	name, status, pid, env, mntns string
}

func (h *hookLog) entries(t *testing.T) []hookEntry {
	t.Helper()
	b, err := os.ReadFile(h.host)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []hookEntry
	for _, l := range lines(string(b)) {
		f := strings.Fields(l)
		if len(f) != 5 {
			t.Errorf("bad hook log line %q", l)
			continue
		}
		out = append(out, hookEntry{f[0], f[1], f[2], f[3], f[4]})
	}
	return out
}

func names(es []hookEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.name)
	}
	return out
}

// allHooks configures every kind of hook, two createRuntime ones.
func allHooks(spec *specs.Spec, log *hookLog) {
	spec.Mounts = append(spec.Mounts, log.mount())
	spec.Hooks = &specs.Hooks{
		Prestart:        []specs.Hook{hook("prestart", log.host, 0)},
		CreateRuntime:   []specs.Hook{hook("createRuntime1", log.host, 0), hook("createRuntime2", log.host, 0)},
		CreateContainer: []specs.Hook{hook("createContainer", log.host, 0)},
		StartContainer:  []specs.Hook{hook("startContainer", "/hooklog/log", 0)},
		Poststart:       []specs.Hook{hook("poststart", log.host, 0)},
		Poststop:        []specs.Hook{hook("poststop", log.host, 0)},
	}
}

func TestHooksLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	log := newHookLog(t, e)
	spec := sh(`echo "process - - - -" >> /hooklog/log; sleep 1000`)
	allHooks(spec, log)
	// The whole state as a hook sees it on stdin.
	stdinCopy := filepath.Join(e.base, "stdin.json")
	spec.Hooks.CreateRuntime = append(spec.Hooks.CreateRuntime, specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "cat > " + stdinCopy}})
	b := e.bundle(spec)
	id := e.id("hooks")
	hostMnt := hostNS(t, "self", "mnt")

	e.mustBerth("create", "--bundle", b, id)
	s := e.state(id)
	pid := strconv.Itoa(s.Pid)
	ctrMnt := hostNS(t, pid, "mnt")
	got := log.entries(t)
	if w := "prestart createRuntime1 createRuntime2 createContainer"; strings.Join(names(got), " ") != w {
		t.Fatalf("hooks after create: %q, want %q", names(got), w)
	}
	for _, h := range got {
		if h.status != "creating" || h.pid != pid || h.env != h.name+"-env" {
			t.Errorf("%s hook got status %s pid %s env %s; want creating, %s, %s-env", h.name, h.status, h.pid, h.env, pid, h.name)
		}
		wantMnt := hostMnt
		if h.name == "createContainer" {
			wantMnt = ctrMnt // runs in the container's namespaces
		}
		if h.mntns != wantMnt {
			t.Errorf("%s hook ran in mount namespace %s, want %s", h.name, h.mntns, wantMnt)
		}
	}
	var st map[string]any
	if raw, err := os.ReadFile(stdinCopy); err != nil {
		t.Errorf("state on stdin: %v", err)
	} else if err := json.Unmarshal(raw, &st); err != nil {
		t.Errorf("state on stdin is not JSON: %q", raw)
	} else if st["id"] != id || st["bundle"] != b || st["status"] != "creating" || st["ociVersion"] == nil || st["pid"] != float64(s.Pid) {
		t.Errorf("state on stdin: %v", st)
	}

	e.mustBerth("start", id)
	deadline := time.Now().Add(10 * time.Second)
	for len(log.entries(t)) < 7 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	got = log.entries(t)
	// The process and poststart race: poststart runs after the process
	// was started, but may log before it does.
	n := names(got)
	if len(n) != 7 || n[4] != "startContainer" || !(n[5] == "process" && n[6] == "poststart" || n[5] == "poststart" && n[6] == "process") {
		t.Fatalf("hooks after start: %q", n)
	}
	for _, h := range got[4:] {
		switch h.name {
		case "startContainer":
			if h.status != "created" || h.mntns != ctrMnt || h.env != "startContainer-env" {
				t.Errorf("startContainer: %+v, want status created in the container's mount namespace %s", h, ctrMnt)
			}
		case "poststart":
			if h.status != "running" || h.pid != pid || h.mntns != hostMnt {
				t.Errorf("poststart: %+v, want running, pid %s, host mount namespace", h, pid)
			}
		}
	}

	e.mustBerth("kill", id, "KILL")
	e.waitStatus(id, "stopped")
	if len(log.entries(t)) != 7 {
		t.Errorf("a hook ran on kill: %q", names(log.entries(t)))
	}
	e.mustBerth("delete", id)
	got = log.entries(t)
	if len(got) != 8 || got[7].name != "poststop" || got[7].status != "stopped" || got[7].mntns != hostMnt {
		t.Errorf("after delete: %+v, want poststop with status stopped", got)
	}
}

// TestHooksRun: a foreground run goes through every hook, poststop last.
func TestHooksRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	log := newHookLog(t, e)
	spec := sh(`echo "process - - - -" >> /hooklog/log`)
	allHooks(spec, log)
	r := e.run(spec)
	if r.code != 0 {
		t.Fatalf("%v", r)
	}
	// The process and poststart may log in either order.
	got := strings.Join(names(log.entries(t)), " ")
	want1 := "prestart createRuntime1 createRuntime2 createContainer startContainer poststart process poststop"
	want2 := "prestart createRuntime1 createRuntime2 createContainer startContainer process poststart poststop"
	if got != want1 && got != want2 {
		t.Errorf("hooks of run: %q, want %q", got, want1)
	}
}

// TestHookFailures: a failing prestart, createRuntime or createContainer
// hook fails create (exit 1, naming the hook) and leaves nothing behind
// (the env's leak check); failing poststart and poststop hooks only warn.
func TestHookFailures(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"prestart", "createRuntime", "createContainer"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			log := newHookLog(t, e)
			spec := sh(`echo "process - - - -" >> /hooklog/log`)
			spec.Mounts = append(spec.Mounts, log.mount())
			spec.Hooks = &specs.Hooks{Poststop: []specs.Hook{hook("poststop", log.host, 0)}}
			bad := []specs.Hook{hook(kind, log.host, 3)}
			switch kind {
			case "prestart":
				spec.Hooks.Prestart = bad
			case "createRuntime":
				spec.Hooks.CreateRuntime = bad
			case "createContainer":
				spec.Hooks.CreateContainer = bad
			}
			id := e.id("hookfail")
			assertError(t, e.berth("create", "--bundle", e.bundle(spec), id), kind)
			assertError(t, e.berth("state", id), id)
			for _, h := range log.entries(t) {
				if h.name == "process" {
					t.Errorf("the container's process ran after a failing %s hook", kind)
				}
			}
		})
	}
	t.Run("startContainer", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		log := newHookLog(t, e)
		spec := sh(`echo "process - - - -" >> /hooklog/log`)
		spec.Mounts = append(spec.Mounts, log.mount())
		spec.Hooks = &specs.Hooks{StartContainer: []specs.Hook{hook("startContainer", "/hooklog/log", 3)}}
		id := e.id("hookfail")
		e.mustBerth("create", "--bundle", e.bundle(spec), id)
		// config.md: the runtime MUST generate an error and stop the
		// container. runc reports nothing from start (the hook runs in the
		// init after start has returned), so exit 0 is tolerated; an error,
		// if any, must name the hook.
		if r := e.berth("start", id); r.code != 0 {
			assertError(t, r, "startContainer")
		}
		e.waitStatus(id, "stopped")
		if n := names(log.entries(t)); strings.Join(n, " ") != "startContainer" {
			t.Errorf("after a failing startContainer hook: %q, want the process not run", n)
		}
	})
	t.Run("poststart", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		log := newHookLog(t, e)
		spec := sh(`sleep 1000`)
		spec.Hooks = &specs.Hooks{Poststart: []specs.Hook{hook("poststart", log.host, 3), hook("poststart2", log.host, 0)}}
		id := e.id("poststart")
		e.mustBerth("create", "--bundle", e.bundle(spec), id)
		r := e.berth("start", id)
		if r.code != 0 {
			t.Fatalf("a failing poststart hook must only warn: %v", r)
		}
		if !strings.Contains(r.stderr, "poststart") {
			t.Errorf("no warning naming the poststart hook: %q", r.stderr)
		}
		if s := e.state(id); s.Status != "running" {
			t.Errorf("status %q after a failing poststart hook, want running", s.Status)
		}
		// config.md: the remaining hooks run as if the failing one had not.
		if n := names(log.entries(t)); strings.Join(n, " ") != "poststart poststart2" {
			t.Errorf("hooks run: %q, want the one after the failing hook to run too", n)
		}
		e.mustBerth("delete", "--force", id)
	})
	t.Run("poststop", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		log := newHookLog(t, e)
		spec := sh(`true`)
		spec.Hooks = &specs.Hooks{Poststop: []specs.Hook{hook("poststop", log.host, 3), hook("poststop2", log.host, 0)}}
		id := e.id("poststop")
		e.mustBerth("run", "-d", "--bundle", e.bundle(spec), id)
		e.waitStatus(id, "stopped")
		r := e.berth("delete", id)
		if r.code != 0 {
			t.Fatalf("a failing poststop hook must only warn: %v", r)
		}
		if !strings.Contains(r.stderr, "poststop") {
			t.Errorf("no warning naming the poststop hook: %q", r.stderr)
		}
		if n := names(log.entries(t)); strings.Join(n, " ") != "poststop poststop2" {
			t.Errorf("hooks run: %q, want the one after the failing hook to run too", n)
		}
		assertError(t, e.berth("state", id))
	})
}

// TestHookTimeout: a hook that outlives its timeout is stopped and fails
// create, even when it has children holding its output open.
func TestHookTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	spec := sh("true")
	timeout := 1
	spec.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{
		Path: "/bin/sh", Args: []string{"sh", "-c", "sleep 20; echo late"}, Timeout: &timeout,
	}}}
	id := e.id("hooktimeout")
	start := time.Now()
	r := e.berth("create", "--bundle", e.bundle(spec), id)
	took := time.Since(start)
	assertError(t, r, "createRuntime")
	if !strings.Contains(r.stderr, "time") {
		t.Errorf("error does not say the hook timed out: %q", r.stderr)
	}
	if took > 8*time.Second {
		t.Errorf("create took %v with a 1s hook timeout", took)
	}
	// A hook that finishes within its timeout is fine.
	timeout = 10
	spec.Hooks.CreateRuntime[0].Args = []string{"sh", "-c", "sleep 0.1"}
	e.mustBerth("run", "--bundle", e.bundle(spec), e.id("hookintime"))
}

// TestHooksAsRunc: where the spec leaves hooks' surroundings open, they are
// runc's, which hook authors rely on. A startContainer hook that sets no
// env gets the process's environment (HOME filled in), and runs under the
// container's seccomp filter ("in the container"), with noNewPrivileges
// too, where berth used to install it only at the execve. A
// createContainer hook runs with the container's root as its cwd.
func TestHooksAsRunc(t *testing.T) {
	t.Parallel()
	for _, nnp := range []bool{false, true} {
		t.Run("noNewPrivileges="+strconv.FormatBool(nnp), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			log := newHookLog(t, e)
			spec := sh("true")
			spec.Process.NoNewPrivileges = nnp
			spec.Process.Env = []string{"PATH=/bin", "MYVAR=from-process"}
			spec.Linux.Seccomp = profileFor(mkdirRule(specs.ActErrno))
			spec.Mounts = append(spec.Mounts, log.mount())
			startScript := `echo "env ${MYVAR:-unset} ${HOME:-unset}" >> /hooklog/log
mkdir /hooklog/made 2>/dev/null && echo "seccomp free" >> /hooklog/log || echo "seccomp filtered" >> /hooklog/log`
			spec.Hooks = &specs.Hooks{
				StartContainer:  []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", startScript}}},
				CreateContainer: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", `echo "cwd $(pwd -P)" >> ` + log.host}}},
			}
			bundle := e.bundle(spec)
			if r := e.berth("run", "--bundle", bundle, e.id("hooks-runc")); r.code != 0 {
				t.Fatalf("%v", r)
			}
			b, err := os.ReadFile(log.host)
			if err != nil {
				t.Fatal(err)
			}
			root, err := filepath.EvalSymlinks(filepath.Join(bundle, "rootfs"))
			if err != nil {
				t.Fatal(err)
			}
			got := lines(string(b))
			want := []string{"cwd " + root, "env from-process /root", "seccomp filtered"}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("hooks logged %q, want %q", got, want)
			}
		})
	}
}
