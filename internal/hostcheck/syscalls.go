package hostcheck

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// checkOpenat2 resolves "." inside "/" with RESOLVE_IN_ROOT, the way berth
// resolves mount destinations inside a container's root.
func checkOpenat2() Check {
	c := Check{Name: "openat2"}
	how := &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	fd, err := unix.Openat2(unix.AT_FDCWD, "/", how)
	if err != nil {
		c.Host = "openat2: " + err.Error()
		c.Berth = "resolves paths in the rootfs with filepath-securejoin (slower, and racy against a changing rootfs)"
		return c
	}
	unix.Close(fd)
	c.OK = true
	c.Host = "RESOLVE_IN_ROOT works"
	c.Berth = "resolves paths in the rootfs with openat2 RESOLVE_IN_ROOT"
	return c
}

// checkPidfd opens a pidfd on berth itself and sends it signal 0: berth
// signals containers only through pidfds, so a recycled pid is never hit.
func checkPidfd() Check {
	c := Check{Name: "pidfd", Required: true, Berth: "signals the container's processes through pidfds"}
	fd, err := unix.PidfdOpen(os.Getpid(), 0)
	if err != nil {
		c.Host = "pidfd_open: " + err.Error()
		return c
	}
	defer unix.Close(fd)
	if err := unix.PidfdSendSignal(fd, 0, nil, 0); err != nil {
		c.Host = "pidfd_send_signal: " + err.Error()
		return c
	}
	c.OK, c.Host = true, "pidfd_open and pidfd_send_signal work"
	return c
}

// checkCloseRange marks fds from far above any berth holds as
// close-on-exec: a no-op that only a kernel with close_range and
// CLOSE_RANGE_CLOEXEC accepts. berth marks every fd it does not pass on this
// way before the container's process starts.
func checkCloseRange() Check {
	c := Check{Name: "close_range", Required: true, Berth: "marks every fd not passed to the container close-on-exec"}
	if err := unix.CloseRange(1<<30, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		c.Host = fmt.Sprintf("close_range CLOSE_RANGE_CLOEXEC: %v", err)
		return c
	}
	c.OK, c.Host = true, "close_range CLOSE_RANGE_CLOEXEC works"
	return c
}
