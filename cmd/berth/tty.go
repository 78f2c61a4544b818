package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// ttyProxy is the foreground terminal of `run` and `exec -t` without
// --console-socket: berth receives the container's pty master itself and
// copies between it and its own stdio, with the caller's terminal in raw
// mode (keys such as ^C then reach the container's terminal untouched) and
// its size followed on SIGWINCH.
type ttyProxy struct {
	initEnd *os.File // given to the init, which sends the master over it
	ownEnd  *os.File
	master  *os.File
	saved   *unix.Termios // the caller's terminal settings, restored at the end
	output  chan struct{} // closed when the master's output is drained
}

func newTTYProxy() (*ttyProxy, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("terminal: socketpair: %w", err)
	}
	return &ttyProxy{
		initEnd: os.NewFile(uintptr(fds[0]), "console-init"),
		ownEnd:  os.NewFile(uintptr(fds[1]), "console"),
		output:  make(chan struct{}),
	}, nil
}

// start receives the master (sent during create or exec, so it is already
// queued), puts the caller's terminal in raw mode and starts copying.
func (p *ttyProxy) start() error {
	p.initEnd.Close()
	master, err := recvFd(p.ownEnd)
	p.ownEnd.Close()
	if err != nil {
		return fmt.Errorf("terminal: receive the pty master: %w", err)
	}
	p.master = master
	if t, err := unix.IoctlGetTermios(0, unix.TCGETS); err == nil {
		p.saved = t
		raw := rawMode(*t)
		if err := unix.IoctlSetTermios(0, unix.TCSETS, &raw); err != nil {
			return fmt.Errorf("terminal: raw mode: %w", err)
		}
		p.resize()
	}
	go func() {
		io.Copy(os.Stdout, master) // ends with EIO once every slave is closed
		close(p.output)
	}()
	go io.Copy(master, os.Stdin)
	return nil
}

// resize gives the container's terminal the size of the caller's; the
// kernel then sends SIGWINCH to the container's foreground process group.
func (p *ttyProxy) resize() {
	if p.master == nil {
		return
	}
	if ws, err := unix.IoctlGetWinsize(0, unix.TIOCGWINSZ); err == nil {
		unix.IoctlSetWinsize(int(p.master.Fd()), unix.TIOCSWINSZ, ws)
	}
}

// finish waits (briefly: a process outside the container's pid namespace
// may hold the pty open) for the last output and restores the terminal.
func (p *ttyProxy) finish() {
	if p.master != nil {
		select {
		case <-p.output:
		case <-time.After(time.Second):
		}
		p.master.Close()
	}
	if p.saved != nil {
		unix.IoctlSetTermios(0, unix.TCSETS, p.saved)
	}
	p.initEnd.Close()
	p.ownEnd.Close()
}

// rawMode is cfmakeraw(3).
func rawMode(t unix.Termios) unix.Termios {
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
	return t
}

// recvFd reads one fd passed by SCM_RIGHTS.
func recvFd(sock *os.File) (*os.File, error) {
	buf := make([]byte, 256)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return nil, err
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, fmt.Errorf("no fd received (%d bytes)", n)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return nil, fmt.Errorf("no fd received")
	}
	return os.NewFile(uintptr(fds[0]), string(buf[:n])), nil
}

// checkTerminalFlags applies runc's rules: a detached process with a
// terminal needs somewhere to send it, and a console socket is only for a
// detached process with a terminal.
func checkTerminalFlags(tty, detach bool, consoleSocket string) error {
	switch {
	case tty && detach && consoleSocket == "":
		return fmt.Errorf("process.terminal (or --tty) with --detach needs --console-socket to receive the terminal")
	case consoleSocket != "" && !tty:
		return fmt.Errorf("--console-socket %q: the process has no terminal (set process.terminal or --tty)", consoleSocket)
	case consoleSocket != "" && !detach:
		return fmt.Errorf("--console-socket %q: only for a detached process (add --detach, or drop it to use this terminal)", consoleSocket)
	}
	return nil
}
