package integration

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berthrun/berth/libcontainer"
)

func pidStr(pid int) string { return strconv.Itoa(pid) }

func expectStatus(t *testing.T, rt *libcontainer.Runtime, id, want string) {
	t.Helper()
	c, err := rt.Load(id)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Status(); got != want {
		t.Fatalf("status %q, want %q", got, want)
	}
}

func waitStatus(t *testing.T, rt *libcontainer.Runtime, id, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := rt.Load(id); err == nil && c.Status() == want {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("container %s never became %s", id, want)
}

func forceDelete(rt *libcontainer.Runtime, id string) {
	if c, err := rt.LoadLocked(id); err == nil {
		c.Delete(true)
		c.Unlock()
	}
}

// cgroupDirs lists the cgroup directories of pid on every v1 hierarchy and
// the unified one, read from /proc/<pid>/cgroup.
func cgroupDirs(t *testing.T, pid int) []string {
	t.Helper()
	f, err := os.Open("/proc/" + pidStr(pid) + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var dirs []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		parts := strings.SplitN(s.Text(), ":", 3)
		if len(parts) != 3 || parts[2] == "/" {
			continue
		}
		name := strings.TrimPrefix(parts[1], "name=")
		if parts[0] == "0" {
			name = "unified"
		}
		dirs = append(dirs, filepath.Join("/sys/fs/cgroup", name, parts[2]))
	}
	if len(dirs) == 0 {
		t.Fatalf("pid %d is in no container cgroup", pid)
	}
	return dirs
}
