package specconv

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// playHost makes the LSM checks answer as a host with (or without)
// AppArmor and SELinux.
func playHost(t *testing.T, apparmor, selinux bool) {
	t.Helper()
	oldA, oldS := appArmorEnabled, selinuxEnabled
	appArmorEnabled = func() bool { return apparmor }
	selinuxEnabled = func() bool { return selinux }
	t.Cleanup(func() { appArmorEnabled, selinuxEnabled = oldA, oldS })
}

// TestLabels: runc's rules, on both kinds of host.
func TestLabels(t *testing.T) {
	tests := []struct {
		name              string
		apparmor, selinux bool
		mutate            func(*specs.Spec)
		wantErr           string // "" = accepted
	}{
		{"apparmor off", false, false, func(s *specs.Spec) { s.Process.ApparmorProfile = "p" },
			`process.apparmorProfile "p": apparmor profile specified but AppArmor is not enabled on this host`},
		{"apparmor on", true, false, func(s *specs.Spec) { s.Process.ApparmorProfile = "p" }, ""},
		{"selinux label off", false, false, func(s *specs.Spec) { s.Process.SelinuxLabel = "system_u:system_r:container_t:s0" }, ""},
		{"selinux label on", false, true, func(s *specs.Spec) { s.Process.SelinuxLabel = "system_u:system_r:container_t:s0" }, ""},
		{"mount label off", false, false, func(s *specs.Spec) { s.Linux.MountLabel = "system_u:object_r:container_file_t:s0" }, ""},
		{"mount label on", false, true, func(s *specs.Spec) { s.Linux.MountLabel = "l" },
			`linux.mountLabel "l": SELinux mount labels are not supported by this berth build yet`},
		{"newline in profile", true, false, func(s *specs.Spec) { s.Process.ApparmorProfile = "p\nchangeprofile q" },
			`process.apparmorProfile "p\nchangeprofile q": contains a NUL byte or a line break`},
		{"NUL in label", false, true, func(s *specs.Spec) { s.Process.SelinuxLabel = "a\x00b" },
			`process.selinuxLabel "a\x00b": contains a NUL byte`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			playHost(t, tt.apparmor, tt.selinux)
			spec := Example()
			tt.mutate(spec)
			err := checkProcessLabels(spec.Process)
			if err == nil {
				err = checkSecurity(spec)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}
