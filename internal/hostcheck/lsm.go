package hostcheck

import (
	"os"
	"strings"
)

// LSMFacts says whether a security module is on.
type LSMFacts struct {
	Enabled bool `json:"enabled"`
	// Enforcing is SELinux's mode (false for permissive, and for AppArmor).
	Enforcing bool `json:"enforcing"`
}

// checkAppArmor reads the module's own switch, as berth does before it
// accepts process.apparmorProfile.
func checkAppArmor() Check {
	c := Check{Name: "apparmor"}
	b, err := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	f := LSMFacts{Enabled: err == nil && strings.HasPrefix(string(b), "Y")}
	c.Facts, c.OK = f, f.Enabled
	if f.Enabled {
		c.Host = "enabled"
		c.Berth = "process.apparmorProfile is applied"
	} else {
		c.Host = "not enabled"
		c.Berth = "process.apparmorProfile is refused (the process would run unconfined)"
	}
	return c
}

// checkSELinux: selinuxfs is mounted and says the mode when SELinux runs.
func checkSELinux() Check {
	c := Check{Name: "selinux"}
	b, err := os.ReadFile("/sys/fs/selinux/enforce")
	f := LSMFacts{Enabled: err == nil, Enforcing: strings.TrimSpace(string(b)) == "1"}
	c.Facts, c.OK = f, f.Enabled
	switch {
	case !f.Enabled:
		c.Host = "not enabled"
		c.Berth = "process.selinuxLabel and linux.mountLabel are ignored, with a warning"
	case f.Enforcing:
		c.Host = "enforcing"
	default:
		c.Host = "permissive"
	}
	if f.Enabled {
		c.Berth = "process.selinuxLabel is applied; linux.mountLabel is refused"
	}
	return c
}
