package rootfs

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(runChild())
	}
	os.Exit(m.Run())
}

func TestRootfsTypicalContainer(t *testing.T) {
	requireRoot(t)
	h := newTestHost(t)
	cgPaths := hostCgroupPaths(t)
	mounts := append(h.typicalMounts(),
		specs.Mount{Destination: "/etc/hostfile", Type: "bind", Source: h.hostFile, Options: []string{"ro"}},
		specs.Mount{Destination: "/mnt/hostdir", Source: h.hostDir, Options: []string{"rbind", "rro", "nosuid"}},
		specs.Mount{Destination: "/evil", Type: "tmpfs", Source: "tmpfs"},
		specs.Mount{Destination: "/run", Type: "tmpfs", Source: "tmpfs", Options: []string{"tmpcopyup", "nodev", "mode=755"}},
		specs.Mount{Destination: "/etc/relfile", Source: "hostfile", Options: []string{"bind", "ro"}},
		specs.Mount{Destination: "/etc/viasymlink", Type: "bind", Source: filepath.Join(h.root, "linkout")},
	)
	var devices []specs.LinuxDevice
	fuse := statFact("/dev/fuse")
	if fuse.Type == "char" {
		mode := os.FileMode(0o640)
		gid := uint32(5)
		devices = append(devices, specs.LinuxDevice{
			Path: "/dev/fuse", Type: "c", Major: int64(fuse.Major), Minor: int64(fuse.Minor), FileMode: &mode, GID: &gid,
		})
	}
	cgNames := mapKeys(cgPaths)
	req := &childRequest{
		Plan: Plan{
			Root:          h.root,
			Mounts:        mounts,
			Devices:       devices,
			Readonly:      true,
			MaskedPaths:   []string{"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/acpi", "/sys/firmware", "/proc/no-such-path"},
			ReadonlyPaths: []string{"/proc/sys", "/proc/sysrq-trigger", "/proc/bus", "/proc/no-such-path"},
			CgroupPaths:   cgPaths,
		},
		Stat: []string{
			"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty", "/dev/fuse",
			"/dev/pts/ptmx", "/proc/kcore", "/proc/keys", "/proc/timer_list", "/evil", h.escape,
		},
		Statfs: []string{"/", "/dev", "/dev/shm", "/dev/mqueue", "/dev/pts", "/sys", "/sys/fs/cgroup", "/sys/firmware",
			"/proc/sys", "/mnt/hostdir", "/mnt/hostdir/sub", "/evil", h.escape, "/run", "/proc/acpi"},
		Write: []string{"/", "/dev/shm", "/run", "/etc/hostfile", "/mnt/hostdir", "/mnt/hostdir/sub",
			"/sys/fs/cgroup", "/proc/sys/kernel/hostname", "/evil"},
		Read:    []string{"/etc/hostfile", "/etc/relfile", "/etc/viasymlink", "/proc/keys", "/proc/timer_list", "/run/seed", "/run/seeddir/inner"},
		Links:   []string{"/dev/fd", "/dev/stdin", "/dev/stdout", "/dev/stderr", "/dev/ptmx", "/evil", "/run/seedlink"},
		Dirs:    []string{"/sys/fs/cgroup", "/sys/firmware", "/proc/acpi", "/mnt/hostdir"},
		Command: []string{"/bin/busybox", "cat", "/etc/hostfile"},
	}
	for _, n := range cgNames {
		p := "/sys/fs/cgroup/" + n
		req.Statfs = append(req.Statfs, p)
		req.Write = append(req.Write, p)
	}
	rep := h.run(t, req, 0)
	if rep.Error != "" {
		t.Fatalf("child failed: %s", rep.Error)
	}

	if rep.Pid != 1 || rep.Cwd != "/" {
		t.Errorf("pid %d cwd %q, want 1 and /", rep.Pid, rep.Cwd)
	}
	wantErr(t, rep.Write, "/", "read-only file system")
	if rootLine := mountInfoAt(rep.MountInfo, "/"); !strings.Contains(" "+fieldAt(rootLine, 5)+",", " ro,") {
		t.Errorf("root mount is not read-only: %q", rootLine)
	}

	// /dev: default nodes (the image's fake /dev/null is gone), links.
	for _, d := range defaultDevices {
		f := rep.Stat[d.Path]
		if f.Type != "char" || f.Major != uint32(d.Major) || f.Minor != uint32(d.Minor) || f.Perm != 0o666 {
			t.Errorf("%s: %+v, want char %d:%d 0666", d.Path, f, d.Major, d.Minor)
		}
	}
	if len(devices) > 0 {
		if f := rep.Stat["/dev/fuse"]; f.Type != "char" || f.Perm != 0o640 || f.GID != 5 || f.Minor != fuse.Minor {
			t.Errorf("/dev/fuse: %+v, want char 0640 gid 5", f)
		}
	}
	wantLinks := map[string]string{
		"/dev/fd": "/proc/self/fd", "/dev/stdin": "/proc/self/fd/0", "/dev/stdout": "/proc/self/fd/1",
		"/dev/stderr": "/proc/self/fd/2", "/dev/ptmx": "pts/ptmx",
	}
	for p, want := range wantLinks {
		if rep.Links[p] != want {
			t.Errorf("readlink %s = %q, want %q", p, rep.Links[p], want)
		}
	}
	if f := rep.Stat["/dev/pts/ptmx"]; f.Type != "char" {
		t.Errorf("/dev/pts/ptmx: %+v", f)
	}
	wantFS(t, rep, "/dev", unix.TMPFS_MAGIC, false)
	wantFS(t, rep, "/dev/shm", unix.TMPFS_MAGIC, false)
	wantFS(t, rep, "/dev/pts", unix.DEVPTS_SUPER_MAGIC, false)
	wantFS(t, rep, "/dev/mqueue", mqueueMagic, false)
	wantErr(t, rep.Write, "/dev/shm", "")

	// sysfs and cgroups read-only: on a pure cgroup v2 host the container's
	// cgroup2 itself (TestRootfsPureV2), else a tmpfs of hierarchies.
	wantFS(t, rep, "/sys", unix.SYSFS_MAGIC, true)
	wantErr(t, rep.Write, "/sys/fs/cgroup", "read-only file system")
	if pureV2Host() {
		wantFS(t, rep, "/sys/fs/cgroup", unix.CGROUP2_SUPER_MAGIC, true)
		cgNames = nil
	} else {
		wantFS(t, rep, "/sys/fs/cgroup", unix.TMPFS_MAGIC, true)
	}
	for _, n := range cgNames {
		p := "/sys/fs/cgroup/" + n
		if !slices.Contains(rep.Dirs["/sys/fs/cgroup"], n) {
			t.Errorf("%s missing: /sys/fs/cgroup has %q", p, rep.Dirs["/sys/fs/cgroup"])
		}
		magic := int64(unix.CGROUP_SUPER_MAGIC)
		if n == unifiedName {
			magic = unix.CGROUP2_SUPER_MAGIC
		}
		wantFS(t, rep, p, magic, true)
		wantErr(t, rep.Write, p, "read-only file system")
	}

	// Masked paths: files show the null device, directories an empty
	// read-only tmpfs.
	if f := rep.Stat["/proc/kcore"]; f.Exists && (f.Type != "char" || f.Major != 1 || f.Minor != 3) {
		t.Errorf("/proc/kcore is not masked: %+v", f)
	} else if !f.Exists {
		t.Log("/proc/kcore does not exist on this kernel; /proc/keys and /proc/timer_list stand in")
	}
	for _, p := range []string{"/proc/keys", "/proc/timer_list"} {
		if f := rep.Stat[p]; f.Type != "char" || f.Major != 1 || f.Minor != 3 {
			t.Errorf("%s is not masked: %+v", p, f)
		}
		if rep.Read[p] != "" {
			t.Errorf("%s reads %q, want nothing", p, rep.Read[p])
		}
	}
	for _, p := range []string{"/sys/firmware", "/proc/acpi"} {
		wantFS(t, rep, p, unix.TMPFS_MAGIC, true)
		if len(rep.Dirs[p]) != 0 {
			t.Errorf("%s is not empty: %q", p, rep.Dirs[p])
		}
	}

	// Read-only paths.
	wantFS(t, rep, "/proc/sys", unix.PROC_SUPER_MAGIC, true)
	wantErr(t, rep.Write, "/proc/sys/kernel/hostname", "read-only file system")

	// Bind mounts: a file, and a directory whose submount "rro" reached.
	if rep.Read["/etc/hostfile"] != hostFileContent || rep.Read["/etc/relfile"] != hostFileContent {
		t.Errorf("bound files read %q and %q", rep.Read["/etc/hostfile"], rep.Read["/etc/relfile"])
	}
	wantErr(t, rep.Write, "/etc/hostfile", "read-only file system")
	if got := rep.Read["/etc/viasymlink"]; got != "inside the root\n" {
		t.Errorf("a bind source symlink in the rootfs reached the host: /etc/viasymlink reads %q", got)
	}
	wantErr(t, rep.Write, "/mnt/hostdir", "read-only file system")
	wantErr(t, rep.Write, "/mnt/hostdir/sub", "read-only file system")
	if fs := rep.Statfs["/mnt/hostdir"]; !fs.NoSuid {
		t.Errorf("/mnt/hostdir is not nosuid: %+v", fs)
	}
	if got := rep.Dirs["/mnt/hostdir"]; !slices.Equal(got, []string{"file", "sub"}) {
		t.Errorf("/mnt/hostdir has %q", got)
	}

	// tmpcopyup carried the image's /run over.
	wantFS(t, rep, "/run", unix.TMPFS_MAGIC, false)
	wantErr(t, rep.Write, "/run", "")
	if rep.Read["/run/seed"] != "seed\n" || rep.Read["/run/seeddir/inner"] != "inner\n" || rep.Links["/run/seedlink"] != "../etc/passwd" {
		t.Errorf("tmpcopyup lost content: %q %q %q", rep.Read["/run/seed"], rep.Read["/run/seeddir/inner"], rep.Links["/run/seedlink"])
	}

	// The symlinked destination resolved inside the root: inside the
	// container its target is the tmpfs, and the host directory of the
	// same name was never touched (checked again below from the host).
	if rep.Stat["/evil"].Type != "link" {
		t.Errorf("/evil is no longer a symlink: %+v", rep.Stat["/evil"])
	}
	wantFS(t, rep, "/evil", unix.TMPFS_MAGIC, false)
	wantFS(t, rep, h.escape, unix.TMPFS_MAGIC, false)
	wantErr(t, rep.Write, "/evil", "")

	if rep.Output != hostFileContent {
		t.Errorf("busybox cat in the container: %q", rep.Output)
	}
	if mountInfoAt(rep.MountInfo, h.base) != "" {
		t.Errorf("a host path is mounted in the container: %q", mountInfoAt(rep.MountInfo, h.base))
	}

	// From the host: nothing was created or mounted where /evil points.
	if entries, err := os.ReadDir(h.escape); err != nil || len(entries) != 0 {
		t.Errorf("host %s was touched: %v %v", h.escape, entries, err)
	}
	if _, err := os.Stat(filepath.Join(h.root, h.escape)); err != nil {
		t.Errorf("the in-root target of /evil was not created: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(h.root, "dev/null")); string(b) != "not a device\n" {
		// /dev was a tmpfs: the image's /dev is untouched underneath.
		t.Errorf("the image's /dev/null changed: %q", b)
	}
}

func TestRootfsNoPivotCgroupNS(t *testing.T) {
	requireRoot(t)
	if _, err := os.Stat("/proc/self/ns/cgroup"); err != nil {
		t.Skip("skipping: no cgroup namespaces")
	}
	h := newTestHost(t)
	cgPaths := hostCgroupPaths(t)
	mounts := h.typicalMounts()
	req := &childRequest{
		Plan: Plan{
			Root:        h.root,
			Mounts:      mounts,
			Propagation: "rprivate",
			NoPivot:     true,
			CgroupNS:    true,
			CgroupPaths: cgPaths,
			MaskedPaths: []string{"/proc/keys"},
		},
		Stat:   []string{"/dev/null", "/proc/keys"},
		Write:  []string{"/", "/dev/shm"},
		Dirs:   []string{"/sys/fs/cgroup"},
		Statfs: []string{"/sys/fs/cgroup"},
	}
	names := mapKeys(cgPaths)
	for _, n := range names {
		if !pureV2Host() {
			req.Statfs = append(req.Statfs, "/sys/fs/cgroup/"+n)
		}
	}
	rep := h.run(t, req, syscall.CLONE_NEWCGROUP)
	if rep.Error != "" {
		t.Fatalf("child failed: %s", rep.Error)
	}
	if rep.Pid != 1 || rep.Cwd != "/" {
		t.Errorf("pid %d cwd %q, want 1 and /", rep.Pid, rep.Cwd)
	}
	wantErr(t, rep.Write, "/", "")
	wantErr(t, rep.Write, "/dev/shm", "")
	if pureV2Host() {
		wantFS(t, rep, "/sys/fs/cgroup", unix.CGROUP2_SUPER_MAGIC, true)
		names = nil
	} else {
		wantFS(t, rep, "/sys/fs/cgroup", unix.TMPFS_MAGIC, true)
	}
	rootLine := mountInfoAt(rep.MountInfo, "/")
	if rootLine == "" || strings.Contains(rootLine, "shared:") || strings.Contains(rootLine, "master:") {
		t.Errorf("root is not private after rprivate: %q", rootLine)
	}
	if f := rep.Stat["/dev/null"]; f.Type != "char" || f.Major != 1 || f.Minor != 3 {
		t.Errorf("/dev/null: %+v", f)
	}
	if f := rep.Stat["/proc/keys"]; f.Type != "char" {
		t.Errorf("/proc/keys is not masked: %+v", f)
	}
	for _, n := range names {
		magic := int64(unix.CGROUP_SUPER_MAGIC)
		if n == unifiedName || n == "" {
			magic = unix.CGROUP2_SUPER_MAGIC
		}
		wantFS(t, rep, "/sys/fs/cgroup/"+n, magic, true)
	}
}

// TestRootfsSharedUserNSDevices covers rootfsPropagation "rshared" (the
// rootfs' parent must be made private for pivot_root, and nothing may leak
// to the host even so) and devices bind-mounted from the host as in a user
// namespace, over an image that has no /dev tmpfs.
func TestRootfsSharedUserNSDevices(t *testing.T) {
	requireRoot(t)
	h := newTestHost(t)
	req := &childRequest{
		Plan: Plan{
			Root:        h.root,
			Mounts:      []specs.Mount{{Destination: "/proc", Type: "proc", Source: "proc"}},
			Propagation: "rshared",
			BindDevices: true,
			Readonly:    true,
		},
		Stat:  []string{"/dev/null", "/dev/zero", "/dev/tty"},
		Write: []string{"/", "/dev/null"},
	}
	rep := h.run(t, req, 0)
	if rep.Error != "" {
		t.Fatalf("child failed: %s", rep.Error)
	}
	if rootLine := mountInfoAt(rep.MountInfo, "/"); !strings.Contains(rootLine, "shared:") {
		t.Errorf("root is not shared after rshared: %q", rootLine)
	}
	for _, d := range []string{"/dev/null", "/dev/zero", "/dev/tty"} {
		if f := rep.Stat[d]; f.Type != "char" {
			t.Errorf("%s: %+v, want the host's char device", d, f)
		}
	}
	wantErr(t, rep.Write, "/", "read-only file system")
	// A bind of the host node is writable even on a read-only root.
	wantErr(t, rep.Write, "/dev/null", "")
	if b, _ := os.ReadFile(filepath.Join(h.root, "dev/null")); string(b) != "not a device\n" {
		t.Errorf("the image's /dev/null file changed: %q", b)
	}
}

// TestRootfsPureV2 runs the cgroup mount as on a host with only cgroup v2
// (faked inside the child's namespace), with and without a cgroup
// namespace, and checks that a /dev bound from the host is left alone.
func TestRootfsPureV2(t *testing.T) {
	requireRoot(t)
	if _, err := os.Stat("/proc/self/ns/cgroup"); err != nil {
		t.Skip("skipping: no cgroup namespaces")
	}
	h := newTestHost(t)
	for _, ns := range []bool{false, true} {
		t.Run(map[bool]string{false: "bind", true: "cgroupns"}[ns], func(t *testing.T) {
			req := &childRequest{
				FakePureV2: true,
				Plan: Plan{
					Root: h.root,
					Mounts: []specs.Mount{
						{Destination: "/proc", Type: "proc", Source: "proc"},
						{Destination: "/dev", Type: "bind", Source: h.hostDir, Options: []string{"rbind"}},
						{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "ro", "rprivate"}},
					},
					CgroupNS:    ns,
					CgroupPaths: map[string]string{"": "/sys/fs/cgroup"},
				},
				Statfs: []string{"/sys/fs/cgroup"},
				Dirs:   []string{"/dev"},
				Write:  []string{"/sys/fs/cgroup"},
			}
			flags := uintptr(0)
			if ns {
				flags = syscall.CLONE_NEWCGROUP
			}
			rep := h.run(t, req, flags)
			if rep.Error != "" {
				t.Fatalf("child failed: %s", rep.Error)
			}
			wantFS(t, rep, "/sys/fs/cgroup", unix.CGROUP2_SUPER_MAGIC, true)
			wantErr(t, rep.Write, "/sys/fs/cgroup", "read-only file system")
			if line := mountInfoAt(rep.MountInfo, "/sys/fs/cgroup"); strings.Contains(line, "shared:") || strings.Contains(line, "master:") {
				t.Errorf("/sys/fs/cgroup is not private: %q", line)
			}
			if got := rep.Dirs["/dev"]; !slices.Equal(got, []string{"file", "sub"}) {
				t.Errorf("a bound /dev was populated: %q", got)
			}
		})
	}
}

func TestRootfsErrorsNameTheItem(t *testing.T) {
	requireRoot(t)
	h := newTestHost(t)
	proc := specs.Mount{Destination: "/proc", Type: "proc", Source: "proc"}
	tests := []struct {
		name string
		plan Plan
		want string
	}{
		{"unknown fs", Plan{Mounts: []specs.Mount{proc, {Destination: "/x", Type: "nosuchfs", Source: "none"}}},
			`mounts[1] destination "/x": mount nosuchfs: no such device`},
		{"idmap", Plan{Mounts: []specs.Mount{{Destination: "/y", Type: "bind", Source: h.hostDir, Options: []string{"rbind", "idmap"}}}},
			`mounts[0] destination "/y": mount option "idmap": idmapped mounts are not supported yet`},
		{"missing source", Plan{Mounts: []specs.Mount{{Destination: "/z", Type: "bind", Source: "/no/such/source"}}},
			`mounts[0] destination "/z": open source "/no/such/source": no such file or directory`},
		{"over procfs", Plan{Mounts: []specs.Mount{proc, {Destination: "/proc/self/attr", Type: "tmpfs"}}},
			`mounts[1] destination "/proc/self/attr": refusing to mount over procfs path`},
		{"bad device", Plan{Devices: []specs.LinuxDevice{{Path: "/dev/bad", Type: "z"}}},
			`linux.devices[0] "/dev/bad": unknown device type "z"`},
		{"bad propagation", Plan{Propagation: "sideways"},
			`linux.rootfsPropagation "sideways": unknown propagation`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.plan.Root = h.root
			rep := h.run(t, &childRequest{Plan: tc.plan}, 0)
			if !strings.HasPrefix(rep.Error, tc.want) || strings.Contains(rep.Error, "\n") {
				t.Errorf("error %q, want one line starting with %q", rep.Error, tc.want)
			}
		})
	}
}
