package libcontainer

import (
	"errors"
	"os"
	"strconv"
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

// closeProcHandle drops the procfs instance once the init has written all
// it writes: it must not sit in a waiting init, where anything that can
// reach the process could use it (issue 19). An exec'd process execs right
// away; the fd is close-on-exec there.
func closeProcHandle() {
	initProcfs.once.Do(func() {})
	if initProcfs.h != nil {
		initProcfs.h.Close()
	}
	initProcfs.h, initProcfs.err = nil, errors.New("procfs: the init's handle is closed before the wait for start")
}

// closeProcfsFds closes every fd on a procfs but keep before the wait for
// start. Besides closeProcHandle's instance, filepath-securejoin keeps a
// private procfs handle of its own for the life of the process, which the
// Go init cannot ask it to drop; nothing after the wait uses it (only the
// startContainer hooks and the execve follow). The C init holds none.
func closeProcfsFds(keep int) {
	dir, err := os.Open("/proc/self/fd")
	if err != nil {
		return
	}
	names, _ := dir.Readdirnames(-1)
	dir.Close()
	for _, n := range names {
		fd, err := strconv.Atoi(n)
		if err != nil || fd < 3 || fd == keep {
			continue
		}
		var st unix.Statfs_t
		if unix.Fstatfs(fd, &st) == nil && st.Type == unix.PROC_SUPER_MAGIC {
			unix.Close(fd)
		}
	}
}
