package clients

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// ptySession is a client command running on a pseudo-terminal, as when a
// person types `ctr run -t` or `podman run -it` in a shell: the pty slave
// is its stdin, stdout, stderr and controlling terminal; the test reads
// and writes the master.
type ptySession struct {
	t      *testing.T
	master *os.File
	cmd    *exec.Cmd
	cancel context.CancelFunc
	out    strings.Builder // everything read so far
	done   chan struct{}
}

// startOnPTY starts name with args on a new pty of 24 rows, 80 columns.
func startOnPTY(t *testing.T, env []string, name string, args ...string) *ptySession {
	t.Helper()
	master, slave, err := openPTY()
	if err != nil {
		t.Fatalf("pty: %v", err)
	}
	defer slave.Close()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), append([]string{"TERM=xterm"}, env...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		cancel()
		master.Close()
		t.Fatalf("%s: %v", name, err)
	}
	s := &ptySession{t: t, master: master, cmd: cmd, cancel: cancel, done: make(chan struct{})}
	go func() { cmd.Wait(); close(s.done) }()
	t.Cleanup(s.close)
	return s
}

// openPTY opens a new pty pair; the master is non-blocking so reads can
// time out.
func openPTY() (master, slave *os.File, err error) {
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	master = os.NewFile(uintptr(fd), "/dev/ptmx")
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("unlock pty: %w", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("pty number: %w", err)
	}
	if err := unix.IoctlSetWinsize(fd, unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: 80}); err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("pty size: %w", err)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	return master, slave, nil
}

// expect reads the terminal until want appears (in what was read since
// the session began) or 20 s pass, and fails the test on the latter.
func (s *ptySession) expect(want string) {
	s.t.Helper()
	buf := make([]byte, 4096)
	deadline := time.Now().Add(20 * time.Second)
	s.master.SetReadDeadline(deadline)
	for !strings.Contains(s.out.String(), want) {
		n, err := s.master.Read(buf)
		s.out.Write(buf[:n])
		if err != nil {
			s.t.Fatalf("%s: waiting for %q on the terminal: %v; it showed %q", s.cmd.Args[0], want, err, s.out.String())
		}
	}
}

// send types text on the terminal.
func (s *ptySession) send(text string) {
	s.t.Helper()
	if _, err := s.master.Write([]byte(text)); err != nil {
		s.t.Fatalf("writing to the terminal: %v", err)
	}
}

// wait waits for the client to exit, draining the terminal meanwhile, and
// returns its exit code.
func (s *ptySession) wait() int {
	s.t.Helper()
	go func() {
		buf := make([]byte, 4096)
		s.master.SetReadDeadline(time.Time{})
		for {
			if _, err := s.master.Read(buf); err != nil {
				return
			}
		}
	}()
	select {
	case <-s.done:
	case <-time.After(commandTimeout):
		s.t.Fatalf("%s: still running after %v; the terminal showed %q", strings.Join(s.cmd.Args, " "), commandTimeout, s.out.String())
	}
	return s.cmd.ProcessState.ExitCode() // -1 when killed by a signal
}

func (s *ptySession) close() {
	select {
	case <-s.done:
	default:
		s.cmd.Process.Kill()
		<-s.done
	}
	s.cancel()
	s.master.Close()
}

// interactiveShell drives the busybox shell on s: the prompt comes, the
// shell answers on a terminal and exits with code; what names the command
// in errors.
func interactiveShell(t *testing.T, s *ptySession, what string, code int) {
	t.Helper()
	s.expect("# ")
	s.send(fmt.Sprintf("tty; echo marker-$((6*7)); exit %d\r", code))
	s.expect("marker-42")
	if got := s.wait(); got != code {
		t.Errorf("%s exited %d, want the shell's %d; terminal: %q", what, got, code, s.out.String())
	}
	wantOutput(t, what+": tty inside", s.out.String(), "/dev/pts/")
}
