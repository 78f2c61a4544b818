package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
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

// TestParseRootlessFlag: the values runc accepts for --rootless, and a
// one-line refusal naming the flag for the rest.
func TestParseRootlessFlag(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		in   string
		want *bool
		err  bool
	}{
		{"", nil, false}, {"auto", nil, false}, {"AUTO", nil, false}, {"Auto", nil, false},
		{"true", &yes, false}, {"1", &yes, false}, {"t", &yes, false}, {"T", &yes, false}, {"TRUE", &yes, false}, {"True", &yes, false},
		{"false", &no, false}, {"0", &no, false}, {"f", &no, false}, {"F", &no, false}, {"FALSE", &no, false}, {"False", &no, false},
		{"yes", nil, true}, {"2", nil, true}, {"tRUE", nil, true}, {" true", nil, true},
	}
	for _, tt := range tests {
		got, err := parseRootlessFlag(tt.in)
		switch {
		case tt.err:
			if err == nil || !strings.Contains(err.Error(), `--rootless "`+tt.in+`"`) {
				t.Errorf("%q: error %v, want one naming --rootless and the value", tt.in, err)
			}
		case err != nil:
			t.Errorf("%q: %v", tt.in, err)
		case (got == nil) != (tt.want == nil) || (got != nil && *got != *tt.want):
			t.Errorf("%q: %v, want %v", tt.in, show(got), show(tt.want))
		}
	}
}

func show(b *bool) string {
	if b == nil {
		return "auto"
	}
	return fmt.Sprint(*b)
}

// TestAutoRootless is runc's detection, case by case; the systemd owner is
// asked only for root in a user namespace with the systemd driver.
func TestAutoRootless(t *testing.T) {
	errNoBus := errors.New("no user bus")
	tests := []struct {
		name     string
		euid     int
		userns   bool
		systemd  bool
		owner    int
		ownerErr error
		want     bool
		asked    bool
	}{
		{"user", 1000, false, false, 0, nil, true, false},
		{"user, systemd", 1000, false, true, 0, nil, true, false},
		{"user in a user namespace", 1000, true, true, 0, nil, true, false},
		{"root on the host", 0, false, false, 0, nil, false, false},
		{"root on the host, systemd", 0, false, true, 0, nil, false, false},
		{"root in a user namespace", 0, true, false, 0, nil, true, false},
		{"root in a user namespace, a user's systemd", 0, true, true, 1000, nil, true, true},
		{"root in a user namespace, root's systemd", 0, true, true, 0, nil, false, true},
		{"root in a user namespace, no user bus", 0, true, true, -1, errNoBus, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			asked := false
			owner := func() (int, error) { asked = true; return tt.owner, tt.ownerErr }
			got := autoRootless(tt.euid, func() bool { return tt.userns }, tt.systemd, owner)
			if got != tt.want || asked != tt.asked {
				t.Errorf("autoRootless = %v (owner asked: %v), want %v (asked: %v)", got, asked, tt.want, tt.asked)
			}
		})
	}
}
