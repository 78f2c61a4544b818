package libcontainer

import (
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// capNumbers maps capability names to their numbers (linux/capability.h).
var capNumbers = map[string]int{
	"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_DAC_READ_SEARCH": 2, "CAP_FOWNER": 3,
	"CAP_FSETID": 4, "CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SETPCAP": 8,
	"CAP_LINUX_IMMUTABLE": 9, "CAP_NET_BIND_SERVICE": 10, "CAP_NET_BROADCAST": 11,
	"CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13, "CAP_IPC_LOCK": 14, "CAP_IPC_OWNER": 15,
	"CAP_SYS_MODULE": 16, "CAP_SYS_RAWIO": 17, "CAP_SYS_CHROOT": 18, "CAP_SYS_PTRACE": 19,
	"CAP_SYS_PACCT": 20, "CAP_SYS_ADMIN": 21, "CAP_SYS_BOOT": 22, "CAP_SYS_NICE": 23,
	"CAP_SYS_RESOURCE": 24, "CAP_SYS_TIME": 25, "CAP_SYS_TTY_CONFIG": 26, "CAP_MKNOD": 27,
	"CAP_LEASE": 28, "CAP_AUDIT_WRITE": 29, "CAP_AUDIT_CONTROL": 30, "CAP_SETFCAP": 31,
	"CAP_MAC_OVERRIDE": 32, "CAP_MAC_ADMIN": 33, "CAP_SYSLOG": 34, "CAP_WAKE_ALARM": 35,
	"CAP_BLOCK_SUSPEND": 36, "CAP_AUDIT_READ": 37, "CAP_PERFMON": 38, "CAP_BPF": 39,
	"CAP_CHECKPOINT_RESTORE": 40,
}

// CapabilityNumber returns the number of a capability name ("CAP_KILL").
func CapabilityNumber(name string) (int, bool) {
	n, ok := capNumbers[strings.ToUpper(name)]
	return n, ok
}

// capSet is a 64-bit capability mask.
type capSet uint64

func maskOf(names []string) capSet {
	var s capSet
	for _, n := range names {
		if c, ok := capNumbers[n]; ok {
			s |= 1 << c
		}
	}
	return s
}

func lastCap() int {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return 40
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 40
	}
	return n
}

// unheldCapability names the first capability of the effective, permitted
// or inheritable set that this process's own permitted set lacks (capset
// would refuse it), and the set asking for it; "" when there is none or
// capget fails.
func unheldCapability(caps *specs.LinuxCapabilities) (field, name string) {
	if caps == nil {
		return "", ""
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if unix.Capget(&hdr, &data[0]) != nil {
		return "", ""
	}
	have := capSet(data[0].Permitted) | capSet(data[1].Permitted)<<32
	for _, set := range []struct {
		field string
		names []string
	}{{"effective", caps.Effective}, {"permitted", caps.Permitted}, {"inheritable", caps.Inheritable}} {
		for _, name := range set.names {
			if c, ok := capNumbers[name]; ok && have&(1<<c) == 0 {
				return set.field, name
			}
		}
	}
	return "", ""
}
