package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/berthrun/berth/internal/userns"
	"github.com/berthrun/berth/libcontainer/cgroups"
)

// defaultRoot is --root when the caller gives none. It follows runc's rule,
// so that engines which compute runc's state directory for a rootless user
// (podman, nerdctl) find berth's where they expect it: an unprivileged user
// cannot write /run, so a non-root caller with XDG_RUNTIME_DIR set keeps its
// state in $XDG_RUNTIME_DIR/berth. Root in the host's user namespace keeps
// /run/berth even with XDG_RUNTIME_DIR set (a login shell's /run/user/0), as
// runc keeps /run/runc; root inside a user namespace (a rootless engine's
// namespace) honours XDG_RUNTIME_DIR unless $USER says it is root.
//
// The common cases cost no system call: without XDG_RUNTIME_DIR nothing is
// asked, and root's uid_map is read only when $USER is not "root".
// libcontainer/executor/fastpath.c (fastpath_default_root) computes the same.
func defaultRoot() (root string, xdg bool) {
	dir := os.Getenv("XDG_RUNTIME_DIR")
	if dir == "" || !honourXDGRuntimeDir() {
		return "/run/berth", false
	}
	return dir + "/berth", true
}

func honourXDGRuntimeDir() bool {
	if os.Geteuid() != 0 {
		return true
	}
	if u, ok := os.LookupEnv("USER"); ok && u == "root" {
		return false
	}
	return inUserNS()
}

// inUserNS reports whether berth runs in a user namespace other than the
// host's.
func inUserNS() bool { return userns.Running() }

// prepareDefaultRoot makes $XDG_RUNTIME_DIR/berth when it is the root in
// use. It is sticky because the XDG base directory specification lets the
// session manager prune files of XDG_RUNTIME_DIR that are not: state of
// running containers must not vanish under them. 0700: other users have no
// business in it.
func prepareDefaultRoot(c *cli.Context) error {
	if c.IsSet("root") || !rootIsXDG {
		return nil
	}
	root := c.String("root")
	if err := os.MkdirAll(root, 0o700); err != nil {
		return fmt.Errorf("--root (default from XDG_RUNTIME_DIR) %q: %w", root, err)
	}
	if err := os.Chmod(root, 0o700|os.ModeSticky); err != nil {
		return fmt.Errorf("--root (default from XDG_RUNTIME_DIR) %q: %w", root, err)
	}
	return nil
}

// rootless decides --rootless as runc does: a value strconv.ParseBool
// accepts ("true", "1", "F", ...) forces it; "auto" (any case) or "" leaves
// it to autoRootless.
func rootless(c *cli.Context) bool {
	if forced, _ := parseRootlessFlag(c.String("rootless")); forced != nil {
		return *forced
	}
	return autoRootless(os.Geteuid(), inUserNS, c.Bool("systemd-cgroup"), cgroups.SystemdOwnerUID)
}

// autoRootless is runc's detection: true for a caller that is not root,
// false for root in the host's user namespace. Root in another user
// namespace (a rootless engine's) is rootless with the cgroupfs driver,
// since the host's cgroups are as out of reach as for any user; with the
// systemd driver it is rootless only when the systemd on its user bus
// belongs to a user (ownerUID not 0). When that cannot be asked (no user
// bus, no busctl) runc takes the systemd to be root's, and so does berth.
// ownerUID is only called in that last case: the usual ones cost nothing.
func autoRootless(euid int, inUserNS func() bool, systemdCgroup bool, ownerUID func() (int, error)) bool {
	switch {
	case euid != 0:
		return true
	case !inUserNS():
		return false
	case systemdCgroup:
		uid, err := ownerUID()
		return err == nil && uid != 0
	}
	return true
}

// parseRootlessFlag reads --rootless as runc reads it: nil for auto ("" or
// "auto" in any case), else the boolean strconv.ParseBool gives.
func parseRootlessFlag(v string) (*bool, error) {
	if v == "" || strings.EqualFold(v, "auto") {
		return nil, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return nil, fmt.Errorf("--rootless %q: must be auto, true or false", v)
	}
	return &b, nil
}

// checkRootlessFlag refuses a --rootless value runc would refuse.
func checkRootlessFlag(c *cli.Context) error {
	_, err := parseRootlessFlag(c.String("rootless"))
	return err
}
