// Package integration tests the libcontainer API on real containers. The test
// binary is also the container's init: re-executed as "init", it hands over
// to libcontainer.InitMain (the nsenter constructor linked in has already
// made the namespaces by then).
package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berthrun/berth/internal/testbundle"
	"github.com/berthrun/berth/libcontainer"
	_ "github.com/berthrun/berth/libcontainer/executor"
	"github.com/berthrun/berth/specconv"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		libcontainer.InitMain()
	}
	os.Exit(m.Run())
}

// env is one test's runtime root and bundle.
type env struct {
	t      *testing.T
	rt     *libcontainer.Runtime
	bundle string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipped: needs root to create namespaces, mounts and cgroups")
	}
	if _, err := os.Stat(testbundle.Busybox); err != nil {
		t.Skip("skipped: no /bin/busybox (apt-get install busybox-static)")
	}
	dir := t.TempDir()
	e := &env{t: t, rt: &libcontainer.Runtime{Root: filepath.Join(dir, "root")}, bundle: filepath.Join(dir, "bundle")}
	if err := testbundle.Rootfs(filepath.Join(e.bundle, "rootfs")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.checkEmpty)
	return e
}

// config writes spec into the bundle and loads it as berth would.
func (e *env) config(id string, spec *specs.Spec) *libcontainer.Config {
	e.t.Helper()
	if err := testbundle.Write(e.bundle, spec); err != nil {
		e.t.Fatal(err)
	}
	cfg, err := specconv.Load(e.bundle, id, specconv.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	return cfg
}

// run runs a container in the foreground and returns its stdout and exit code.
func (e *env) run(id string, spec *specs.Spec) (string, int) {
	e.t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		e.t.Fatal(err)
	}
	defer r.Close()
	c, err := e.rt.Create(e.config(id, spec), libcontainer.CreateOpts{Stdout: w, Stderr: os.Stderr, Foreground: true})
	w.Close()
	if err != nil {
		e.t.Fatalf("create: %v", err)
	}
	defer c.Unlock()
	if err := c.Start(); err != nil {
		c.Delete(true)
		e.t.Fatalf("start: %v", err)
	}
	out := readAll(r)
	code, err := c.Wait()
	if err != nil {
		e.t.Fatalf("wait: %v", err)
	}
	if err := c.Delete(false); err != nil {
		e.t.Fatalf("delete: %v", err)
	}
	return out, code
}

func readAll(f *os.File) string {
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := f.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

// checkEmpty fails the test if a container of it is left in the root.
func (e *env) checkEmpty() {
	entries, _ := os.ReadDir(e.rt.Root)
	if len(entries) > 0 {
		names := make([]string, len(entries))
		for i, en := range entries {
			names[i] = en.Name()
		}
		e.t.Errorf("state root not empty after test: %v", names)
	}
}

func nsInode(pid int, ns string) string {
	l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, ns))
	if err != nil {
		return err.Error()
	}
	return l
}
