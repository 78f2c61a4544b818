package network

// State is what the container's saved state records about its network, so
// that delete (also after a killed create) can undo it. Every name in it is
// written before the thing it names is made.
type State struct {
	// Pinned says that bind mounts of the container's and the creator's
	// network namespaces live in the container's state directory (as
	// "netns" and "hostns", see Setup) while moved devices are in them.
	Pinned bool `json:"pinned,omitempty"`
	// Devices are the linux.netDevices moved into the container.
	Devices []Device `json:"devices,omitempty"`
	// HostVeth is the host end of the built-in veth; Bridge its bridge.
	HostVeth string `json:"hostVeth,omitempty"`
	Bridge   string `json:"bridge,omitempty"`
}

// Device is one host device moved into the container, with what is needed
// to give it back as it was.
type Device struct {
	HostName string `json:"hostName"`
	// Name is the name inside; Index its index there, 0 until it moved.
	Name  string `json:"name"`
	Index int    `json:"index,omitempty"`
	// Addrs are the permanent global addresses it had on the host, which
	// a move between namespaces strips.
	Addrs []Address `json:"addrs,omitempty"`
	// Up is whether it was up on the host.
	Up bool `json:"up,omitempty"`
}

// Address is one address of a device: "IP/prefix" and its IFA_F_* flags.
type Address struct {
	CIDR  string `json:"cidr"`
	Flags int    `json:"flags,omitempty"`
}
