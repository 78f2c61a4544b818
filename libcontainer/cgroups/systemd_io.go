package cgroups

import (
	"context"
	"fmt"

	systemdDbus "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"
	"github.com/opencontainers/cgroups"
)

// The library's v2 manager tells systemd about memory, cpu, cpuset, pids
// and devices, then writes every cgroup file itself; block I/O it only
// writes. systemd rewrites io.weight and io.max from the unit's properties
// whenever it realizes the unit again (a daemon-reload, a property change
// touching io), so without IO* properties a limit berth wrote could be put
// back to systemd's default under the container, and systemctl show would
// not show it. berth adds them: at start through Cgroup.SystemdProps, on
// update with a SetUnitProperties of its own after the library's Set.
//
// Only on cgroup v2. On v1 systemd's properties are BlockIOWeight,
// BlockIODeviceWeight and BlockIO{Read,Write}Bandwidth (no IOPS); the
// library's legacy manager sends BlockIOWeight and writes the rest to
// blkio.* itself, which is left as it is.

// ioDeviceValue is one entry of IODeviceWeight= or IO*Max=, D-Bus (st).
type ioDeviceValue struct {
	Path  string
	Value uint64
}

// blockPath is how systemd names a block device by number: it parses
// /dev/block/MAJ:MIN without looking for the node (hosts without udev have
// no such links) and maps a partition to its disk.
func blockPath(major, minor int64) string {
	return fmt.Sprintf("/dev/block/%d:%d", major, minor)
}

// ioProperties are r's block I/O settings as systemd unit properties.
// Weights are converted as the library converts blkio.weight (10..1000)
// to io.weight (1..10000) when it writes io.weight, so systemd and the
// kernel agree.
func ioProperties(r *cgroups.Resources) []systemdDbus.Property {
	if r == nil {
		return nil
	}
	var props []systemdDbus.Property
	if r.BlkioWeight != 0 {
		props = append(props, systemdDbus.Property{Name: "IOWeight", Value: dbus.MakeVariant(cgroups.ConvertBlkIOToIOWeightValue(r.BlkioWeight))})
	}
	var weights []ioDeviceValue
	for _, wd := range r.BlkioWeightDevice {
		if wd.Weight != 0 { // leafWeight has no v2 counterpart
			weights = append(weights, ioDeviceValue{blockPath(wd.Major, wd.Minor), cgroups.ConvertBlkIOToIOWeightValue(wd.Weight)})
		}
	}
	if len(weights) > 0 {
		props = append(props, systemdDbus.Property{Name: "IODeviceWeight", Value: dbus.MakeVariant(weights)})
	}
	for _, l := range []struct {
		name string
		devs []*cgroups.ThrottleDevice
	}{
		{"IOReadBandwidthMax", r.BlkioThrottleReadBpsDevice},
		{"IOWriteBandwidthMax", r.BlkioThrottleWriteBpsDevice},
		{"IOReadIOPSMax", r.BlkioThrottleReadIOPSDevice},
		{"IOWriteIOPSMax", r.BlkioThrottleWriteIOPSDevice},
	} {
		if len(l.devs) == 0 {
			continue // an empty list would clear every device's limit
		}
		list := make([]ioDeviceValue, 0, len(l.devs))
		for _, td := range l.devs {
			list = append(list, ioDeviceValue{blockPath(td.Major, td.Minor), td.Rate})
		}
		props = append(props, systemdDbus.Property{Name: l.name, Value: dbus.MakeVariant(list)})
	}
	return props
}

// setUnitIOProperties sets props on unit over a connection of its own: the
// library's is not reachable from here. It is used by update only, so the
// extra connection costs nothing at create.
func setUnitIOProperties(ctx context.Context, unit string, rootless bool, props []systemdDbus.Property) error {
	connect := systemdDbus.NewWithContext
	if rootless {
		connect = systemdDbus.NewUserConnectionContext
	}
	conn, err := connect(ctx)
	if err != nil {
		return fmt.Errorf("cgroup: set io properties of %s: connect to systemd: %w", unit, err)
	}
	defer conn.Close()
	if err := conn.SetUnitPropertiesContext(ctx, unit, true, props...); err != nil {
		return fmt.Errorf("cgroup: set io properties of %s: %w", unit, err)
	}
	return nil
}

// ioPropertiesApply reports whether the IO* properties apply here: the
// systemd driver on a pure cgroup v2 host.
func ioPropertiesApply() bool {
	return cgroups.IsCgroup2UnifiedMode()
}
