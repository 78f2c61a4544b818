// Package clients runs berth under the engines that call runc: containerd
// (ctr and its runc shim), podman (through conmon) and Docker. Each suite
// starts its own daemon with its own root, state and socket under a
// temporary directory, asserts what the containers really did (output,
// exit codes, cgroup files on the host) and removes everything afterwards.
// The clients are installed from Debian when missing.
package clients

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berthrun/berth/internal/testbin"
)

// berthBin is the binary under test: $BERTH_BIN, or one built by TestMain.
var berthBin string

// skipReason, when set, skips every suite (not root, clients missing).
var skipReason string

// systemdCgroup is the harness switch BERTH_TEST_SYSTEMD_CGROUP=1 (as in
// package tests): the ctr scenarios then run every container under the
// systemd cgroup driver (the runc shim's SystemdCgroup option), each in a
// transient scope. make vmtest's systemd pass sets it, on a host with
// systemd as pid 1. The other suites have no systemd form and skip.
var systemdCgroup = os.Getenv("BERTH_TEST_SYSTEMD_CGROUP") == "1"

// installScript installs Debian packages. It is found relative to the
// package directory; a test binary run elsewhere (make vmtest's guest,
// which has no network) installs nothing, and each suite skips when its
// clients are missing (suiteBinaries).
const installScript = "../../scripts/install-deps.sh"

// clientPackages are the Debian packages the suites drive. The CNI
// plugins give the CRI suite's pods their network; gcc and libc6-dev
// build its pause program. slirp4netns is rootless podman's and buildah's
// network, uidmap their user namespaces' maps.
var clientPackages = []string{"busybox-static", "containerd", "podman", "conmon", "docker.io",
	"containernetworking-plugins", "gcc", "libc6-dev", "slirp4netns", "uidmap", "buildah"}

// clientBinaries are what those packages must have installed. The docker
// CLI is named by path: another docker may come first in PATH, and the
// suite talks to the daemon of the same package. The CNI plugins are not
// in PATH either.
var clientBinaries = []string{"/bin/busybox", "containerd", "containerd-shim-runc-v2", "ctr", "podman", "conmon", "slirp4netns", "newuidmap", "dockerd", dockerCLI, "buildah",
	"gcc", cniBinDir + "/bridge", cniBinDir + "/host-local", cniBinDir + "/loopback", cniBinDir + "/portmap"}

// suiteBinaries are the clients each suite (by world name) drives.
var suiteBinaries = map[string][]string{
	"containerd": {"/bin/busybox", "containerd", "containerd-shim-runc-v2", "ctr"},
	"cri": {"/bin/busybox", "containerd", "containerd-shim-runc-v2", "ctr", "gcc",
		cniBinDir + "/bridge", cniBinDir + "/host-local", cniBinDir + "/loopback", cniBinDir + "/portmap"},
	"podman": {"/bin/busybox", "podman", "conmon"},
	"docker": {"/bin/busybox", "dockerd", dockerCLI, "containerd", "containerd-shim-runc-v2"},
	// podman as an unprivileged user: setpriv and unshare (util-linux) to
	// become it, newuidmap and newgidmap (uidmap) for podman's user
	// namespace; slirp4netns only for its subtest.
	"podman-rootless": {"/bin/busybox", "podman", "conmon", "setpriv", "unshare", "newuidmap", "newgidmap", "tar"},
	"buildah":         {"/bin/busybox", "buildah", "tar"},
	// buildah as an unprivileged user: as rootless podman, without conmon.
	"buildah-rootless": {"/bin/busybox", "buildah", "setpriv", "unshare", "newuidmap", "newgidmap", "tar"},
}

const dockerCLI = "/usr/bin/docker"

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	_, scriptErr := os.Stat(installScript)
	if os.Geteuid() != 0 {
		skipReason = "the client suites need root (containerd, podman and dockerd run as root)"
	} else if systemdCgroup && !systemdRunning() {
		skipReason = "BERTH_TEST_SYSTEMD_CGROUP=1 but systemd is not running on this host (no /run/systemd/system)"
	} else if scriptErr != nil {
		// Outside the source tree: no install, and no Go to build crictl.
		fmt.Fprintf(os.Stderr, "clients: %s is not here: installing nothing; suites whose clients are missing skip\n", installScript)
		criSkipReason = "crictl is built from source by the tests, and this test binary runs outside the source tree"
	} else if err := installClients(); err != nil {
		skipReason = err.Error()
	} else if bin, err := installCrictl(); err != nil {
		criSkipReason = err.Error()
	} else {
		crictlBin = bin
	}
	if skipReason != "" {
		fmt.Fprintf(os.Stderr, "clients: skipping: %s\n", skipReason)
		return m.Run()
	}
	var cleanup func()
	var err error
	if berthBin, cleanup, err = testbin.Berth(); err != nil {
		fmt.Fprintln(os.Stderr, "clients:", err)
		return 1
	}
	defer cleanup()
	return m.Run()
}

// installClients installs the client packages through the project's
// install script when any of their binaries is missing.
func installClients() error {
	var missing []string
	for _, b := range clientBinaries {
		if _, err := exec.LookPath(b); err != nil {
			missing = append(missing, b)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	fmt.Fprintf(os.Stderr, "clients: %s missing; installing %s\n", strings.Join(missing, ", "), strings.Join(clientPackages, " "))
	cmd := exec.Command(installScript, clientPackages...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("installing %s: %v", strings.Join(clientPackages, " "), err)
	}
	for _, b := range clientBinaries {
		if _, err := exec.LookPath(b); err != nil {
			return fmt.Errorf("%s still missing after installing %s", b, strings.Join(clientPackages, " "))
		}
	}
	return nil
}

// systemdRunning reports whether systemd is pid 1 here (sd_booted(3)).
func systemdRunning() bool {
	fi, err := os.Lstat("/run/systemd/system")
	return err == nil && fi.IsDir()
}

// requireSuiteBinaries skips the suite name when a client it drives is
// not installed.
func requireSuiteBinaries(t *testing.T, name string) {
	t.Helper()
	var missing []string
	for _, b := range suiteBinaries[name] {
		if _, err := exec.LookPath(b); err != nil {
			missing = append(missing, b)
		}
	}
	if len(missing) > 0 {
		t.Skipf("%s is not installed here (the %s suite needs it)", strings.Join(missing, ", "), name)
	}
}

// commandTimeout bounds every client command: a hung one fails its test
// instead of the whole run.
const commandTimeout = 60 * time.Second

// result is what one client command did.
type result struct {
	args           []string
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("%s: exit %d\nstdout: %q\nstderr: %q", strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

// runCmd runs a client command to completion with env added to the
// environment and returns what it did.
func runCmd(t *testing.T, env []string, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// A detached container may keep inherited pipes open: stop waiting
	// for them soon after the command itself is gone.
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	r := result{args: append([]string{name}, args...), stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		t.Fatalf("%s: timed out after %v\nstdout: %q\nstderr: %q", strings.Join(r.args, " "), commandTimeout, r.stdout, r.stderr)
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			r.code = 128 + int(ws.Signal())
		}
	case errors.Is(err, exec.ErrWaitDelay):
	default:
		t.Fatalf("%s: %v", strings.Join(r.args, " "), err)
	}
	return r
}

// mustSucceed fails the test unless r exited 0, and returns its stdout.
func mustSucceed(t *testing.T, r result) string {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("%v", r)
	}
	return r.stdout
}

// wantOutput fails the test unless out contains every one of want.
func wantOutput(t *testing.T, what, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("%s: output %q does not contain %q", what, out, w)
		}
	}
}

// randHex returns n random bytes in hex.
func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// eventually polls cond until it holds or d passes, and reports whether
// it held.
func eventually(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// inspectPid is the container's host pid that an engine's
// `inspect --format {{.State.Pid}}` printed (r).
func inspectPid(t *testing.T, what string, r result) int {
	t.Helper()
	pid, err := strconv.Atoi(strings.TrimSpace(mustSucceed(t, r)))
	if err != nil || pid <= 0 {
		t.Fatalf("%s: no pid (%v)", what, err)
	}
	return pid
}
