package cgroups

import (
	"fmt"
	"strconv"

	systemdDbus "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"
	"github.com/opencontainers/cgroups"
	devices "github.com/opencontainers/cgroups/devices/config"
	"github.com/opencontainers/cgroups/systemd"
)

// The systemd driver turns device rules into the unit's DevicePolicy and
// DeviceAllow, and refuses every config that has device rules when no
// generator is registered ("cgroup manager is not configured to set device
// rules"). The library's generator lives in the package that also registers
// its own v1/v2 setters in place of berth's and pulls in an eBPF library
// (cilium/ebpf), go/parser, compress/flate, zstd and dwarf: importing it
// added 13 package inits (~0.3-0.45 ms, 15.7 KB, 42 allocations) to every
// berth command and 392 KB to the binary (docs/performance.md). This one
// reuses the v1 model (devState) and adds no package init at all.
func init() {
	if systemd.GenerateDeviceProps == nil {
		systemd.GenerateDeviceProps = systemdDeviceProps
	}
}

// deviceAllow is one DeviceAllow= entry, D-Bus type (ss).
type deviceAllow struct {
	Path   string
	Access string
}

// systemdDeviceProps is what systemd is told about r's device rules. After
// setting the properties the library's managers also apply the rules
// themselves (berth's eBPF program on v2, devices.allow/deny on v1), and the
// kernel lets an access through only if both agree. So where systemd's
// syntax cannot say exactly what the rules say, it is told something wider
// and berth's own filter keeps the access exact; it is never told anything
// narrower, which would deny what the config allows:
//   - a default-allow rule set ("a *:* rwm" allowed, then denies) has no
//     DeviceAllow form: DevicePolicy=auto with no entries lets all through
//     systemd, and the denies are berth's alone;
//   - "c *:5 rw" (any major, one minor) becomes "char-*" with that access;
//   - before systemd v240, which knows neither /dev/char/M:m of absent nodes
//     nor char-M, a rule with a number in it becomes "char-*" likewise.
func systemdDeviceProps(r *cgroups.Resources, sdVer int) ([]systemdDbus.Property, error) {
	if r.SkipDevices {
		return nil, nil
	}
	st := emulateDevices(r.Devices)
	allow := []deviceAllow{}
	if st.allowAll {
		return []systemdDbus.Property{
			// An empty DeviceAllow first clears what the unit had.
			{Name: "DeviceAllow", Value: dbus.MakeVariant(allow)},
			{Name: "DevicePolicy", Value: dbus.MakeVariant("auto")},
		}, nil
	}
	for _, k := range st.order {
		path, err := systemdDevicePath(k, sdVer)
		if err != nil {
			return nil, err
		}
		allow = append(allow, deviceAllow{Path: path, Access: accessString(st.exceptions[k])})
	}
	return []systemdDbus.Property{
		{Name: "DeviceAllow", Value: dbus.MakeVariant([]deviceAllow{})},
		// strict: only what DeviceAllow names, not even /dev/null (closed
		// would add the pseudo devices berth's defaults list anyway).
		{Name: "DevicePolicy", Value: dbus.MakeVariant("strict")},
		{Name: "DeviceAllow", Value: dbus.MakeVariant(allow)},
	}, nil
}

// systemdDevicePath is the DeviceAllow= path of the exception k: a node
// path for one device, "char-M" or "block-M" for a whole major, "char-*" or
// "block-*" for all of a type.
func systemdDevicePath(k devKey, sdVer int) (string, error) {
	var group, dir string
	switch k.typ {
	case devices.CharDevice:
		group, dir = "char-", "/dev/char/"
	case devices.BlockDevice:
		group, dir = "block-", "/dev/block/"
	default:
		return "", fmt.Errorf("device rule %s: no DeviceAllow form for this type", k.String(accAll))
	}
	switch {
	case k.major == wildcard || sdVer < 240:
		return group + "*", nil
	case k.minor == wildcard:
		return group + strconv.FormatInt(k.major, 10), nil
	default:
		return dir + strconv.FormatInt(k.major, 10) + ":" + strconv.FormatInt(k.minor, 10), nil
	}
}
