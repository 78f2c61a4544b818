package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berthrun/berth/internal/hostscan"
)

// mountEntry is one line of /proc/<pid>/mountinfo.
type mountEntry struct {
	root, point string
	opts        map[string]bool // per-mount options (ro, nosuid, ...)
	optional    []string        // shared:N, master:N, ...
	fstype      string
	source      string
	super       map[string]string // superblock options
}

// parseMountinfo parses mountinfo text; the last entry for a mount point
// wins (it is the one on top).
func parseMountinfo(t *testing.T, text string) map[string]mountEntry {
	t.Helper()
	out := map[string]mountEntry{}
	for _, l := range lines(text) {
		f := strings.Fields(l)
		sep := -1
		for i, x := range f {
			if x == "-" {
				sep = i
				break
			}
		}
		if sep < 6 || len(f) < sep+3 {
			continue
		}
		m := mountEntry{
			root: hostscan.Unescape(f[3]), point: hostscan.Unescape(f[4]),
			opts: map[string]bool{}, optional: f[6:sep],
			fstype: f[sep+1], source: f[sep+2], super: map[string]string{},
		}
		for _, o := range strings.Split(f[5], ",") {
			m.opts[o] = true
		}
		if len(f) > sep+3 {
			for _, o := range strings.Split(f[sep+3], ",") {
				k, v, _ := strings.Cut(o, "=")
				m.super[k] = v
			}
		}
		out[m.point] = m
	}
	return out
}

// mountsInside runs script (after which it prints mountinfo) and parses the
// mount table; it returns the script's own output too.
func mountsInside(t *testing.T, e *env, spec *specs.Spec, extra ...string) (map[string]mountEntry, string) {
	t.Helper()
	script := spec.Process.Args[2]
	spec.Process.Args[2] = script + "\necho ====\ncat /proc/self/mountinfo"
	out := e.mustRun(spec, extra...)
	before, after, ok := strings.Cut(out, "====\n")
	if !ok {
		t.Fatalf("no mount table printed: %q", out)
	}
	return parseMountinfo(t, after), before
}

func hasOptional(m mountEntry, prefix string) bool {
	for _, o := range m.optional {
		if strings.HasPrefix(o, prefix) {
			return true
		}
	}
	return false
}

func TestDefaultMountTable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mounts, out := mountsInside(t, e, sh(`cat /sys/fs/cgroup/memory/cgroup.procs 2>/dev/null || cat /sys/fs/cgroup/cgroup.procs; echo ---; ls /sys/fs/cgroup`))
	for _, w := range []struct {
		point, fstype string
		opts          []string
	}{
		{"/proc", "proc", nil},
		{"/dev", "tmpfs", []string{"nosuid"}},
		{"/dev/pts", "devpts", []string{"nosuid", "noexec"}},
		{"/dev/shm", "tmpfs", []string{"nosuid", "noexec", "nodev"}},
		{"/dev/mqueue", "mqueue", []string{"nosuid", "noexec", "nodev"}},
		{"/sys", "sysfs", []string{"ro", "nosuid", "noexec", "nodev"}},
	} {
		m, ok := mounts[w.point]
		if !ok {
			t.Errorf("no mount at %s", w.point)
			continue
		}
		if m.fstype != w.fstype {
			t.Errorf("%s: type %s, want %s", w.point, m.fstype, w.fstype)
		}
		for _, o := range w.opts {
			if !m.opts[o] {
				t.Errorf("%s: options %v lack %s", w.point, m.opts, o)
			}
		}
	}
	if m := mounts["/dev"]; m.super["mode"] != "755" || m.super["size"] != "65536k" {
		t.Errorf("/dev tmpfs options %v, want mode=755 size=65536k", m.super)
	}
	// (tmpfs does not show its default mode 1777.)
	if m := mounts["/dev/shm"]; m.super["mode"] != "" || m.super["size"] != "65536k" {
		t.Errorf("/dev/shm tmpfs options %v, want mode=1777 size=65536k", m.super)
	}
	if m := mounts["/dev/pts"]; m.super["ptmxmode"] != "666" || m.super["mode"] != "620" {
		t.Errorf("/dev/pts options %v, want ptmxmode=666 mode=620", m.super)
	}
	// /sys/fs/cgroup: cgroup2 itself, or (v1/hybrid, like runc) a tmpfs
	// with the hierarchies mounted below it, every one read-only.
	cg, ok := mounts["/sys/fs/cgroup"]
	if !ok {
		t.Fatalf("no mount at /sys/fs/cgroup")
	}
	nCgroup := 0
	for p, m := range mounts {
		if (p == "/sys/fs/cgroup" || strings.HasPrefix(p, "/sys/fs/cgroup/")) && (m.fstype == "cgroup" || m.fstype == "cgroup2") {
			nCgroup++
			if !m.opts["ro"] {
				t.Errorf("cgroup mount %s is not read-only: %v", p, m.opts)
			}
		}
	}
	if nCgroup == 0 {
		t.Errorf("no cgroup filesystem at or below /sys/fs/cgroup (top is %s)", cg.fstype)
	}
	// The container sees its own cgroup as the root of the hierarchy:
	// its pid 1 is listed there.
	procs, _, _ := strings.Cut(out, "---")
	found := false
	for _, l := range lines(procs) {
		if l == "1" {
			found = true
		}
	}
	if !found {
		t.Errorf("the cgroup mounted at /sys/fs/cgroup is not the container's (pid 1 not in its cgroup.procs): %q", procs)
	}
	// Nothing of the host's mount table shows through.
	for p := range mounts {
		if strings.HasPrefix(p, "/tmp/") || strings.HasPrefix(p, "/work") || strings.HasPrefix(p, "/mnt/") {
			t.Errorf("host mount %s visible in the container", p)
		}
	}
}

func TestReadonlyRoot(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	spec := sh(`touch /x 2>&1 && echo root-writable; touch /tmp/x 2>&1 && echo tmp-writable; touch /dev/shm/x && echo shm-writable; echo ok`)
	spec.Root.Readonly = true
	mounts, out := mountsInside(t, e, spec)
	if strings.Contains(out, "root-writable") || strings.Contains(out, "tmp-writable") {
		t.Errorf("wrote into a read-only root: %q", out)
	}
	if !strings.Contains(out, "Read-only file system") {
		t.Errorf("touch /x did not fail with EROFS: %q", out)
	}
	if !strings.Contains(out, "shm-writable") {
		t.Errorf("a tmpfs mounted on a read-only root must stay writable: %q", out)
	}
	if m := mounts["/"]; !m.opts["ro"] {
		t.Errorf("/ options %v, want ro", m.opts)
	}

	// And a writable root for comparison.
	spec = sh(`touch /x && echo root-writable`)
	if out := e.mustRun(spec); !strings.Contains(out, "root-writable") {
		t.Errorf("root.readonly false: %q", out)
	}
}

func TestMaskedPaths(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Masked files that exist on this host (kcore does not everywhere).
	var files []string
	for _, f := range []string{"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug"} {
		if _, err := os.Stat(f); err == nil {
			files = append(files, f)
		}
	}
	var dirs []string
	for _, d := range []string{"/proc/acpi", "/sys/firmware", "/proc/scsi"} {
		if _, err := os.Stat(d); err == nil {
			dirs = append(dirs, d)
		}
	}
	script := ""
	for _, f := range append(files, "/etc/hosts") {
		script += "echo \"file " + f + " $(wc -c <" + f + ")\"\n"
	}
	for _, d := range append(dirs, "/home") {
		script += "echo \"dir " + d + " $(ls -A " + d + " | wc -l) $(stat -f -c %T " + d + ")\"\n"
		script += "touch " + d + "/new 2>/dev/null && echo \"writable " + d + "\"\n"
	}
	script += "echo done"
	spec := sh(script)
	spec.Linux.MaskedPaths = append(spec.Linux.MaskedPaths, "/etc/hosts", "/home", "/does/not/exist")
	out := e.mustRun(spec)
	for _, l := range lines(out) {
		f := strings.Fields(l)
		switch f[0] {
		case "file":
			if len(f) != 3 || f[2] != "0" {
				t.Errorf("masked file: %q, want it to read empty", l)
			}
		case "dir":
			if len(f) != 4 || f[2] != "0" || f[3] != "tmpfs" {
				t.Errorf("masked dir: %q, want an empty tmpfs", l)
			}
		case "writable":
			t.Errorf("masked path is writable: %q", l)
		}
	}
	if len(lines(out)) != len(files)+len(dirs)+3 {
		t.Errorf("output %q", out)
	}
}

func TestReadonlyPaths(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	spec := sh(`(echo 1 > /proc/sys/kernel/ns_last_pid) 2>&1 && echo sys-writable
echo ostype=$(cat /proc/sys/kernel/ostype)
touch /home/x 2>&1 && echo home-writable
ls /home/user >/dev/null && echo home-readable
true`)
	// With CAP_SYS_ADMIN: only the read-only mount can stop the write.
	caps := []string{"CAP_SYS_ADMIN", "CAP_DAC_OVERRIDE", "CAP_KILL"}
	spec.Process.Capabilities = &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps}
	spec.Linux.ReadonlyPaths = append(spec.Linux.ReadonlyPaths, "/home", "/does/not/exist")
	mounts, out := mountsInside(t, e, spec)
	if strings.Contains(out, "sys-writable") || strings.Contains(out, "home-writable") {
		t.Errorf("wrote to a read-only path: %q", out)
	}
	if strings.Count(out, "Read-only file system") != 2 {
		t.Errorf("want two EROFS failures: %q", out)
	}
	if !strings.Contains(out, "ostype=Linux") || !strings.Contains(out, "home-readable") {
		t.Errorf("read-only paths must stay readable: %q", out)
	}
	for _, p := range []string{"/proc/sys", "/home"} {
		if m, ok := mounts[p]; !ok || !m.opts["ro"] {
			t.Errorf("%s: %+v, want a read-only mount", p, m)
		}
	}
}

// hostDir makes a directory on the host with one file in it.
func hostDir(t *testing.T, e *env, name, content string) string {
	t.Helper()
	d := e.dir(name)
	if err := os.WriteFile(filepath.Join(d, "hello.txt"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return d
}

// hostMount mounts a tmpfs at dir on the host and unmounts it when the test
// ends (before the leak check).
func hostMount(t *testing.T, dir string) {
	t.Helper()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatalf("mount tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
}

func TestBindMounts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rw := hostDir(t, e, "rw", "from-rw\n")
	ro := hostDir(t, e, "ro", "from-ro\n")
	rec := hostDir(t, e, "rec", "top\n")
	sub := filepath.Join(rec, "sub")
	os.Mkdir(sub, 0o755)
	hostMount(t, sub)
	os.WriteFile(filepath.Join(sub, "inner.txt"), []byte("inner\n"), 0o644)
	file := filepath.Join(e.dir("file"), "single.txt")
	os.WriteFile(file, []byte("single\n"), 0o644)

	spec := sh(`cat /mnt/rw/hello.txt /mnt/ro/hello.txt /etc/single.txt
echo new > /mnt/rw/new.txt && echo rw-ok
echo new > /mnt/ro/new.txt 2>&1 || echo ro-refused
cat /mnt/rbind/sub/inner.txt 2>/dev/null || echo rbind-missing
cat /mnt/bind/sub/inner.txt 2>/dev/null || echo bind-no-submount
cat /mnt/bind/hello.txt
echo x > /mnt/rro/sub/x 2>/dev/null || echo rro-sub-refused
true`)
	spec.Mounts = append(spec.Mounts,
		specs.Mount{Destination: "/mnt/rw", Type: "bind", Source: rw, Options: []string{"rbind", "rw"}},
		specs.Mount{Destination: "/mnt/ro", Type: "none", Source: ro, Options: []string{"bind", "ro"}},
		specs.Mount{Destination: "/etc/single.txt", Source: file, Options: []string{"bind", "ro"}},
		specs.Mount{Destination: "/mnt/rbind", Type: "bind", Source: rec, Options: []string{"rbind"}},
		specs.Mount{Destination: "/mnt/bind", Type: "bind", Source: rec, Options: []string{"bind"}},
		specs.Mount{Destination: "/mnt/rro", Type: "bind", Source: rec, Options: []string{"rbind", "rro"}},
	)
	caps := []string{"CAP_DAC_OVERRIDE", "CAP_KILL"}
	spec.Process.Capabilities = &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps}
	mounts, out := mountsInside(t, e, spec)
	want := []string{"from-rw", "from-ro", "single", "rw-ok", "ro-refused", "inner", "bind-no-submount", "top", "rro-sub-refused"}
	got := lines(out)
	// The EROFS message of the refused write may come between.
	var filtered []string
	for _, l := range got {
		if !strings.Contains(l, "Read-only") {
			filtered = append(filtered, l)
		}
	}
	if strings.Join(filtered, ",") != strings.Join(want, ",") {
		t.Errorf("inside: %q, want %q", filtered, want)
	}
	if b, err := os.ReadFile(filepath.Join(rw, "new.txt")); err != nil || string(b) != "new\n" {
		t.Errorf("a write through the rw bind is not on the host: %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(ro, "new.txt")); err == nil {
		t.Errorf("a write through the ro bind reached the host")
	}
	if m := mounts["/mnt/ro"]; !m.opts["ro"] {
		t.Errorf("/mnt/ro options %v", m.opts)
	}
	if m := mounts["/mnt/rw"]; !m.opts["rw"] {
		t.Errorf("/mnt/rw options %v", m.opts)
	}
	if m, ok := mounts["/mnt/rro/sub"]; !ok || !m.opts["ro"] {
		t.Errorf("/mnt/rro/sub: %+v, want a read-only submount (rro)", m)
	}
	if m, ok := mounts["/mnt/rbind/sub"]; !ok || m.opts["ro"] {
		t.Errorf("/mnt/rbind/sub: %+v, want a writable submount", m)
	}
	if _, ok := mounts["/mnt/bind/sub"]; ok {
		t.Errorf("a plain bind carried a submount along")
	}
}

func TestMountOptions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	exe := e.dir("exe")
	os.WriteFile(filepath.Join(exe, "script"), []byte("#!/bin/sh\necho ran\n"), 0o755)
	spec := sh(`echo mode=$(stat -c %a /scratch) owner=$(stat -c %u:%g /scratch)
echo size=$(df -k /scratch | tail -1 | awk '{print $2}')
/exec/script 2>/dev/null || echo noexec-refused
/exec-ok/script
true`)
	spec.Mounts = append(spec.Mounts,
		specs.Mount{Destination: "/scratch", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1m", "mode=700", "uid=1000", "gid=1000", "nosuid", "nodev"}},
		specs.Mount{Destination: "/exec", Type: "bind", Source: exe, Options: []string{"bind", "noexec"}},
		specs.Mount{Destination: "/exec-ok", Type: "bind", Source: exe, Options: []string{"bind"}},
	)
	mounts, out := mountsInside(t, e, spec)
	kv := parseKV(strings.ReplaceAll(out, " owner=", "\nowner="))
	if kv["mode"] != "700" || kv["owner"] != "1000:1000" {
		t.Errorf("tmpfs mode/owner: %q", out)
	}
	if kv["size"] != "1024" {
		t.Errorf("tmpfs size %q KiB, want 1024", kv["size"])
	}
	if !strings.Contains(out, "noexec-refused") || !strings.Contains(out, "ran") {
		t.Errorf("noexec bind: %q", out)
	}
	m := mounts["/scratch"]
	if m.fstype != "tmpfs" || !m.opts["nosuid"] || !m.opts["nodev"] || m.super["size"] != "1024k" || m.super["mode"] != "700" {
		t.Errorf("/scratch: %+v", m)
	}
	if !mounts["/exec"].opts["noexec"] || mounts["/exec-ok"].opts["noexec"] {
		t.Errorf("noexec flags: /exec %v /exec-ok %v", mounts["/exec"].opts, mounts["/exec-ok"].opts)
	}
}

// TestMountPropagation: a slave bind mount receives mounts made later on
// the host; a private one does not; rootfsPropagation applies to "/".
func TestMountPropagation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	src := e.dir("shared")
	if err := syscall.Mount(src, src, "", syscall.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Unmount(src, syscall.MNT_DETACH) })
	if err := syscall.Mount("", src, "", syscall.MS_SHARED, ""); err != nil {
		t.Fatal(err)
	}
	os.Mkdir(filepath.Join(src, "later"), 0o755)

	spec := sh(`while [ ! -e /tmp/go ]; do sleep 0.05; done
for d in slave private shared; do cat /mnt/$d/later/mark 2>/dev/null || echo "$d-none"; done
echo ====
cat /proc/self/mountinfo`)
	spec.Linux.RootfsPropagation = "shared"
	spec.Mounts = append(spec.Mounts,
		specs.Mount{Destination: "/mnt/slave", Type: "bind", Source: src, Options: []string{"rbind", "rslave"}},
		specs.Mount{Destination: "/mnt/private", Type: "bind", Source: src, Options: []string{"rbind", "rprivate"}},
		specs.Mount{Destination: "/mnt/shared", Type: "bind", Source: src, Options: []string{"rbind", "rshared"}},
	)
	id := e.id("prop")
	out := e.tempFile("out")
	bundle := e.bundle(spec)
	if r := e.berthOpts(runOpts{stdout: out}, "run", "-d", "--bundle", bundle, id); r.code != 0 {
		t.Fatalf("%v", r)
	}
	// Now mount on the host below the shared source...
	later := filepath.Join(src, "later")
	hostMount(t, later)
	os.WriteFile(filepath.Join(later, "mark"), []byte("propagated\n"), 0o644)
	// ...and let the container look.
	os.WriteFile(filepath.Join(bundle, "rootfs", "tmp", "go"), nil, 0o644)
	e.waitStatus(id, "stopped")
	text := readFrom(out.Name(), 0)
	before, after, _ := strings.Cut(text, "====\n")
	got := lines(before)
	want := []string{"propagated", "private-none", "propagated"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("slave/private/shared saw %q, want %q", got, want)
	}
	mounts := parseMountinfo(t, after)
	if m := mounts["/mnt/slave"]; !hasOptional(m, "master:") || hasOptional(m, "shared:") {
		t.Errorf("/mnt/slave optional fields %v, want master:N only", m.optional)
	}
	if m := mounts["/mnt/private"]; len(m.optional) != 0 {
		t.Errorf("/mnt/private optional fields %v, want none", m.optional)
	}
	if m := mounts["/mnt/shared"]; !hasOptional(m, "shared:") {
		t.Errorf("/mnt/shared optional fields %v, want shared:N", m.optional)
	}
	if m := mounts["/"]; !hasOptional(m, "shared:") {
		t.Errorf("rootfsPropagation shared: / has %v", m.optional)
	}
	e.mustBerth("delete", id)
}

func TestRootfsPropagationPrivate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	spec := sh("true")
	spec.Linux.RootfsPropagation = "private"
	mounts, _ := mountsInside(t, e, spec)
	if m := mounts["/"]; len(m.optional) != 0 {
		t.Errorf("rootfsPropagation private: / has %v", m.optional)
	}
}

func TestDevices(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	spec := sh(`for d in null zero full random urandom tty fuse net/tun loopx; do echo "$d $(stat -c '%F %t:%T %a %u:%g' /dev/$d)"; done
for l in fd stdin stdout stderr ptmx; do echo "link $l $(readlink /dev/$l)"; done
echo x > /dev/null && echo null-ok
echo zero=$(head -c 4 /dev/zero | wc -c)
echo devs=$(ls /dev | tr '\n' ' ')`)
	fm := os.FileMode(0o640)
	spec.Linux.Devices = []specs.LinuxDevice{
		{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229, FileMode: &fm, UID: u32(1000), GID: u32(1001)},
		{Path: "/dev/net/tun", Type: "c", Major: 10, Minor: 200},
		{Path: "/dev/loopx", Type: "b", Major: 7, Minor: 0},
	}
	out := e.mustRun(spec)
	got := map[string]string{}
	for _, l := range lines(out) {
		if k, v, ok := strings.Cut(l, " "); ok {
			got[k] = v
		}
	}
	for dev, want := range map[string]string{
		"null":    "character special file 1:3 666 0:0",
		"zero":    "character special file 1:5 666 0:0",
		"full":    "character special file 1:7 666 0:0",
		"random":  "character special file 1:8 666 0:0",
		"urandom": "character special file 1:9 666 0:0",
		"tty":     "character special file 5:0 666 0:0",
		"fuse":    "character special file a:e5 640 1000:1001",
		"net/tun": "character special file a:c8",
		"loopx":   "block special file 7:0",
	} {
		if !strings.HasPrefix(got[dev], want) {
			t.Errorf("/dev/%s: %q, want %q", dev, got[dev], want)
		}
	}
	for l, want := range map[string]string{"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2", "ptmx": "pts/ptmx"} {
		if !strings.Contains(out, "link "+l+" "+want+"\n") {
			t.Errorf("/dev/%s: want a symlink to %s\n%s", l, want, out)
		}
	}
	if !strings.Contains(out, "null-ok") || !strings.Contains(out, "zero=4") {
		t.Errorf("/dev/null or /dev/zero do not work: %q", out)
	}
	// No host device leaks in.
	allowed := map[string]bool{"null": true, "zero": true, "full": true, "random": true, "urandom": true, "tty": true,
		"fd": true, "stdin": true, "stdout": true, "stderr": true, "ptmx": true, "pts": true, "shm": true, "mqueue": true,
		"core": true, "console": true, "fuse": true, "net": true, "loopx": true}
	for _, d := range strings.Fields(parseKV(out)["devs"]) {
		if !allowed[d] {
			t.Errorf("unexpected /dev/%s in the container", d)
		}
	}
}

func u32(n uint32) *uint32 { return &n }

func TestNoPivot(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mounts, out := mountsInside(t, e, sh(`echo pid=$$; ls /bin/busybox; cat /etc/hosts`), "--no-pivot")
	if !strings.Contains(out, "pid=1") || !strings.Contains(out, "/bin/busybox") || !strings.Contains(out, "localhost") {
		t.Errorf("--no-pivot: %q", out)
	}
	if _, ok := mounts["/proc"]; !ok {
		t.Errorf("--no-pivot: no /proc mount")
	}
	for p := range mounts {
		if strings.HasPrefix(p, "/tmp/") || strings.HasPrefix(p, "/work") {
			t.Errorf("--no-pivot: host mount %s visible", p)
		}
	}
}

func TestSysctl(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	hostFwd, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	if err != nil {
		t.Fatal(err)
	}
	spec := sh(`echo fwd=$(cat /proc/sys/net/ipv4/ip_forward); echo shm=$(cat /proc/sys/kernel/shm_rmid_forced)`)
	want := "1"
	if strings.TrimSpace(string(hostFwd)) == "1" {
		want = "0" // show that the container's value is its own
	}
	spec.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": want, "kernel.shm_rmid_forced": "1"}
	kv := parseKV(e.mustRun(spec))
	if kv["fwd"] != want || kv["shm"] != "1" {
		t.Errorf("sysctls inside: %v", kv)
	}
	if now, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward"); string(now) != string(hostFwd) {
		t.Errorf("the host's ip_forward changed from %q to %q", hostFwd, now)
	}
}

func TestDomainname(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	spec := sh(`echo domain=$(cat /proc/sys/kernel/domainname); echo host=$(hostname)`)
	spec.Domainname = "example.org"
	kv := parseKV(e.mustRun(spec))
	if kv["domain"] != "example.org" || kv["host"] != "berth" {
		t.Errorf("domainname/hostname: %v", kv)
	}
}

// TestMountDestinationSymlink: a destination that is a symlink leading out
// of the rootfs is resolved inside it, as if the rootfs were "/"
// (CVE-2021-30465 class): the mount lands in the rootfs and is visible
// through the symlink.
func TestMountDestinationSymlink(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	spec := sh(`echo content=$(cat /escape/hello.txt); echo abs=$(cat /abs/hello.txt)`)
	spec.Mounts = append(spec.Mounts,
		specs.Mount{Destination: "/escape", Type: "bind", Source: hostDir(t, e, "src", "bound\n"), Options: []string{"bind"}},
		specs.Mount{Destination: "/abs", Type: "bind", Source: hostDir(t, e, "src2", "bound2\n"), Options: []string{"bind"}},
	)
	b := e.bundle(spec)
	outside := e.dir("outside")
	rel, _ := filepath.Rel(filepath.Join(b, "rootfs"), outside) // ../outside-N
	// rootfs/escape climbs out with "..": in-root it is /outside-N.
	if err := os.Symlink(filepath.Join("..", "..", "..", "..", "..", "..", rel), filepath.Join(b, "rootfs", "escape")); err != nil {
		t.Fatal(err)
	}
	// rootfs/abs names the host directory absolutely.
	if err := os.Symlink(outside, filepath.Join(b, "rootfs", "abs")); err != nil {
		t.Fatal(err)
	}
	r := e.berth("run", "--bundle", b, e.id("symlink"))
	if r.code != 0 {
		t.Fatalf("%v", r)
	}
	kv := parseKV(r.stdout)
	if kv["content"] != "bound" || kv["abs"] != "bound2" {
		t.Errorf("mounts through in-root symlinks: %q, want them visible at /escape and /abs", r.stdout)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("something was created in the host directory %s", outside)
	}
}

// TestProcSysSymlinkRefused: an image whose /proc or /sys is a symlink (to a
// directory of the image, or dangling) is refused as runc refuses it: procfs
// and sysfs are only mounted on an ordinary directory, so that they land
// where maskedPaths and readonlyPaths name them. Every builder refuses it:
// the Go helper, the Go init, and the C builder, which meets the symlink
// itself (the parent does not look at the image first). The error names the
// mount; the harness checks nothing is left behind.
func TestProcSysSymlinkRefused(t *testing.T) {
	t.Parallel()
	builders := []struct {
		name string
		env  []string
	}{
		{"default", nil},
		{"c-rootfs", cHostile},
	}
	spec := sh("echo ran")
	index := map[string]int{}
	for i, m := range spec.Mounts {
		index[m.Destination] = i
	}
	for _, c := range []struct{ dir, fstype string }{{"proc", "proc"}, {"sys", "sysfs"}} {
		for _, target := range []string{"/tmp/fake", "/nowhere/"} {
			name := c.dir + map[string]string{"/tmp/fake": "-to-image-dir", "/nowhere/": "-dangling"}[target]
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				e := newEnv(t)
				for _, bl := range builders {
					b := e.bundle(spec)
					rootfs := filepath.Join(b, "rootfs")
					if err := os.Remove(filepath.Join(rootfs, c.dir)); err != nil {
						t.Fatal(err)
					}
					if target == "/tmp/fake" {
						if err := os.Mkdir(filepath.Join(rootfs, "tmp/fake"+c.dir), 0o755); err != nil {
							t.Fatal(err)
						}
					}
					symlink(t, rootfs, c.dir, target+c.dir)
					r := e.berthOpts(runOpts{env: bl.env}, "run", "--bundle", b, e.id("symlink-"+c.dir))
					if bl.name == "c-rootfs" && !traceShowsC(r.stderr) {
						t.Errorf("%s: the C builder did not run:\n%s", bl.name, r.stderr)
					}
					r = withoutTrace(r)
					i := index["/"+c.dir]
					assertError(t, r, fmt.Sprintf(`mounts[%d] destination "/%s"`, i, c.dir),
						fmt.Sprintf(`filesystem %q must be mounted on an ordinary directory: /%s is a symlink`, c.fstype, c.dir))
					if t.Failed() {
						t.Logf("builder %s", bl.name)
					}
				}
			})
		}
	}
}

// TestNoPivotNoFreshProcfs: with --no-pivot the root is moved over "/" and
// chrooted into, so the host's /proc and /sys stay in the container's mount
// namespace. A process in the container (Docker's default capabilities, no
// CAP_SYS_ADMIN) can make a user namespace of its own (a root moved over "/"
// does not count as chrooted), whose copy of the mount table locks the
// container's masks: its /proc no longer passes the kernel's "mount too
// revealing" check, but the host's fully visible /proc and /sys did, and a
// fresh, unmasked procfs (and a writable sysfs) could be mounted. As runc
// does, berth detaches every procfs and sysfs mount outside the rootfs
// before the move (in a user namespace, where they are locked, it covers
// them, and the cover is locked in the nested copy). The mounts then fail as
// they do with pivot_root (the control), and /proc's masked paths stay masked.
func TestNoPivotNoFreshProcfs(t *testing.T) {
	t.Parallel()
	const script = `mkdir -p /tmp/p /tmp/s
unshare -r -m -p -n -f sh -c '
if mount -t proc proc /tmp/p 2>/dev/null; then echo proc=mounted; else echo proc=refused; fi
if mount -t sysfs sysfs /tmp/s 2>/dev/null; then echo sysfs=mounted; else echo sysfs=refused; fi'
echo unshare=$?
for f in keys timer_list; do echo $f=$(wc -c </proc/$f) $(grep -c " /proc/$f " /proc/self/mountinfo); done`
	dockerCaps := []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID",
		"CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT", "CAP_MKNOD", "CAP_AUDIT_WRITE", "CAP_SETFCAP"}
	for _, tc := range []struct {
		name   string
		userns bool
		extra  []string
	}{
		{"no-pivot", false, []string{"--no-pivot"}},
		{"no-pivot-userns", true, []string{"--no-pivot"}},
		{"pivot", false, nil},
		{"pivot-userns", true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			spec := sh(script)
			if tc.userns {
				userMapped(spec)
			}
			spec.Process.Capabilities = &specs.LinuxCapabilities{Bounding: dockerCaps, Effective: dockerCaps, Permitted: dockerCaps}
			kv := parseKV(e.mustRun(spec, tc.extra...))
			if kv["unshare"] != "0" {
				t.Fatalf("the container could not make a user namespace of its own (unshare=%q): the test proves nothing\n%v", kv["unshare"], kv)
			}
			for _, fs := range []string{"proc", "sysfs"} {
				if kv[fs] != "refused" {
					t.Errorf("mount -t %s in a user namespace of the container's: %q, want it refused", fs, kv[fs])
				}
			}
			for _, f := range []string{"keys", "timer_list"} {
				if _, err := os.Stat("/proc/" + f); err == nil && kv[f] != "0 1" {
					t.Errorf("/proc/%s: %q (bytes, masks), want it masked: \"0 1\"", f, kv[f])
				}
			}
		})
	}
}
