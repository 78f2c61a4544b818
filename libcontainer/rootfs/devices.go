package rootfs

import (
	"errors"
	"fmt"
	"github.com/berthrun/berth/internal/wire"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// defaultDevices are the nodes every container gets (config-linux.md,
// "Default Devices"), unless linux.devices lists the same path.
var defaultDevices = []specs.LinuxDevice{
	{Path: "/dev/null", Type: "c", Major: 1, Minor: 3},
	{Path: "/dev/zero", Type: "c", Major: 1, Minor: 5},
	{Path: "/dev/full", Type: "c", Major: 1, Minor: 7},
	{Path: "/dev/random", Type: "c", Major: 1, Minor: 8},
	{Path: "/dev/urandom", Type: "c", Major: 1, Minor: 9},
	{Path: "/dev/tty", Type: "c", Major: 5, Minor: 0},
}

// defaultDeviceMode is the mode of a node whose spec gives none.
const defaultDeviceMode = 0o666

// needsDev reports whether /dev is ours to populate: not when the spec
// binds a host directory there (then it is the host's, as-is).
func needsDev(mounts []specs.Mount) bool {
	for _, m := range mounts {
		if filepath.Clean("/"+m.Destination) != "/dev" {
			continue
		}
		o, err := ParseOptions(m.Options)
		if m.Type == "bind" || (err == nil && o.Flags&unix.MS_BIND != 0) {
			return false
		}
	}
	return true
}

// setupDev creates the device nodes and the standard /dev symlinks.
func (t *tree) setupDev(p *Plan) error {
	for _, d := range missingDefaults(p.Devices) {
		if err := t.createDevice(&d, p.BindDevices); err != nil {
			return fmt.Errorf("default device %q: %w", d.Path, err)
		}
	}
	for i := range p.Devices {
		if err := t.createDevice(&p.Devices[i], p.BindDevices); err != nil {
			return fmt.Errorf("linux.devices[%d] %q: %w", i, p.Devices[i].Path, err)
		}
	}
	if err := t.devSymlinks(); err != nil {
		return fmt.Errorf("/dev symlinks: %w", err)
	}
	return nil
}

// missingDefaults returns the default devices that devices does not list.
func missingDefaults(devices []specs.LinuxDevice) []specs.LinuxDevice {
	listed := map[string]bool{}
	for _, d := range devices {
		listed[filepath.Clean("/"+d.Path)] = true
	}
	var missing []specs.LinuxDevice
	for _, d := range defaultDevices {
		if !listed[d.Path] {
			missing = append(missing, d)
		}
	}
	return missing
}

// deviceFileType maps the spec's device type to S_IFMT bits.
func deviceFileType(typ string) (uint32, error) {
	switch typ {
	case "c", "u":
		return unix.S_IFCHR, nil
	case "b":
		return unix.S_IFBLK, nil
	case "p":
		return unix.S_IFIFO, nil
	}
	return 0, fmt.Errorf("unknown device type %q", typ)
}

// createDevice makes one device node inside the root. In a user namespace
// mknod is not allowed, so the host's node is bind-mounted instead.
func (t *tree) createDevice(d *specs.LinuxDevice, inUserNS bool) error {
	typ, err := deviceFileType(d.Type)
	if err != nil {
		return err
	}
	path, err := t.canonical(d.Path)
	if err != nil {
		return err
	}
	if path == "/" {
		return fmt.Errorf("device path is the root")
	}
	dir, err := t.mkdirAll(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer dir.Close()
	name := filepath.Base(path)
	if inUserNS {
		return bindDevice(dir, name, d, typ)
	}
	return makeDevice(dir, name, d, typ)
}

// makeDevice creates the node with mknod, replacing whatever non-directory
// the image put there, and sets its mode and owner.
func makeDevice(dir *os.File, name string, d *specs.LinuxDevice, typ uint32) error {
	rdev := int(unix.Mkdev(uint32(d.Major), uint32(d.Minor)))
	if typ == unix.S_IFIFO {
		rdev = 0
	}
	err := unix.Mknodat(int(dir.Fd()), name, typ|0o600, rdev)
	if errors.Is(err, unix.EEXIST) {
		// An image may ship its own /dev/null as a regular file; the spec's
		// node must win.
		if err = unix.Unlinkat(int(dir.Fd()), name, 0); err == nil {
			err = unix.Mknodat(int(dir.Fd()), name, typ|0o600, rdev)
		}
	}
	if err != nil {
		return wire.Failed(wire.StepRfMknod, err)
	}
	node, err := openNode(dir, name, typ, uint64(rdev))
	if err != nil {
		return err
	}
	defer node.Close()
	return setOwnerAndMode(node, d)
}

// openNode opens name in dir without following it and checks it is the
// expected device node, so chmod and chown cannot land on anything else.
func openNode(dir *os.File, name string, typ uint32, rdev uint64) (*os.File, error) {
	fd, err := unix.Openat(int(dir.Fd()), name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, wire.Failed(wire.StepRfOpenNode, err)
	}
	node := os.NewFile(uintptr(fd), name)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		node.Close()
		return nil, wire.Failed(wire.StepRfStatNode, err)
	}
	if st.Mode&unix.S_IFMT != typ || (typ != unix.S_IFIFO && st.Rdev != rdev) {
		node.Close()
		return nil, wire.Failed(wire.StepRfNodeWasReplaced, nil)
	}
	return node, nil
}

func setOwnerAndMode(node *os.File, d *specs.LinuxDevice) error {
	mode, uid, gid := deviceModeOwner(d)
	if err := unix.Fchownat(int(node.Fd()), "", int(uid), int(gid), unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return wire.Failed(wire.StepRfChown, err)
	}
	// chmod through the magic link: mknod's mode is subject to the umask,
	// and an O_PATH handle cannot be fchmod'ed.
	if err := unix.Chmod(procFd(node), mode); err != nil {
		return wire.Failed(wire.StepRfChmod, err)
	}
	return nil
}

// deviceModeOwner is the node's permission bits and owner, with the
// defaults for what the spec leaves out (mode 0666, root).
func deviceModeOwner(d *specs.LinuxDevice) (mode, uid, gid uint32) {
	mode = defaultDeviceMode
	if d.FileMode != nil {
		mode = uint32(d.FileMode.Perm())
	}
	if d.UID != nil {
		uid = *d.UID
	}
	if d.GID != nil {
		gid = *d.GID
	}
	return mode, uid, gid
}

// bindDevice bind-mounts the host's node of the same path over an empty
// file, for containers in a user namespace where mknod is denied.
func bindDevice(dir *os.File, name string, d *specs.LinuxDevice, typ uint32) error {
	fd, err := unix.Open(d.Path, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return wire.Failed(wire.StepRfOpenHostNode, err)
	}
	host := os.NewFile(uintptr(fd), d.Path)
	defer host.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return wire.Failed(wire.StepRfStatHostNode, err)
	}
	if st.Mode&unix.S_IFMT != typ {
		return fmt.Errorf("the host's %s is not a device of type %q", d.Path, d.Type)
	}
	dst, err := createFileAt(dir, name, name)
	if err != nil {
		return err
	}
	defer dst.Close()
	if err := unix.Mount(procFd(host), procFd(dst), "", unix.MS_BIND, ""); err != nil {
		return wire.Failed(wire.StepRfBindHostNode, err)
	}
	return nil
}

// devSymlinks adds the standard links of /dev. /dev/ptmx must point into
// the container's devpts instance, whatever the image had there.
func (t *tree) devSymlinks() error {
	dev, err := t.mkdirAll("/dev")
	if err != nil {
		return err
	}
	defer dev.Close()
	links := [][2]string{
		{"fd", "/proc/self/fd"},
		{"stdin", "/proc/self/fd/0"},
		{"stdout", "/proc/self/fd/1"},
		{"stderr", "/proc/self/fd/2"},
	}
	if _, err := os.Lstat("/proc/kcore"); err == nil {
		links = append(links, [2]string{"core", "/proc/kcore"})
	}
	if err := unix.Unlinkat(int(dev.Fd()), "ptmx", 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return wire.Failed(wire.StepRfRemovePtmx, err)
	}
	links = append(links, [2]string{"ptmx", "pts/ptmx"})
	for _, l := range links {
		err := unix.Symlinkat(l[1], int(dev.Fd()), l[0])
		if err != nil && !errors.Is(err, unix.EEXIST) {
			return wire.Failed(wire.StepSymlink, err, l[0], l[1])
		}
	}
	return nil
}
