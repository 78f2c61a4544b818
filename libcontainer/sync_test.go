package libcontainer

import (
	"reflect"
	"strings"
	"testing"

	"github.com/berthrun/berth/internal/wire"

	"github.com/berthrun/berth/internal/trace"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// TestSyncRoundTrip sends each kind of message over a real socket pair and
// checks that the other end decodes what was sent.
func TestSyncRoundTrip(t *testing.T) {
	cfg := &Config{ID: "c1", Rootfs: "/r", Spec: &specs.Spec{
		Process: &specs.Process{Args: []string{"sh"}, Cwd: "/"}, Linux: &specs.Linux{},
	}}
	tests := []*message{
		{Type: wire.SyncPID, Pid: 42},
		{Type: wire.SyncError, Msg: "rootfs: mounts[0]: boom"},
		{Type: wire.SyncTrace, Trace: []trace.Span{{Point: "init:config", Phase: 3, Total: 5}}},
		{Type: wire.SyncConfig, Config: cfg, Init: &initParams{FifoFd: 5, Trace: true}},
	}
	for _, want := range tests {
		parent, child, err := newSyncPair()
		if err != nil {
			t.Fatal(err)
		}
		a, b := &syncSocket{f: parent}, &syncSocket{f: child}
		if err := a.send(want); err != nil {
			t.Fatalf("send %s: %v", want.Type, err)
		}
		got, err := b.recv()
		a.close()
		b.close()
		if err != nil {
			t.Fatalf("recv %s: %v", want.Type, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v, want %+v", want.Type, got, want)
		}
	}
}

// TestDecodeMessageRefuses: a config message without its payload,
// and a packet that is no JSON, are errors rather than nil payloads.
func TestDecodeMessageRefuses(t *testing.T) {
	tests := map[string]string{
		`{"type":"config"}`:           "without its config",
		`{"type":"config","init":{}}`: "without its config",
		`{"type":"pid","pid":"x"}`:    "cannot unmarshal",
		`not json`:                    "invalid character",
		"\x01\x00\x00\x00\x09":        "fail: truncated", // an error record's start, cut
	}
	for in, want := range tests {
		if _, err := decodeMessage([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("decodeMessage(%s) = %v, want an error with %q", in, err, want)
		}
	}
}

// TestDecodeMessageFailRecord: a C stage's error record arrives as an
// "error" message with the text the one formatter gives it.
func TestDecodeMessageFailRecord(t *testing.T) {
	rec := wire.EncodeFail(&wire.Failure{Step: wire.StepCwdChdir, Args: []string{"/etc/passwd"}, Errno: unix.ENOTDIR})
	m, err := decodeMessage(rec)
	if err != nil {
		t.Fatal(err)
	}
	if want := `process.cwd "/etc/passwd": chdir /etc/passwd: not a directory`; m.Type != wire.SyncError || m.Msg != want {
		t.Fatalf("decodeMessage = %q %q, want error %q", m.Type, m.Msg, want)
	}
}

// TestExpectOneOf keeps expect's error texts: the peer's own error, and the
// wanted type(s) for an unexpected one.
func TestExpectOneOf(t *testing.T) {
	tests := []struct {
		send    *message
		want    []string
		wantErr string
	}{
		{&message{Type: wire.SyncHooks}, []string{wire.SyncHooks, wire.SyncReady}, ""},
		{&message{Type: wire.SyncError, Msg: "init: boom"}, []string{wire.SyncConfig}, "init: boom"},
		{&message{Type: wire.SyncReady}, []string{wire.SyncHooks}, `sync: got "ready", want "hooks"`},
		{&message{Type: wire.SyncReady}, []string{wire.SyncConfig, wire.SyncHooks}, `sync: got "ready", want "config" or "hooks"`},
	}
	for _, tt := range tests {
		parent, child, err := newSyncPair()
		if err != nil {
			t.Fatal(err)
		}
		a, b := &syncSocket{f: parent}, &syncSocket{f: child}
		if err := a.send(tt.send); err != nil {
			t.Fatal(err)
		}
		m, err := b.expectOneOf(tt.want...)
		a.close()
		b.close()
		switch {
		case tt.wantErr == "" && (err != nil || m.Type != tt.send.Type):
			t.Errorf("expectOneOf(%v) after %s: %v, %v", tt.want, tt.send.Type, m, err)
		case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
			t.Errorf("expectOneOf(%v) after %s: error %v, want %q", tt.want, tt.send.Type, err, tt.wantErr)
		}
	}
}
