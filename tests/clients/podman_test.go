package clients

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// podman drives podman with berth as its OCI runtime (podman → conmon →
// berth), with its storage, run and tmp directories and the containers'
// cgroup parent private to the world. berth keeps its default --root:
// podman passes --runtime-flag to the runtime it calls, but not to the
// "podman container cleanup" that conmon runs when a container exits, so
// that cleanup would look for the container in the default root anyway.
type podman struct {
	w *world
}

// defaultBerthRoot is berth's --root when none is given.
const defaultBerthRoot = "/run/berth"

// rlimitFlags keep podman's default rlimits (nofile 1048576, nproc
// 4194304 for root) from exceeding a host whose hard limits are lower and
// whose root lacks CAP_SYS_RESOURCE; TestPodman checks the error without
// them.
var rlimitFlags = []string{"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"}

func startPodman(t *testing.T) *podman {
	w := newWorld(t, "podman")
	p := &podman{w: w}
	w.berthRoots = []string{defaultBerthRoot}
	w.noteRunDir(defaultBerthRoot)
	// podman has no daemon: "cannot start" is podman failing to set up
	// its storage.
	if r := runCmd(t, nil, "podman", p.globals("info")...); r.code != 0 {
		t.Skipf("podman cannot start: %v", r)
	}
	return p
}

func (p *podman) globals(args ...string) []string {
	return append([]string{
		"--root", p.w.path("storage"), "--runroot", p.w.path("run"), "--tmpdir", p.w.path("tmp"),
		"--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "file",
		"--runtime", berthBin, "--conmon", "/usr/bin/conmon",
	}, args...)
}

func (p *podman) podman(t *testing.T, args ...string) result {
	t.Helper()
	return runCmd(t, nil, "podman", p.globals(args...)...)
}

// runArgs is `podman run` of the busybox rootfs: flags, then the command.
func (p *podman) runArgs(flags []string, command ...string) []string {
	args := append([]string{"run", "--network", "none", "--cgroup-parent", "/" + p.w.cgroup}, flags...)
	args = append(args, "--rootfs", p.w.rootfs)
	return append(args, command...)
}

// run runs a container in the foreground with the rlimit flags and --rm.
func (p *podman) run(t *testing.T, flags []string, command ...string) result {
	t.Helper()
	return p.podman(t, p.runArgs(append(append([]string{"--rm"}, rlimitFlags...), flags...), command...)...)
}

// detached starts a container with -d and registers its removal.
func (p *podman) detached(t *testing.T, flags []string, command ...string) (string, int) {
	t.Helper()
	name := "pm-" + randHex(4)
	t.Cleanup(func() { p.podman(t, "rm", "--force", "--time", "0", name) })
	mustSucceed(t, p.podman(t, p.runArgs(append(append([]string{"-d", "--name", name}, rlimitFlags...), flags...), command...)...))
	return name, inspectPid(t, "podman inspect", p.podman(t, "inspect", "--format", "{{.State.Pid}}", name))
}

func TestPodman(t *testing.T) {
	p := startPodman(t)
	t.Run("run", func(t *testing.T) {
		r := p.run(t, nil, "sh", "-c", "echo hello from berth; ulimit -n; exit 5")
		if r.code != 5 {
			t.Fatalf("want the container's exit status 5: %v", r)
		}
		wantOutput(t, "podman run", r.stdout, "hello from berth", "1024")
	})
	t.Run("default rlimits", func(t *testing.T) { testPodmanDefaultRlimits(t, p) })
	t.Run("detached and exec", func(t *testing.T) {
		name, _ := p.detached(t, nil, "sleep", "1000")
		r := p.podman(t, "exec", name, "sh", "-c", "echo exec-ok; cat /proc/1/cmdline; exit 3")
		if r.code != 3 {
			t.Fatalf("want the exec's exit status 3: %v", r)
		}
		wantOutput(t, "podman exec", r.stdout, "exec-ok", "sleep")
	})
	t.Run("run -it", func(t *testing.T) {
		s := startOnPTY(t, nil, "podman", p.globals(p.runArgs(append([]string{"--rm", "-it"}, rlimitFlags...), "sh")...)...)
		interactiveShell(t, s, "podman run -it", 3)
	})
	t.Run("stop and rm", func(t *testing.T) {
		name, _ := p.detached(t, nil, "sh", "-c", `trap "exit 7" TERM; sleep 1000 & wait`)
		stopAndRemove(t, p.podman, name)
	})
	t.Run("memory and pids limits", func(t *testing.T) {
		_, pid := p.detached(t, []string{"--memory", "64m", "--pids-limit", "50"}, "sleep", "1000")
		if got := memoryLimit(t, pid); got != strconv.Itoa(64<<20) {
			t.Errorf("memory limit %s, want %d", got, 64<<20)
		}
		if got := pidsMax(t, pid); got != "50" {
			t.Errorf("pids.max %s, want 50", got)
		}
	})
	t.Run("read-only", func(t *testing.T) {
		r := p.run(t, []string{"--read-only"}, "sh", "-c", "touch /probe; echo rc=$?")
		wantOutput(t, "podman run --read-only", r.stdout+r.stderr, "Read-only file system", "rc=1")
	})
	t.Run("user", func(t *testing.T) {
		out := mustSucceed(t, p.run(t, []string{"--user", "1000:1000"}, "id"))
		wantOutput(t, "podman run --user", out, "uid=1000", "gid=1000")
	})
	t.Run("cap-drop ALL", func(t *testing.T) {
		out := mustSucceed(t, p.run(t, []string{"--cap-drop", "ALL"}, "grep", "^Cap", "/proc/self/status"))
		for _, set := range []string{"CapPrm", "CapEff", "CapBnd"} {
			wantOutput(t, "podman run --cap-drop ALL", out, set+":\t0000000000000000")
		}
	})
}

// testPodmanDefaultRlimits runs without the rlimit flags: where podman's
// default nofile exceeds the host's hard limit and root cannot raise it,
// podman must show berth's one-line explanation; elsewhere it just runs.
func testPodmanDefaultRlimits(t *testing.T, p *podman) {
	const podmanNofile = 1048576
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	r := p.podman(t, p.runArgs([]string{"--rm"}, "true")...)
	if lim.Max >= podmanNofile || hasCapSysResource(t) {
		if r.code != 0 {
			t.Errorf("this host can raise nofile to %d, yet: %v", podmanNofile, r)
		}
		return
	}
	if r.code == 0 {
		t.Fatalf("hard nofile %d without CAP_SYS_RESOURCE, yet podman's %d was granted", lim.Max, podmanNofile)
	}
	wantOutput(t, "podman run with default rlimits", r.stderr,
		"RLIMIT_NOFILE", strconv.Itoa(podmanNofile), fmt.Sprintf("hard limit %d", lim.Max), "CAP_SYS_RESOURCE")
}

// hasCapSysResource reports whether this process has CAP_SYS_RESOURCE in
// its effective set.
func hasCapSysResource(t *testing.T) bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "CapEff:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err == nil && mask&(1<<unix.CAP_SYS_RESOURCE) != 0
		}
	}
	return false
}

// stopAndRemove: podman stop ends name with SIGTERM (its trap exits 7, the
// code podman inspect must show) and rm leaves it out of ps -a; for root's
// and a user's podman alike.
func stopAndRemove(t *testing.T, podman func(*testing.T, ...string) result, name string) {
	t.Helper()
	mustSucceed(t, podman(t, "stop", "--time", "20", name))
	code := strings.TrimSpace(mustSucceed(t, podman(t, "inspect", "--format", "{{.State.ExitCode}}", name)))
	if code != "7" {
		t.Errorf("exit code after podman stop %s, want 7 (the SIGTERM trap's)", code)
	}
	mustSucceed(t, podman(t, "rm", name))
	if out := mustSucceed(t, podman(t, "ps", "-a", "--format", "{{.Names}}")); strings.Contains(out, name) {
		t.Errorf("podman ps -a still lists %s after rm: %q", name, out)
	}
}
