package hostcheck

import (
	"os"
	"strings"
)

// SystemdFacts says whether systemd runs the host.
type SystemdFacts struct {
	Running bool   `json:"running"`
	Init    string `json:"init"` // the command name of pid 1
}

// checkSystemd: systemd is running when /run/systemd/system is a
// directory (sd_booted(3)); only --systemd-cgroup needs it.
func checkSystemd() Check {
	c := Check{Name: "systemd"}
	comm, _ := os.ReadFile("/proc/1/comm")
	f := SystemdFacts{Init: strings.TrimSpace(string(comm))}
	st, err := os.Lstat("/run/systemd/system")
	f.Running = err == nil && st.IsDir()
	c.Facts, c.OK = f, f.Running
	if f.Running {
		c.Host = "running"
		c.Berth = "--systemd-cgroup puts containers in systemd scopes"
	} else {
		c.Host = "not running (pid 1 is " + f.Init + ")"
		c.Berth = "--systemd-cgroup is refused; the cgroupfs driver is used"
	}
	return c
}
