package main

import (
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// sendPidfd connects to the --pidfd-socket path and sends a pidfd of pid by
// SCM_RIGHTS (runc's contract): the receiver can then wait for and signal
// the process without pid-reuse races.
func sendPidfd(path string, pid int) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return fmt.Errorf("--pidfd-socket %q: pidfd_open %d: %w", path, pid, err)
	}
	pidfd := os.NewFile(uintptr(fd), "pidfd")
	defer pidfd.Close()
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return fmt.Errorf("--pidfd-socket %q: %w", path, err)
	}
	defer conn.Close()
	if _, _, err := conn.WriteMsgUnix([]byte("pidfd"), unix.UnixRights(fd), nil); err != nil {
		return fmt.Errorf("--pidfd-socket %q: send: %w", path, err)
	}
	return nil
}
