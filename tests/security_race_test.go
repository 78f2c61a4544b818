package tests

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Races on paths berth resolves in the rootfs: while berth creates the
// container, something (another container sharing the volume, in the
// original attacks) keeps swapping a directory of the rootfs with a
// symlink to a host directory.

// raceIterations bounds the creates of each race test.
const raceIterations = 50

// exchanger swaps two paths with renameat2(RENAME_EXCHANGE) in a loop
// until stopped.
type exchanger struct {
	stop  atomic.Bool
	done  sync.WaitGroup
	swaps atomic.Int64
}

func startExchange(t *testing.T, a, b string) *exchanger {
	t.Helper()
	x := &exchanger{}
	x.done.Add(1)
	go func() {
		defer x.done.Done()
		for !x.stop.Load() {
			if err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE); err != nil {
				t.Errorf("exchange %s and %s: %v", a, b, err)
				return
			}
			x.swaps.Add(1)
		}
	}()
	t.Cleanup(x.finish)
	return x
}

func (x *exchanger) finish() {
	x.stop.Store(true)
	x.done.Wait()
}

// TestCVE2021_30465MountDestinationExchange: the destination of a bind
// mount is a directory that is exchanged with a symlink to a host
// directory while berth mounts on it. Every create either fails cleanly
// or mounts inside the rootfs, where the container finds the bound file;
// the host directory never gets anything.
func TestCVE2021_30465MountDestinationExchange(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	victim := e.dir("victim")
	src := hostDir(t, e, "src", "bound\n")
	// The bind is in the container's mount table only if it is inside its
	// root (mountinfo leaves out what the root cannot reach); its root
	// field names the source. Looking it up by path would race with the
	// exchange, which goes on.
	spec := sh(`grep -c " ` + src + ` " /proc/self/mountinfo; true`)
	spec.Mounts = append(spec.Mounts, specs.Mount{Destination: "/data", Type: "bind", Source: src, Options: []string{"bind"}})
	b := e.bundle(spec)
	rootfs := filepath.Join(b, "rootfs")
	if err := os.Mkdir(filepath.Join(rootfs, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(rootfs, "data-swap")); err != nil {
		t.Fatal(err)
	}
	x := startExchange(t, filepath.Join(rootfs, "data"), filepath.Join(rootfs, "data-swap"))
	ran := 0
	for range raceIterations {
		r := e.berth("run", "--bundle", b, e.id("race"))
		if !refusedOrRan(t, r) {
			continue
		}
		ran++
		if strings.TrimSpace(r.stdout) != "1" {
			t.Errorf("the bind mount is not in the container's root: %v", r)
		}
	}
	x.finish()
	t.Logf("%d of %d runs ran, %d exchanges", ran, raceIterations, x.swaps.Load())
	assertEmptyDir(t, victim)
}

// TestCVE2024_45310MkdirRace: berth creates the missing directories of a
// mount destination (and the file of a file bind) under a directory that
// is exchanged with a symlink to a host directory. Nothing may be created
// on the host.
func TestCVE2024_45310MkdirRace(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	victim := e.dir("victim")
	file := filepath.Join(e.dir("file"), "f")
	if err := os.WriteFile(file, []byte("file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := sh("true")
	spec.Mounts = append(spec.Mounts,
		specs.Mount{Destination: "/a/b/c", Type: "tmpfs", Source: "tmpfs"},
		specs.Mount{Destination: "/a/d/file", Type: "bind", Source: file, Options: []string{"bind"}},
	)
	b := e.bundle(spec)
	rootfs := filepath.Join(b, "rootfs")
	if err := os.Mkdir(filepath.Join(rootfs, "a"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(rootfs, "a-swap")); err != nil {
		t.Fatal(err)
	}
	x := startExchange(t, filepath.Join(rootfs, "a"), filepath.Join(rootfs, "a-swap"))
	ran := 0
	for range raceIterations {
		if refusedOrRan(t, e.berth("run", "--bundle", b, e.id("mkdir"))) {
			ran++
		}
	}
	x.finish()
	t.Logf("%d of %d runs ran, %d exchanges", ran, raceIterations, x.swaps.Load())
	assertEmptyDir(t, victim)
}
