package network

import (
	"path/filepath"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Request is the network a container's config asks for.
type Request struct {
	// NetNS is the container's new network namespace (/proc/<pid>/ns/net).
	NetNS string
	// StateDir is the container's state directory, where pins live.
	StateDir string
	// HostVeth names the veth's host end (HostVethName).
	HostVeth string
	Devices  map[string]specs.LinuxNetDevice
	Veth     *Veth // nil: no built-in veth
}

// Setup configures the container's namespace from the host side: it moves
// the linux.netDevices in, then makes the veth. Everything is looked up and
// checked before anything changes, and st records each thing (save writes
// it to disk) before it is made, so that Teardown can undo a create killed
// at any point.
//
// With moved devices both namespaces are pinned by bind mounts in the
// state directory: the container's so that a device outlives the
// container's processes and is given back at delete (the kernel would
// otherwise destroy a virtual one, or drop a physical one into the initial
// namespace), berth's so that it goes back where it came from whichever
// namespace delete runs in.
func Setup(req Request, st *State, save func() error) error {
	host, err := openNS(hostNSPath)
	if err != nil {
		return err
	}
	defer host.Close()
	ctr, err := openNS(req.NetNS)
	if err != nil {
		return err
	}
	defer ctr.Close()
	if err := plan(host, req, st); err != nil {
		return err
	}
	if err := save(); err != nil {
		return err
	}
	if len(st.Devices) > 0 {
		if err := moveDevices(host, ctr, req, st, save); err != nil {
			return err
		}
	}
	if req.Veth != nil {
		return setupVeth(host, ctr, req.Veth, st.HostVeth)
	}
	return nil
}

// plan reads the devices and checks the veth's addresses, then fills st
// with the names of everything Setup is about to make.
func plan(host *nsHandle, req Request, st *State) error {
	for _, name := range SortedDevices(req.Devices) {
		dev, err := readDevice(host, name, req.Devices[name])
		if err != nil {
			return err
		}
		st.Devices = append(st.Devices, dev)
	}
	if req.Veth != nil {
		if err := checkClaims(host, req.Veth, ""); err != nil {
			return err
		}
		st.HostVeth, st.Bridge = req.HostVeth, req.Veth.Bridge
	}
	st.Pinned = len(st.Devices) > 0
	return nil
}

// moveDevices pins both namespaces and moves each device in, then saves
// the indexes and names the devices got inside.
func moveDevices(host, ctr *nsHandle, req Request, st *State, save func() error) error {
	ctrPin, hostPin := pins(req.StateDir)
	if err := pin(req.NetNS, ctrPin); err != nil {
		return err
	}
	if err := pin(hostNSPath, hostPin); err != nil {
		return err
	}
	for i := range st.Devices {
		if err := moveIn(host, ctr, &st.Devices[i]); err != nil {
			return err
		}
	}
	return save()
}

// pins are the files in the state directory that pin the container's and
// the creator's network namespaces. They are derived, never read from the
// saved state, so that a damaged state.json cannot point delete at some
// other mount.
func pins(stateDir string) (ctr, host string) {
	return filepath.Join(stateDir, "netns"), filepath.Join(stateDir, "hostns")
}

// Teardown undoes Setup as far as st records it: it deletes the veth, gives
// the moved devices back to the namespace they came from and drops the
// pins. It carries on past failures and returns each of them.
func Teardown(st *State, stateDir string) []error {
	ctrPin, hostPin := pins(stateDir)
	hostPath := hostNSPath
	if st.Pinned && pinned(hostPin) {
		hostPath = hostPin
	}
	var errs []error
	if host, err := openNS(hostPath); err != nil {
		errs = append(errs, err)
	} else {
		if st.HostVeth != "" {
			errs = append(errs, removeVeth(host, st.HostVeth))
		}
		if st.Pinned && pinned(ctrPin) {
			errs = append(errs, returnDevices(host, ctrPin, st)...)
		}
		host.Close()
	}
	if st.Pinned {
		errs = append(errs, unpin(ctrPin), unpin(hostPin))
	}
	return slices.DeleteFunc(errs, func(err error) bool { return err == nil })
}

func returnDevices(host *nsHandle, ctrPin string, st *State) []error {
	ctr, err := openNS(ctrPin)
	if err != nil {
		return []error{err}
	}
	defer ctr.Close()
	var errs []error
	for i := range st.Devices {
		errs = append(errs, moveOut(host, ctr, &st.Devices[i]))
	}
	return errs
}
