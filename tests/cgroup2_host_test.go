package tests

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestPureCgroup2Host runs containers as on a host whose /sys/fs/cgroup is
// cgroup2 alone: on a hybrid host (CI's), berth runs in a private mount
// namespace with cgroup2 mounted there. Without a cgroup namespace the
// container's /sys/fs/cgroup must be a read-only bind of its own cgroup,
// with either root filesystem builder.
func TestPureCgroup2Host(t *testing.T) {
	e := newEnv(t)
	unshare := requireTool(t, "unshare")
	// On a host that is pure cgroup2 already, berth runs as it is.
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err != nil {
		t.Fatal(err)
	}
	pureV2 := st.Type == unix.CGROUP2_SUPER_MAGIC
	probe := `grep '^0::' /proc/self/cgroup
grep ' /sys/fs/cgroup ' /proc/self/mountinfo | cut -d' ' -f4,5,6,9
echo pid1-listed=$(grep -cx 1 /sys/fs/cgroup/cgroup.procs)
mkdir /sys/fs/cgroup/sub 2>/dev/null && echo writable || echo read-only`
	builders := []struct {
		name string
		env  []string
		ran  func(stderr string) bool
	}{
		{"C builder", cRootfs, traceShowsC},
	}
	for _, b := range builders {
		t.Run(b.name, func(t *testing.T) {
			id := e.id("v2host")
			bundle := e.bundle(sh(probe))
			args := append(append([]string{berthBin}, e.globals()...), "run", "--bundle", bundle, id)
			if !pureV2 {
				args = append([]string{unshare, "--mount", "--propagation", "private", "sh", "-c",
					`mount -t cgroup2 cgroup2 /sys/fs/cgroup && exec "$@"`, "sh"}, args...)
			}
			cmd := exec.Command(args[0], args[1:]...)
			cmd.Env = append(append(os.Environ(), tagVar+"="+e.tag), b.env...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("run on cgroup2: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
			}
			if !b.ran(stderr.String()) {
				t.Fatalf("the %s did not build the root; trace:\n%s", b.name, stderr.String())
			}
			out := stdout.String()
			// Its own cgroup: <id> below the root when berth runs in the
			// root cgroup (the private mount here), or below the parent of
			// berth's own cgroup on a real host (a relative cgroupsPath,
			// as runc places it: next to the caller's, which has processes).
			own := ""
			for _, l := range lines(out) {
				if p, ok := strings.CutPrefix(l, "0::"); ok {
					own = p
				}
			}
			if !strings.HasSuffix(own, "/"+id) && !strings.HasSuffix(own, "-"+id+".scope") {
				t.Errorf("the container's cgroup %q is not its own (.../%s):\n%s", own, id, out)
			}
			for _, want := range []string{
				own + " /sys/fs/cgroup ", // which the mount binds
				"pid1-listed=1\n",        // holding pid 1
				"read-only\n",            // as the config's "ro" says
			} {
				if !strings.Contains(out, want) {
					t.Errorf("container output lacks %q:\n%s", want, out)
				}
			}
			if !strings.Contains(out, " ro,") && !strings.Contains(out, " ro\n") {
				t.Errorf("the cgroup mount is not mounted ro:\n%s", out)
			}
		})
	}
}
