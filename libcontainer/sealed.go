package libcontainer

import (
	"os"
	"os/exec"
	"strconv"

	"github.com/berthrun/berth/libcontainer/seal"
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
	sealed, err := seal.Exe(exe)
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
