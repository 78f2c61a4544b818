package clients

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// docker is a private dockerd (which starts its own containerd) with
// berth added as the runtime "berth", and the docker CLI pointed at it.
// No bridge and no iptables: containers run with --network none.
type docker struct {
	w     *world
	sock  string
	image string
}

func startDocker(t *testing.T) *docker {
	w := newWorld(t, "docker")
	d := &docker{w: w, sock: w.path("docker.sock"), image: "berth-busybox:" + randHex(4)}
	// dockerd's containerd shims use /run/containerd/s and dockerd keeps
	// plugin sockets in /run/docker/plugins whatever its exec root.
	w.noteRunDir("/run/containerd", "/run/containerd/s", "/run/docker", "/run/docker/plugins")
	ns := w.cgroup // containerd namespace: unique, so nothing is shared with another dockerd
	// dockerd 20.10 gives every runtime the root of runc.
	w.berthRoots = []string{filepath.Join(w.path("exec"), "runtime-runc", ns)}
	// The trust key goes below the world, not to /etc/docker/key.json.
	daemonJSON := fmt.Sprintf("{\"deprecated-key-path\": %q}\n", w.path("key.json"))
	if err := os.WriteFile(w.path("daemon.json"), []byte(daemonJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	w.startDaemon("dockerd", func() error {
		return exec.Command(dockerCLI, "-H", "unix://"+d.sock, "version").Run()
	}, "dockerd",
		"--config-file", w.path("daemon.json"),
		"--data-root", w.path("data"),
		"--exec-root", w.path("exec"),
		"--pidfile", w.path("docker.pid"),
		"-H", "unix://"+d.sock,
		"--iptables=false", "--ip-masq=false", "--bridge=none",
		"--cgroup-parent", "/"+w.cgroup,
		"--containerd-namespace", ns, "--containerd-plugins-namespace", ns+"-plugins",
		"--add-runtime", "berth="+berthBin)
	d.importImage(t)
	return d
}

// docker runs the docker CLI against the private daemon, with a private
// client configuration.
func (d *docker) docker(t *testing.T, args ...string) result {
	t.Helper()
	return runCmd(t, []string{"DOCKER_CONFIG=" + d.w.path("cli")}, dockerCLI, append([]string{"-H", "unix://" + d.sock}, args...)...)
}

// importImage makes the busybox rootfs an image with `docker import`.
func (d *docker) importImage(t *testing.T) {
	t.Helper()
	tarball := d.w.path("busybox.tar")
	if out, err := exec.Command("tar", "-C", d.w.rootfs, "-cf", tarball, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v: %s", err, out)
	}
	mustSucceed(t, d.docker(t, "import", tarball, d.image))
}

// runArgs is `docker run --runtime berth` of the busybox image.
func (d *docker) runArgs(flags []string, command ...string) []string {
	args := append([]string{"run", "--runtime", "berth", "--network", "none"}, flags...)
	return append(append(args, d.image), command...)
}

// detached starts a container with -d and registers its removal.
func (d *docker) detached(t *testing.T, flags []string, command ...string) (string, int) {
	t.Helper()
	name := "dk-" + randHex(4)
	t.Cleanup(func() { d.docker(t, "rm", "--force", name) })
	mustSucceed(t, d.docker(t, d.runArgs(append([]string{"-d", "--name", name}, flags...), command...)...))
	return name, inspectPid(t, "docker inspect", d.docker(t, "inspect", "--format", "{{.State.Pid}}", name))
}

func TestDocker(t *testing.T) {
	d := startDocker(t)
	t.Run("run --rm", func(t *testing.T) {
		r := d.docker(t, d.runArgs([]string{"--rm"}, "sh", "-c", "echo hello from berth; exit 5")...)
		if r.code != 5 {
			t.Fatalf("want the container's exit status 5: %v", r)
		}
		wantOutput(t, "docker run", r.stdout, "hello from berth")
	})
	t.Run("runtime is berth", func(t *testing.T) {
		name, _ := d.detached(t, nil, "sleep", "1000")
		rt := strings.TrimSpace(mustSucceed(t, d.docker(t, "inspect", "--format", "{{.HostConfig.Runtime}}", name)))
		if rt != "berth" {
			t.Errorf("container runtime %q, want berth", rt)
		}
		id := strings.TrimSpace(mustSucceed(t, d.docker(t, "inspect", "--format", "{{.Id}}", name)))
		if _, err := os.Stat(filepath.Join(d.w.berthRoots[0], id, "state.json")); err != nil {
			t.Errorf("berth has no state for the container: %v", err)
		}
	})
	t.Run("detached and exec", func(t *testing.T) {
		name, _ := d.detached(t, nil, "sleep", "1000")
		r := d.docker(t, "exec", name, "sh", "-c", "echo exec-ok; cat /proc/1/cmdline; exit 3")
		if r.code != 3 {
			t.Fatalf("want the exec's exit status 3: %v", r)
		}
		wantOutput(t, "docker exec", r.stdout, "exec-ok", "sleep")
	})
	t.Run("memory limit", func(t *testing.T) {
		_, pid := d.detached(t, []string{"--memory", "64m"}, "sleep", "1000")
		if got := memoryLimit(t, pid); got != strconv.Itoa(64<<20) {
			t.Errorf("memory limit %s, want %d", got, 64<<20)
		}
	})
	t.Run("read-only", func(t *testing.T) {
		r := d.docker(t, d.runArgs([]string{"--rm", "--read-only"}, "sh", "-c", "touch /probe; echo rc=$?")...)
		wantOutput(t, "docker run --read-only", r.stdout+r.stderr, "Read-only file system", "rc=1")
	})
	t.Run("cap-drop", func(t *testing.T) {
		out := mustSucceed(t, d.docker(t, d.runArgs([]string{"--rm", "--cap-drop", "ALL"}, "grep", "^Cap", "/proc/self/status")...))
		for _, set := range []string{"CapPrm", "CapEff", "CapBnd"} {
			wantOutput(t, "docker run --cap-drop ALL", out, set+":\t0000000000000000")
		}
		// Dropping one: chown is refused, the rest of the default set stays.
		r := d.docker(t, d.runArgs([]string{"--rm", "--cap-drop", "CHOWN"}, "sh", "-c", "chown 1000 /tmp; echo rc=$?; touch /tmp/x; echo touch=$?")...)
		wantOutput(t, "docker run --cap-drop CHOWN", r.stdout, "rc=1", "touch=0")
	})
	t.Run("stop and rm", func(t *testing.T) {
		name, _ := d.detached(t, nil, "sh", "-c", `trap "exit 7" TERM; sleep 1000 & wait`)
		mustSucceed(t, d.docker(t, "stop", "--time", "20", name))
		code := strings.TrimSpace(mustSucceed(t, d.docker(t, "inspect", "--format", "{{.State.ExitCode}}", name)))
		if code != "7" {
			t.Errorf("exit code after docker stop %s, want 7 (the SIGTERM trap's)", code)
		}
		mustSucceed(t, d.docker(t, "rm", name))
		if out := mustSucceed(t, d.docker(t, "ps", "-a", "--format", "{{.Names}}")); strings.Contains(out, name) {
			t.Errorf("docker ps -a still lists %s after rm: %q", name, out)
		}
	})
}
