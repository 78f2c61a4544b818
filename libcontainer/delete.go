package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/berthrun/berth/internal/trace"
	"github.com/berthrun/berth/internal/wire"
	"golang.org/x/sys/unix"
)

// killTimeout bounds how long delete waits for killed processes to go.
const killTimeout = 10 * time.Second

// Delete removes the container. A stopped or created container goes at once;
// a running or paused one only with force, which kills its processes first.
// Poststop hooks run after everything is gone; failing ones only warn.
func (c *Container) Delete(force bool) error {
	switch status := c.Status(); status {
	case Stopped, Created, Creating:
	default:
		if !force {
			return fmt.Errorf("container %q is %s: stop it first or use delete --force", c.st.ID, status)
		}
	}
	if err := c.destroy(); err != nil {
		return err
	}
	if hooks := c.st.Config.Spec.Hooks; hooks != nil {
		runHooksWarn("poststop", hooks.Poststop, c.st.hookState(Stopped), func(err error) { c.rt.warn("%v", err) })
	}
	return nil
}

// destroy kills whatever still runs in the container, removes its cgroup and
// its state dir. It is also the cleanup of a failed create.
func (c *Container) destroy() error {
	if c.init != nil {
		c.init.sync.close()
	}
	if c.st.initAlive() {
		signalPid(c.st.InitPid, c.st.InitStartTime, unix.SIGKILL)
		trace.Point("delete:signalled")
		if frozen(c.st.CgroupPaths) {
			if err := c.thaw(); err != nil {
				return fmt.Errorf("delete %q: thaw: %w", c.st.ID, err)
			}
		}
		if c.init != nil {
			var ws unix.WaitStatus
			unix.Wait4(c.st.InitPid, &ws, 0, nil)
		} else if err := waitGone(c.st.InitPid, killTimeout); err != nil {
			return fmt.Errorf("delete %q: %w", c.st.ID, err)
		}
	}
	trace.Point(wire.PointDeleteInitGone)
	if len(c.st.CgroupPaths) > 0 {
		if err := c.destroyCgroup(); err != nil {
			return err
		}
	}
	trace.Point(wire.PointDeleteCgroup)
	c.teardownNetwork()
	if err := c.rt.store().remove(c.st.ID); err != nil {
		return fmt.Errorf("delete %q: remove state: %w", c.st.ID, err)
	}
	trace.Point(wire.PointDeleteStateRemoved)
	return nil
}

// destroyCgroup kills any process left in the cgroup (with a shared pid
// namespace the init's death does not take them along) and removes it.
func (c *Container) destroyCgroup() error {
	m, err := c.cgroup()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(killTimeout)
	for {
		pids, err := c.containerPids(m)
		if cgroupGone(err) {
			break // removed by a delete killed before it removed the state, or by systemd
		}
		if err != nil {
			return fmt.Errorf("delete %q: list processes: %w", c.st.ID, err)
		}
		if len(pids) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("delete %q: %d processes left in the cgroup", c.st.ID, len(pids))
		}
		for _, pid := range pids {
			unix.Kill(pid, unix.SIGKILL)
		}
		if frozen(c.st.CgroupPaths) {
			m.Thaw()
		}
		time.Sleep(5 * time.Millisecond)
	}
	return m.Destroy()
}

// cgroupGone reports whether err says the cgroup is no more: removed
// (ENOENT), or being removed while it was read (ENODEV). With the systemd
// driver, systemd stops a scope whose last process has exited and removes
// its cgroup on its own, racing delete's listing of cgroup.procs.
func cgroupGone(err error) bool {
	return errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ENODEV)
}

// Wait waits for the init of a container created in this process (run) and
// returns its exit code: the status, or 128+N when killed by signal N.
func (c *Container) Wait() (int, error) {
	code, err := reapUntil(c.st.InitPid)
	if err != nil {
		return -1, fmt.Errorf("wait for init: %w", err)
	}
	c.init.sync.close()
	c.init = nil
	return code, nil
}
