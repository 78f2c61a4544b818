package libcontainer

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// LockTimeoutEnv overrides how long a command waits for a container's lock
// (a Go duration such as "500ms"); tests use it, as may hosts whose hooks run
// for longer than the default.
const LockTimeoutEnv = "BERTH_LOCK_TIMEOUT"

// defaultLockTimeout bounds the wait for a container's lock. The longest a
// well-behaved command holds it is a delete of a stuck container: up to
// killTimeout for the init to die, then up to killTimeout again for the
// cgroup to empty. A waiter outlasts that, so a timeout means the holder is
// really stuck (a hanging hook, a stopped process) rather than slow, and
// the waiter reports it instead of hanging forever.
const defaultLockTimeout = 2 * killTimeout

// lockTimeout is the wait for this process: $BERTH_LOCK_TIMEOUT if valid.
func lockTimeout() time.Duration {
	if d, err := time.ParseDuration(os.Getenv(LockTimeoutEnv)); err == nil && d >= 0 {
		return d
	}
	return defaultLockTimeout
}

// maxLockPoll caps the backoff between two attempts: flock has no timed
// wait, so a waiter polls, and a released lock is seen within this time.
const maxLockPoll = 50 * time.Millisecond

// flockWithin takes an exclusive flock on fd, waiting at most timeout. It
// returns errLockBusy when the lock stayed held.
func flockWithin(fd int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	wait := time.Millisecond
	for {
		err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, unix.EINTR):
			continue
		case !errors.Is(err, unix.EWOULDBLOCK):
			return err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return errLockBusy
		}
		time.Sleep(min(wait, left))
		wait = min(2*wait, maxLockPoll)
	}
}

var errLockBusy = errors.New("lock held")

// lockTimeoutError names who holds the lock of the directory open as fd,
// as far as /proc/locks tells.
func lockTimeoutError(id string, fd int, timeout time.Duration) error {
	holder := "pid unknown"
	var st unix.Stat_t
	if unix.Fstat(fd, &st) == nil {
		if pid := flockHolder("/proc/locks", st.Dev, st.Ino); pid > 0 {
			holder = "pid " + strconv.Itoa(pid)
		}
	}
	return fmt.Errorf("container %q is locked by another berth command (%s): timed out after %v", id, holder, timeout)
}

// flockHolder returns the pid that holds a FLOCK on the inode ino of device
// dev according to the locks file (the format of /proc/locks), or 0.
func flockHolder(locksFile string, dev, ino uint64) int {
	f, err := os.Open(locksFile)
	if err != nil {
		return 0
	}
	defer f.Close()
	want := fmt.Sprintf("%02x:%02x:%d", unix.Major(dev), unix.Minor(dev), ino)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if pid := parseLockLine(sc.Text(), want); pid > 0 {
			return pid
		}
	}
	return 0
}

// parseLockLine reads one /proc/locks line, e.g.
//
//	3: FLOCK  ADVISORY  WRITE 4242 00:1a:12345 0 EOF
//
// and returns its pid when it is a held (not waiting, "->") FLOCK on the
// file "maj:min:ino" named by file.
func parseLockLine(line, file string) int {
	fields := strings.Fields(line)
	if len(fields) < 6 || fields[1] != "FLOCK" {
		return 0
	}
	if fields[4] == "" || fields[5] != file {
		return 0
	}
	pid, err := strconv.Atoi(fields[4])
	if err != nil {
		return 0
	}
	return pid
}
