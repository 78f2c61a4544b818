package libcontainer

import (
	"bufio"
	"errors"
	"fmt"
	"github.com/berthrun/berth/internal/wire"
	"os"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
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

// applyLabels has the next execve, the container process's, enter the
// process's AppArmor profile and SELinux label. Both are written to this
// thread's attr/exec files through the verified procfs: a write through
// the container's /proc could be redirected by a mount (CVE-2019-16884).
// An AppArmor profile only gets here when AppArmor is enabled (specconv
// refuses it otherwise); an SELinux label without SELinux is ignored.
func applyLabels(proc *specs.Process) error {
	if p := proc.ApparmorProfile; p != "" {
		attr := "thread-self/attr/apparmor/exec" // Linux 5.1+: AppArmor's own directory
		if !procExists("thread-self/attr/apparmor") {
			attr = "thread-self/attr/exec"
		}
		if err := procWrite(attr, "exec "+p); err != nil {
			// The kernel's answer when the profile is not loaded (the
			// C init says the same, cinit.c).
			if errors.Is(err, unix.ENOENT) && procExists(attr) {
				return wire.Failed(wire.StepApparmorNotLoaded, nil, p)
			}
			return wire.Failed(wire.StepApparmor, err, p)
		}
	}
	if l := proc.SelinuxLabel; l != "" && SELinuxEnabled() {
		if err := procWrite("thread-self/attr/exec", l); err != nil {
			return fmt.Errorf("process.selinuxLabel %q: %w", l, err)
		}
	}
	return nil
}
