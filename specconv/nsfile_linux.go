package specconv

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// nsTypeByFlag maps NS_GET_NSTYPE's answer to the spec's type names.
var nsTypeByFlag = map[int]specs.LinuxNamespaceType{
	unix.CLONE_NEWPID:    specs.PIDNamespace,
	unix.CLONE_NEWNET:    specs.NetworkNamespace,
	unix.CLONE_NEWNS:     specs.MountNamespace,
	unix.CLONE_NEWIPC:    specs.IPCNamespace,
	unix.CLONE_NEWUTS:    specs.UTSNamespace,
	unix.CLONE_NEWUSER:   specs.UserNamespace,
	unix.CLONE_NEWCGROUP: specs.CgroupNamespace,
	unix.CLONE_NEWTIME:   specs.TimeNamespace,
}

// checkNamespaceFile checks that path is a namespace file of type want, as
// the spec requires a runtime to. This is for an early, clear error only:
// the file can change before nsenter opens it, and setns checks the type
// again then.
func checkNamespaceFile(path string, want specs.LinuxNamespaceType) error {
	var fs unix.Statfs_t
	if err := unix.Statfs(path, &fs); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return errors.New("no such file")
		}
		return err
	}
	if fs.Type != unix.NSFS_MAGIC {
		return fmt.Errorf("not a namespace file (want /proc/<pid>/ns/%s or a bind mount of it)", nsFileName(want))
	}
	// Only an open fd tells the type. Opening may be refused (another user's
	// /proc/<pid>/ns); then setns will report it, so do not fail here.
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	defer unix.Close(fd)
	flag, err := unix.IoctlRetInt(fd, unix.NS_GET_NSTYPE)
	if err != nil {
		return nil
	}
	if got, ok := nsTypeByFlag[flag]; ok && got != want {
		return fmt.Errorf("is %s namespace, not %s", withArticle(got), want)
	}
	return nil
}
