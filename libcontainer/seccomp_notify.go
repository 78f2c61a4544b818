package libcontainer

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/berthrun/berth/internal/wire"

	"github.com/berthrun/berth/internal/trace"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The seccomp notify hand-off (runtime.md, "listenerPath"): installing a
// filter with SCMP_ACT_NOTIFY rules gives the init a listener fd; the init
// sends it to the berth parent over the sync socket (SCM_RIGHTS), and the
// parent connects to linux.seccomp.listenerPath and sends the agent the
// container process state as JSON with the fd.
//
// The init sends the fd right after installing and waits until the agent
// has it, so that from then on only the agent can hold up a notified call. For the same reason a notifying
// filter cannot wait for the execve when no_new_privs lets it: the parent of
// `create` is gone by then. It is installed before "ready" instead.

// expectReady waits for the init's (or exec's) "ready", passing a notify
// listener that comes first on to the agent. pid is the process's host pid.
func (c *Container) expectReady(sync *syncSocket, pid int, status string) (*message, error) {
	var traced []trace.Span
	for {
		m, err := sync.recv()
		switch {
		case err != nil:
			return nil, err
		case m.Type == wire.SyncError:
			return nil, errors.New(m.Msg)
		case m.Type == wire.SyncTrace:
			traced = m.Trace
			continue
		case m.Type == wire.SyncReady:
			// The Go rootfs helper's spans, then the C init's own.
			m.Trace = append(traced, m.Trace...)
			return m, nil
		case m.Type != wire.SyncSeccompFd:
			return nil, fmt.Errorf("sync: got %q, want %q", m.Type, wire.SyncReady)
		}
		err = c.sendToAgent(m.fds, pid, status)
		for _, fd := range m.fds {
			unix.Close(fd)
		}
		if err != nil {
			return nil, err
		}
		if err := sync.send(&message{Type: wire.SyncAgentHas}); err != nil {
			return nil, err
		}
	}
}

// sendToAgent connects to listenerPath and sends the container process
// state with the listener, as one message.
func (c *Container) sendToAgent(fds []int, pid int, status string) error {
	sc := c.st.Config.Spec.Linux.Seccomp
	if len(fds) != 1 || sc == nil {
		return errors.New("seccomp: the init sent no notify listener")
	}
	st := specs.ContainerProcessState{
		Version:  specs.Version,
		Fds:      []string{specs.SeccompFdName},
		Pid:      pid,
		Metadata: sc.ListenerMetadata,
		State:    *c.st.hookState(status),
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := sendWithFd(sc.ListenerPath, b, fds[0]); err != nil {
		return fmt.Errorf("linux.seccomp.listenerPath %q: %w", sc.ListenerPath, err)
	}
	return nil
}

// sendWithFd sends b and fd over a new stream connection to path.
func sendWithFd(path string, b []byte, fd int) error {
	sock, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(sock)
	if err := unix.Connect(sock, &unix.SockaddrUnix{Name: path}); err != nil {
		return fmt.Errorf("connect to the seccomp agent: %w", err)
	}
	if err := unix.Sendmsg(sock, b, unix.UnixRights(fd), nil, 0); err != nil {
		return fmt.Errorf("send to the seccomp agent: %w", err)
	}
	return nil
}

// read reads one packet into buf and returns the fds that came with it
// (close-on-exec).
func (s *syncSocket) read(buf []byte) ([]int, error) {
	oob := make([]byte, unix.CmsgSpace(4*4))
	_, oobn, _, _, err := unix.Recvmsg(int(s.f.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil || oobn == 0 {
		return nil, err
	}
	cmsgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return nil, fmt.Errorf("sync: control message: %w", err)
	}
	var fds []int
	for _, cm := range cmsgs {
		rights, err := unix.ParseUnixRights(&cm)
		if err == nil {
			fds = append(fds, rights...)
		}
	}
	return fds, nil
}
