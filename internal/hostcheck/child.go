package hostcheck

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// stoppedChild is a process cloned into new namespaces and stopped by
// ptrace right after its execve, before it runs one instruction of the
// program: it exists only so that its namespaces can be looked at (and
// opened) through /proc/<pid>/ns. Namespaces cannot be made in berth itself:
// a multi-threaded process may not unshare a user namespace, and the others
// would change berth's own view of the system.
type stoppedChild struct {
	pid int
}

// startStopped clones a child with attr's namespace settings. A failure
// to make a namespace is the error of this call. The calling goroutine is
// locked to its thread until kill: the child's tracer is that thread.
func startStopped(attr *syscall.SysProcAttr) (*stoppedChild, error) {
	runtime.LockOSThread()
	attr.Ptrace = true
	// Should berth die first, the child must not go on to run it.
	attr.Pdeathsig = syscall.SIGKILL
	p, err := os.StartProcess("/proc/self/exe", []string{"berth-check-probe"}, &os.ProcAttr{Sys: attr})
	if err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	c := &stoppedChild{pid: p.Pid}
	p.Release()
	var ws unix.WaitStatus
	if _, err := unix.Wait4(c.pid, &ws, 0, nil); err != nil || !ws.Stopped() {
		c.kill()
		return nil, fmt.Errorf("probe process did not stop (wait status %#x, %v)", uint32(ws), err)
	}
	return c, nil
}

// nsPath is the file of one of the child's namespaces (ns is "net", "user",
// "time_for_children", ...).
func (c *stoppedChild) nsPath(ns string) string {
	return "/proc/" + strconv.Itoa(c.pid) + "/ns/" + ns
}

// kill ends and reaps the child.
func (c *stoppedChild) kill() {
	defer runtime.UnlockOSThread()
	unix.Kill(c.pid, unix.SIGKILL)
	for {
		var ws unix.WaitStatus
		if _, err := unix.Wait4(c.pid, &ws, 0, nil); err != nil || ws.Exited() || ws.Signaled() {
			return
		}
	}
}

// sameNamespace reports whether two namespace files name one namespace.
func sameNamespace(a, b string) (bool, error) {
	var sa, sb unix.Stat_t
	if err := unix.Stat(a, &sa); err != nil {
		return false, err
	}
	if err := unix.Stat(b, &sb); err != nil {
		return false, err
	}
	return sa.Dev == sb.Dev && sa.Ino == sb.Ino, nil
}

// ownIDMaps maps root in a new user namespace to our own uid and gid: the
// one mapping any user may write.
func ownIDMaps(attr *syscall.SysProcAttr) {
	attr.Cloneflags |= syscall.CLONE_NEWUSER
	attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}}
	attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}}
	attr.GidMappingsEnableSetgroups = false
}
