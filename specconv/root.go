package specconv

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// resolveRootfs returns the absolute, symlink-free path of the container's
// root filesystem. root.path may be relative to the bundle (it is, in
// everything `berth spec` writes). Symlinks are evaluated here, on the host,
// once: every later step works from this path (and the fd opened on it), so a
// symlink swapped in after create cannot move the container's root.
func resolveRootfs(root *specs.Root, bundle string) (string, error) {
	if root == nil {
		return "", badField("root", "missing (set root.path to the root filesystem directory, e.g. \"rootfs\")")
	}
	if root.Path == "" {
		return "", badValue("root.path", root.Path, "empty (set it to the root filesystem directory, e.g. \"rootfs\")")
	}
	path := root.Path
	if !filepath.IsAbs(path) {
		path = filepath.Join(bundle, path)
	}
	// Validate may be handed a relative bundle; Config.Rootfs must not be.
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	resolved, err := filepath.EvalSymlinks(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", badValue("root.path", root.Path, "no such directory (looked for %s)", path)
	case err != nil:
		return "", badValue("root.path", root.Path, "%v", unwrapPathError(err))
	}
	st, err := os.Stat(resolved)
	if err != nil {
		return "", badValue("root.path", root.Path, "%v", unwrapPathError(err))
	}
	if !st.IsDir() {
		return "", badValue("root.path", root.Path, "not a directory (%s)", resolved)
	}
	return resolved, nil
}
