package clients

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// crictlVersion is the cri-tools release the CRI suite drives. Debian 12
// does not package crictl, so it is built from source through the Go
// module proxy, once per machine, into a cache directory.
const crictlVersion = "v1.37.0"

// cniBinDir is where Debian's containernetworking-plugins installs the
// CNI plugins.
const cniBinDir = "/usr/lib/cni"

// crictlBin is the crictl the CRI suite runs; criSkipReason, when set,
// says why TestCRI skips (crictl could not be built).
var (
	crictlBin     string
	criSkipReason string
)

// installCrictl returns the cached crictl of crictlVersion, building it
// with `go install` when the cache does not hold it yet. The build takes
// minutes on a fresh machine, hence its own long timeout.
func installCrictl() (string, error) {
	dir, err := crictlCacheDir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "crictl")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = "/usr/local/go/bin/go" // sudo may drop it from PATH
	}
	fmt.Fprintf(os.Stderr, "clients: building crictl %s into %s\n", crictlVersion, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "install", "sigs.k8s.io/cri-tools/cmd/crictl@"+crictlVersion)
	// Outside this module, with the local toolchain: the build must not
	// pick up berth's go.mod or fetch another Go.
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOTOOLCHAIN=local", "GOFLAGS=")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building crictl %s: %v", crictlVersion, err)
	}
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("crictl %s built, but %v", crictlVersion, err)
	}
	return bin, nil
}

// crictlCacheDir is the cache directory of this crictl version: below the
// user's cache directory, else below /var/cache.
func crictlCacheDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		base = "/var/cache"
	}
	dir := filepath.Join(base, "berth-tests", "crictl-"+crictlVersion)
	return dir, os.MkdirAll(dir, 0o755)
}
