package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Start lets a created container's init exec the user process, then runs the
// poststart hooks (a failing one only warns, as config.md says).
func (c *Container) Start() error {
	if c.init != nil {
		// run: the init created in this process waits on the sync socket.
		if err := c.init.sync.send(&message{Type: msgStart}); err != nil {
			return fmt.Errorf("start: %w", err)
		}
	} else if status := c.Status(); status != Created {
		return fmt.Errorf("container %q is %s, not created: only a created container can be started", c.st.ID, status)
	} else if err := c.openFifo(); err != nil {
		return err
	}
	c.runPoststart()
	return nil
}

// openFifo reads the byte the init writes to exec.fifo once it has opened it:
// from then on the init execs the process. The fifo is opened non-blocking
// and polled so that an init that died in between cannot hang start.
func (c *Container) openFifo() error {
	f, err := os.OpenFile(c.fifoPath(), unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open exec.fifo: %w", err)
	}
	defer f.Close()
	fds := []unix.PollFd{{Fd: int32(f.Fd()), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, 100)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("wait on exec.fifo: %w", err)
		}
		if n > 0 {
			buf := make([]byte, 1)
			if r, _ := unix.Read(int(f.Fd()), buf); r == 1 {
				break
			}
			// POLLHUP without data: the writer went away.
		}
		if !c.st.initAlive() {
			return fmt.Errorf("container %q: init exited before start", c.st.ID)
		}
		if n > 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
	return os.Remove(c.fifoPath())
}

func (c *Container) runPoststart() {
	hooks := c.st.Config.Spec.Hooks
	if hooks == nil {
		return
	}
	if err := runHooks("poststart", hooks.Poststart, c.st.hookState(Running)); err != nil {
		c.rt.warn("%v", err)
	}
}
