package rootfs

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Check refuses, in the parent and before anything is made, a root that
// no builder could make: the errors the Go builder used to find only once
// it ran inside the container, in its words, so that the user gets them as
// one line with nothing left behind. The C program (CompileC) is then
// given only plans it can carry out.
func Check(p *Plan, s *CSettings) error {
	if !kernelHasOpenat2() {
		// crootfs.c resolves every path in the root with openat2
		// RESOLVE_IN_ROOT; without it no path could be resolved safely.
		return errors.New("rootfs: this kernel has no openat2: berth needs Linux 5.6 or later")
	}
	if !filepath.IsAbs(p.Root) {
		return fmt.Errorf("rootfs: root %q is not an absolute path", p.Root)
	}
	if _, err := rootPropagation(p.Propagation); err != nil {
		return fmt.Errorf("rootfs: %w", err)
	}
	if err := checkSysctl(s.Sysctl); err != nil {
		return err
	}
	if !s.OwnMounts {
		return nil // nothing is mounted
	}
	for i := range p.Mounts {
		m := &p.Mounts[i]
		if err := checkMount(m); err != nil {
			return fmt.Errorf("rootfs: mounts[%d] destination %q: %w", i, m.Destination, err)
		}
	}
	if !needsDev(p.Mounts) {
		return nil
	}
	for i, d := range p.Devices {
		if _, err := deviceFileType(d.Type); err != nil {
			return fmt.Errorf("rootfs: linux.devices[%d] %q: %w", i, d.Path, err)
		}
	}
	return nil
}

// checkSysctl: a key is written as the path below /proc/sys it names
// ("." or "/" between its parts, as sysctl(8) takes it); an empty part
// names no file.
func checkSysctl(sysctl map[string]string) error {
	for key := range sysctl {
		for _, part := range strings.Split(strings.ReplaceAll(key, ".", "/"), "/") {
			if part == "" || part == ".." || strings.IndexByte(part, 0) >= 0 {
				return fmt.Errorf("linux.sysctl[%q]: not a sysctl name", key)
			}
		}
	}
	return nil
}

// checkMount is mountOne's refusals, in its order.
func checkMount(m *specs.Mount) error {
	o, err := ParseOptions(m.Options)
	if err != nil {
		return err
	}
	if m.Type == "bind" {
		o.Flags |= unix.MS_BIND
	}
	switch {
	case filepath.Clean("/"+m.Destination) == "/":
		return errors.New("mounting over the container root is not supported")
	case o.TmpCopyUp && m.Type != "tmpfs":
		return fmt.Errorf("tmpcopyup only applies to tmpfs mounts, not %q", m.Type)
	case o.Flags&unix.MS_REMOUNT != 0:
		return nil // the mount exists: nothing to find
	case o.Flags&unix.MS_BIND != 0:
		if m.Source == "" {
			return errors.New("bind mount without a source")
		}
	case m.Type == "cgroup":
		var st unix.Statfs_t
		if err := unix.Statfs("/sys/fs/cgroup", &st); err != nil {
			return fmt.Errorf("statfs /sys/fs/cgroup: %w", err)
		}
	case m.Type == "":
		return errors.New("mount type is empty")
	}
	return nil
}

var openat2Probe = sync.OnceValue(func() bool {
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT}
	fd, err := unix.Openat2(unix.AT_FDCWD, "/", &how)
	if err == nil {
		unix.Close(fd)
	}
	return !errors.Is(err, unix.ENOSYS)
})

func kernelHasOpenat2() bool { return openat2Probe() }
