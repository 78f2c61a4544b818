package libcontainer

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// AppArmorEnabled reports whether the kernel runs AppArmor. A profile
// asked for on a host without it is an error (as in runc): the container
// would otherwise run unconfined.
func AppArmorEnabled() bool {
	b, err := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	return err == nil && strings.HasPrefix(string(b), "Y")
}

// SELinuxEnabled reports whether the kernel runs SELinux: selinuxfs is
// only registered when it does. It reads the verified procfs, so the init
// and an exec'd process can ask from inside the container's mounts.
func SELinuxEnabled() bool {
	h, err := procHandle()
	if err != nil {
		return false
	}
	f, err := h.OpenFile("filesystems", os.O_RDONLY)
	if err != nil {
		return false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if fields := strings.Fields(s.Text()); len(fields) > 0 && fields[len(fields)-1] == "selinuxfs" {
			return true
		}
	}
	return false
}

// IgnoredLabels lists the SELinux settings that have no effect because the
// host does not run SELinux, for create to warn about. runc ignores them
// silently; a label is a request for more confinement, so the user hears
// about it.
func IgnoredLabels(spec *specs.Spec) []string {
	if spec.Process.SelinuxLabel == "" && spec.Linux.MountLabel == "" {
		return nil
	}
	if SELinuxEnabled() {
		return nil
	}
	var out []string
	if l := spec.Process.SelinuxLabel; l != "" {
		out = append(out, fmt.Sprintf("process.selinuxLabel %q ignored: SELinux is not enabled on this host", l))
	}
	if l := spec.Linux.MountLabel; l != "" {
		out = append(out, fmt.Sprintf("linux.mountLabel %q ignored: SELinux is not enabled on this host", l))
	}
	return out
}
