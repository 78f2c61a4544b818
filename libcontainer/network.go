package libcontainer

import (
	"github.com/berthrun/berth/libcontainer/network"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// netState is the network part of state.json: what delete must undo.
type netState = network.State

// setupNetwork moves linux.netDevices into the container's new network
// namespace and makes the built-in veth (run.berth.network.* annotations),
// from the parent, once the init's namespace exists and before it goes on.
func (c *Container) setupNetwork(pid int) error {
	cfg := c.st.Config
	if !cfg.NewNamespace(specs.NetworkNamespace) {
		return nil // specconv refused networking for anything else
	}
	veth, err := network.ParseVeth(cfg.Spec.Annotations)
	if err != nil {
		return err
	}
	devs := cfg.Spec.Linux.NetDevices
	if veth == nil && len(devs) == 0 {
		return nil
	}
	c.st.Network = &netState{}
	req := network.Request{
		NetNS:    "/proc/" + pidString(pid) + "/ns/net",
		StateDir: c.dir(),
		HostVeth: network.HostVethName(c.rt.Root, cfg.ID),
		Devices:  devs,
		Veth:     veth,
	}
	return network.Setup(req, c.st.Network, func() error { return c.rt.store().save(c.st) })
}

// teardownNetwork undoes setupNetwork after the container's processes are
// gone. Failures only warn: a device that cannot go back must not keep the
// container from being deleted (dropping the pins lets the kernel return a
// physical device to the initial namespace).
func (c *Container) teardownNetwork() {
	if c.st.Network == nil {
		return
	}
	for _, err := range network.Teardown(c.st.Network, c.dir()) {
		c.rt.warn("delete %s: network: %v", c.st.ID, err)
	}
}
