package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The hooks that run inside the container (createContainer,
// startContainer) are run by one C runner (libcontainer/executor/chooks.c):
// by the C init, and by the Go init and rootfs helper through cgo. These
// tests run each case through the three paths and require the same
// outcome; the trace tells the C path ran with no Go in the container.

// hookPaths are the three ways a container is set up.
var hookPaths = []struct {
	name string
	env  []string
}{
	{"C", []string{"BERTH_TRACE=1"}},
}

// envHook logs its name and its environment as execve gave it (the
// shells export PWD and SHLVL themselves, so those are left out).
func envHook(name, log string, env []string) specs.Hook {
	return specs.Hook{Path: "/bin/sh", Env: env, Args: []string{"sh", "-c",
		`echo "` + name + `: $(/bin/cat /proc/self/environ | /bin/tr '\0' '\n' | /bin/grep -v -e '^PWD=' -e '^SHLVL=' | /bin/sort | /bin/tr '\n' ' ')" >> ` + log}}
}

// TestHooksInC: with the C init and the C rootfs builder, both hook kinds
// run with no Go runtime in the container (no init:* trace point, no
// refusal, a one-thread waiting init), in the container's root and
// namespaces, with exactly their own environment: nothing of berth's
// leaks into them (a canary in berth's environment), and a startContainer
// hook without env gets the process's (HOME filled). The Go paths give
// the same log.
func TestHooksInC(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var logs [3]string
	for i, p := range hookPaths {
		log := newHookLog(t, e)
		spec := sh(`echo "process" >> /hooklog/log`)
		spec.Process.Env = []string{"PATH=/bin", "MYVAR=from-process"}
		spec.Mounts = append(spec.Mounts, log.mount())
		spec.Hooks = &specs.Hooks{
			CreateContainer: []specs.Hook{
				envHook("create-own", log.host, []string{"PATH=/usr/bin:/bin", "A=1"}),
				envHook("create-none", log.host, nil),
				{Path: "/bin/sh", Args: []string{"sh", "-c", `echo "cwd $(pwd -P) ns $(readlink /proc/self/ns/mnt)" >> ` + log.host}},
			},
			StartContainer: []specs.Hook{
				envHook("start-own", "/hooklog/log", []string{"PATH=/bin", "B=2"}),
				envHook("start-process", "/hooklog/log", nil),
			},
		}
		bundle := e.bundle(spec)
		id := e.id("hooksc")
		out := e.tempFile("out")
		env := append([]string{"BERTH_HOOK_CANARY=leaked"}, p.env...)
		r := e.berthOpts(runOpts{env: env, stdout: out}, "create", "--bundle", bundle, id)
		if r.code != 0 {
			t.Fatalf("%s: %v", p.name, r)
		}
		pid := e.state(id).Pid
		mnt := hostNS(t, fmt.Sprint(pid), "mnt")
		if p.name == "C" {
			if !traceShowsC(r.stderr) {
				t.Errorf("C: a Go rootfs helper or init ran:\n%s", r.stderr)
			}
			if threads, _ := initStatus(t, pid); threads != 1 {
				t.Errorf("C: the waiting init has %d threads, want the C init", threads)
			}
		}
		e.mustBerth("start", id)
		e.waitStatus(id, "stopped")
		e.mustBerth("delete", id)
		b, err := os.ReadFile(log.host)
		if err != nil {
			t.Fatal(err)
		}
		root, _ := filepath.EvalSymlinks(filepath.Join(bundle, "rootfs"))
		logs[i] = strings.NewReplacer(root, "$ROOT", mnt, "$MNT").Replace(string(b))
	}
	want := `create-own: A=1 PATH=/usr/bin:/bin 
create-none: 
cwd $ROOT ns $MNT
start-own: B=2 PATH=/bin 
start-process: HOME=/root MYVAR=from-process PATH=/bin 
process
`
	for i, p := range hookPaths {
		if logs[i] != want {
			t.Errorf("%s: hooks logged\n%s\nwant\n%s", p.name, logs[i], want)
		}
	}
}

// TestHookFailuresInC: a createContainer or startContainer hook that
// exits non-zero, is killed by a signal, outlives its timeout (with a
// child holding its output), leaves a child holding its output after it
// exited 0, or cannot be executed fails `run` with the
// same one line on every path, the container's process never runs, and
// nothing is left behind (the state is gone; the env's leak check).
func TestHookFailuresInC(t *testing.T) {
	t.Parallel()
	timeout := 1
	cases := []struct {
		name string
		hook specs.Hook
		why  string // after the hook's name
	}{
		{"exit", specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "echo '  it went wrong '; exit 3"}},
			"exit status 3: it went wrong"},
		{"signal", specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "kill -TERM $$"}},
			"signal: terminated"},
		{"timeout", specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "sleep 30 & sleep 30; echo late"}, Timeout: &timeout},
			"timed out after 1s"},
		{"no such file", specs.Hook{Path: "/no/such/hook"},
			"fork/exec /no/such/hook: no such file or directory"},
		{"output held open", specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "sleep 5 &"}},
			"exec: WaitDelay expired before I/O complete"},
		{"long output", specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "printf '%0300d' 0; exit 1"}},
			"exit status 1: " + strings.Repeat("0", 200) + "..."},
	}
	for _, kind := range []string{"createContainer", "startContainer"} {
		for _, tt := range cases {
			t.Run(kind+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				e := newEnv(t)
				marker := filepath.Join(e.dir("marker"), "ran")
				spec := sh("touch /marker/ran")
				spec.Mounts = append(spec.Mounts, specs.Mount{Destination: "/marker", Type: "bind", Source: filepath.Dir(marker), Options: []string{"rbind", "rw"}})
				if kind == "createContainer" {
					spec.Hooks = &specs.Hooks{CreateContainer: []specs.Hook{{Path: "/bin/true"}, tt.hook}}
				} else {
					spec.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{Path: "/bin/true"}, tt.hook}}
				}
				bundle := e.bundle(spec)
				for _, p := range hookPaths {
					id := e.id("hookfail")
					begin := time.Now()
					r := withoutTrace(e.berthOpts(runOpts{env: p.env}, "run", "--bundle", bundle, id))
					took := time.Since(begin)
					// The parent names the init for what fails before "ready".
					prefix := "init: "
					if kind == "startContainer" {
						prefix = ""
					}
					want := fmt.Sprintf("berth: run %s: %shooks.%s[1] %q: %s\n", id, prefix, kind, tt.hook.Path, tt.why)
					if r.code != 1 || r.stderr != want {
						t.Errorf("%s: exit %d, stderr\n%q\nwant exit 1 and\n%q", p.name, r.code, r.stderr, want)
					}
					if tt.name == "timeout" && took > 8*time.Second {
						t.Errorf("%s: run took %v with a 1s hook timeout", p.name, took)
					}
					if onDisk(marker) {
						t.Errorf("%s: the container's process ran after a failing hook", p.name)
					}
					if onDisk(filepath.Join(e.root, id)) {
						t.Errorf("%s: the state directory of %s is left", p.name, id)
					}
				}
			})
		}
	}
}
