package tests

import (
	"encoding/json"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// seccompAgent is a small seccomp agent (runtime.md, listenerPath): it
// accepts the runtime's connections on a unix socket, keeps the container
// process state each one carries, and answers the notifications of the
// listener that comes with it: mkdir succeeds without making anything,
// rmdir fails with ENOMEDIUM, anything else is let through.
type seccompAgent struct {
	t    *testing.T
	path string
	ln   *net.UnixListener
	done chan struct{}
	wg   sync.WaitGroup

	mu     sync.Mutex
	states []specs.ContainerProcessState
	errs   []error
}

// Syscall numbers (x86_64) the agent answers itself.
const (
	sysMkdir   = 83
	sysRmdir   = 84
	sysMkdirat = 258
)

// seccompNotif and seccompNotifResp are struct seccomp_notif and
// struct seccomp_notif_resp of linux/seccomp.h.
type seccompNotif struct {
	ID    uint64
	Pid   uint32
	Flags uint32
	Nr    int32
	Arch  uint32
	IP    uint64
	Args  [6]uint64
}

type seccompNotifResp struct {
	ID    uint64
	Val   int64
	Error int32
	Flags uint32
}

func newSeccompAgent(t *testing.T, dir string) *seccompAgent {
	t.Helper()
	a := &seccompAgent{t: t, path: filepath.Join(dir, "agent.sock"), done: make(chan struct{})}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: a.path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	a.ln = ln
	a.wg.Add(1)
	go a.accept()
	t.Cleanup(a.stop)
	return a
}

func (a *seccompAgent) stop() {
	close(a.done)
	a.ln.Close()
	a.wg.Wait()
}

func (a *seccompAgent) fail(err error) {
	a.mu.Lock()
	a.errs = append(a.errs, err)
	a.mu.Unlock()
}

func (a *seccompAgent) accept() {
	defer a.wg.Done()
	for {
		conn, err := a.ln.AcceptUnix()
		if err != nil {
			return // stopped
		}
		a.receive(conn)
	}
}

// receive reads one state message and its listener, then serves it.
func (a *seccompAgent) receive(conn *net.UnixConn) {
	defer conn.Close()
	buf, oob := make([]byte, 64<<10), make([]byte, unix.CmsgSpace(4*4))
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		a.fail(err)
		return
	}
	var st specs.ContainerProcessState
	if err := json.Unmarshal(buf[:n], &st); err != nil {
		a.fail(err)
		return
	}
	fds, err := rightsOf(oob[:oobn])
	if err != nil || len(fds) != 1 {
		a.fail(errors.New("the state came without exactly one fd"))
		return
	}
	a.mu.Lock()
	a.states = append(a.states, st)
	a.mu.Unlock()
	a.wg.Add(1)
	go a.serve(fds[0])
}

func rightsOf(oob []byte) ([]int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, err
	}
	var fds []int
	for _, m := range msgs {
		r, err := unix.ParseUnixRights(&m)
		if err != nil {
			return nil, err
		}
		fds = append(fds, r...)
	}
	return fds, nil
}

// serve answers notifications until every process under the filter is gone
// (POLLHUP) or the agent stops.
func (a *seccompAgent) serve(fd int) {
	defer a.wg.Done()
	defer unix.Close(fd)
	for {
		select {
		case <-a.done:
			return
		default:
		}
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if n, err := unix.Poll(pfd, 100); err != nil || n == 0 {
			continue
		}
		if pfd[0].Revents&unix.POLLIN == 0 {
			return // POLLHUP: no process uses the filter any more
		}
		var req seccompNotif
		if ioctl(fd, unix.SECCOMP_IOCTL_NOTIF_RECV, unsafe.Pointer(&req)) != nil {
			continue // the caller died in between
		}
		resp := seccompNotifResp{ID: req.ID}
		switch req.Nr {
		case sysMkdir, sysMkdirat:
			resp.Val = 0 // success, and nothing made
		case sysRmdir:
			resp.Error = -int32(unix.ENOMEDIUM)
		default:
			resp.Flags = unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE
		}
		ioctl(fd, unix.SECCOMP_IOCTL_NOTIF_SEND, unsafe.Pointer(&resp))
	}
}

func ioctl(fd int, req uint, arg unsafe.Pointer) error {
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(arg)); errno != 0 {
		return errno
	}
	return nil
}

// received waits until the agent has n states (the runtime's send returns
// before the agent reads) and returns them; it fails the test on any error
// the agent met.
func (a *seccompAgent) received(t *testing.T, n int) []specs.ContainerProcessState {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		a.mu.Lock()
		states, errs := append([]specs.ContainerProcessState(nil), a.states...), a.errs
		a.mu.Unlock()
		for _, err := range errs {
			t.Fatalf("agent: %v", err)
		}
		if len(states) >= n || time.Now().After(deadline) {
			if len(states) != n {
				t.Fatalf("agent got %d states, want %d: %+v", len(states), n, states)
			}
			return states
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// notifyProfile notifies mkdir and rmdir to the agent.
func notifyProfile(a *seccompAgent) *specs.LinuxSeccomp {
	return &specs.LinuxSeccomp{
		DefaultAction:    specs.ActAllow,
		ListenerPath:     a.path,
		ListenerMetadata: "agent-metadata",
		Architectures:    []specs.Arch{specs.ArchX86_64},
		Syscalls:         []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat", "rmdir"}, Action: specs.ActNotify}},
	}
}

// notifyScript shows the agent's answers: mkdir "succeeds" yet makes
// nothing, rmdir fails with the agent's errno.
const notifyScript = "mkdir /tmp/by-agent && echo mkdir-ok; test -d /tmp/by-agent || echo absent; rmdir /tmp 2>&1; echo rc=$?"

func checkNotifyOutput(t *testing.T, out string) {
	t.Helper()
	for _, w := range []string{"mkdir-ok", "absent", "No medium found", "rc=1"} {
		if !strings.Contains(out, w) {
			t.Errorf("output %q, want %q", out, w)
		}
	}
}

// checkState checks what the agent got with one listener.
func checkState(t *testing.T, st specs.ContainerProcessState, id, status string) {
	t.Helper()
	if st.Version != specs.Version || len(st.Fds) != 1 || st.Fds[0] != specs.SeccompFdName ||
		st.Metadata != "agent-metadata" || st.Pid <= 0 || st.State.ID != id ||
		string(st.State.Status) != status || st.State.Pid <= 0 || st.State.Bundle == "" {
		t.Errorf("agent got %+v; want fds [seccompFd], metadata, pids, id %s, status %s", st, id, status)
	}
}

// TestSeccompNotify: the agent answers the container's calls, with and
// without no_new_privs (the filter goes in at different points), and gets
// the container process state with the listener.
func TestSeccompNotify(t *testing.T) {
	t.Parallel()
	for _, nnp := range []bool{true, false} {
		name := map[bool]string{true: "no_new_privs", false: "without no_new_privs"}[nnp]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			a := newSeccompAgent(t, e.dir("agent"))
			spec := sh(notifyScript)
			spec.Process.NoNewPrivileges = nnp
			spec.Linux.Seccomp = notifyProfile(a)
			b := e.bundle(spec)
			id := e.id("notify")
			r := e.berth("run", "--bundle", b, id)
			if r.code != 0 {
				t.Fatalf("%v", r)
			}
			checkNotifyOutput(t, r.stdout)
			states := a.received(t, 1)
			checkState(t, states[0], id, "creating")
			if states[0].Pid != states[0].State.Pid {
				t.Errorf("process pid %d, want the init's %d", states[0].Pid, states[0].State.Pid)
			}
		})
	}
}

// TestSeccompNotifyExec: create/start hands the init's listener over before
// create returns; an exec'd process under the same profile gets its own
// listener to the agent, with its own pid.
func TestSeccompNotifyExec(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := newSeccompAgent(t, e.dir("agent"))
	spec := sh("sleep 1000")
	spec.Linux.Seccomp = notifyProfile(a)
	id := e.id("notify")
	e.mustBerth("create", "--bundle", e.bundle(spec), id)
	a.received(t, 1)
	e.mustBerth("start", id)
	initPid := e.state(id).Pid
	r := e.berth("exec", id, "sh", "-c", notifyScript)
	if r.code != 0 {
		t.Fatalf("%v", r)
	}
	checkNotifyOutput(t, r.stdout)
	states := a.received(t, 2)
	checkState(t, states[0], id, "creating")
	checkState(t, states[1], id, "running")
	if states[1].Pid == initPid || states[1].State.Pid != initPid {
		t.Errorf("exec state: process pid %d, container pid %d; want a new process in the container of %d", states[1].Pid, states[1].State.Pid, initPid)
	}
	e.mustBerth("kill", id, "KILL")
	e.waitStatus(id, "stopped")
}

// TestSeccompNotifyNoAgent: no agent at listenerPath fails create with one
// line naming the field, and leaves nothing behind (the harness checks).
func TestSeccompNotifyNoAgent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	spec := sh("true")
	spec.Linux.Seccomp = notifyProfile(&seccompAgent{path: filepath.Join(e.dir("agent"), "nobody.sock")})
	for _, nnp := range []bool{true, false} {
		spec.Process.NoNewPrivileges = nnp
		assertError(t, e.run(spec), "linux.seccomp.listenerPath", "nobody.sock", "no such file")
	}
	spec.Linux.Seccomp.Syscalls[0].Names = append(spec.Linux.Seccomp.Syscalls[0].Names, "sendmsg")
	assertError(t, e.run(spec), `linux.seccomp.syscalls[0].names[3]: "sendmsg" cannot be notified`)
}

// TestSeccompNotifyWriteRefused: a notify rule on write is refused before
// anything is made, as runc refuses it: berth's own writes inside the
// container (the init's reports, the exec.fifo byte) would wait for an agent
// that does not hold the listener yet. The check is the config's, so the C
// and the Go init both see it; create and run both refuse.
func TestSeccompNotifyWriteRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := newSeccompAgent(t, e.dir("agent"))
	spec := sh("echo hello")
	spec.Linux.Seccomp = notifyProfile(a)
	spec.Linux.Seccomp.Syscalls[0].Names = append(spec.Linux.Seccomp.Syscalls[0].Names, "write")
	b := e.bundle(spec)
	want := `linux.seccomp.syscalls[0].names[3]: "write" cannot be notified`
	for _, env := range [][]string{nil} {
		o := runOpts{env: env, timeout: 15 * time.Second}
		assertError(t, e.berthOpts(o, "run", "--bundle", b, e.id("notify-write")), want)
		assertError(t, e.berthOpts(o, "create", "--bundle", b, e.id("notify-write")), want)
	}
	// The same rule without write still runs: the refusal is about write.
	spec.Linux.Seccomp = notifyProfile(a)
	if out := e.mustRun(spec); strings.TrimSpace(out) != "hello" {
		t.Errorf("output %q, want hello", out)
	}
}
