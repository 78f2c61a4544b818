package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"

	"github.com/berthrun/berth/internal/trace"
	"github.com/berthrun/berth/libcontainer/seal"
	"golang.org/x/sys/unix"
)

// initCmd returns `berth init` run from a read-only handle of the runtime's
// binary (package seal), with stdio and the preserved fds 3..3+n-1, then the sync socket.
// The child execs /proc/self/fd/N of our fd table, so the returned sealed
// file must stay open until Start and be closed by the caller after it.
func (rt *Runtime) initCmd(stdin, stdout, stderr, syncEnd *os.File, preserveFDs int) (*exec.Cmd, *os.File, error) {
	exe := rt.Exe
	if exe == "" {
		exe = "/proc/self/exe"
	}
	// Nothing the caller left open may reach the init (CVE-2024-21626's
	// class): fds inherited without close-on-exec would otherwise pass
	// through os/exec into a process that joins the container's
	// namespaces, where /proc/<pid>/fd exposes them. Only stdio, the
	// preserved fds (and LISTEN_FDS, counted in them) are handed on.
	if err := unix.CloseRange(uint(3+preserveFDs), ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return nil, nil, fmt.Errorf("mark the caller's fds close-on-exec: %w", err)
	}
	sealed, err := sealedExe(exe, preserveFDs)
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command("/proc/self/fd/"+strconv.Itoa(int(sealed.Fd())), "init")
	cmd.Args[0] = exe
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	for i := 0; i < preserveFDs; i++ {
		cmd.ExtraFiles = append(cmd.ExtraFiles, os.NewFile(uintptr(3+i), "preserved"))
	}
	cmd.Env = append([]string{"_BERTH_INITPIPE=" + strconv.Itoa(3+len(cmd.ExtraFiles)), initGodebug}, trace.ChildEnv()...)
	cmd.ExtraFiles = append(cmd.ExtraFiles, syncEnd)
	return cmd, sealed, nil
}

// initGodebug keeps the Go runtime of a Go init from reading the cgroup's
// CPU limit (Go 1.25+), which holds cpu.cfs_quota_us and cpu.cfs_period_us
// open for the life of the process: a waiting init must hold nothing but
// what start needs (issue 19). The container's process gets its own
// environment from the spec, never this one.
const initGodebug = "GODEBUG=containermaxprocs=0,updatemaxprocs=0"

// aboveChildFds moves the sealed handle above every fd number the child
// may write over before it execs /proc/self/fd/N: os/exec dups the n files
// it passes onto 0..n-1, after first moving any that would be overwritten
// to n and up (syscall/exec_linux.go), with its error pipe among them. A
// handle left at a low number (as when a create passes a console socket and
// exec.fifo) is replaced in the child, which then execs whatever landed
// there and fails with EACCES. n is at most stdio, the preserved fds, the
// sync socket, a console socket and exec.fifo.
func aboveChildFds(sealed *os.File, preserveFDs int) (*os.File, error) {
	n := 3 + preserveFDs + 3
	fd, err := unix.FcntlInt(sealed.Fd(), unix.F_DUPFD_CLOEXEC, 2*n+2)
	sealed.Close()
	if err != nil {
		return nil, fmt.Errorf("move the sealed binary's fd above %d (raise RLIMIT_NOFILE or pass fewer --preserve-fds): %w", 2*n+2, err)
	}
	return os.NewFile(uintptr(fd), "berth-sealed"), nil
}

func sealedExe(exe string, preserveFDs int) (*os.File, error) {
	sealed, err := seal.Exe(exe)
	if err != nil {
		return nil, err
	}
	return aboveChildFds(sealed, preserveFDs)
}

// startSealed starts cmd, made by initCmd, and returns the command that
// runs and its sealed handle. A start that fails with EACCES is tried once
// more through a freshly sealed handle: fresh-clone CI runs showed
// "fork/exec /proc/self/fd/N: permission denied" about once in five runs
// of the suite, with no cause found yet (docs/performance.md). The error of
// a second failure says what the handle was, for finding it.
func (rt *Runtime) startSealed(cmd *exec.Cmd, sealed *os.File, preserveFDs int) (*exec.Cmd, *os.File, error) {
	err := cmd.Start()
	if err == nil || !errors.Is(err, unix.EACCES) {
		return cmd, sealed, err
	}
	first := describeHandle(sealed)
	again, serr := sealedExe(cmd.Args[0], preserveFDs)
	if serr != nil {
		return cmd, sealed, fmt.Errorf("%w (sealed handle: %s)", err, first)
	}
	sealed.Close()
	retry := exec.Command("/proc/self/fd/"+strconv.Itoa(int(again.Fd())), cmd.Args[1:]...)
	retry.Args, retry.Env, retry.Dir = cmd.Args, cmd.Env, cmd.Dir
	retry.Stdin, retry.Stdout, retry.Stderr, retry.ExtraFiles = cmd.Stdin, cmd.Stdout, cmd.Stderr, cmd.ExtraFiles
	if err := retry.Start(); err != nil {
		return retry, again, fmt.Errorf("%w (sealed handles: %s, then %s)", err, first, describeHandle(again))
	}
	return retry, again, nil
}

// describeHandle is the sealed handle's fd, file type, mode and filesystem.
func describeHandle(f *os.File) string {
	var st unix.Stat_t
	var fs unix.Statfs_t
	if unix.Fstat(int(f.Fd()), &st) != nil || unix.Fstatfs(int(f.Fd()), &fs) != nil {
		return fmt.Sprintf("fd %d, unreadable", f.Fd())
	}
	return fmt.Sprintf("fd %d, mode %o, dev %d ino %d, fs %#x", f.Fd(), st.Mode, st.Dev, st.Ino, fs.Type)
}
