package libcontainer

import (
	"fmt"
	"net"
	"os"
	"strconv"

	"github.com/berthrun/berth/libcontainer/rootfs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// consoleConn is the socket the pty master goes over: conn when the caller
// has one (a terminal proxy), else a connection to the --console-socket path.
func consoleConn(path string, conn *os.File) (*os.File, error) {
	if conn != nil {
		return conn, nil
	}
	return dialConsoleSocket(path)
}

// dialConsoleSocket connects to --console-socket; the init sends the pty
// master over it (the contract containerd and conmon use).
func dialConsoleSocket(path string) (*os.File, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("--console-socket %q: %w", path, err)
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return nil, fmt.Errorf("--console-socket %q: not a unix socket", path)
	}
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("--console-socket %q: %w", path, err)
	}
	defer conn.Close()
	f, err := conn.File() // a dup, blocking, that the init inherits
	if err != nil {
		return nil, fmt.Errorf("--console-socket %q: %w", path, err)
	}
	return f, nil
}

// setupConsole runs in the init (or an exec'd process) inside the container's
// root: it makes a pty on the container's devpts, sends the master over the
// console socket, and makes the slave the process's controlling terminal and
// stdio. The init also gets it bind-mounted on /dev/console.
func setupConsole(p *initParams, proc *specs.Process, bindConsole bool) error {
	sockFd := p.ConsoleFd
	master, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("process.terminal: open /dev/ptmx: %w", err)
	}
	defer unix.Close(master)
	if err := unix.IoctlSetPointerInt(master, unix.TIOCSPTLCK, 0); err != nil {
		return fmt.Errorf("process.terminal: unlock pty: %w", err)
	}
	n, err := unix.IoctlGetInt(master, unix.TIOCGPTN)
	if err != nil {
		return fmt.Errorf("process.terminal: pty number: %w", err)
	}
	name := "/dev/pts/" + strconv.Itoa(n)
	slave, err := unix.Open(name, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("process.terminal: open %s: %w", name, err)
	}
	defer unix.Close(slave)
	// The owner only: the group stays the one devpts gave (gid=5, tty, in
	// the usual mount options) with its mode, 0620, so that write(1) and
	// wall work as on any host; runc changes the uid alone too.
	if err := unix.Fchown(slave, int(proc.User.UID), -1); err != nil {
		return fmt.Errorf("process.terminal: chown %s: %w", name, err)
	}
	if p.ConsoleProxied {
		if err := clearONLCR(slave); err != nil {
			return err
		}
	}
	if cs := proc.ConsoleSize; cs != nil {
		ws := &unix.Winsize{Row: uint16(cs.Height), Col: uint16(cs.Width)}
		if err := unix.IoctlSetWinsize(master, unix.TIOCSWINSZ, ws); err != nil {
			return fmt.Errorf("process.consoleSize: %w", err)
		}
	}
	if bindConsole {
		if err := rootfs.MountConsole(slave); err != nil {
			return fmt.Errorf("process.terminal: %w", err)
		}
	}
	rights := unix.UnixRights(master)
	if err := unix.Sendmsg(sockFd, []byte("/dev/ptmx"), rights, nil, 0); err != nil {
		return fmt.Errorf("--console-socket: send the pty master: %w", err)
	}
	unix.Close(sockFd)
	// nsexec.c made this process a session leader already (a second
	// setsid would fail with EPERM); only a process that is not gets one.
	if sid, _ := unix.Getsid(0); sid != unix.Getpid() {
		if _, err := unix.Setsid(); err != nil {
			return fmt.Errorf("process.terminal: setsid: %w", err)
		}
	}
	if err := unix.IoctlSetInt(slave, unix.TIOCSCTTY, 0); err != nil {
		return fmt.Errorf("process.terminal: set controlling terminal: %w", err)
	}
	for fd := 0; fd < 3; fd++ {
		if err := unix.Dup3(slave, fd, 0); err != nil {
			return fmt.Errorf("process.terminal: dup to fd %d: %w", fd, err)
		}
	}
	return nil
}

// clearONLCR stops the pty's line discipline from turning each \n the
// process writes into \r\n. Done here, before the process runs, so no
// early output slips through translated.
func clearONLCR(fd int) error {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return fmt.Errorf("process.terminal: get terminal attributes: %w", err)
	}
	t.Oflag &^= unix.ONLCR
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, t); err != nil {
		return fmt.Errorf("process.terminal: clear ONLCR: %w", err)
	}
	return nil
}
