package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestUserNSBindFromHost: a container with a user namespace binds a
// volume below a directory only the host's root may enter (mode 0700, as
// /var/lib/docker and many volume roots are). Its mapped root cannot even
// look the source up, so berth opens it from the host side before entering
// the user namespace and attaches the clone, as runc does (issue 19, fault
// 8). It failed with "open source ...: permission denied" on every builder.
// The options still apply (ro), and the waiting init holds no host handle.
// The destination is the image's /tmp: the mapped root may not make one.
func TestUserNSBindFromHost(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	locked := e.dir("locked")
	if err := os.Chmod(locked, 0o700); err != nil {
		t.Fatal(err)
	}
	vol := filepath.Join(locked, "vol")
	if err := os.MkdirAll(vol, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(vol, "f"), []byte("from-the-host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	builders := []callerWay{
		{"C builder", nil},
	}
	for _, w := range builders {
		spec := sh(`cat /tmp/f; touch /tmp/new 2>/dev/null && echo writable || echo read-only`)
		userMapped(spec)
		spec.Mounts = append(spec.Mounts, specs.Mount{Destination: "/tmp", Type: "bind", Source: vol, Options: []string{"rbind", "ro"}})
		r := e.berthOpts(runOpts{env: w.env}, "run", "--bundle", e.bundle(spec), e.id("userns-bind"))
		if r.code != 0 {
			t.Fatalf("%s: %v", w.name, r)
		}
		if got := lines(r.stdout); len(got) != 2 || got[0] != "from-the-host" || got[1] != "read-only" {
			t.Errorf("%s: got %q, want the host's file, read-only", w.name, got)
		}
		// The waiting init holds no clone of the host's source.
		id := e.id("userns-bind-created")
		if r := e.berthOpts(runOpts{env: w.env}, "create", "--bundle", e.bundle(spec), id); r.code != 0 {
			t.Fatalf("%s: create: %v", w.name, r)
		}
		pid := e.state(id).Pid
		waitBlockedOnFifo(t, pid)
		fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		for _, fd := range fds {
			if target, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); strings.HasPrefix(target, vol) || target == "/" {
				t.Errorf("%s: the waiting init holds fd %s on %q", w.name, fd.Name(), target)
			}
		}
		e.mustBerth("delete", "--force", id)
	}
}
