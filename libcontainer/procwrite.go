package libcontainer

import (
	"sync"

	"github.com/berthrun/berth/libcontainer/procfs"
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
