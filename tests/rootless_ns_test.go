package tests

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestRootlessDevices: in the user's container the default devices and
// the config's linux.devices are the host's nodes bound (a user namespace
// may not mknod): each is its own mount, with the host's major and minor.
func TestRootlessDevices(t *testing.T) {
	_, r := newRootless(t)
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		t.Skip("the host has no /dev/net/tun to bind")
	}
	b := r.bundle(func(s *specs.Spec) {
		s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/net/tun", Type: "c", Major: 10, Minor: 200}}
		s.Process.Args = []string{"sh", "-c", `for d in null zero tty net/tun; do stat -c "%n %F %t:%T" /dev/$d; grep -c " /dev/$d " /proc/self/mountinfo; done`}
	})
	out := lines(r.mustBerth("run", "--bundle", b, r.id("dev")).stdout)
	want := []string{
		"/dev/null character special file 1:3", "1",
		"/dev/zero character special file 1:5", "1",
		"/dev/tty character special file 5:0", "1",
		"/dev/net/tun character special file a:c8", "1",
	}
	if strings.Join(out, "\n") != strings.Join(want, "\n") {
		t.Errorf("devices inside (stat, then mounts at the path):\n%s\nwant:\n%s", strings.Join(out, "\n"), strings.Join(want, "\n"))
	}
	r.assertNothingLeft()
}

// TestRootlessJoinNetnsByPath: the network namespace is the caller's
// business (slirp4netns, pasta): the user makes a user and a network
// namespace (unshare, as rootlesskit does) and the config joins both by
// path. The container is in that network namespace, root there being the
// user.
func TestRootlessJoinNetnsByPath(t *testing.T) {
	_, r := newRootless(t)
	holder := exec.Command("setpriv", "--reuid="+strconv.Itoa(r.uid), "--regid="+strconv.Itoa(r.gid), "--init-groups",
		"unshare", "--user", "--map-root-user", "--net", "sleep", "1000")
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	pid := holder.Process.Pid
	t.Cleanup(func() { holder.Process.Kill(); holder.Wait() })
	own, _ := os.Readlink("/proc/self/ns/net")
	var netns string
	deadline := time.Now().Add(10 * time.Second)
	for {
		// unshare execs sleep in the same process once the namespaces exist.
		cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		netns, _ = os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid))
		if strings.HasPrefix(string(cmd), "sleep\x00") && netns != own {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the namespace holder did not start: %q %s", cmd, netns)
		}
		time.Sleep(20 * time.Millisecond)
	}
	b := r.bundle(func(s *specs.Spec) {
		for i, ns := range s.Linux.Namespaces {
			if ns.Type == specs.UserNamespace {
				s.Linux.Namespaces[i].Path = fmt.Sprintf("/proc/%d/ns/user", pid)
			}
		}
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: fmt.Sprintf("/proc/%d/ns/net", pid)})
		s.Linux.UIDMappings, s.Linux.GIDMappings = nil, nil
		s.Process.Args = []string{"sh", "-c", "readlink /proc/self/ns/net; id -u; cat /proc/self/uid_map"}
	})
	out := lines(r.mustBerth("run", "--bundle", b, r.id("netns")).stdout)
	if len(out) != 3 || out[0] != netns || out[1] != "0" || strings.Join(strings.Fields(out[2]), " ") != fmt.Sprintf("0 %d 1", r.uid) {
		t.Errorf("inside: %q, want network namespace %s, uid 0 and uid_map 0 %d 1", out, netns, r.uid)
	}
	r.assertNothingLeft()
	if err := syscall.Kill(pid, 0); err != nil {
		t.Errorf("the namespace holder %d is gone: %v", pid, err)
	}
}
