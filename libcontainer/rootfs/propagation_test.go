package rootfs

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestRootPropagation(t *testing.T) {
	tests := map[string]uintptr{
		"":            unix.MS_SLAVE | unix.MS_REC,
		"rslave":      unix.MS_SLAVE | unix.MS_REC,
		"slave":       unix.MS_SLAVE,
		"shared":      unix.MS_SHARED,
		"rshared":     unix.MS_SHARED | unix.MS_REC,
		"private":     unix.MS_PRIVATE,
		"rprivate":    unix.MS_PRIVATE | unix.MS_REC,
		"unbindable":  unix.MS_UNBINDABLE,
		"runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
	}
	for in, want := range tests {
		got, err := rootPropagation(in)
		if err != nil || got != want {
			t.Errorf("rootPropagation(%q) = %#x, %v; want %#x", in, got, err, want)
		}
	}
	if _, err := rootPropagation("sideways"); err == nil {
		t.Error("rootPropagation(\"sideways\"): no error")
	}
}

// TestMayLeaveShared: only a recursive slave, private or unbindable change
// may skip the look-up of the rootfs parent mount.
func TestMayLeaveShared(t *testing.T) {
	tests := map[string]bool{
		"": false, "rslave": false, "rprivate": false, "runbindable": false,
		"slave": true, "private": true, "unbindable": true, "shared": true, "rshared": true,
	}
	for in, want := range tests {
		flags, err := rootPropagation(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := mayLeaveShared(flags); got != want {
			t.Errorf("mayLeaveShared(%q) = %v, want %v", in, got, want)
		}
	}
}
