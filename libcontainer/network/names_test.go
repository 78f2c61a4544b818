package network

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestCheckName(t *testing.T) {
	for _, tc := range []struct {
		name    string
		wantErr string
	}{
		{"eth0", ""},
		{"a-15-bytes-name", ""},
		{"eth%d", ""},
		{"", "empty"},
		{"a-16-bytes-name0", "15 bytes"},
		{".", "not a valid"},
		{"..", "not a valid"},
		{"a/b", "'/'"},
		{"a:b", "':'"},
		{"a b", "white space"},
		{"a\tb", "white space"},
		{"a%s", "pattern"},
		{"a%d%d", "pattern"},
	} {
		err := CheckName(tc.name)
		if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("CheckName(%q) = %v, want error containing %q", tc.name, err, tc.wantErr)
		}
	}
}

func TestHostVethName(t *testing.T) {
	a := HostVethName("/run/berth", "web")
	if len(a) > maxNameLen || !strings.HasPrefix(a, "berth") || CheckName(a) != nil {
		t.Errorf("HostVethName = %q: not a valid berth interface name", a)
	}
	if a != HostVethName("/run/berth", "web") {
		t.Error("HostVethName is not deterministic")
	}
	for _, other := range []string{HostVethName("/run/berth", "db"), HostVethName("/run/other", "web")} {
		if other == a {
			t.Errorf("two containers share the veth name %q", a)
		}
	}
}

func TestCheckDevices(t *testing.T) {
	type devs = map[string]specs.LinuxNetDevice
	for _, tc := range []struct {
		name     string
		devs     devs
		withVeth bool
		wantErr  string
	}{
		{name: "none", devs: nil},
		{name: "keep names", devs: devs{"eth1": {}, "eth2": {}}},
		{name: "rename", devs: devs{"eth1": {Name: "ext0"}, "eth2": {Name: "ext1"}}},
		{name: "templates never collide", devs: devs{"eth1": {Name: "ext%d"}, "eth2": {Name: "ext%d"}}},
		{name: "eth0 without veth", devs: devs{"eth1": {Name: "eth0"}}},
		{name: "eth0 with veth", devs: devs{"eth1": {Name: "eth0"}}, withVeth: true,
			wantErr: `linux.netDevices["eth1"].name "eth0": collides with the built-in veth`},
		{name: "kept eth0 with veth", devs: devs{"eth0": {}}, withVeth: true,
			wantErr: `linux.netDevices["eth0"]: keeps its name, which collides with the built-in veth`},
		{name: "lo", devs: devs{"eth1": {Name: "lo"}}, wantErr: "loopback"},
		{name: "same target", devs: devs{"eth1": {Name: "x"}, "eth2": {Name: "x"}},
			wantErr: `linux.netDevices["eth2"].name "x": collides with linux.netDevices["eth1"]`},
		{name: "target is another's kept name", devs: devs{"eth1": {Name: "eth2"}, "eth2": {}},
			wantErr: `linux.netDevices["eth2"]: keeps its name`},
		{name: "host template", devs: devs{"eth%d": {}}, wantErr: "named exactly"},
		{name: "bad host name", devs: devs{"a b": {}}, wantErr: `linux.netDevices["a b"]: interface names cannot contain white space`},
		{name: "bad target", devs: devs{"eth1": {Name: "a:b"}}, wantErr: `linux.netDevices["eth1"].name "a:b"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckDevices(tc.devs, tc.withVeth)
			if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("CheckDevices = %v, want error containing %q", err, tc.wantErr)
			}
		})
	}
}
