package libcontainer

import (
	"sort"
	"strings"
)

// The records of state.brief that let executor/fastops.c answer plain
// `berth start` and `berth delete` before the Go runtime starts. C does only
// the plain part of each command (start: what openFifo does; delete of a
// stopped container: remove its cgroup directories and its state
// directory); Go decides here, next to the rules of Start and Delete,
// whether that plain part is all the command would do.

// fastStartable reports whether Start would do nothing but openFifo: no
// poststart hooks to run and no NOTIFY_SOCKET to relay (listenNotify).
func fastStartable(st *savedState) bool {
	hooks := st.Config.Spec.Hooks
	return st.Config.NotifySocket == "" && (hooks == nil || len(hooks.Poststart) == 0)
}

// fastDeletable reports whether Delete of the stopped container would do
// nothing but remove its cgroup directories and its state directory: no
// poststop hooks, no network to tear down (teardownNetwork), not the systemd
// driver, and every cgroup path writable as one line of the cgroups record.
func fastDeletable(st *savedState) bool {
	hooks := st.Config.Spec.Hooks
	if st.Network != nil || st.Config.SystemdCgroup || (hooks != nil && len(hooks.Poststop) > 0) {
		return false
	}
	for _, p := range st.CgroupPaths {
		if strings.ContainsRune(p, '\n') {
			return false
		}
	}
	return true
}

// cgroupDirs is the cgroups record: the container's cgroup directories on
// every hierarchy, sorted, each once (v1 controllers may share one), one per
// line. It is empty when a path holds a newline. fastops.c removes them
// (delete, when "fastdelete" says so); fastexec.c places an exec'd process
// in them.
func cgroupDirs(st *savedState) string {
	for _, p := range st.CgroupPaths {
		if strings.ContainsRune(p, '\n') {
			return ""
		}
	}
	seen := map[string]bool{}
	dirs := make([]string, 0, len(st.CgroupPaths))
	for _, p := range st.CgroupPaths {
		if !seen[p] {
			seen[p] = true
			dirs = append(dirs, p)
		}
	}
	sort.Strings(dirs)
	return strings.Join(dirs, "\n")
}

// flagRecord is how a yes/no record is written: "1" or "0".
func flagRecord(ok bool) string {
	if ok {
		return "1"
	}
	return "0"
}
