package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/berthrun/berth/internal/wire"

	"github.com/berthrun/berth/internal/trace"
	"golang.org/x/sys/unix"
)

// Start lets a created container's init exec the user process, then runs the
// poststart hooks (a failing one only warns, as config.md says). With
// NOTIFY_SOCKET it returns once the container said READY=1 (or died).
func (c *Container) Start() error {
	notify, err := c.listenNotify()
	if err != nil {
		return err
	}
	if err := c.execInit(); err != nil {
		if notify != nil {
			unix.Close(notify.fd)
		}
		return err
	}
	c.runPoststart()
	trace.Point(wire.PointStartPoststart)
	if notify != nil {
		return c.relayReady(notify)
	}
	return nil
}

// StartAttached is Start for a caller that stays with the container (run
// in the foreground): READY=1 is relayed in the background.
func (c *Container) StartAttached() error {
	notify, err := c.listenNotify()
	if err != nil {
		return err
	}
	if err := c.execInit(); err != nil {
		if notify != nil {
			unix.Close(notify.fd)
		}
		return err
	}
	if notify != nil {
		go c.relayReady(notify)
	}
	c.runPoststart()
	trace.Point(wire.PointStartPoststart)
	return nil
}

// execInit lets the init exec the container's process and waits until it did.
func (c *Container) execInit() error {
	if c.init != nil {
		// run: the init created in this process waits on the sync socket,
		// which closes at its execve (or carries the error that stopped it).
		if err := c.init.sync.send(&message{Type: wire.SyncStart}); err != nil {
			return fmt.Errorf("start: %w", err)
		}
		trace.Point("start:signalled")
		m, err := c.init.sync.recv()
		switch {
		case errors.Is(err, errPeerGone): // exec'd
		case err != nil:
			return fmt.Errorf("start: %w", err)
		case m.Type == wire.SyncError:
			return errors.New(m.Msg)
		default:
			return fmt.Errorf("start: unexpected %q message from init", m.Type)
		}
	} else if status := c.Status(); status != Created {
		return fmt.Errorf("container %q is %s, not created: only a created container can be started", c.st.ID, status)
	} else if err := c.openFifo(); err != nil {
		return err
	}
	trace.Point(wire.PointStartExec)
	return nil
}

// openFifo reads the byte the init writes to exec.fifo once its
// startContainer hooks have run, then waits for the fifo to close, which
// happens at the init's execve (the fd is close-on-exec) or its death. The
// fifo is opened non-blocking and polled so a dead init cannot hang start.
func (c *Container) openFifo() error {
	f, err := os.OpenFile(c.fifoPath(), unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open exec.fifo: %w", err)
	}
	trace.Point(wire.PointStartFifoOpen)
	defer f.Close()
	fds := []unix.PollFd{{Fd: int32(f.Fd()), Events: unix.POLLIN}}
	gotByte := false
	buf := make([]byte, 1)
	for {
		n, err := unix.Poll(fds, 100)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("wait on exec.fifo: %w", err)
		}
		if n > 0 {
			r, _ := unix.Read(int(f.Fd()), buf)
			switch {
			case r == 1:
				gotByte = true
				trace.Point(wire.PointStartFifoByte)
				continue
			case r == 0 && gotByte:
				trace.Point(wire.PointStartFifoClosed)
				// Closed after the byte: exec'd (or died right at exec).
				return os.Remove(c.fifoPath())
			}
			// EOF before the byte: no writer yet, or it died. Do not spin.
			time.Sleep(time.Millisecond)
		}
		if !c.st.initAlive() {
			os.Remove(c.fifoPath())
			return fmt.Errorf("container %q: its process failed to start (a startContainer hook or the exec failed; see the container's stderr)", c.st.ID)
		}
	}
}

func (c *Container) runPoststart() {
	hooks := c.st.Config.Spec.Hooks
	if hooks == nil {
		return
	}
	runHooksWarn("poststart", hooks.Poststart, c.st.hookState(Running), func(err error) { c.rt.warn("%v", err) })
}
