package tests

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

var (
	sdnotifyOnce sync.Once
	sdnotifyDir  string // removed by TestMain (removeSdnotify)
	sdnotifyBin  string
	sdnotifyErr  error
)

// removeSdnotify removes the helper built by sdnotify, if it was.
func removeSdnotify() {
	if sdnotifyDir != "" {
		os.RemoveAll(sdnotifyDir)
	}
}

// sdnotify builds tests/testdata/sdnotify once, statically, so it runs in
// a busybox rootfs. $BERTH_SDNOTIFY_BIN names one built beforehand, for
// hosts with no Go toolchain (make vmtest's guest).
func sdnotify(t *testing.T) string {
	t.Helper()
	sdnotifyOnce.Do(func() {
		if bin := os.Getenv("BERTH_SDNOTIFY_BIN"); bin != "" {
			sdnotifyBin = bin
			return
		}
		goBin, err := exec.LookPath("go")
		if err != nil {
			goBin = "/usr/local/go/bin/go"
		}
		dir, err := os.MkdirTemp("", "berth-sdnotify-")
		if err != nil {
			sdnotifyErr = err
			return
		}
		sdnotifyDir = dir
		sdnotifyBin = filepath.Join(dir, "sdnotify")
		cmd := exec.Command(goBin, "build", "-o", sdnotifyBin, "./testdata/sdnotify")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			sdnotifyErr = err
			t.Logf("%s", out)
		}
	})
	if sdnotifyErr != nil {
		t.Fatalf("building the sdnotify helper: %v", sdnotifyErr)
	}
	return sdnotifyBin
}

// notifyHost is the host's NOTIFY_SOCKET, as systemd would have it.
func notifyHost(t *testing.T, dir string) (string, *net.UnixConn) {
	t.Helper()
	path := filepath.Join(dir, "host-notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return path, conn
}

// TestNotifySocket: with NOTIFY_SOCKET set, the container gets a socket of
// its own, start returns only once the container said READY=1, and the
// host's socket receives READY=1 with MAINPID of the init.
func TestNotifySocket(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	host, conn := notifyHost(t, e.dir("notify"))
	b := e.bundle(sh(`echo "sock=$NOTIFY_SOCKET"; sleep 1; /sdnotify READY=1 || echo notify failed; sleep 100`))
	copyExe(t, sdnotify(t), filepath.Join(b, "rootfs", "sdnotify"))
	id := e.id("notify")
	out := e.tempFile("out")
	env := []string{"NOTIFY_SOCKET=" + host}
	if r := e.berthOpts(runOpts{env: env, stdout: out}, "create", "--bundle", b, id); r.code != 0 {
		t.Fatalf("%v", r)
	}
	if r := e.berthOpts(runOpts{env: env, stdout: out}, "start", id); r.code != 0 {
		t.Fatalf("%v", r)
	}
	// start has returned: READY=1 must be there already, not in a second.
	conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("start returned before READY=1 reached the host socket: %v (container: %q)", err, readFrom(out.Name(), 0))
	}
	msg := string(buf[:n])
	pid := e.state(id).Pid
	if !strings.Contains(msg, "READY=1") || !strings.Contains(msg, "MAINPID="+strconv.Itoa(pid)+"\n") {
		t.Errorf("host socket got %q, want READY=1 and MAINPID=%d", msg, pid)
	}
	if got := readFrom(out.Name(), 0); !strings.Contains(got, "sock=/run/notify/notify.sock") || strings.Contains(got, "failed") {
		t.Errorf("container output %q: want its own NOTIFY_SOCKET and a working notify", got)
	}
	e.mustBerth("delete", "--force", id)
}

// TestNotifySocketDeadContainer: a container that dies without READY=1
// does not keep start (or run -d) waiting.
func TestNotifySocketDeadContainer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	host, _ := notifyHost(t, e.dir("notify"))
	env := []string{"NOTIFY_SOCKET=" + host}
	id := e.id("notify")
	if r := e.berthOpts(runOpts{env: env, timeout: 20 * time.Second}, "run", "-d", "--bundle", e.bundle(sh("exit 0")), id); r.code != 0 {
		t.Fatalf("%v", r)
	}
	e.waitStatus(id, "stopped")
	e.mustBerth("delete", id)
}

// TestPidfdSocket: --pidfd-socket receives a pidfd of the init (create)
// and of an exec'd process.
func TestPidfdSocket(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dir := e.dir("pidfd")
	id := e.id("pidfd")
	sock, fds := recvPidfd(t, filepath.Join(dir, "init.sock"))
	e.mustBerth("create", "--pidfd-socket", sock, "--bundle", e.bundle(sh("sleep 100")), id)
	if got, want := pidOfPidfd(t, <-fds), e.state(id).Pid; got != want {
		t.Errorf("pidfd of create names pid %d, want the init's %d", got, want)
	}
	e.mustBerth("start", id)
	sock2, fds2 := recvPidfd(t, filepath.Join(dir, "exec.sock"))
	pidFile := filepath.Join(dir, "exec.pid")
	e.mustBerth("exec", "-d", "--pid-file", pidFile, "--pidfd-socket", sock2, id, "sleep", "100")
	want, _ := strconv.Atoi(waitFile(t, pidFile))
	if got := pidOfPidfd(t, <-fds2); got != want {
		t.Errorf("pidfd of exec names pid %d, want %d", got, want)
	}
	assertExecError(t, e.berth("exec", "--pidfd-socket", filepath.Join(dir, "missing.sock"), id, "true"), "--pidfd-socket")
	e.mustBerth("delete", "--force", id)
}

// recvPidfd listens on path and delivers the one fd sent to it.
func recvPidfd(t *testing.T, path string) (string, <-chan int) {
	t.Helper()
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan int, 1)
	go func() {
		defer l.Close()
		defer close(ch)
		l.SetDeadline(time.Now().Add(20 * time.Second))
		conn, err := l.AcceptUnix()
		if err != nil {
			return
		}
		defer conn.Close()
		buf, oob := make([]byte, 64), make([]byte, unix.CmsgSpace(4))
		_, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
		if err != nil {
			return
		}
		msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
		if len(msgs) == 1 {
			if fds, err := unix.ParseUnixRights(&msgs[0]); err == nil && len(fds) == 1 {
				ch <- fds[0]
			}
		}
	}()
	return path, ch
}

// pidOfPidfd reads the pid a pidfd refers to from its fdinfo.
func pidOfPidfd(t *testing.T, fd int) int {
	t.Helper()
	if fd <= 0 {
		t.Fatal("no pidfd arrived")
	}
	defer unix.Close(fd)
	info, err := os.ReadFile("/proc/self/fdinfo/" + strconv.Itoa(fd))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines(string(info)) {
		if v, ok := strings.CutPrefix(l, "Pid:"); ok {
			pid, _ := strconv.Atoi(strings.TrimSpace(v))
			return pid
		}
	}
	t.Fatalf("fd %d is not a pidfd: %s", fd, info)
	return 0
}

// copyExe copies an executable into a rootfs.
func copyExe(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
}
