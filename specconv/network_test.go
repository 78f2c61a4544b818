package specconv

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestCheckNetwork(t *testing.T) {
	addr := map[string]string{"run.berth.network.address": "10.88.0.2/24"}
	devs := map[string]specs.LinuxNetDevice{"eth1": {Name: "ext0"}}
	for _, tc := range []struct {
		name    string
		opts    Options
		mutate  func(s *specs.Spec)
		wantErr string
	}{
		{name: "no networking", mutate: func(*specs.Spec) {}},
		{name: "veth", mutate: func(s *specs.Spec) { s.Annotations = addr }},
		{name: "devices", mutate: func(s *specs.Spec) { s.Linux.NetDevices = devs }},
		{name: "devices and veth", mutate: func(s *specs.Spec) { s.Annotations, s.Linux.NetDevices = addr, devs }},
		{name: "bad annotation", mutate: func(s *specs.Spec) {
			s.Annotations = map[string]string{"run.berth.network.address": "nonsense"}
		}, wantErr: `annotations["run.berth.network.address"] "nonsense": not an IPv4 address`},
		{name: "devices without netns", mutate: func(s *specs.Spec) {
			s.Linux.NetDevices = devs
			s.Linux.Namespaces = withoutNamespace(s.Linux.Namespaces, specs.NetworkNamespace)
		}, wantErr: `linux.netDevices: needs a new network namespace (add {"type":"network"}`},
		{name: "veth without netns", mutate: func(s *specs.Spec) {
			s.Annotations = addr
			s.Linux.Namespaces = withoutNamespace(s.Linux.Namespaces, specs.NetworkNamespace)
		}, wantErr: `annotations["run.berth.network.address"]: needs a new network namespace`},
		{name: "devices in joined netns", mutate: func(s *specs.Spec) {
			s.Linux.NetDevices = devs
			s.Linux.Namespaces = withNamespace(s.Linux.Namespaces, specs.NetworkNamespace, "/proc/self/ns/net")
		}, wantErr: "linux.netDevices: needs a new network namespace, not the one joined at linux.namespaces[1].path"},
		{name: "veth in joined netns", mutate: func(s *specs.Spec) {
			s.Annotations = map[string]string{"run.berth.network.address6": "fd00::2/64"}
			s.Linux.Namespaces = withNamespace(s.Linux.Namespaces, specs.NetworkNamespace, "/proc/self/ns/net")
		}, wantErr: `annotations["run.berth.network.address6"]: needs a new network namespace, not the one joined`},
		{name: "rootless", opts: Options{Rootless: true}, mutate: func(s *specs.Spec) {
			ToRootless(s) // which drops the network namespace: give it one back
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.NetworkNamespace})
			s.Linux.NetDevices = devs
		}, wantErr: "linux.netDevices: needs root"},
		{name: "device collides with eth0", mutate: func(s *specs.Spec) {
			s.Annotations = addr
			s.Linux.NetDevices = map[string]specs.LinuxNetDevice{"eth1": {Name: "eth0"}}
		}, wantErr: `linux.netDevices["eth1"].name "eth0": collides with the built-in veth`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bundle := newBundle(t)
			s := Example()
			tc.mutate(s)
			err := Validate(s, bundle, tc.opts)
			if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("Validate = %v, want error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestSetNetwork(t *testing.T) {
	for _, tc := range []struct {
		value   string
		want    map[string]string
		wantErr string
	}{
		{value: ""},
		{value: "10.88.0.5/24", want: map[string]string{
			"address": "10.88.0.5/24", "gateway": "10.88.0.1", "bridge": "berth0"}},
		{value: "fd88::5/64,bridge=br1,mtu=1500", want: map[string]string{
			"address6": "fd88::5/64", "gateway6": "fd88::1", "bridge": "br1", "mtu": "1500"}},
		{value: "address=10.88.0.5/24, gateway=10.88.0.254", want: map[string]string{
			"address": "10.88.0.5/24", "gateway": "10.88.0.254", "bridge": "berth0"}},
		{value: "10.88.0.5/24,10.88.0.6/24", wantErr: "address given twice"},
		{value: "bridge=br1", wantErr: "needs run.berth.network.address"},
		{value: "10.88.0.5/24,color=red", wantErr: `annotations["run.berth.network.color"]`},
		{value: "10.88.0.5", wantErr: `--network "10.88.0.5": annotations["run.berth.network.address"]`},
	} {
		s := Example()
		err := SetNetwork(s, tc.value)
		if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("SetNetwork(%q) = %v, want error containing %q", tc.value, err, tc.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		got := map[string]string{}
		for k, v := range s.Annotations {
			got[strings.TrimPrefix(k, "run.berth.network.")] = v
		}
		if len(got) != len(tc.want) {
			t.Errorf("SetNetwork(%q) annotations %v, want %v", tc.value, got, tc.want)
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("SetNetwork(%q) %s = %q, want %q", tc.value, k, got[k], v)
			}
		}
	}
}
