package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berthrun/berth/internal/testbundle"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// nsFiles maps OCI namespace types to their /proc/<pid>/ns file.
var nsFiles = map[specs.LinuxNamespaceType]string{
	specs.PIDNamespace:     "pid",
	specs.NetworkNamespace: "net",
	specs.IPCNamespace:     "ipc",
	specs.UTSNamespace:     "uts",
	specs.MountNamespace:   "mnt",
	specs.CgroupNamespace:  "cgroup",
	specs.UserNamespace:    "user",
	specs.TimeNamespace:    "time",
}

// nsScript prints "<file>=<link>" for every namespace of the shell.
const nsScript = `for n in pid net ipc uts mnt cgroup user time; do echo "$n=$(readlink /proc/$$/ns/$n)"; done`

// hostNS returns the namespace link of pid ("self" for the test) for file.
func hostNS(t *testing.T, pid, file string) string {
	t.Helper()
	l, err := os.Readlink("/proc/" + pid + "/ns/" + file)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func withNamespaces(s *specs.Spec, types ...specs.LinuxNamespaceType) {
	s.Linux.Namespaces = nil
	for _, ty := range types {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: ty})
	}
}

func userMapped(s *specs.Spec) {
	s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
	s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
}

// TestNewNamespaces: the namespaces the spec asks for are new (their inode
// differs from the host's); the others are the host's.
func TestNewNamespaces(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		modify func(*specs.Spec)
		fresh  []string // namespace files that must differ from the host's
	}{
		{"default", nil, []string{"pid", "net", "ipc", "uts", "mnt"}},
		{"mount-only", func(s *specs.Spec) {
			withNamespaces(s, specs.MountNamespace)
			s.Hostname = "" // a hostname needs a uts namespace
		}, []string{"mnt"}},
		{"cgroup", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.CgroupNamespace})
		}, []string{"pid", "net", "ipc", "uts", "mnt", "cgroup"}},
		{"user", userMapped, []string{"pid", "net", "ipc", "uts", "mnt", "user"}},
		{"time", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
		}, []string{"pid", "net", "ipc", "uts", "mnt", "time"}},
		{"all", func(s *specs.Spec) {
			userMapped(s)
			s.Linux.Namespaces = append(s.Linux.Namespaces,
				specs.LinuxNamespace{Type: specs.CgroupNamespace}, specs.LinuxNamespace{Type: specs.TimeNamespace})
		}, []string{"pid", "net", "ipc", "uts", "mnt", "cgroup", "user", "time"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			spec := sh(nsScript)
			if tc.modify != nil {
				tc.modify(spec)
			}
			kv := parseKV(e.mustRun(spec))
			fresh := map[string]bool{}
			for _, f := range tc.fresh {
				fresh[f] = true
			}
			for _, f := range nsFiles {
				host := hostNS(t, "self", f)
				got := kv[f]
				if got == "" {
					t.Errorf("%s: no namespace link printed", f)
					continue
				}
				if fresh[f] && got == host {
					t.Errorf("%s namespace is the host's (%s), want a new one", f, got)
				}
				if !fresh[f] && got != host {
					t.Errorf("%s namespace is %s, want the host's %s", f, got, host)
				}
			}
		})
	}
}

// TestJoinNamespacesOfContainer: a second container joins the net, ipc,
// uts and pid namespaces of a first one by path.
func TestJoinNamespacesOfContainer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	target := testbundle.Spec("sleep", "1000")
	target.Hostname = "target-host"
	tid := e.id("target")
	e.mustBerth("run", "-d", "--bundle", e.bundle(target), tid)
	tpid := strconv.Itoa(e.state(tid).Pid)

	joiner := sh(nsScript + `; echo hostname=$(hostname); echo pid1=$(tr '\0' ' ' </proc/1/cmdline); echo me=$$`)
	joiner.Hostname = ""
	joined := map[specs.LinuxNamespaceType]bool{}
	for i, ns := range joiner.Linux.Namespaces {
		if ns.Type != specs.MountNamespace {
			joiner.Linux.Namespaces[i].Path = "/proc/" + tpid + "/ns/" + nsFiles[ns.Type]
			joined[ns.Type] = true
		}
	}
	kv := parseKV(e.mustRun(joiner))
	for ty := range joined {
		f := nsFiles[ty]
		if want := hostNS(t, tpid, f); kv[f] != want {
			t.Errorf("joined %s namespace: %s, want the target's %s", f, kv[f], want)
		}
	}
	if kv["mnt"] == hostNS(t, tpid, "mnt") || kv["mnt"] == hostNS(t, "self", "mnt") {
		t.Errorf("mount namespace %s is not a new one", kv["mnt"])
	}
	if kv["hostname"] != "target-host" {
		t.Errorf("hostname in the joined uts namespace: %q, want target-host", kv["hostname"])
	}
	if kv["pid1"] != "sleep 1000" {
		t.Errorf("pid 1 in the joined pid namespace is %q, want the target's sleep", kv["pid1"])
	}
	if kv["me"] == "1" {
		t.Errorf("the joiner is pid 1 in the target's pid namespace")
	}
	// The target is untouched by the joiner's run and delete.
	if s := e.state(tid); s.Status != "running" {
		t.Errorf("target: status %q after the joiner ran", s.Status)
	}
}

// TestJoinNamespacesOfUnshare: join namespaces made by unshare(1).
func TestJoinNamespacesOfUnshare(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	unshare := requireTool(t, "unshare")
	cmd := exec.Command(unshare, "--net", "--uts", "--ipc", "sh", "-c", "hostname from-unshare && exec sleep 1000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	pid := strconv.Itoa(cmd.Process.Pid)
	// Wait until sh has exec'd sleep (the hostname is set by then).
	deadline := time.Now().Add(10 * time.Second)
	for {
		if b, _ := os.ReadFile("/proc/" + pid + "/cmdline"); strings.HasPrefix(string(b), "sleep") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("unshare never ran sleep")
		}
		time.Sleep(10 * time.Millisecond)
	}
	spec := sh(nsScript + `; echo hostname=$(hostname); echo links=$(ls /sys/class/net | tr '\n' ' ')`)
	spec.Hostname = ""
	for i, ns := range spec.Linux.Namespaces {
		switch ns.Type {
		case specs.NetworkNamespace, specs.UTSNamespace, specs.IPCNamespace:
			spec.Linux.Namespaces[i].Path = "/proc/" + pid + "/ns/" + nsFiles[ns.Type]
		}
	}
	kv := parseKV(e.mustRun(spec))
	for _, f := range []string{"net", "uts", "ipc"} {
		if want := hostNS(t, pid, f); kv[f] != want {
			t.Errorf("%s: %s, want unshare's %s", f, kv[f], want)
		}
	}
	if kv["hostname"] != "from-unshare" {
		t.Errorf("hostname %q, want from-unshare", kv["hostname"])
	}
	if kv["pid"] == hostNS(t, "self", "pid") {
		t.Errorf("pid namespace is the host's")
	}
}

func TestUserNamespace(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	spec := sh(`cat /proc/self/uid_map /proc/self/gid_map; echo uid=$(id -u) gid=$(id -g); echo busybox-owner=$(stat -c %u /bin/busybox); touch /tmp/x && echo tmp-writable`)
	userMapped(spec)
	out := e.mustRun(spec)
	l := lines(out)
	if len(l) < 2 || strings.Join(strings.Fields(l[0]), " ") != "0 100000 65536" || strings.Join(strings.Fields(l[1]), " ") != "0 100000 65536" {
		t.Errorf("uid_map/gid_map: %q, want 0 100000 65536 twice", l)
	}
	kv := parseKV(out)
	if !strings.Contains(out, "uid=0 gid=0") {
		t.Errorf("inside the user namespace: %q, want uid=0 gid=0", out)
	}
	// The rootfs belongs to host root, which is not mapped.
	if kv["busybox-owner"] != "65534" {
		t.Errorf("unmapped owner shows as %q, want the overflow uid 65534", kv["busybox-owner"])
	}
	if !strings.Contains(out, "tmp-writable") {
		t.Errorf("/tmp (mode 1777) not writable: %q", out)
	}

	// From the host, the process runs as the mapped ids.
	spec = sh("sleep 1000")
	userMapped(spec)
	spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 200000, Size: 1000}, {ContainerID: 1000, HostID: 300000, Size: 10}}
	spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 210000, Size: 1000}}
	id := e.id("userns-host")
	e.mustBerth("run", "-d", "--bundle", e.bundle(spec), id)
	pid := e.state(id).Pid
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	if f := strings.Fields(statusField(t, string(b), "Uid")); f[0] != "200000" {
		t.Errorf("host sees uid %v, want 200000", f)
	}
	if f := strings.Fields(statusField(t, string(b), "Gid")); f[0] != "210000" {
		t.Errorf("host sees gid %v, want 210000", f)
	}
	m, _ := os.ReadFile(fmt.Sprintf("/proc/%d/uid_map", pid))
	if ml := lines(string(m)); len(ml) != 2 || strings.Join(strings.Fields(ml[1]), " ") != "1000 300000 10" {
		t.Errorf("uid_map %q, want two ranges", ml)
	}
	e.mustBerth("delete", "--force", id)
}

func TestTimeNamespace(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/self/ns/time"); err != nil {
		t.Skip("the kernel has no time namespaces")
	}
	e := newEnv(t)
	const year = 365 * 24 * 3600
	spec := sh(`cat /proc/self/timens_offsets; echo uptime=$(cut -d. -f1 /proc/uptime)`)
	spec.Linux.Namespaces = append(spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
	spec.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{
		"boottime":  {Secs: year, Nanosecs: 0},
		"monotonic": {Secs: 2 * year, Nanosecs: 500},
	}
	out := e.mustRun(spec)
	offsets := map[string]string{}
	for _, l := range lines(out) {
		f := strings.Fields(l)
		if len(f) == 3 {
			offsets[f[0]] = f[1] + " " + f[2]
		}
	}
	if offsets["monotonic"] != strconv.Itoa(2*year)+" 500" || offsets["boottime"] != strconv.Itoa(year)+" 0" {
		t.Errorf("timens_offsets %q", out)
	}
	up, _ := strconv.Atoi(parseKV(out)["uptime"])
	if up < year {
		t.Errorf("uptime %d inside, want at least the boottime offset %d", up, year)
	}
}

func TestCgroupNamespace(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	spec := sh(`cat /proc/self/cgroup`)
	spec.Linux.Namespaces = append(spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.CgroupNamespace})
	id := e.id("cgns")
	r := e.berth("run", "--bundle", e.bundle(spec), id)
	if r.code != 0 {
		t.Fatalf("%v", r)
	}
	for _, l := range lines(r.stdout) {
		if !strings.HasSuffix(l, ":/") {
			t.Errorf("in a cgroup namespace /proc/self/cgroup shows %q, want the root /", l)
		}
	}
	// On a pure cgroup v2 host there is one hierarchy: exactly "0::/".
	if got := strings.TrimSpace(r.stdout); pureCgroup2() && got != "0::/" {
		t.Errorf("in a cgroup namespace on a cgroup v2 host /proc/self/cgroup is %q, want 0::/", got)
	}

	// Without one, the container's cgroup is visible, named for its id.
	spec.Linux.Namespaces = spec.Linux.Namespaces[:len(spec.Linux.Namespaces)-1]
	id = e.id("nocgns")
	r = e.berth("run", "--bundle", e.bundle(spec), id)
	if r.code != 0 {
		t.Fatalf("%v", r)
	}
	if !strings.Contains(r.stdout, id) {
		t.Errorf("without a cgroup namespace /proc/self/cgroup does not show the container's cgroup %s:\n%s", id, r.stdout)
	}
}

// TestCgroupsPath: an absolute cgroupsPath is the container's cgroup below
// each hierarchy's root; with the systemd driver, "slice:prefix:name" is
// the scope <prefix>-<name>.scope in that slice.
func TestCgroupsPath(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.id("cgpath")
	name := "berth-e2e-cg-" + randHex(4)
	e.track(name) // the leak check looks for a cgroup of this name too
	spec := sh("sleep 1000")
	spec.Linux.CgroupsPath = "/" + name
	want := "/" + name
	if systemdCgroup {
		spec.Linux.CgroupsPath = "system.slice:berth-e2e:" + name
		want = "/system.slice/berth-e2e-" + name + ".scope"
	}
	e.mustBerth("run", "-d", "--bundle", e.bundle(spec), id)
	pid := e.state(id).Pid
	checked := 0
	for ctrl, p := range cgroupOf(t, pid) {
		if !ownsControllers(ctrl) {
			continue
		}
		checked++
		if p != want {
			t.Errorf("%q cgroup of the init: %q, want %s", ctrl, p, want)
		}
	}
	if checked == 0 {
		t.Errorf("no hierarchy with controllers in the init's cgroups: %v", cgroupOf(t, pid))
	}
	e.mustBerth("delete", "--force", id)
}

// TestCgroupsPathRelative: a relative cgroupsPath is below the caller's own
// cgroup in each v1 hierarchy (the memory one is not the root here), below
// its parent on cgroup v2.
func TestCgroupsPathRelative(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if systemdCgroup {
		t.Skip("the systemd driver has no relative cgroupsPath (slice:prefix:name names a scope)")
	}
	id := e.id("cgrel")
	name := "berth-e2e-rel-" + randHex(4)
	e.track(name)
	spec := sh("sleep 1000")
	spec.Linux.CgroupsPath = name
	e.mustBerth("run", "-d", "--bundle", e.bundle(spec), id)
	own := cgroupOf(t, os.Getpid())
	checked := 0
	for ctrl, p := range cgroupOf(t, e.state(id).Pid) {
		if !ownsControllers(ctrl) {
			continue
		}
		checked++
		base := own[ctrl]
		if ctrl == "" {
			// cgroup v2: below the parent of the caller's cgroup, which
			// has processes and so can give a child no controllers (the
			// library's rule, and runc's).
			base = filepath.Dir(base)
		}
		want := strings.TrimSuffix(base, "/") + "/" + name
		if p != want {
			t.Errorf("%q cgroup of the init: %q, want %q", ctrl, p, want)
		}
	}
	if checked == 0 {
		t.Errorf("no hierarchy with controllers in the init's cgroups: %v", cgroupOf(t, e.state(id).Pid))
	}
	e.mustBerth("delete", "--force", id)
}

// ownsControllers reports whether the /proc/<pid>/cgroup hierarchy ctrl
// holds resource controllers: a v1 one other than a named one
// (name=systemd), or the unified one on a pure cgroup v2 host (in hybrid
// mode it has none, and berth may leave the container in its parent's).
func ownsControllers(ctrl string) bool {
	if ctrl == "" {
		return pureCgroup2()
	}
	return !strings.HasPrefix(ctrl, "name=")
}

func TestLoopbackUp(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	out := e.mustRun(sh(`echo links=$(ls /sys/class/net | tr '\n' ' '); echo flags=$(cat /sys/class/net/lo/flags); ip addr show lo`))
	kv := parseKV(out)
	if strings.TrimSpace(kv["links"]) != "lo" {
		t.Errorf("links in a new network namespace: %q, want only lo", kv["links"])
	}
	flags, err := strconv.ParseUint(strings.TrimPrefix(kv["flags"], "0x"), 16, 32)
	if err != nil || flags&1 == 0 {
		t.Errorf("lo flags %q: not UP", kv["flags"])
	}
	if !strings.Contains(out, "127.0.0.1") {
		t.Errorf("lo has no 127.0.0.1:\n%s", out)
	}
}

// TestTimeNamespaceInUserNamespace: time offsets in a container that also
// has a new user namespace. timens_offsets is written with the host's
// capabilities (opened before the user namespace is made); opened after,
// it failed with EPERM (issue 19, fault 8).
func TestTimeNamespaceInUserNamespace(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/self/ns/time"); err != nil {
		t.Skip("the kernel has no time namespaces")
	}
	e := newEnv(t)
	for _, w := range runWays {
		spec := sh(`cat /proc/self/timens_offsets`)
		userMapped(spec)
		spec.Linux.Namespaces = append(spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
		spec.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 86400, Nanosecs: 7}}
		r := e.berthOpts(runOpts{env: w.env}, "run", "--bundle", e.bundle(spec), e.id("timens-userns"))
		if r.code != 0 {
			t.Fatalf("%s: %v", w.name, r)
		}
		if !strings.Contains(strings.Join(strings.Fields(r.stdout), " "), "monotonic 86400 7") {
			t.Errorf("%s: timens_offsets %q, want monotonic 86400 7", w.name, r.stdout)
		}
	}
}

// TestJoinOtherUserNamespace: a container that joins another
// container's user namespace and a network namespace that user namespace
// does not own (here the host's, by path), with a new mount namespace and
// /dev/pts of its own. The network namespace can only be joined before the
// user namespace, while berth still holds the host's capabilities; and in
// the joined user namespace berth must become its root, or making
// /dev/pts fails with EOVERFLOW (issue 19, fault 8).
func TestJoinOtherUserNamespace(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	owner := sh("sleep 1000")
	userMapped(owner)
	ownerID := e.id("userns-owner")
	e.mustBerth("run", "-d", "--bundle", e.bundle(owner), ownerID)
	ownerPid := e.state(ownerID).Pid
	hostNet, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	ownerNet, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", ownerPid))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, netPath, wantNet string
	}{
		{"with the owner's network", fmt.Sprintf("/proc/%d/ns/net", ownerPid), ownerNet},
		{"with the host's network", fmt.Sprintf("/proc/%d/ns/net", os.Getpid()), hostNet},
	} {
		for _, w := range runWays {
			c, w := c, callerWay{c.name + ", " + w.name, w.env}
			spec := sh(`readlink /proc/self/ns/net; id -u; ls -d /dev/pts`)
			withNamespaces(spec, specs.MountNamespace, specs.PIDNamespace, specs.IPCNamespace, specs.UTSNamespace)
			spec.Linux.Namespaces = append(spec.Linux.Namespaces,
				specs.LinuxNamespace{Type: specs.UserNamespace, Path: fmt.Sprintf("/proc/%d/ns/user", ownerPid)},
				specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: c.netPath})
			spec.Linux.UIDMappings, spec.Linux.GIDMappings = nil, nil
			// sysfs cannot be mounted in a user namespace that does not own the
			// network namespace; this test is about the joins, not /sys.
			var mounts []specs.Mount
			for _, m := range spec.Mounts {
				if !strings.HasPrefix(m.Destination, "/sys") {
					mounts = append(mounts, m)
				}
			}
			spec.Mounts = mounts
			r := e.berthOpts(runOpts{env: w.env}, "run", "--bundle", e.bundle(spec), e.id("join-userns"))
			if r.code != 0 {
				t.Fatalf("%s: %v", w.name, r)
			}
			out := lines(r.stdout)
			if len(out) != 3 || out[0] != c.wantNet || out[1] != "0" || out[2] != "/dev/pts" {
				t.Errorf("%s: got %q, want %s, uid 0 and /dev/pts", w.name, out, c.wantNet)
			}
		}
	}
}
