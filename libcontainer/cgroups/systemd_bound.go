package cgroups

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"
)

// The library talks to systemd with context.TODO and waits for jobs for
// 30 s only after a call returns: a systemd that accepts the connection but
// never answers (overloaded, stuck in a reload, a hung PID 1) would hang
// berth — and containerd or the kubelet behind it — forever (runc #3904).
// So every systemd interaction of the driver runs under a deadline: the
// library's call goes on in a goroutine that is abandoned when the deadline
// passes (its connection is process-global and may be held by it; berth is
// a short-lived process and exits soon after), and berth fails in one line.

// defaultSystemdTimeout is how long berth waits for systemd per
// interaction. It matches the library's own wait for a unit's start or stop
// job, so a systemd that is slow but working is given the time the library
// would give it; the kubelet's runtime request timeout (2 min) leaves room
// for the cleanup after it. BERTH_SYSTEMD_TIMEOUT (a Go duration, "90s")
// overrides it, for hosts whose systemd is known to be slow, and for tests.
const defaultSystemdTimeout = 30 * time.Second

const systemdTimeoutEnv = "BERTH_SYSTEMD_TIMEOUT"

// systemdTimeout is the deadline of each systemd interaction.
func systemdTimeout() (time.Duration, error) {
	v := os.Getenv(systemdTimeoutEnv)
	if v == "" {
		return defaultSystemdTimeout, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s=%q: want a positive duration such as 30s or 2m", systemdTimeoutEnv, v)
	}
	return d, nil
}

// errSystemdHung is set once systemd missed a deadline in this process.
// The abandoned call may still hold the library's connection lock, so every
// later interaction would only wait out its own deadline as well: they fail
// at once instead, and Destroy falls back to removing the directories.
var (
	hungMu         sync.Mutex
	errSystemdHung error
)

func systemdHung() error {
	hungMu.Lock()
	defer hungMu.Unlock()
	return errSystemdHung
}

// withSystemd runs op, one interaction with systemd named by what (e.g.
// "start berth-x.scope"), under the deadline. A connection that cannot be
// made at all (no socket, nobody listening) is reported as such rather
// than through the library's long error with every property in it.
func withSystemd(what string, op func() error) error {
	if err := systemdHung(); err != nil {
		return err
	}
	timeout, err := systemdTimeout()
	if err != nil {
		return fmt.Errorf("--systemd-cgroup: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- op() }()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err := <-done:
		return systemdConnectError(err)
	case <-t.C:
		err := fmt.Errorf("--systemd-cgroup: systemd did not answer within %v (%s): it is overloaded or hung; see systemctl status, or set %s to wait longer", timeout, what, systemdTimeoutEnv)
		hungMu.Lock()
		errSystemdHung = err
		hungMu.Unlock()
		return err
	}
}

// systemdConnectError turns a failed dial of systemd's socket into one
// line that says what to do; other errors pass unchanged.
func systemdConnectError(err error) error {
	var op *net.OpError
	if err == nil || !errors.As(err, &op) || op.Op != "dial" {
		return err
	}
	return fmt.Errorf("--systemd-cgroup: cannot connect to systemd (%v): is systemd running as pid 1? Without it use the default cgroupfs driver", op)
}
