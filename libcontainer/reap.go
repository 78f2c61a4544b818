package libcontainer

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// SetSubreaper makes the caller the reaper of orphans from below it: a
// container without its own pid namespace (or an exec'd process) may leave
// children whose parent exits; they then come to us, not to the host's init,
// and the waits below reap them so none stays a zombie.
func SetSubreaper() error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("set child subreaper: %w", err)
	}
	return nil
}

// reapUntil waits for any child until pid exits, reaping the others on the
// way, and returns pid's exit code (128+N when killed by signal N).
func reapUntil(pid int) (int, error) {
	for {
		var ws unix.WaitStatus
		got, err := unix.Wait4(-1, &ws, 0, nil)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return -1, fmt.Errorf("wait for pid %d: %w", pid, err)
		case got != pid:
			continue
		case ws.Signaled():
			return 128 + int(ws.Signal()), nil
		default:
			return ws.ExitStatus(), nil
		}
	}
}

// ReapOrphans reaps, without waiting, children that have already exited.
func ReapOrphans() {
	for {
		var ws unix.WaitStatus
		got, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if got <= 0 || err != nil {
			return
		}
	}
}
