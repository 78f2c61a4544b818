package hostcheck

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// namespaceKinds are the namespace types of config.json, with the file
// under /proc/<pid>/ns that shows the new namespace and how to make it.
// A time namespace can only be unshared, and applies to children: its
// file is time_for_children.
var namespaceKinds = []struct {
	typ, file string
	flag      uintptr
	unshare   bool
	required  bool // in every config `berth spec` writes
}{
	{"pid", "pid", syscall.CLONE_NEWPID, false, true},
	{"network", "net", syscall.CLONE_NEWNET, false, true},
	{"ipc", "ipc", syscall.CLONE_NEWIPC, false, true},
	{"uts", "uts", syscall.CLONE_NEWUTS, false, true},
	{"mount", "mnt", syscall.CLONE_NEWNS, false, true},
	{"user", "user", syscall.CLONE_NEWUSER, false, false},
	{"cgroup", "cgroup", syscall.CLONE_NEWCGROUP, false, false},
	{"time", "time_for_children", 0x80, true, false}, // CLONE_NEWTIME
}

// NamespaceFacts maps each namespace type to whether a new one could be
// made (in a throwaway child).
type NamespaceFacts map[string]bool

func checkNamespaces() Check {
	c := Check{Name: "namespaces", Required: true, OK: true}
	f := NamespaceFacts{}
	var have, missing, refused []string
	for _, k := range namespaceKinds {
		err := tryNamespace(k.flag, k.unshare, k.file)
		f[k.typ] = err == nil
		switch {
		case err == nil:
			have = append(have, k.typ)
		case k.required:
			c.OK = false
			refused = append(refused, k.typ)
			missing = append(missing, fmt.Sprintf("%s (%v)", k.typ, err))
		default:
			missing = append(missing, fmt.Sprintf("%s (%v)", k.typ, err))
		}
	}
	c.Facts = f
	c.Host = "new " + strings.Join(have, ",")
	if len(missing) > 0 {
		c.Host += "; cannot make " + strings.Join(missing, ", ")
	}
	c.Berth = "creates or joins what linux.namespaces lists"
	if len(refused) > 0 {
		c.Berth += "; containers with " + strings.Join(refused, ",") + " namespaces fail"
	}
	return c
}

// tryNamespace makes a namespace in a child and checks that the child's
// namespace file differs from ours. Without root, the child gets a user
// namespace too, as a rootless container would.
func tryNamespace(flag uintptr, unshare bool, file string) error {
	attr := &syscall.SysProcAttr{}
	if unshare {
		attr.Unshareflags = flag
	} else {
		attr.Cloneflags = flag
	}
	if os.Geteuid() != 0 || flag == syscall.CLONE_NEWUSER {
		ownIDMaps(attr)
	}
	child, err := startStopped(attr)
	if err != nil {
		return err
	}
	defer child.kill()
	same, err := sameNamespace(child.nsPath(file), "/proc/self/ns/"+file)
	if err != nil {
		return err
	}
	if same {
		return fmt.Errorf("the child is still in ours")
	}
	return nil
}

// UserNamespaceFacts is what user namespaces allow.
type UserNamespaceFacts struct {
	// Mapped is true when a new user namespace got the uid map written.
	Mapped bool `json:"mapped"`
	// Max is /proc/sys/user/max_user_namespaces (-1: unreadable).
	Max int `json:"max"`
}

// checkUserNamespaces makes a user namespace with a uid and gid map, as a
// container with linux.uidMappings gets, and reads the map back.
func checkUserNamespaces() Check {
	c := Check{Name: "userns"}
	f := UserNamespaceFacts{Max: -1}
	if b, err := os.ReadFile("/proc/sys/user/max_user_namespaces"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			f.Max = n
		}
	}
	err := mappedUserNamespace()
	f.Mapped = err == nil
	c.Facts, c.OK = f, f.Mapped
	if f.Mapped {
		c.Host = fmt.Sprintf("uid/gid maps work (at most %d user namespaces)", f.Max)
		c.Berth = "linux.uidMappings and gidMappings are applied"
	} else {
		c.Host = "cannot map ids in a new user namespace: " + err.Error()
		c.Berth = "containers with a user namespace fail"
	}
	return c
}

func mappedUserNamespace() error {
	attr := &syscall.SysProcAttr{}
	ownIDMaps(attr)
	child, err := startStopped(attr)
	if err != nil {
		return err
	}
	defer child.kill()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/uid_map", child.pid))
	if err != nil {
		return err
	}
	want := []string{"0", strconv.Itoa(os.Geteuid()), "1"}
	if got := strings.Fields(string(b)); strings.Join(got, " ") != strings.Join(want, " ") {
		return fmt.Errorf("uid_map reads %q, want %q", got, want)
	}
	return nil
}
