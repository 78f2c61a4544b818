package libcontainer

import (
	"fmt"
)

// Processes lists the host pids of every process in the container's cgroup.
func (c *Container) Processes() ([]int, error) {
	if status := c.Status(); status == Stopped || status == Creating {
		return nil, fmt.Errorf("container %q is %s: it has no processes", c.st.ID, status)
	}
	m, err := c.cgroup()
	if err != nil {
		return nil, err
	}
	pids, err := m.Pids()
	if err != nil {
		return nil, fmt.Errorf("list container processes: %w", err)
	}
	return pids, nil
}
