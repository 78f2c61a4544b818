package libcontainer

import (
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// What the commands need to stay correct after a berth process was killed
// half-way (SIGKILL, the OOM killer, a crashed shim): every step of create,
// start, exec and delete leaves something that state, list and
// delete --force handle. A crash is never repaired behind the user's back;
// it is reported truthfully and removed by delete.

// creatingOrAbandoned is the status of a container whose init is not known
// yet: creating while its create runs (and holds the lock), stopped when
// the create was killed before the init existed — nothing runs, and it
// would otherwise read "creating" forever.
func creatingOrAbandoned(dir string) string {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return Creating
	}
	defer unix.Close(fd)
	// Our own lock is a second open file description: while we hold it
	// (delete), this fails too and the answer stays "creating".
	if unix.Flock(fd, unix.LOCK_SH|unix.LOCK_NB) != nil {
		return Creating
	}
	return Stopped
}

// sealedExePrefix is how /proc/<pid>/exe reads for a process running the
// memfd copy of berth (seal.Memfd names the memfd "berth").
const sealedExePrefix = "/memfd:berth"

// initExeced reports whether the init has already exec'd the container's
// process. exec.fifo normally goes when start sees the execve, but a start
// killed at that moment leaves it behind, and the running container must
// not read "created". exeID is the identity of the file the init was
// started from (fileID of the sealed handle); states written before it was
// recorded fall back to the memfd's name. When /proc cannot tell (not
// permitted), the fifo is believed.
func initExeced(pid int, exeID string) bool {
	link := "/proc/" + pidString(pid) + "/exe"
	if exeID != "" {
		var st unix.Stat_t
		if unix.Stat(link, &st) != nil {
			return false
		}
		return statID(&st) != exeID
	}
	exe, err := os.Readlink(link)
	return err == nil && !strings.HasPrefix(exe, sealedExePrefix)
}

// fileID names a file by device and inode. The init's exe is berth seen
// through a private overlay mount, whose device no other file shares.
func fileID(f *os.File) string {
	var st unix.Stat_t
	if unix.Fstat(int(f.Fd()), &st) != nil {
		return ""
	}
	return statID(&st)
}

func statID(st *unix.Stat_t) string {
	return strconv.FormatUint(st.Dev, 10) + ":" + strconv.FormatUint(st.Ino, 10)
}
