package libcontainer

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"

	"golang.org/x/sys/unix"
)

// sealedExe returns a sealed, read-only in-memory copy of exe for the init
// to run. The init must never execute the host's binary file: a process in
// the container could then reopen /proc/<pid>/exe for writing and replace
// berth on the host (CVE-2019-5736). Seals make the copy immutable, so even
// an exe reopened through /proc is unwritable.
func sealedExe(exe string) (*os.File, error) {
	src, err := os.Open(exe)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", exe, err)
	}
	defer src.Close()
	fd, err := unix.MemfdCreate("berth", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "berth-sealed")
	if err := copyAll(f, src); err != nil {
		f.Close()
		return nil, fmt.Errorf("copy %s into memfd: %w", exe, err)
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals); err != nil {
		f.Close()
		return nil, fmt.Errorf("seal memfd: %w", err)
	}
	return f, nil
}

// copyAll copies in the kernel where it can (copy_file_range, sendfile).
func copyAll(dst *os.File, src *os.File) error {
	_, err := io.Copy(dst, src)
	return err
}

// initCmd returns `berth init` run from a sealed copy of the runtime's
// binary, with stdio and the preserved fds 3..3+n-1, then the sync socket.
// The child execs /proc/self/fd/N of our fd table, so the returned sealed
// file must stay open until Start and be closed by the caller after it.
func (rt *Runtime) initCmd(stdin, stdout, stderr, syncEnd *os.File, preserveFDs int) (*exec.Cmd, *os.File, error) {
	exe := rt.Exe
	if exe == "" {
		exe = "/proc/self/exe"
	}
	sealed, err := sealedExe(exe)
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command("/proc/self/fd/"+strconv.Itoa(int(sealed.Fd())), "init")
	cmd.Args[0] = exe
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	for i := 0; i < preserveFDs; i++ {
		cmd.ExtraFiles = append(cmd.ExtraFiles, os.NewFile(uintptr(3+i), "preserved"))
	}
	cmd.Env = []string{"_BERTH_INITPIPE=" + strconv.Itoa(3+len(cmd.ExtraFiles))}
	cmd.ExtraFiles = append(cmd.ExtraFiles, syncEnd)
	return cmd, sealed, nil
}
