package rootfs

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestRemountFlags(t *testing.T) {
	const (
		rw      = unix.MS_RELATIME
		lockedS = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_RELATIME
	)
	tests := []struct {
		name string
		have uintptr
		opts []string
		want uintptr
		need bool
	}{
		{"plain bind changes nothing", rw, []string{"rbind"}, rw, false},
		{"ro adds to source flags", lockedS, []string{"bind", "ro"}, lockedS | unix.MS_RDONLY, true},
		{"rw of an ro source", unix.MS_RDONLY | rw, []string{"bind", "rw"}, rw, true},
		{"explicit suid clears", lockedS, []string{"bind", "suid"}, lockedS &^ unix.MS_NOSUID, true},
		{"atime mode replaced", unix.MS_NOATIME | unix.MS_NODEV, []string{"bind", "strictatime"},
			unix.MS_STRICTATIME | unix.MS_NODEV, true},
		{"atime mode inherited", unix.MS_STRICTATIME, []string{"bind", "nosuid"},
			unix.MS_STRICTATIME | unix.MS_NOSUID, true},
		{"non per-mount flags ignored", rw, []string{"bind", "sync"}, rw, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := ParseOptions(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := remountFlags(tc.have, &o); got != tc.want {
				t.Errorf("remountFlags = %#x (%s), want %#x (%s)", got, flagNames(got), tc.want, flagNames(tc.want))
			}
			if got := needsRemount(tc.have, &o); got != tc.need {
				t.Errorf("needsRemount = %v, want %v", got, tc.need)
			}
		})
	}
}

func TestStatfsFlags(t *testing.T) {
	tests := []struct {
		st   uint64
		want uintptr
	}{
		{0, unix.MS_STRICTATIME},
		{stRelatime, unix.MS_RELATIME},
		{stNoatime | stRdonly, unix.MS_NOATIME | unix.MS_RDONLY},
		{stNosuid | stNodev | stNoexec | stRelatime | stNodiratime | stNosymfollow,
			unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_RELATIME | unix.MS_NODIRATIME | unix.MS_NOSYMFOLLOW},
	}
	for _, tc := range tests {
		if got := statfsFlags(tc.st); got != tc.want {
			t.Errorf("statfsFlags(%#x) = %#x, want %#x", tc.st, got, tc.want)
		}
	}
}
