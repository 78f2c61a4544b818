package libcontainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/berthrun/berth/internal/wire"

	"github.com/berthrun/berth/internal/trace"
	"golang.org/x/sys/unix"
)

// The message types exchanged between the berth parent and the container's
// init over the sync socket (wire.Sync*, in the order they are sent) are
// declared in internal/wire/schema.go: the C stages send and read some.

// message is one packet on the sync socket.
type message struct {
	Type string `json:"type"`
	Pid  int    `json:"pid,omitempty"`
	// HostSrc: with "pid", the fds of the bind sources nsenter opened from
	// the host side, by slot (rootfs.HostSources).
	HostSrc []int        `json:"hostsrc,omitempty"`
	Msg     string       `json:"msg,omitempty"`
	Config  *Config      `json:"config,omitempty"`
	Init    *initParams  `json:"init,omitempty"`
	Trace   []trace.Span `json:"trace,omitempty"` // init → parent with "ready": its phases
	fds     []int        // came with it by SCM_RIGHTS
}

// syncSocket is one end of the SOCK_SEQPACKET pair: each write is one
// message, so no framing is needed.
type syncSocket struct {
	f *os.File
}

func newSyncPair() (parent, child *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("sync socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "sync-parent"), os.NewFile(uintptr(fds[1]), "sync-child"), nil
}

// close closes the socket; later sends fail.
func (s *syncSocket) close() {
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
}

// reply is a message that carries no config, which is every message but
// "config". Marshalling a type makes encoding/json prepare encoders for every
// type it may hold; for message that is the whole OCI spec, ~1-2 ms in the
// init, which never sends one.
type reply struct {
	Type    string       `json:"type"`
	Pid     int          `json:"pid,omitempty"`
	HostSrc []int        `json:"hostsrc,omitempty"`
	Msg     string       `json:"msg,omitempty"`
	Trace   []trace.Span `json:"trace,omitempty"`
}

func (s *syncSocket) send(m *message) error {
	var v any = m
	if m.Config == nil && m.Init == nil {
		v = &reply{Type: m.Type, Pid: m.Pid, HostSrc: m.HostSrc, Msg: m.Msg, Trace: m.Trace}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.sendRaw(b)
}

func (s *syncSocket) sendRaw(b []byte) error {
	if s.f == nil {
		return errPeerGone
	}
	_, err := s.f.Write(b)
	return err
}

// recv reads one message. A closed peer is io.EOF-like: errPeerGone.
func (s *syncSocket) recv() (*message, error) {
	n, _, err := unix.Recvfrom(int(s.f.Fd()), nil, unix.MSG_PEEK|unix.MSG_TRUNC)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, errPeerGone
	}
	buf := make([]byte, n)
	fds, err := s.read(buf)
	if err != nil {
		return nil, err
	}
	m, err := decodeMessage(buf)
	if err != nil {
		return nil, fmt.Errorf("bad sync message: %w", err)
	}
	m.fds = fds
	return m, nil
}

// decodeMessage decodes a packet as a reply first, and again with its
// payload when its type says it has one. The first decode into a struct
// makes encoding/json build its encoders for every type reachable from it:
// for message, that is the whole OCI spec (~1-2 ms in a fresh process), which
// no reply needs.
//
// A packet that starts with a step record is a C stage's error record
// (wire.Fail), rendered here by the one formatter.
func decodeMessage(buf []byte) (*message, error) {
	if wire.IsFailRecord(buf) {
		f, err := wire.DecodeFail(buf)
		if err != nil {
			return nil, err
		}
		return &message{Type: wire.SyncError, Msg: f.Error()}, nil
	}
	var r reply
	if err := json.Unmarshal(buf, &r); err != nil {
		return nil, err
	}
	m := &message{Type: r.Type, Pid: r.Pid, HostSrc: r.HostSrc, Msg: r.Msg, Trace: r.Trace}
	switch r.Type {
	case wire.SyncConfig:
		var c struct {
			Config *Config     `json:"config"`
			Init   *initParams `json:"init"`
		}
		if err := json.Unmarshal(buf, &c); err != nil {
			return nil, err
		}
		if c.Config == nil || c.Init == nil {
			return nil, errors.New("config message without its config")
		}
		m.Config, m.Init = c.Config, c.Init
	}
	return m, nil
}

// expect reads the next message and checks its type; an error message from
// the peer becomes the returned error.
func (s *syncSocket) expect(typ string) (*message, error) {
	return s.expectOneOf(typ)
}

// expectOneOf is expect for a message that may have any of types.
func (s *syncSocket) expectOneOf(types ...string) (*message, error) {
	m, err := s.recv()
	if err != nil {
		return nil, err
	}
	if m.Type == wire.SyncError {
		return nil, errors.New(m.Msg)
	}
	if !slices.Contains(types, m.Type) {
		want := make([]string, len(types))
		for i, t := range types {
			want[i] = strconv.Quote(t)
		}
		return nil, fmt.Errorf("sync: got %q, want %s", m.Type, strings.Join(want, " or "))
	}
	return m, nil
}

var errPeerGone = errors.New("the other side closed the sync socket")
