package rootfs

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

const hostFileContent = "hello from the host\n"

// testHost is the host side of one test: a shared tmpfs holding a busybox
// rootfs and the bind sources, so that any mount leaking out of the
// container's namespace would show up on the host.
type testHost struct {
	base     string // shared tmpfs, the children's working directory
	root     string // busybox rootfs
	hostFile string
	hostDir  string
	escape   string // host directory a hostile symlink points at
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: needs root to create namespaces and mount")
	}
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Skip("skipping: /bin/busybox (busybox-static) is needed for the test rootfs")
	}
}

func newTestHost(t *testing.T) *testHost {
	t.Helper()
	base := t.TempDir()
	mustMount(t, "tmpfs", base, "tmpfs", 0, "mode=755")
	// Shared, like "/" on systemd hosts: without the namespace's own
	// propagation set up, every container mount would appear here.
	mustMount(t, "", base, "", unix.MS_SHARED, "")
	h := &testHost{
		base:     base,
		root:     filepath.Join(base, "rootfs"),
		hostFile: filepath.Join(base, "hostfile"),
		hostDir:  filepath.Join(base, "hostdir"),
		escape:   filepath.Join(base, "escape"),
	}
	mustWrite(t, h.hostFile, hostFileContent)
	mustMkdir(t, filepath.Join(h.hostDir, "sub"))
	mustWrite(t, filepath.Join(h.hostDir, "file"), "dir file\n")
	// A submount in the bound directory, to see "rro" reach it.
	mustMount(t, "tmpfs", filepath.Join(h.hostDir, "sub"), "tmpfs", 0, "mode=755")
	mustMkdir(t, h.escape)
	h.buildRootfs(t)
	return h
}

func (h *testHost) buildRootfs(t *testing.T) {
	t.Helper()
	mustMkdir(t, filepath.Join(h.root, "bin"))
	mustMkdir(t, filepath.Join(h.root, "etc"))
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(h.root, "bin/busybox"), bb, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"sh", "ls", "cat", "mount", "touch", "stat"} {
		mustSymlink(t, "busybox", filepath.Join(h.root, "bin", name))
	}
	// Content a tmpcopyup tmpfs must carry over.
	mustMkdir(t, filepath.Join(h.root, "run/seeddir"))
	mustWrite(t, filepath.Join(h.root, "run/seed"), "seed\n")
	mustWrite(t, filepath.Join(h.root, "run/seeddir/inner"), "inner\n")
	mustSymlink(t, "../etc/passwd", filepath.Join(h.root, "run/seedlink"))
	// A destination that is a symlink climbing out of the root to a real
	// host directory: it must resolve inside the root.
	mustSymlink(t, "/../../../../.."+h.escape, filepath.Join(h.root, "evil"))
	// A bind source inside the rootfs that is a symlink to a host file:
	// it must resolve to the in-root file of the same name.
	mustMkdir(t, filepath.Join(h.root, filepath.Dir(h.hostFile)))
	mustWrite(t, filepath.Join(h.root, h.hostFile), "inside the root\n")
	mustSymlink(t, h.hostFile, filepath.Join(h.root, "linkout"))
	// An image-provided /dev/null that is not the null device.
	mustMkdir(t, filepath.Join(h.root, "dev"))
	mustWrite(t, filepath.Join(h.root, "dev/null"), "not a device\n")
}

// run starts a child in new namespaces that applies the request, and
// checks that the host's mount table is the same before and after.
func (h *testHost) run(t *testing.T, req *childRequest, extraFlags uintptr) *childReport {
	t.Helper()
	before := hostMounts(t)
	enc, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"=1", requestEnv+"="+string(enc))
	cmd.Dir = h.base // relative bind sources are relative to the bundle
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWUTS |
			syscall.CLONE_NEWIPC | extraFlags,
		Pdeathsig: syscall.SIGKILL,
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("child: %v\nstderr:\n%s", err, stderr.String())
	}
	var rep childReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("child report: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("container mountinfo:\n%s", strings.Join(rep.MountInfo, "\n"))
		}
	})
	after := hostMounts(t)
	if added, removed := diff(before, after); len(added)+len(removed) > 0 {
		t.Errorf("the host mount table changed:\nadded:   %q\nremoved: %q", added, removed)
	}
	if len(rep.Escaped) > 0 {
		t.Errorf("mounts made outside the root: %q", rep.Escaped)
	}
	return &rep
}

// typicalMounts are the mounts of a runc-style config.json.
func (h *testHost) typicalMounts() []specs.Mount {
	return []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
	}
}

// hostCgroupPaths maps each cgroup hierarchy mounted under /sys/fs/cgroup
// to this process's cgroup directory in it, the way the caller of Prepare
// fills Plan.CgroupPaths.
// pureV2Host reports whether the host's /sys/fs/cgroup is cgroup2 alone.
func pureV2Host() bool {
	var st unix.Statfs_t
	return unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
}

func hostCgroupPaths(t *testing.T) map[string]string {
	t.Helper()
	lines, err := readLines("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	own := map[string]string{} // controllers field -> path
	for _, l := range lines {
		if f := strings.SplitN(l, ":", 3); len(f) == 3 {
			own[f[1]] = f[2]
		}
	}
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return map[string]string{unifiedName: filepath.Join("/sys/fs/cgroup", own[""])}
	}
	mounts, err := readLines("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	paths := map[string]string{}
	for _, l := range mounts {
		f := strings.Fields(l)
		if len(f) < 10 || filepath.Dir(f[4]) != "/sys/fs/cgroup" {
			continue
		}
		fstype := f[len(f)-3]
		name := filepath.Base(f[4])
		switch {
		case fstype == "cgroup2":
			if p, ok := own[""]; ok {
				paths[name] = filepath.Join(f[4], p)
			}
		case fstype == "cgroup":
			for ctl, p := range own {
				if ctl == name || ctl == "name="+name {
					paths[name] = filepath.Join(f[4], p)
				}
			}
		}
	}
	return paths
}

func hostMounts(t *testing.T) []string {
	t.Helper()
	lines, err := readLines("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

func diff(before, after []string) (added, removed []string) {
	for _, l := range after {
		if !slices.Contains(before, l) {
			added = append(added, l)
		}
	}
	for _, l := range before {
		if !slices.Contains(after, l) {
			removed = append(removed, l)
		}
	}
	return added, removed
}

// mountInfoAt returns the last mountinfo line whose mount point is mp.
func mountInfoAt(lines []string, mp string) string {
	found := ""
	for _, l := range lines {
		if fieldAt(l, 4) == mp {
			found = l
		}
	}
	return found
}

func fieldAt(line string, i int) string {
	f := strings.Fields(line)
	if i < len(f) {
		return f[i]
	}
	return ""
}

func wantFS(t *testing.T, rep *childReport, path string, magic int64, readonly bool) {
	t.Helper()
	fs, ok := rep.Statfs[path]
	if !ok {
		t.Errorf("statfs %s failed in the container", path)
		return
	}
	if fs.Type != magic || fs.ReadOnly != readonly {
		t.Errorf("%s: type %#x ro %v, want type %#x ro %v", path, fs.Type, fs.ReadOnly, magic, readonly)
	}
}

func wantErr(t *testing.T, results map[string]string, path, want string) {
	t.Helper()
	got, ok := results[path]
	if !ok {
		t.Errorf("no write result for %s", path)
	} else if got != want {
		t.Errorf("write %s: %q, want %q", path, got, want)
	}
}

func mapKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func mustMount(t *testing.T, source, target, fstype string, flags uintptr, data string) {
	t.Helper()
	if err := unix.Mount(source, target, fstype, flags, data); err != nil {
		t.Fatalf("mount %s: %v", target, err)
	}
	if flags&(unix.MS_SHARED|unix.MS_SLAVE|unix.MS_PRIVATE) != 0 {
		return
	}
	t.Cleanup(func() {
		if err := unix.Unmount(target, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", target, err)
		}
	})
}

func mustMkdir(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(path, 0o755); err != nil {
		t.Fatal(err)
	}
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustSymlink(t *testing.T, target, path string) {
	t.Helper()
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
}

// mqueueMagic is MQUEUE_MAGIC from linux/magic.h, which x/sys lacks.
const mqueueMagic = 0x19800202
