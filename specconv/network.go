package specconv

import (
	"fmt"
	"maps"
	"strings"

	"github.com/berthrun/berth/libcontainer/network"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// checkNetwork checks linux.netDevices and the run.berth.network.*
// annotations of the built-in veth. Both change a network namespace from
// the host side, so both need a new one: berth does not reconfigure a
// namespace it joined (it belongs to someone else, a pod for instance) and
// must not touch its own.
func checkNetwork(spec *specs.Spec, ns namespaceSet, opts Options) error {
	veth, err := network.ParseVeth(spec.Annotations)
	if err != nil {
		return err
	}
	devs := spec.Linux.NetDevices
	if veth == nil && len(devs) == 0 {
		return nil
	}
	field := "linux.netDevices"
	if len(devs) == 0 {
		field = "annotations[\"" + veth.Key + "\"]"
	}
	netns, i, ok := ns.lookup(specs.NetworkNamespace)
	switch {
	case !ok:
		return badField(field, "needs a new network namespace (add {\"type\":\"network\"} to linux.namespaces)")
	case netns.Path != "":
		return badField(field, "needs a new network namespace, not the one joined at %s (berth only configures namespaces it creates)",
			at("linux.namespaces", i, "path"))
	case opts.Rootless:
		return badField(field, "needs root: an unprivileged user cannot move host devices or make veths on the host")
	}
	return network.CheckDevices(devs, veth != nil)
}

// SetNetwork adds the run.berth.network.* annotations that `berth spec
// --network` asks for. value is a comma-separated list of key=value pairs,
// the keys being the annotations' last parts (bridge, address, gateway,
// address6, gateway6, mtu); a bare CIDR is the address of its family:
//
//	10.88.0.2/24,fd00:88::2/64,bridge=br0
func SetNetwork(spec *specs.Spec, value string) error {
	if value == "" {
		return nil
	}
	ann := map[string]string{}
	for _, item := range strings.Split(value, ",") {
		key, val, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok {
			key, val = "address", key
			if strings.Contains(val, ":") {
				key = "address6"
			}
		}
		full := network.AnnotationPrefix + key
		if _, dup := ann[full]; dup {
			return fmt.Errorf("--network %q: %s given twice", value, key)
		}
		ann[full] = val
	}
	v, err := network.ParseVeth(ann)
	if err != nil {
		return fmt.Errorf("--network %q: %w", value, err)
	}
	if v == nil {
		return fmt.Errorf("--network %q: needs an address (such as 10.88.0.2/24)", value)
	}
	// Spell the defaults out, so that config.json shows the whole setup.
	ann[network.KeyBridge] = v.Bridge
	if v.Addr.IsValid() {
		ann[network.KeyGateway] = v.Gateway.String()
	}
	if v.Addr6.IsValid() {
		ann[network.KeyGateway6] = v.Gateway6.String()
	}
	if spec.Annotations == nil {
		spec.Annotations = map[string]string{}
	}
	maps.Copy(spec.Annotations, ann)
	return nil
}
