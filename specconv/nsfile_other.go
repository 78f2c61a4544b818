//go:build !linux

package specconv

import (
	"errors"
	"io/fs"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// checkNamespaceFile can only check that path exists where there are no
// Linux namespaces to inspect; berth runs containers on Linux only, but
// `berth spec` and validation work anywhere.
func checkNamespaceFile(path string, _ specs.LinuxNamespaceType) error {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return errors.New("no such file")
	} else if err != nil {
		return unwrapPathError(err)
	}
	return nil
}
