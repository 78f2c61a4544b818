package cgroups

import (
	"reflect"
	"testing"

	devices "github.com/opencontainers/cgroups/devices/config"
)

func TestDevicesEmulator(t *testing.T) {
	rules := DefaultDeviceRules()
	rules = append(rules,
		rule('c', 1, 7, "rwm", false), // deny /dev/full again
		rule('c', 1, 3, "w", false),   // /dev/null read-only
		rule('c', 10, 200, "r", true),
		rule('c', 10, 200, "w", true), // merges into rw
	)
	st := emulateDevices(rules)
	if st.allowAll {
		t.Fatal("deny-all base became allow-all")
	}
	want := map[devKey]uint8{
		{'c', 1, 3}: accRead | accMknod, {'c', 1, 5}: accAll, {'c', 5, 0}: accAll,
		{'c', 1, 8}: accAll, {'c', 1, 9}: accAll, {'c', 5, 1}: accAll, {'c', 5, 2}: accAll,
		{'c', 136, wildcard}: accAll, {'c', wildcard, wildcard}: accMknod, {'b', wildcard, wildcard}: accMknod,
		{'c', 10, 200}: accRead | accWrite,
	}
	if !reflect.DeepEqual(st.exceptions, want) {
		t.Errorf("exceptions\n got %v\nwant %v", st.exceptions, want)
	}
	// allow-all then deny one: blacklist mode.
	st = emulateDevices([]*devices.Rule{rule('a', wildcard, wildcard, "rwm", true), rule('b', 8, 0, "w", false)})
	if !st.allowAll || st.exceptions[devKey{'b', 8, 0}] != accWrite {
		t.Errorf("blacklist: %+v", st)
	}
}

func TestDevicesListRoundTrip(t *testing.T) {
	st, known, err := parseDevicesList("c 1:3 rwm\nc *:* m\nb 8:* r\n")
	if err != nil || !known {
		t.Fatalf("parse: %v %v", err, known)
	}
	if st.exceptions[devKey{'c', 1, 3}] != accAll || st.exceptions[devKey{'c', wildcard, wildcard}] != accMknod || st.exceptions[devKey{'b', 8, wildcard}] != accRead {
		t.Errorf("parsed %v", st.exceptions)
	}
	if _, known, _ := parseDevicesList("a *:* rwm\n"); known {
		t.Error("allow-all list claimed known exceptions")
	}
	if _, _, err := parseDevicesList("z 1:2 r"); err == nil {
		t.Error("bad type accepted")
	}
	if _, _, err := parseDevicesList(""); err != nil {
		t.Errorf("empty list (deny all): %v", err)
	}
}

func TestDevicesTransition(t *testing.T) {
	target := emulateDevices(DefaultDeviceRules())
	// From the root's allow-all: reset to deny, then allow each default.
	w := devicesTransition(newDevState(true), false, target)
	if w[0] != [2]string{"devices.deny", "a"} || len(w) != 1+len(target.order) {
		t.Fatalf("from allow-all: %q", w)
	}
	if w[1] != [2]string{"devices.allow", "c 1:3 rwm"} {
		t.Errorf("first allow %q", w[1])
	}
	// From an equal state: nothing to write.
	if w := devicesTransition(target, true, target); len(w) != 0 {
		t.Errorf("no-op transition wrote %q", w)
	}
	// Narrowing a running container never resets (no window of deny-all).
	cur, _, _ := parseDevicesList("c 1:3 rwm\nc 1:5 rwm\nc 10:200 rwm\n")
	narrow := emulateDevices([]*devices.Rule{rule('a', wildcard, wildcard, "rwm", false), rule('c', 1, 3, "rwm", true), rule('c', 1, 5, "r", true), rule('c', 1, 9, "rw", true)})
	got := devicesTransition(cur, true, narrow)
	want := [][2]string{
		{"devices.deny", "c 1:5 wm"},
		{"devices.deny", "c 10:200 rwm"},
		{"devices.allow", "c 1:9 rw"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("narrowing\n got %q\nwant %q", got, want)
	}
	// Replaying the writes on the model reaches the target.
	for _, wr := range got {
		cur.applyLine(t, wr)
	}
	if !sameExceptions(cur, narrow) {
		t.Errorf("replay reached %v, want %v", cur.exceptions, narrow.exceptions)
	}
}

// applyLine models writing line to file, for the replay check.
func (s *devState) applyLine(t *testing.T, wr [2]string) {
	t.Helper()
	st, _, err := parseDevicesList(wr[1])
	if err != nil || len(st.order) != 1 {
		t.Fatalf("bad line %q", wr[1])
	}
	k := st.order[0]
	s.apply(&devices.Rule{Type: k.typ, Major: k.major, Minor: k.minor, Permissions: devices.Permissions(accessString(st.exceptions[k])), Allow: wr[0] == "devices.allow"})
}
