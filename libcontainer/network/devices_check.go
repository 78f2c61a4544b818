package network

import (
	"fmt"
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// DeviceError is a bad linux.netDevices entry; it prints as specconv's
// field errors do.
type DeviceError struct {
	Field, Value, Msg string
}

func (e *DeviceError) Error() string {
	if e.Value == "" {
		return e.Field + ": " + e.Msg
	}
	return fmt.Sprintf("%s %q: %s", e.Field, e.Value, e.Msg)
}

func deviceField(host string) string { return fmt.Sprintf("linux.netDevices[%q]", host) }

func badDevice(host string, format string, args ...any) error {
	return &DeviceError{Field: deviceField(host), Msg: fmt.Sprintf(format, args...)}
}

func badDeviceName(host, name string, format string, args ...any) error {
	return &DeviceError{Field: deviceField(host) + ".name", Value: name, Msg: fmt.Sprintf(format, args...)}
}

// TargetName is the name a device gets in the container: its name field, or
// its host name when that is empty.
func TargetName(host string, d specs.LinuxNetDevice) string {
	if d.Name != "" {
		return d.Name
	}
	return host
}

// SortedDevices lists linux.netDevices' host names in a fixed order, so that
// devices move, and errors come, the same way every time.
func SortedDevices(devs map[string]specs.LinuxNetDevice) []string {
	names := make([]string, 0, len(devs))
	for n := range devs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// CheckDevices checks linux.netDevices without touching the host: valid
// names, and no two devices (or a device and lo, or the built-in veth's
// eth0 when withVeth) sharing a name in the container. A "%d" template
// never collides: the kernel picks a free number.
func CheckDevices(devs map[string]specs.LinuxNetDevice, withVeth bool) error {
	taken := map[string]string{"lo": "the container's loopback device"}
	if withVeth {
		taken[ContainerVethName] = "the built-in veth (" + AnnotationPrefix + "*)"
	}
	for _, host := range SortedDevices(devs) {
		if err := CheckName(host); err != nil {
			return badDevice(host, "%v", err)
		}
		if IsTemplate(host) {
			return badDevice(host, "the host device must be named exactly (a %%d template only applies to name)")
		}
		name := TargetName(host, devs[host])
		if err := CheckName(name); err != nil {
			return badDeviceName(host, name, "%v", err)
		}
		if IsTemplate(name) {
			continue
		}
		if other, ok := taken[name]; ok && devs[host].Name == "" {
			return badDevice(host, "keeps its name, which collides with %s in the container (set name to another one, or a template such as \"eth%%d\")", other)
		} else if ok {
			return badDeviceName(host, name, "collides with %s in the container (pick another name, or a template such as \"eth%%d\")", other)
		}
		taken[name] = deviceField(host)
	}
	return nil
}
