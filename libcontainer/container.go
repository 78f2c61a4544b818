package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Runtime is a state root (--root) and the binary that becomes the init.
type Runtime struct {
	Root string
	// Exe is the binary re-executed as `init`; it must link the nsenter
	// package. Empty means /proc/self/exe.
	Exe string
	// Warn reports problems that do not fail an operation (a failing
	// poststart or poststop hook). Nil discards them.
	Warn func(msg string)
}

// Container is one container of a Runtime.
type Container struct {
	rt   *Runtime
	st   *savedState
	lock *os.File     // held by operations that change the container
	init *initProcess // set between Create and Start in the same process
}

func (rt *Runtime) store() stateStore { return stateStore{root: rt.Root} }

func (rt *Runtime) warn(format string, args ...any) {
	if rt.Warn != nil {
		rt.Warn(fmt.Sprintf(format, args...))
	}
}

// Load returns the container with this id without locking it.
func (rt *Runtime) Load(id string) (*Container, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	st, err := rt.store().load(id)
	if err != nil {
		return nil, err
	}
	return &Container{rt: rt, st: st}, nil
}

// LoadLocked returns the container holding its lock; call Unlock when done.
func (rt *Runtime) LoadLocked(id string) (*Container, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	lock, err := rt.store().lock(id)
	if err != nil {
		return nil, err
	}
	st, err := rt.store().load(id)
	if err != nil {
		lock.Close()
		return nil, err
	}
	return &Container{rt: rt, st: st, lock: lock}, nil
}

// Unlock releases the container's lock.
func (c *Container) Unlock() {
	if c.lock != nil {
		c.lock.Close()
		c.lock = nil
	}
}

// Relock takes the lock again after Unlock; it fails if the container was
// deleted in between.
func (c *Container) Relock() error {
	lock, err := c.rt.store().lock(c.st.ID)
	if err != nil {
		return err
	}
	c.lock = lock
	return nil
}

// ID is the container's id.
func (c *Container) ID() string { return c.st.ID }

// Pid is the host pid of the container's init (0 while creating).
func (c *Container) Pid() int { return c.st.InitPid }

// Config is the container's configuration.
func (c *Container) Config() *Config { return c.st.Config }

func (c *Container) dir() string { return c.rt.store().dir(c.st.ID) }

// Status derives the current status.
func (c *Container) Status() string { return c.st.status(c.dir()) }

// State is the OCI state as `berth state` prints it.
func (c *Container) State() *StateSpec {
	status := c.Status()
	pid := c.st.InitPid
	if status == Stopped {
		pid = 0
	}
	return &StateSpec{
		OCIVersion:  specs.Version,
		ID:          c.st.ID,
		Pid:         pid,
		Status:      status,
		Bundle:      c.st.Config.Bundle,
		Rootfs:      c.st.Config.Rootfs,
		Created:     c.st.Created,
		Annotations: c.st.Config.Spec.Annotations,
	}
}

// List returns the state of every container in the root.
func (rt *Runtime) List() ([]*StateSpec, error) {
	ids, err := rt.store().ids()
	if err != nil {
		return nil, err
	}
	out := make([]*StateSpec, 0, len(ids))
	for _, id := range ids {
		c, err := rt.Load(id)
		if err != nil {
			continue // being created or deleted right now
		}
		st := c.State()
		st.Owner = c.owner()
		out = append(out, st)
	}
	return out, nil
}

// ErrNotRunning is kill's answer for a container with nothing to signal.
// Its text is runc's: containerd's shim and CRI-O match "container not
// running" and treat it as "already gone" (docs/clients.md).
var ErrNotRunning = errors.New("container not running")

// Signal sends sig to the init, or with all to every process in the cgroup.
//
// As runc does: a stopped container answers ErrNotRunning, except to all,
// which still signals whatever is left in its cgroup (the rest of a shared
// pid namespace) and succeeds — the shims' cleanup of an exited container
// is `kill --all ID KILL`. SIGKILL to a container without a pid namespace
// of its own goes to every process in the cgroup: the init's death takes
// nothing else along there.
func (c *Container) Signal(sig unix.Signal, all bool) error {
	status := c.Status()
	if status == Stopped || status == Creating {
		if all && len(c.st.CgroupPaths) > 0 {
			return c.signalAll(sig)
		}
		return ErrNotRunning
	}
	var err error
	if all || (sig == unix.SIGKILL && !c.st.Config.NewNamespace(specs.PIDNamespace)) {
		err = c.signalAll(sig)
	} else {
		err = signalPid(c.st.InitPid, c.st.InitStartTime, sig)
	}
	if err == nil && sig == unix.SIGKILL && status == Paused {
		// A frozen process cannot die: thaw it, as runc does.
		err = c.thaw()
	}
	return err
}

// thaw resumes a frozen cgroup whatever the container's status.
//
// A cgroup that is gone has nothing left to thaw: on cgroup v2 SIGKILL
// reaches frozen processes, and systemd removes an emptied scope, so the
// cgroup can vanish between the freezer read and the thaw, or during it:
// then the library's read-back of cgroup.freeze finds the file empty and
// says so ("expected ... THAWED but was \"\"") without an errno.
func (c *Container) thaw() error {
	m, err := c.cgroup()
	if err != nil {
		return err
	}
	if err := m.Thaw(); err != nil && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, unix.ENODEV) && m.Exists() {
		return err
	}
	return nil
}

// signalPid signals pid through a pidfd, after checking through that same
// pidfd that it is still the process that started at start: a recycled pid
// is never signalled.
func signalPid(pid int, start uint64, sig unix.Signal) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		if errors.Is(err, unix.ESRCH) {
			return nil
		}
		return fmt.Errorf("pidfd_open %d: %w", pid, err)
	}
	defer unix.Close(fd)
	if got, _, err := processStartTime(pid); err != nil || got != start {
		return nil
	}
	if err := unix.PidfdSendSignal(fd, sig, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("signal %d to pid %d: %w", sig, pid, err)
	}
	return nil
}

func (c *Container) signalAll(sig unix.Signal) error {
	m, err := c.cgroup()
	if err != nil {
		return err
	}
	pids, err := c.containerPids(m)
	if errors.Is(err, os.ErrNotExist) {
		return nil // removed with the last process (systemd) or by a delete
	}
	if err != nil {
		return fmt.Errorf("list container processes: %w", err)
	}
	for _, pid := range pids {
		if err := unix.Kill(pid, sig); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("signal %d to pid %d: %w", sig, pid, err)
		}
	}
	return nil
}

// waitGone waits until pid has exited (a non-child: through its pidfd).
func waitGone(pid int, timeout time.Duration) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return nil // already gone
	}
	defer unix.Close(fd)
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("pid %d did not exit within %v", pid, timeout)
		}
		n, err := unix.Poll(fds, int(left/time.Millisecond)+1)
		if err == nil && n > 0 {
			return nil
		}
		if err != nil && !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

func (c *Container) fifoPath() string { return filepath.Join(c.dir(), fifoName) }

func pidString(pid int) string { return strconv.Itoa(pid) }

// owner is the user name of the state dir's owner, as runc's list shows it.
func (c *Container) owner() string {
	var st unix.Stat_t
	if err := unix.Stat(c.dir(), &st); err != nil {
		return ""
	}
	uid := strconv.FormatUint(uint64(st.Uid), 10)
	if u, err := user.LookupId(uid); err == nil {
		return u.Username
	}
	return "#" + uid
}
