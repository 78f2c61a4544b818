package libcontainer

import (
	"sync"

	"github.com/berthrun/berth/libcontainer/procfs"
	"golang.org/x/sys/unix"
)

// initProcfs is the verified procfs instance the init and an exec'd
// process write their sysctls, oom_score_adj and LSM labels through. It is
// opened on first use: a fresh instance cannot have been shaped by the
// container's mounts, whenever it is made (see package procfs).
var initProcfs struct {
	once sync.Once
	h    *procfs.Handle
	err  error
}

func procHandle() (*procfs.Handle, error) {
	initProcfs.once.Do(func() { initProcfs.h, initProcfs.err = procfs.Open() })
	return initProcfs.h, initProcfs.err
}

// procWrite writes value to the procfs file name ("sys/...",
// "self/oom_score_adj", "thread-self/attr/exec").
func procWrite(name, value string) error {
	h, err := procHandle()
	if err != nil {
		return err
	}
	return h.WriteFile(name, []byte(value))
}

// procExists reports whether the procfs file or directory name exists.
func procExists(name string) bool {
	h, err := procHandle()
	if err != nil {
		return false
	}
	f, err := h.OpenFile(name, unix.O_PATH)
	if err != nil {
		return false
	}
	f.Close()
	return true
}
