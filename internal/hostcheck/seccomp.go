package hostcheck

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unsafe"

	"github.com/berthrun/berth/seccomp"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// SeccompFacts is what the kernel's seccomp and the linked libseccomp offer.
type SeccompFacts struct {
	// Filter is true when the kernel has seccomp filter mode.
	Filter bool `json:"filter"`
	// Actions are the filter return actions the kernel knows, in the names
	// of /proc/sys/kernel/seccomp/actions_avail.
	Actions []string `json:"actions"`
	// Flags are the filter flags the kernel knows.
	Flags      []string `json:"flags"`
	Libseccomp string   `json:"libseccomp"`
	// APILevel is libseccomp's view of the kernel (seccomp_api_get(3)).
	APILevel uint `json:"apiLevel"`
}

// seccompActions pairs each action's name with its SECCOMP_RET_* value.
var seccompActions = []struct {
	name string
	ret  uint32
}{
	{"kill_process", unix.SECCOMP_RET_KILL_PROCESS},
	{"kill_thread", unix.SECCOMP_RET_KILL_THREAD},
	{"trap", unix.SECCOMP_RET_TRAP},
	{"errno", unix.SECCOMP_RET_ERRNO},
	{"user_notif", unix.SECCOMP_RET_USER_NOTIF},
	{"trace", unix.SECCOMP_RET_TRACE},
	{"log", unix.SECCOMP_RET_LOG},
	{"allow", unix.SECCOMP_RET_ALLOW},
}

// seccompFlags pairs each filter flag's runtime-spec name with its bit.
var seccompFlags = []struct {
	name string
	bit  uintptr
}{
	{"SECCOMP_FILTER_FLAG_TSYNC", unix.SECCOMP_FILTER_FLAG_TSYNC},
	{"SECCOMP_FILTER_FLAG_LOG", unix.SECCOMP_FILTER_FLAG_LOG},
	{"SECCOMP_FILTER_FLAG_SPEC_ALLOW", unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW},
	{"SECCOMP_FILTER_FLAG_NEW_LISTENER", unix.SECCOMP_FILTER_FLAG_NEW_LISTENER},
	{"SECCOMP_FILTER_FLAG_TSYNC_ESRCH", unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH},
	// The kernel takes WAIT_KILLABLE_RECV only along with NEW_LISTENER.
	{"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", 1<<5 | unix.SECCOMP_FILTER_FLAG_NEW_LISTENER},
}

// berth cannot run a container's seccomp profile without these actions.
var requiredActions = []string{"kill_process", "errno", "allow"}

func checkSeccomp() Check {
	c := Check{Name: "seccomp", Required: true}
	f := SeccompFacts{Actions: []string{}, Flags: []string{}, Libseccomp: seccomp.LibraryVersion()}
	f.APILevel, _ = libseccomp.GetAPI()
	// PR_GET_SECCOMP fails with EINVAL on a kernel built without seccomp.
	_, err := unix.PrctlRetInt(unix.PR_GET_SECCOMP, 0, 0, 0, 0)
	f.Filter = err == nil
	for _, a := range seccompActions {
		if actionAvailable(a.ret) {
			f.Actions = append(f.Actions, a.name)
		}
	}
	for _, fl := range seccompFlags {
		if flagKnown(fl.bit) {
			f.Flags = append(f.Flags, fl.name)
		}
	}
	c.Facts = f
	c.Berth = fmt.Sprintf("filters compiled by libseccomp %s (API level %d)", f.Libseccomp, f.APILevel)
	if !f.Filter {
		c.Host = "no seccomp filter mode in this kernel"
		return c
	}
	c.Host = "actions " + strings.Join(f.Actions, ",") + "; flags " + strings.Join(shortFlags(f.Flags), ",")
	c.OK = f.APILevel >= 1
	for _, need := range requiredActions {
		if !slices.Contains(f.Actions, need) {
			c.OK = false
		}
	}
	return c
}

// actionAvailable asks the kernel (SECCOMP_GET_ACTION_AVAIL) whether it
// knows a filter return action.
func actionAvailable(ret uint32) bool {
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_GET_ACTION_AVAIL, 0, uintptr(unsafe.Pointer(&ret)))
	return errno == 0
}

// flagKnown asks the kernel whether it knows a filter flag without
// installing anything: with no program to read, a known flag fails with
// EFAULT and an unknown one with EINVAL.
func flagKnown(bit uintptr) bool {
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, bit, 0)
	return errors.Is(errno, unix.EFAULT)
}

// shortFlags drops the common prefix for the table.
func shortFlags(flags []string) []string {
	out := make([]string, len(flags))
	for i, f := range flags {
		out[i] = strings.TrimPrefix(f, "SECCOMP_FILTER_FLAG_")
	}
	return out
}
