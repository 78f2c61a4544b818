package tests

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// recvTTY listens on a unix socket the way containerd's shim does and
// returns the path and a channel delivering the pty master berth sends.
func recvTTY(t *testing.T, dir string) (string, <-chan *os.File) {
	t.Helper()
	path := filepath.Join(dir, "console.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan *os.File, 1)
	go func() {
		defer l.Close()
		l.SetDeadline(time.Now().Add(20 * time.Second))
		conn, err := l.AcceptUnix()
		if err != nil {
			close(ch)
			return
		}
		defer conn.Close()
		buf, oob := make([]byte, 64), make([]byte, unix.CmsgSpace(4))
		_, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
		if err != nil {
			close(ch)
			return
		}
		msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
		if len(msgs) == 1 {
			if fds, err := unix.ParseUnixRights(&msgs[0]); err == nil && len(fds) == 1 {
				ch <- os.NewFile(uintptr(fds[0]), "pty-master")
			}
		}
		close(ch)
	}()
	return path, ch
}

func TestConsoleSocket(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sock, masters := recvTTY(t, e.dir("console"))
	spec := sh("tty; stty size; echo done; sleep 2")
	spec.Process.Terminal = true
	spec.Process.ConsoleSize = &specs.Box{Height: 30, Width: 100}
	id := e.id("tty")
	e.mustBerth("run", "-d", "--console-socket", sock, "--bundle", e.bundle(spec), id)
	master, ok := <-masters
	if !ok || master == nil {
		t.Fatal("no pty master arrived on the console socket")
	}
	defer master.Close()
	out := readUntil(master, "done", 10*time.Second)
	if !strings.Contains(out, "/dev/pts/") {
		t.Errorf("tty inside says %q, want /dev/pts/N", out)
	}
	if !strings.Contains(out, "30 100") {
		t.Errorf("stty size inside %q, want 30 100 (process.consoleSize)", out)
	}
}

func TestConsoleBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	spec := sh("true")
	spec.Process.Terminal = true
	b := e.bundle(spec)
	assertError(t, e.berth("run", "-d", "--bundle", b, e.id("tty")), "process.terminal", "--console-socket")
	assertError(t, e.berth("run", "-d", "--console-socket", filepath.Join(e.dir("x"), "missing.sock"), "--bundle", b, e.id("tty")), "--console-socket", "no such file")
	notSock := filepath.Join(e.dir("y"), "file")
	os.WriteFile(notSock, nil, 0o644)
	assertError(t, e.berth("run", "-d", "--console-socket", notSock, "--bundle", b, e.id("tty")), "not a unix socket")
}

// readUntil reads f until want appears or the time is up.
func readUntil(f *os.File, want string, d time.Duration) string {
	var sb strings.Builder
	buf := make([]byte, 1024)
	deadline := time.Now().Add(d)
	f.SetReadDeadline(deadline)
	for time.Now().Before(deadline) && !strings.Contains(sb.String(), want) {
		n, err := f.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return sb.String()
}
