package main

import (
	"os"
	"testing"
)

// TestDefaultRoot follows runc's rule for the state directory.
func TestDefaultRoot(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", "")
	if root, xdg := defaultRoot(); root != "/run/berth" || xdg {
		t.Errorf("without XDG_RUNTIME_DIR: %q %v", root, xdg)
	}
	t.Setenv("XDG_RUNTIME_DIR", "/run/user/42")
	root, xdg := defaultRoot()
	switch {
	case os.Geteuid() != 0:
		if root != "/run/user/42/berth" || !xdg {
			t.Errorf("not root, XDG_RUNTIME_DIR set: %q %v", root, xdg)
		}
	case !inUserNS():
		t.Setenv("USER", "someone")
		if root, xdg = defaultRoot(); root != "/run/berth" || xdg {
			t.Errorf("root in the host's user namespace keeps /run/berth: %q %v", root, xdg)
		}
	}
	if os.Geteuid() == 0 {
		t.Setenv("USER", "root")
		if root, xdg = defaultRoot(); root != "/run/berth" || xdg {
			t.Errorf("root with USER=root keeps /run/berth: %q %v", root, xdg)
		}
	}
}
