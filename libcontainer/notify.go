package libcontainer

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The container side of the sd_notify proxy: a directory of the state dir
// is bind-mounted read-only at notifyDirInContainer and the process gets
// NOTIFY_SOCKET pointing into it, as runc does. The host's socket is never
// shown to the container; berth relays READY=1 to it.
const (
	notifyDirInContainer = "/run/notify"
	notifySocketName     = "notify.sock"
)

func (c *Container) notifyDir() string {
	return filepath.Join(c.rt.store().dir(c.st.ID), "notify")
}

// setupNotify prepares the proxy for a container created with
// NOTIFY_SOCKET set: the directory, its mount and the process's variable.
func (c *Container) setupNotify(hostSocket string) error {
	cfg := c.st.Config
	dir := c.notifyDir()
	if err := os.Mkdir(dir, 0o755); err != nil {
		return fmt.Errorf("NOTIFY_SOCKET: %w", err)
	}
	uid, gid := hostRoot(cfg.Spec.Linux)
	if err := os.Chown(dir, uid, gid); err != nil {
		return fmt.Errorf("NOTIFY_SOCKET: %w", err)
	}
	cfg.NotifySocket = hostSocket
	spec := *cfg.Spec
	spec.Mounts = append(append([]specs.Mount{}, spec.Mounts...), specs.Mount{
		Destination: notifyDirInContainer, Type: "bind", Source: dir,
		Options: []string{"bind", "nosuid", "noexec", "nodev", "ro"},
	})
	proc := *spec.Process
	proc.Env = append(append([]string{}, proc.Env...), "NOTIFY_SOCKET="+notifyDirInContainer+"/"+notifySocketName)
	spec.Process = &proc
	cfg.Spec = &spec
	return nil
}

// notifyListener is the bound socket that the container's sd_notify
// messages arrive on. It is bound at start, before the process runs.
type notifyListener struct {
	fd   int
	host string // the host's NOTIFY_SOCKET
}

func (c *Container) listenNotify() (*notifyListener, error) {
	if c.st.Config.NotifySocket == "" {
		return nil, nil
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("NOTIFY_SOCKET: %w", err)
	}
	path := filepath.Join(c.notifyDir(), notifySocketName)
	os.Remove(path) // left by an earlier start that failed
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("NOTIFY_SOCKET: bind %s: %w", path, err)
	}
	// Any container user may notify.
	if err := os.Chmod(path, 0o777); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("NOTIFY_SOCKET: %w", err)
	}
	return &notifyListener{fd: fd, host: c.st.Config.NotifySocket}, nil
}

// relayReady waits for the container's READY=1 and passes it, with
// MAINPID=<init pid>, to the host's socket. It gives up, without error,
// when the init dies first.
func (c *Container) relayReady(l *notifyListener) error {
	defer unix.Close(l.fd)
	buf := make([]byte, 4096)
	fds := []unix.PollFd{{Fd: int32(l.fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, 100)
		if err != nil && err != unix.EINTR {
			return fmt.Errorf("NOTIFY_SOCKET: %w", err)
		}
		if n <= 0 {
			if !c.st.initAlive() {
				return nil
			}
			continue
		}
		r, _, err := unix.Recvfrom(l.fd, buf, 0)
		if err != nil || !bytes.Contains(buf[:r], []byte("READY=")) {
			continue
		}
		return sendNotify(l.host, append(buf[:r:r], []byte("\nMAINPID="+strconv.Itoa(c.st.InitPid)+"\n")...))
	}
}

// sendNotify sends one datagram to the host's NOTIFY_SOCKET (a path, or an
// abstract name written with a leading "@").
func sendNotify(host string, msg []byte) error {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("NOTIFY_SOCKET %q: %w", host, err)
	}
	defer unix.Close(fd)
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &unix.Timeval{Sec: 5})
	addr := &unix.SockaddrUnix{Name: host}
	if err := unix.Sendto(fd, msg, 0, addr); err != nil {
		return fmt.Errorf("NOTIFY_SOCKET %q: %w", host, err)
	}
	return nil
}
