package libcontainer

import (
	"errors"
	"os"
	"strconv"
	"strings"

	"github.com/berthrun/berth/libcontainer/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// containerPids lists the container's processes: from its cgroup, or, for
// a rootless container that has none (cgroups.ErrNoCgroup), from /proc.
// ps, kill --all and delete then still reach every process.
func (c *Container) containerPids(m *cgroups.Manager) ([]int, error) {
	pids, err := m.Pids()
	if !errors.Is(err, cgroups.ErrNoCgroup) {
		return pids, err
	}
	if !c.st.initAlive() {
		// With its own pid namespace, the init's death took every
		// process along; without one, what it left cannot be told
		// from the user's other processes.
		return nil, nil
	}
	if c.st.Config.NewNamespace(specs.PIDNamespace) {
		return pidNamespaceMembers(c.st.InitPid)
	}
	return descendants(c.st.InitPid), nil
}

// pidNamespaceMembers lists the host pids of every process in init's pid
// namespace (exec'd processes are no descendants of the init, but they are
// in its namespace). The user owns the container's user namespace, so the
// namespace links of its processes are readable, whatever ids they run as.
func pidNamespaceMembers(init int) ([]int, error) {
	var want unix.Stat_t
	if err := unix.Stat("/proc/"+strconv.Itoa(init)+"/ns/pid", &want); err != nil {
		return nil, err
	}
	var out []int
	for _, pid := range procPids() {
		var st unix.Stat_t
		if unix.Stat("/proc/"+strconv.Itoa(pid)+"/ns/pid", &st) == nil && st.Dev == want.Dev && st.Ino == want.Ino {
			out = append(out, pid)
		}
	}
	return out, nil
}

// descendants is init and every process below it, from the parent pids in
// /proc/<pid>/stat.
func descendants(init int) []int {
	children := map[int][]int{}
	for _, pid := range procPids() {
		if ppid, ok := parentPid(pid); ok {
			children[ppid] = append(children[ppid], pid)
		}
	}
	out := []int{init}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

func procPids() []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// parentPid reads field 4 of /proc/<pid>/stat (after the parenthesised
// command, which may hold spaces).
func parentPid(pid int) (int, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0, false
	}
	ppid, err := strconv.Atoi(f[1])
	return ppid, err == nil
}
