package cgroups

import (
	"reflect"
	"testing"

	"github.com/opencontainers/cgroups"
	devices "github.com/opencontainers/cgroups/devices/config"
)

// props flattens the generator's properties to name=value strings.
func props(t *testing.T, r *cgroups.Resources, sdVer int) []string {
	t.Helper()
	ps, err := systemdDeviceProps(r, sdVer)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range ps {
		switch v := p.Value.Value().(type) {
		case string:
			out = append(out, p.Name+"="+v)
		case []deviceAllow:
			if len(v) == 0 {
				out = append(out, p.Name+"=")
			}
			for _, a := range v {
				out = append(out, p.Name+"="+a.Path+" "+a.Access)
			}
		default:
			t.Fatalf("%s: unexpected value %T", p.Name, v)
		}
	}
	return out
}

func TestSystemdDeviceProps(t *testing.T) {
	rules := append(DefaultDeviceRules(),
		rule('c', 1, 3, "w", false), // /dev/null read-only
		rule('c', 10, 200, "rw", true),
		rule('b', 8, wildcard, "r", true),
		rule('c', wildcard, 5, "r", true), // no systemd form: widened
	)
	got := props(t, &cgroups.Resources{Devices: rules}, 252)
	want := []string{
		"DeviceAllow=", "DevicePolicy=strict",
		"DeviceAllow=/dev/char/1:3 rm", "DeviceAllow=/dev/char/1:5 rwm", "DeviceAllow=/dev/char/1:7 rwm",
		"DeviceAllow=/dev/char/5:0 rwm", "DeviceAllow=/dev/char/1:8 rwm", "DeviceAllow=/dev/char/1:9 rwm",
		"DeviceAllow=/dev/char/5:1 rwm", "DeviceAllow=/dev/char/5:2 rwm", "DeviceAllow=char-136 rwm",
		"DeviceAllow=char-* m", "DeviceAllow=block-* m", "DeviceAllow=/dev/char/10:200 rw",
		"DeviceAllow=block-8 r", "DeviceAllow=char-* r",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("properties\n got %q\nwant %q", got, want)
	}
	// Old systemd: anything with a number is widened to the whole type.
	old := props(t, &cgroups.Resources{Devices: []*devices.Rule{rule('c', 1, 3, "rwm", true), rule('b', 8, wildcard, "r", true)}}, 239)
	if want := []string{"DeviceAllow=", "DevicePolicy=strict", "DeviceAllow=char-* rwm", "DeviceAllow=block-* r"}; !reflect.DeepEqual(old, want) {
		t.Errorf("systemd 239\n got %q\nwant %q", old, want)
	}
	// Default allow with denies: systemd lets all through, berth denies.
	bl := props(t, &cgroups.Resources{Devices: []*devices.Rule{rule('a', wildcard, wildcard, "rwm", true), rule('b', 8, 0, "w", false)}}, 252)
	if want := []string{"DeviceAllow=", "DevicePolicy=auto"}; !reflect.DeepEqual(bl, want) {
		t.Errorf("default allow\n got %q\nwant %q", bl, want)
	}
	if ps, err := systemdDeviceProps(&cgroups.Resources{SkipDevices: true, Devices: rules}, 252); err != nil || ps != nil {
		t.Errorf("SkipDevices: %v, %v; want nothing", ps, err)
	}
}
