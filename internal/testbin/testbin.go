// Package testbin gives the end-to-end and client tests the berth binary
// under test: $BERTH_BIN (make test sets it to bin/berth), or one built for
// the run when the tests are started with plain `go test`.
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Berth returns the absolute path of the binary to test and a cleanup that
// removes a binary built here.
func Berth() (string, func(), error) {
	if b := os.Getenv("BERTH_BIN"); b != "" {
		abs, err := filepath.Abs(b)
		if err != nil {
			return "", nil, err
		}
		if _, err := os.Stat(abs); err != nil {
			return "", nil, fmt.Errorf("BERTH_BIN: %v", err)
		}
		return abs, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "berth-test-bin-")
	if err != nil {
		return "", nil, err
	}
	// MkdirTemp makes it 0700; the rootless tests run the binary as an
	// unprivileged user.
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	bin := filepath.Join(dir, "berth")
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = "/usr/local/go/bin/go" // sudo may drop it from PATH
	}
	// The Makefile's tags; the static link is left to make.
	cmd := exec.Command(goBin, "build", "-tags", "urfave_cli_no_docs,netgo,osusergo", "-o", bin, "github.com/berthrun/berth/cmd/berth")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("building berth: %v", err)
	}
	return bin, func() { os.RemoveAll(dir) }, nil
}
