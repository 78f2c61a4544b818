package specconv

import (
	"os"

	"github.com/berthrun/berth/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Security settings berth cannot honour are refused, never ignored: a
// container that asked for a seccomp action or an LSM label must not run
// without it. On a host without the LSM, runc fails the same way.
var (
	apparmorDir = "/sys/kernel/security/apparmor"
	selinuxDir  = "/sys/fs/selinux"
)

func checkSecurity(spec *specs.Spec) error {
	if err := seccomp.Check(spec.Linux.Seccomp); err != nil {
		return err
	}
	if p := spec.Process.ApparmorProfile; p != "" {
		return lsmError("process.apparmorProfile", p, "AppArmor", apparmorDir)
	}
	if l := spec.Process.SelinuxLabel; l != "" {
		return lsmError("process.selinuxLabel", l, "SELinux", selinuxDir)
	}
	if l := spec.Linux.MountLabel; l != "" {
		return lsmError("linux.mountLabel", l, "SELinux", selinuxDir)
	}
	return nil
}

func lsmError(field, value, lsm, dir string) error {
	if _, err := os.Stat(dir); err != nil {
		return badValue(field, value, "%s is not enabled on this host; remove the setting", lsm)
	}
	return badValue(field, value, "%s labels are not supported by this berth build yet", lsm)
}
