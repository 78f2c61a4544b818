package rootfs

import (
	"slices"
	"testing"
)

// TestMountOptions: every listed option means something to ParseOptions
// (it does not end up as filesystem data), and refused ones are not listed.
func TestMountOptions(t *testing.T) {
	opts := MountOptions()
	for _, o := range opts {
		parsed, err := ParseOptions([]string{o})
		if err != nil {
			t.Errorf("%s: listed but refused: %v", o, err)
		}
		if parsed.Data != "" {
			t.Errorf("%s: listed but passed through as data %q", o, parsed.Data)
		}
	}
	for _, o := range []string{"ro", "rbind", "rro", "rprivate", "nosymfollow", "tmpcopyup"} {
		if !slices.Contains(opts, o) {
			t.Errorf("%s: missing from %v", o, opts)
		}
	}
	for o := range refusedOptions {
		if slices.Contains(opts, o) {
			t.Errorf("%s: refused by ParseOptions but listed", o)
		}
	}
}
