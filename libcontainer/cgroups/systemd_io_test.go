package cgroups

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/cgroups"
)

func TestIOProperties(t *testing.T) {
	r := &cgroups.Resources{
		BlkioWeight:                  500,
		BlkioWeightDevice:            []*cgroups.WeightDevice{cgroups.NewWeightDevice(8, 0, 10, 0), cgroups.NewWeightDevice(8, 16, 0, 300)},
		BlkioThrottleReadBpsDevice:   []*cgroups.ThrottleDevice{cgroups.NewThrottleDevice(8, 0, 1048576), cgroups.NewThrottleDevice(259, 0, 2097152)},
		BlkioThrottleWriteBpsDevice:  []*cgroups.ThrottleDevice{cgroups.NewThrottleDevice(8, 0, 524288)},
		BlkioThrottleReadIOPSDevice:  []*cgroups.ThrottleDevice{cgroups.NewThrottleDevice(8, 0, 100)},
		BlkioThrottleWriteIOPSDevice: []*cgroups.ThrottleDevice{cgroups.NewThrottleDevice(8, 0, 50)},
	}
	var got []string
	for _, p := range ioProperties(r) {
		switch v := p.Value.Value().(type) {
		case uint64:
			got = append(got, fmt.Sprintf("%s=%d", p.Name, v))
		case []ioDeviceValue:
			for _, d := range v {
				got = append(got, fmt.Sprintf("%s=%s %d", p.Name, d.Path, d.Value))
			}
		default:
			t.Fatalf("%s: unexpected value %T", p.Name, v)
		}
	}
	want := []string{
		// 1 + (500-10)*9999/990, as io.weight gets it from the library.
		"IOWeight=4950",
		// 10 is blkio's minimum, 1 io's; the leaf-only entry has no v2 form.
		"IODeviceWeight=/dev/block/8:0 1",
		"IOReadBandwidthMax=/dev/block/8:0 1048576",
		"IOReadBandwidthMax=/dev/block/259:0 2097152",
		"IOWriteBandwidthMax=/dev/block/8:0 524288",
		"IOReadIOPSMax=/dev/block/8:0 100",
		"IOWriteIOPSMax=/dev/block/8:0 50",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ioProperties:\n got %q\nwant %q", got, want)
	}
	// Nothing set: no property at all (an empty IO*Max list would clear
	// the unit's limits on update).
	if p := ioProperties(&cgroups.Resources{Memory: 1 << 20}); len(p) != 0 {
		t.Errorf("ioProperties without block I/O settings: %v, want none", p)
	}
	if got := ioProperties(&cgroups.Resources{BlkioWeight: 1000}); len(got) != 1 || got[0].Value.Value() != uint64(10000) {
		t.Errorf("ioProperties(weight 1000) = %v, want IOWeight=10000", got)
	}
}

func TestUnitName(t *testing.T) {
	for _, c := range []struct{ prefix, name, want string }{
		{"berth", "abc", "berth-abc.scope"},
		{"", "abc", "-abc.scope"}, // as the library names it
		{"x", "machine-x.slice", "machine-x.slice"},
	} {
		if got := unitName(c.prefix, c.name); got != c.want {
			t.Errorf("unitName(%q, %q) = %q, want %q", c.prefix, c.name, got, c.want)
		}
	}
}

// resetHung forgets a missed deadline of an earlier test.
func resetHung(t *testing.T) {
	t.Cleanup(func() {
		hungMu.Lock()
		errSystemdHung = nil
		hungMu.Unlock()
	})
}

func TestWithSystemdDeadline(t *testing.T) {
	resetHung(t)
	t.Setenv(systemdTimeoutEnv, "100ms")
	block := make(chan struct{})
	defer close(block)
	start := time.Now()
	err := withSystemd("start x.scope", func() error { <-block; return nil })
	if err == nil || !strings.Contains(err.Error(), "systemd did not answer within 100ms (start x.scope)") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("withSystemd of a call that never returns: %v", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("withSystemd returned after %v, want about 100ms", el)
	}
	// Later interactions fail at once with the same error.
	called := false
	if err2 := withSystemd("stop x.scope", func() error { called = true; return nil }); err2 != err || called {
		t.Errorf("after a missed deadline: err %v, called %v; want the first error and no call", err2, called)
	}
}

func TestWithSystemdPassesThrough(t *testing.T) {
	resetHung(t)
	if err := withSystemd("x", func() error { return nil }); err != nil {
		t.Errorf("withSystemd(ok) = %v", err)
	}
	e := fmt.Errorf("cgroup: set resources: %w", os.ErrPermission)
	if err := withSystemd("x", func() error { return e }); err != e {
		t.Errorf("withSystemd(err) = %v, want %v unchanged", err, e)
	}
	t.Setenv(systemdTimeoutEnv, "soon")
	if err := withSystemd("x", func() error { return nil }); err == nil || !strings.Contains(err.Error(), systemdTimeoutEnv+`="soon"`) {
		t.Errorf("withSystemd with a bad %s: %v", systemdTimeoutEnv, err)
	}
}

func TestSystemdConnectError(t *testing.T) {
	_, dialErr := net.Dial("unix", filepath.Join(t.TempDir(), "private"))
	if dialErr == nil {
		t.Fatal("dial of a missing socket succeeded")
	}
	err := systemdConnectError(fmt.Errorf("unable to start unit %q (properties [...]): failed to connect to dbus: %w", "x.scope", dialErr))
	if !strings.HasPrefix(err.Error(), "--systemd-cgroup: cannot connect to systemd (dial unix ") || strings.Contains(err.Error(), "properties") {
		t.Errorf("systemdConnectError: %v", err)
	}
}
