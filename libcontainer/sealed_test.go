package libcontainer

import (
	"os"
	"strconv"
	"testing"
)

// TestInitCmdSealedAboveChildFds: the handle the child execs through
// /proc/self/fd/N sits above every fd os/exec may move in the child (stdio,
// the passed files, the ones it moves out of their way and its error pipe),
// so the child cannot exec a file that landed on N instead (EACCES).
func TestInitCmdSealedAboveChildFds(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	cmd, sealed, err := (&Runtime{}).initCmd(os.Stdin, os.Stdout, os.Stderr, w, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sealed.Close()
	fd := int(sealed.Fd())
	// Stdio, the sync socket, a console socket and exec.fifo: 6 fds in the
	// child, which may move as many above them.
	if min := 2*6 + 2; fd < min {
		t.Errorf("sealed handle at fd %d, want at least %d", fd, min)
	}
	if want := "/proc/self/fd/" + strconv.Itoa(fd); cmd.Path != want {
		t.Errorf("init runs %q, want %q", cmd.Path, want)
	}
}
