package cgroups

import (
	"fmt"
	"strings"

	devices "github.com/opencontainers/cgroups/devices/config"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

const wildcard = devices.Wildcard

func rule(t devices.Type, major, minor int64, perms string, allow bool) *devices.Rule {
	return &devices.Rule{Type: t, Major: major, Minor: minor, Permissions: devices.Permissions(perms), Allow: allow}
}

// DefaultDeviceRules is the base every container starts from (runc's
// default set): deny everything, then allow the standard /dev nodes and
// mknod of any character or block device (creating a node is harmless
// while opening it is still checked).
func DefaultDeviceRules() []*devices.Rule {
	return []*devices.Rule{
		rule(devices.WildcardDevice, wildcard, wildcard, "rwm", false),
		rule(devices.CharDevice, 1, 3, "rwm", true),          // /dev/null
		rule(devices.CharDevice, 1, 5, "rwm", true),          // /dev/zero
		rule(devices.CharDevice, 1, 7, "rwm", true),          // /dev/full
		rule(devices.CharDevice, 5, 0, "rwm", true),          // /dev/tty
		rule(devices.CharDevice, 1, 8, "rwm", true),          // /dev/random
		rule(devices.CharDevice, 1, 9, "rwm", true),          // /dev/urandom
		rule(devices.CharDevice, 5, 1, "rwm", true),          // /dev/console
		rule(devices.CharDevice, 5, 2, "rwm", true),          // /dev/ptmx
		rule(devices.CharDevice, 136, wildcard, "rwm", true), // /dev/pts/*
		rule(devices.CharDevice, wildcard, wildcard, "m", true),
		rule(devices.BlockDevice, wildcard, wildcard, "m", true),
	}
}

// deviceRules builds the container's device rules: the defaults, then
// linux.resources.devices in order.
//
// linux.devices adds no rule: it says which nodes to create, not which the
// container may open. Access follows the rules alone, as in runc, so a config
// that denies every device and lists /dev/kmsg gets the node but cannot open
// it; Docker and containerd write an allow rule beside each device they add.
//
// A config almost always starts linux.resources.devices with a deny-all
// ({"allow": false, "access": "rwm"}) because runc appends its defaults
// after the config's rules. berth puts its defaults first so that a config
// can also deny a default device (docs/cli.md, where berth differs from
// runc on purpose); a deny-all that comes before any other rule restates
// the base and is skipped, so it does not wipe the defaults. A deny-all
// later in the list is kept and does.
func deviceRules(r *specs.LinuxResources) ([]*devices.Rule, error) {
	out := DefaultDeviceRules()
	if r == nil {
		return out, nil
	}
	leading := true
	for i, d := range r.Devices {
		rl, err := convertDeviceCgroup(i, d)
		if err != nil {
			return nil, err
		}
		if leading && isDenyAll(rl) {
			continue
		}
		leading = false
		out = append(out, rl)
	}
	return out, nil
}

func isDenyAll(r *devices.Rule) bool {
	return !r.Allow && r.Type == devices.WildcardDevice && r.Permissions == "rwm"
}

func convertDeviceCgroup(i int, d specs.LinuxDeviceCgroup) (*devices.Rule, error) {
	path := fmt.Sprintf("linux.resources.devices[%d]", i)
	var t devices.Type
	switch d.Type {
	case "", "a":
		t = devices.WildcardDevice
	case "c":
		t = devices.CharDevice
	case "b":
		t = devices.BlockDevice
	default:
		return nil, fieldError(path+".type", d.Type, "want a, c or b")
	}
	major, minor := int64(wildcard), int64(wildcard)
	if d.Major != nil {
		if *d.Major < wildcard {
			return nil, fieldError(path+".major", *d.Major, "must be a device major number (0 or more), or left out for any")
		}
		major = *d.Major
	}
	if d.Minor != nil {
		if *d.Minor < wildcard {
			return nil, fieldError(path+".minor", *d.Minor, "must be a device minor number (0 or more), or left out for any")
		}
		minor = *d.Minor
	}
	perms, err := canonicalAccess(d.Access)
	if err != nil {
		return nil, fieldError(path+".access", d.Access, "%v", err)
	}
	return rule(t, major, minor, perms, d.Allow), nil
}

// canonicalAccess checks a "rwm" access string and returns it in r, w, m
// order without repeats.
func canonicalAccess(s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("empty; want some of r, w and m")
	}
	var r, w, m bool
	for _, c := range s {
		switch c {
		case 'r':
			r = true
		case 'w':
			w = true
		case 'm':
			m = true
		default:
			return "", fmt.Errorf("%q is not r, w or m", c)
		}
	}
	var b strings.Builder
	if r {
		b.WriteByte('r')
	}
	if w {
		b.WriteByte('w')
	}
	if m {
		b.WriteByte('m')
	}
	return b.String(), nil
}
