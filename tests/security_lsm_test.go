package tests

import (
	"os"
	"strings"
	"testing"
)

// The LSM paths that can run on a host without AppArmor or SELinux: a
// profile is refused, SELinux labels are ignored with a warning (runc's
// rules). Writing a label through the verified procfs is covered by the
// libcontainer/procfs tests and by TestProcfsWritesNotRedirected.

func requireNoLSM(t *testing.T) {
	t.Helper()
	if b, _ := os.ReadFile("/sys/module/apparmor/parameters/enabled"); strings.HasPrefix(string(b), "Y") {
		t.Skip("this host runs AppArmor: the test is about a host without it")
	}
	if b, _ := os.ReadFile("/proc/filesystems"); strings.Contains(string(b), "selinuxfs") {
		t.Skip("this host runs SELinux: the test is about a host without it")
	}
}

func TestAppArmorProfileWithoutAppArmor(t *testing.T) {
	t.Parallel()
	requireNoLSM(t)
	e := newEnv(t)
	spec := sh("true")
	spec.Process.ApparmorProfile = "berth-default"
	id := e.id("apparmor")
	assertError(t, e.berth("create", "--bundle", e.bundle(spec), id),
		`process.apparmorProfile "berth-default"`, "AppArmor is not enabled")
	assertError(t, e.berth("state", id), id)
}

func TestSELinuxLabelsIgnoredWithoutSELinux(t *testing.T) {
	t.Parallel()
	requireNoLSM(t)
	e := newEnv(t)
	spec := sh("echo ran")
	spec.Process.SelinuxLabel = "system_u:system_r:container_t:s0:c1,c2"
	spec.Linux.MountLabel = "system_u:object_r:container_file_t:s0:c1,c2"
	r := e.run(spec)
	if r.code != 0 || r.stdout != "ran\n" {
		t.Fatalf("a labelled container must run on a host without SELinux: %v", r)
	}
	for _, want := range []string{"process.selinuxLabel", "linux.mountLabel"} {
		if !strings.Contains(r.stderr, "warning: "+want) || !strings.Contains(r.stderr, "SELinux is not enabled") {
			t.Errorf("no warning that %s is ignored: %q", want, r.stderr)
		}
	}
}
