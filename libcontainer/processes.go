package libcontainer

import (
	"errors"
	"fmt"
	"io/fs"
)

// Processes lists the host pids of every process in the container's cgroup.
func (c *Container) Processes() ([]int, error) {
	status := c.Status()
	if status == Creating {
		return nil, fmt.Errorf("container %q is %s: it has no processes", c.st.ID, status)
	}
	m, err := c.cgroup()
	if err != nil {
		return nil, err
	}
	pids, err := c.containerPids(m)
	// A stopped container lists what is left in its cgroup (children of
	// an init that shared the host's pid namespace), and nothing once the
	// cgroup is gone: ps of it succeeds, as runc's does.
	if status == Stopped && errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list container processes: %w", err)
	}
	return pids, nil
}
