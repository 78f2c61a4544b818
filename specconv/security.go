package specconv

import (
	"strings"

	"github.com/berthrun/berth/libcontainer"
	"github.com/berthrun/berth/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// What the host's LSMs allow decides what a label means, as in runc:
//
//   - process.apparmorProfile on a host without AppArmor is refused: the
//     process would run unconfined while its author thinks otherwise.
//   - process.selinuxLabel and linux.mountLabel on a host without SELinux
//     are ignored (create warns): SELinux-labelled bundles are written to
//     run anywhere, and engines add the labels on every host.
//   - linux.mountLabel on a host with SELinux is refused: berth does not
//     relabel mounts yet, and running with the wrong file labels is worse
//     than not running.
//
// The host checks are variables so that tests can play either host.
var (
	appArmorEnabled = libcontainer.AppArmorEnabled
	selinuxEnabled  = libcontainer.SELinuxEnabled
)

func checkSecurity(spec *specs.Spec) error {
	if err := seccomp.Check(spec.Linux.Seccomp); err != nil {
		return err
	}
	logUnknownSyscalls(spec.Linux.Seccomp)
	l := spec.Linux.MountLabel
	if err := checkLabelText("linux.mountLabel", l); err != nil {
		return err
	}
	if l != "" && selinuxEnabled() {
		return badValue("linux.mountLabel", l, "SELinux mount labels are not supported by this berth build yet; remove the setting")
	}
	return nil
}

// checkProcessLabels checks the process's own labels (config.json's
// process, or an exec process file).
func checkProcessLabels(p *specs.Process) error {
	if err := checkLabelText("process.apparmorProfile", p.ApparmorProfile); err != nil {
		return err
	}
	if err := checkLabelText("process.selinuxLabel", p.SelinuxLabel); err != nil {
		return err
	}
	if p.ApparmorProfile != "" && !appArmorEnabled() {
		return badValue("process.apparmorProfile", p.ApparmorProfile, "apparmor profile specified but AppArmor is not enabled on this host; remove the setting")
	}
	return nil
}

// checkLabelText refuses what cannot be written to an attr file as one
// label: a NUL byte or a line break would end it early.
func checkLabelText(field, label string) error {
	if strings.ContainsAny(label, "\x00\n") {
		return badValue(field, label, "contains a NUL byte or a line break")
	}
	return nil
}
