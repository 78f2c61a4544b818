package tests

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// terminal is a pty that a berth command runs on as its controlling
// terminal, the way a person's shell runs it: the test types into master
// and reads what appears.
type terminal struct {
	t      *testing.T
	master *os.File
	slave  *os.File
	mu     sync.Mutex
	out    strings.Builder // everything shown so far, filled by a reader
}

func newTerminal(t *testing.T, rows, cols uint16) *terminal {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	term := &terminal{t: t, master: m, slave: s}
	term.resize(rows, cols)
	t.Cleanup(func() { m.Close(); s.Close() })
	go term.read()
	return term
}

// read collects the terminal's output until the master is closed.
func (term *terminal) read() {
	buf := make([]byte, 4096)
	for {
		n, err := term.master.Read(buf)
		term.mu.Lock()
		term.out.Write(buf[:n])
		term.mu.Unlock()
		if err != nil {
			return
		}
	}
}

func (term *terminal) shown() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return term.out.String()
}

// resize changes the terminal's size; the kernel sends SIGWINCH to the
// process group in its foreground (berth).
func (term *terminal) resize(rows, cols uint16) {
	ws := &unix.Winsize{Row: rows, Col: cols}
	if err := unix.IoctlSetWinsize(int(term.master.Fd()), unix.TIOCSWINSZ, ws); err != nil {
		term.t.Fatal(err)
	}
}

// start runs berth with args in a new session on the terminal.
func (term *terminal) start(e *env, args ...string) *exec.Cmd {
	term.t.Helper()
	cmd := exec.Command(berthBin, append(e.globals(), args...)...)
	cmd.Env = append(os.Environ(), tagVar+"="+e.tag)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = term.slave, term.slave, term.slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		term.t.Fatal(err)
	}
	term.t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

// expect waits until want has appeared (since the start) or fails.
func (term *terminal) expect(want string) string {
	term.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(term.shown(), want) {
		if time.Now().After(deadline) {
			term.t.Fatalf("waiting for %q on the terminal; it shows %q", want, term.shown())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return term.shown()
}

func (term *terminal) typeLine(s string) {
	if _, err := term.master.Write([]byte(s + "\r")); err != nil {
		term.t.Fatal(err)
	}
}

// waitExit waits for the command and returns its exit code.
func waitExit(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(commandTimeout):
		cmd.Process.Kill()
		t.Fatalf("berth %v did not exit", cmd.Args)
	}
	return -1
}

// sizeLoop answers each line typed with the terminal's size until "q".
const sizeLoop = `while read x; do [ "$x" = q ] && break; stty size; done`

// resizeAndCheck resizes the terminal until the process inside reports
// the new size (SIGWINCH handling is asynchronous, so it asks again).
func (term *terminal) resizeAndCheck(rows, cols uint16) {
	term.t.Helper()
	term.resize(rows, cols)
	want := strconv.Itoa(int(rows)) + " " + strconv.Itoa(int(cols))
	for i := 0; i < 50 && !strings.Contains(term.shown(), want); i++ {
		term.typeLine("size?")
		time.Sleep(100 * time.Millisecond)
	}
	term.expect(want)
}

// TestRunTerminal: `run` of a terminal: true container on a person's
// terminal gives the process a pty of its own devpts (also bound on
// /dev/console), follows window-size changes, passes the exit status,
// and gives the caller's terminal back as it was.
func TestRunTerminal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	term := newTerminal(t, 24, 80)
	before, err := unix.IoctlGetTermios(int(term.slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	spec := sh(`tty; stty size; grep -c " /dev/console " /proc/self/mountinfo; echo READY; ` + sizeLoop + `; exit 7`)
	spec.Process.Terminal = true
	cmd := term.start(e, "run", "--bundle", e.bundle(spec), e.id("tty"))
	out := term.expect("READY")
	if !strings.Contains(out, "/dev/pts/") || !strings.Contains(out, "24 80") {
		t.Errorf("tty and stty size inside: %q, want /dev/pts/N and 24 80", out)
	}
	if !strings.Contains(out, "\n1\n") {
		t.Errorf("/dev/console is not a mount of the pty inside: %q", out)
	}
	term.resizeAndCheck(40, 132)
	term.typeLine("q")
	if code := waitExit(t, cmd); code != 7 {
		t.Errorf("run exited %d, want the container's 7; terminal: %q", code, term.shown())
	}
	after, err := unix.IoctlGetTermios(int(term.slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if after.Lflag != before.Lflag || after.Iflag != before.Iflag || after.Oflag != before.Oflag {
		t.Errorf("terminal modes not restored: lflag %#x→%#x iflag %#x→%#x oflag %#x→%#x",
			before.Lflag, after.Lflag, before.Iflag, after.Iflag, before.Oflag, after.Oflag)
	}
}

// TestExecTerminal: `exec -t` on a person's terminal.
func TestExecTerminal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.startSleeper()
	term := newTerminal(t, 30, 90)
	cmd := term.start(e, "exec", "-t", id, "sh", "-c", `tty; stty size; echo READY; `+sizeLoop+`; exit 5`)
	out := term.expect("READY")
	if !strings.Contains(out, "/dev/pts/") || !strings.Contains(out, "30 90") {
		t.Errorf("exec -t: tty and stty size inside: %q, want /dev/pts/N and 30 90", out)
	}
	term.resizeAndCheck(50, 100)
	term.typeLine("q")
	if code := waitExit(t, cmd); code != 5 {
		t.Errorf("exec -t exited %d, want 5; terminal: %q", code, term.shown())
	}
}

// TestExecConsoleSocket: a detached `exec -t` sends its pty master to
// --console-socket, as containerd's shim and conmon expect.
func TestExecConsoleSocket(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.startSleeper()
	sock, masters := recvTTY(t, e.dir("console"))
	e.mustBerth("exec", "-d", "-t", "--console-socket", sock, id, "sh", "-c", "tty; echo done; sleep 1")
	master, ok := <-masters
	if !ok || master == nil {
		t.Fatal("no pty master arrived on the console socket")
	}
	defer master.Close()
	if out := readUntil(master, "done", 10*time.Second); !strings.Contains(out, "/dev/pts/") {
		t.Errorf("exec -t over the console socket: tty says %q", out)
	}
}

// TestTerminalFlagRules: runc's rules for terminals and console sockets.
func TestTerminalFlagRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.startSleeper()
	sock, _ := recvTTY(t, e.dir("console"))
	assertExecError(t, e.berth("exec", "-d", "-t", id, "true"), "--detach", "--console-socket")
	assertExecError(t, e.berth("exec", "-d", "--console-socket", sock, id, "true"), "--console-socket", "no terminal")
	assertExecError(t, e.berth("exec", "-t", "--console-socket", sock, id, "true"), "--console-socket", "only for a detached")
	spec := sh("true")
	assertError(t, e.berth("run", "-d", "--console-socket", sock, "--bundle", e.bundle(spec), e.id("notty")), "--console-socket", "no terminal")
}

// TestTerminalAsRunc: on berth's own terminal (run, exec -t), what the
// process writes arrives byte for byte, "\n" not "\r\n" (runc clears ONLCR
// on the pty it relays), and the pty belongs to the process's user and to
// the tty group devpts gives (gid=5), mode 0620, as runc leaves it, so
// that mesg/write work inside. For run with the Go init (the only one
// that makes terminals) and for exec, as a user other than root.
func TestTerminalAsRunc(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	probe := `printf 'a\nb\n'; stat -c 'owner %u %g %a' "$(readlink /proc/self/fd/0)"; echo DONE`
	check := func(what string, args ...string) {
		t.Helper()
		term := newTerminal(t, 24, 80)
		cmd := term.start(e, args...)
		out := term.expect("DONE")
		if code := waitExit(t, cmd); code != 0 {
			t.Fatalf("%s exited %d: %q", what, code, term.shown())
		}
		if !strings.Contains(out, "a\nb\nowner") || strings.Contains(out, "\r") {
			t.Errorf("%s: output %q, want the process's own \"a\\nb\\n\" with no \\r", what, out)
		}
		if !strings.Contains(out, "owner 1000 5 620\n") {
			t.Errorf("%s: pty %q, want owner 1000, group 5 (tty), mode 620", what, out)
		}
	}
	// devpts as runc's and berth's `spec` mount it: new ptys get gid 5.
	withTTYGroup := func(spec *specs.Spec) *specs.Spec {
		for i, m := range spec.Mounts {
			if m.Destination == "/dev/pts" {
				spec.Mounts[i].Options = append(m.Options, "gid=5")
			}
		}
		return spec
	}
	spec := withTTYGroup(sh(probe))
	spec.Process.Terminal = true
	spec.Process.User.UID, spec.Process.User.GID = 1000, 1000
	check("run", "run", "--bundle", e.bundle(spec), e.id("tty-runc"))
	id := e.id("tty-runc-exec")
	e.mustBerth("run", "-d", "--bundle", e.bundle(withTTYGroup(sh("sleep 1000"))), id)
	check("exec -t", "exec", "-t", "--user", "1000:1000", id, "sh", "-c", probe)
}

// TestTerminalHostMountNamespace: a container that shares the host's mount
// namespace (no {"type":"mount"}; here with the host's / as its root, as
// host-level tools run) still gets a terminal: the pty comes from the devpts
// it can see, and there is no /dev/console of its own to bind over.
func TestTerminalHostMountNamespace(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	spec := sh(`tty; echo DONE`)
	spec.Root = &specs.Root{Path: "/"}
	spec.Mounts = nil
	spec.Linux.MaskedPaths, spec.Linux.ReadonlyPaths = nil, nil
	var ns []specs.LinuxNamespace
	for _, n := range spec.Linux.Namespaces {
		if n.Type != specs.MountNamespace {
			ns = append(ns, n)
		}
	}
	spec.Linux.Namespaces = ns
	spec.Process.Terminal = true
	term := newTerminal(t, 24, 80)
	cmd := term.start(e, "run", "--bundle", e.bundle(spec), e.id("tty-hostmnt"))
	out := term.expect("DONE")
	if code := waitExit(t, cmd); code != 0 {
		t.Fatalf("run exited %d: %q", code, term.shown())
	}
	if !strings.Contains(out, "/dev/pts/") {
		t.Errorf("tty inside: %q, want /dev/pts/N", out)
	}
}
