package rootfs

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/berthrun/berth/internal/wire"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// testRoot makes a rootfs with a directory, and a symlink to it, so that
// a look at the image would show (nothing in Check or CompileC reads it).
func testRoot(t *testing.T) string {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "real/dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/real", filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	return root
}

func basePlan(root string) *Plan {
	return &Plan{Root: root, Mounts: []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc"},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"mode=755"}},
	}}
}

func TestCheck(t *testing.T) {
	root := testRoot(t)
	mount := func(m specs.Mount) func(*Plan, *CSettings) {
		return func(p *Plan, _ *CSettings) { p.Mounts = append(p.Mounts, m) }
	}
	tests := []struct {
		name   string
		change func(*Plan, *CSettings)
		want   string // "" = accepted; else a part of the refusal
	}{
		{"the usual mounts", func(*Plan, *CSettings) {}, ""},
		{"a bind from the host", mount(specs.Mount{Destination: "/data", Type: "bind", Source: "/etc", Options: []string{"rbind", "ro"}}), ""},
		{"a relative bind source", mount(specs.Mount{Destination: "/data", Source: "data", Options: []string{"bind"}}), ""},
		{"a device in /dev", func(p *Plan, _ *CSettings) {
			p.Devices = []specs.LinuxDevice{{Path: "/dev/net/tun", Type: "c", Major: 10, Minor: 200}}
		}, ""},
		{"private propagation", func(p *Plan, _ *CSettings) { p.Propagation = "rprivate" }, ""},
		{"createContainer hooks", func(_ *Plan, s *CSettings) { s.CreateHooks, s.HookState = []byte{1}, true }, ""},
		{"no pivot_root", func(p *Plan, _ *CSettings) { p.NoPivot = true }, ""},
		{"no mount namespace", func(p *Plan, s *CSettings) {
			s.OwnMounts = false
			p.Mounts = append(p.Mounts, specs.Mount{Destination: "/x", Type: "bind"}) // ignored
		}, ""},
		{"a relative root", func(p *Plan, _ *CSettings) { p.Root = "rootfs" }, "is not an absolute path"},
		{"shared propagation", func(p *Plan, _ *CSettings) { p.Propagation = "rshared" }, ""},
		{"non-recursive propagation", func(p *Plan, _ *CSettings) { p.Propagation = "private" }, ""},
		{"unknown propagation", func(p *Plan, _ *CSettings) { p.Propagation = "sideways" }, `linux.rootfsPropagation "sideways": unknown propagation`},
		// crootfs.c checks what a /proc destination resolves to.
		{"a destination in /proc", mount(specs.Mount{Destination: "/proc/cpuinfo", Type: "bind", Source: "/etc/hostname"}), ""},
		{"the root as destination", mount(specs.Mount{Destination: "/", Type: "tmpfs"}), `mounts[2] destination "/": mounting over the container root is not supported`},
		{"no type", mount(specs.Mount{Destination: "/x"}), "mount type is empty"},
		{"tmpcopyup", mount(specs.Mount{Destination: "/x", Type: "tmpfs", Options: []string{"tmpcopyup"}}), ""},
		{"tmpcopyup on a bind", mount(specs.Mount{Destination: "/x", Type: "bind", Source: "/etc", Options: []string{"tmpcopyup"}}), `tmpcopyup only applies to tmpfs mounts, not "bind"`},
		{"remount", mount(specs.Mount{Destination: "/x", Type: "tmpfs", Options: []string{"remount"}}), ""},
		{"a bad option", mount(specs.Mount{Destination: "/x", Type: "bind", Source: "/etc", Options: []string{"idmap"}}), `mount option "idmap"`},
		// crootfs.c resolves the image's symlinks in the root itself.
		{"a symlink on the path", mount(specs.Mount{Destination: "/link/dir/x", Type: "tmpfs"}), ""},
		{"a bind source in the rootfs", mount(specs.Mount{Destination: "/x", Type: "bind", Source: root + "/real"}), ""},
		{"a bind without source", mount(specs.Mount{Destination: "/x", Type: "bind"}), "bind mount without a source"},
		{"devices in the image's /dev", func(p *Plan, _ *CSettings) { p.Mounts = p.Mounts[:1] }, ""},
		{"a device outside /dev", func(p *Plan, _ *CSettings) {
			p.Devices = []specs.LinuxDevice{{Path: "/tun", Type: "c", Major: 10, Minor: 200}}
		}, ""},
		{"a device of unknown type", func(p *Plan, _ *CSettings) {
			p.Devices = []specs.LinuxDevice{{Path: "/dev/x", Type: "z"}}
		}, `linux.devices[0] "/dev/x": unknown device type "z"`},
		// sysctl(8)'s other spelling names the same file.
		{"a sysctl with a slash", func(_ *Plan, s *CSettings) { s.Sysctl = map[string]string{"net/ipv4/ip_forward": "1"} }, ""},
		{"a sysctl with an empty part", func(_ *Plan, s *CSettings) { s.Sysctl = map[string]string{"net..ip_forward": "1"} }, `linux.sysctl["net..ip_forward"]: not a sysctl name`},
		{"a sysctl walking up", func(_ *Plan, s *CSettings) { s.Sysctl = map[string]string{"net/../../x": "1"} }, "not a sysctl name"},
		{"a sysctl with a procfs of its own", func(_ *Plan, s *CSettings) { s.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"} }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, s := basePlan(root), &CSettings{Cwd: "/", Bundle: "/bundle", OwnMounts: true}
			tt.change(p, s)
			err := Check(p, s)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Check refused: %v", err)
			case tt.want != "" && err == nil:
				t.Fatalf("Check accepted, want a refusal naming %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Fatalf("Check = %v, want it to name %q", err, tt.want)
			}
		})
	}
}

// record is one decoded program record: its tag and its strings (numbers
// are checked separately where they matter).
type record struct {
	tag  uint32
	data []byte
}

// decode splits a program into records after checking it against the
// schema, as the C reader does first (wire.c).
func decode(t *testing.T, b []byte) []record {
	t.Helper()
	if err := wire.Check(&wire.Rootfs, b); err != nil {
		t.Fatal(err)
	}
	var out []record
	for len(b) > 0 {
		if len(b) < 8 {
			t.Fatalf("truncated record")
		}
		tag, n := binary.NativeEndian.Uint32(b), binary.NativeEndian.Uint32(b[4:])
		out = append(out, record{tag, b[8 : 8+n]})
		b = b[8+n:]
	}
	return out
}

// strs returns the NUL-terminated strings after skip bytes of numbers.
func (r record) strs(skip int) []string {
	return strings.Split(strings.TrimSuffix(string(r.data[skip:]), "\x00"), "\x00")
}

func (r record) u64(i int) uint64 { return binary.NativeEndian.Uint64(r.data[8*i:]) }

// bindStrs and bindSlot split a bind record: three numbers, destination and
// source, then the slot of a source the host opened.
func bindStrs(r record) []string { return record{r.tag, r.data[:len(r.data)-4]}.strs(24) }
func bindSlot(r record) uint32   { return binary.NativeEndian.Uint32(r.data[len(r.data)-4:]) }

// TestHostSources: with a user namespace, every bind source outside the
// rootfs is opened by the host, in order, and its bind record names its
// slot; sources in the rootfs, remounts and other mounts are not.
func TestHostSources(t *testing.T) {
	p := basePlan("/r")
	p.Mounts = []specs.Mount{
		{Destination: "/a", Type: "bind", Source: "/vol/a", Options: []string{"rbind", "ro"}},
		{Destination: "/t", Type: "tmpfs", Source: "tmpfs"},
		{Destination: "/b", Source: "rel", Options: []string{"bind"}},
		{Destination: "/in", Type: "bind", Source: "/r/inside"},
	}
	if got := HostSources(p, "/bundle"); got != nil {
		t.Fatalf("without a user namespace: %v, want none", got)
	}
	p.InUserNS = true
	want := []HostSource{{Index: 0, Path: "/vol/a", Recursive: true}, {Index: 2, Path: "/bundle/rel"}}
	if got := HostSources(p, "/bundle"); !reflect.DeepEqual(got, want) {
		t.Fatalf("HostSources = %+v, want %+v", got, want)
	}
	var slots []uint32
	for _, r := range decode(t, CompileC(p, &CSettings{Cwd: "/", Bundle: "/bundle", OwnMounts: true})) {
		if r.tag == wire.RfBind || r.tag == wire.RfBindInRoot {
			slots = append(slots, bindSlot(r))
		}
	}
	if !reflect.DeepEqual(slots, []uint32{1, 2, 0}) {
		t.Errorf("bind slots %v, want [1 2 0]", slots)
	}
}

func TestCompileC(t *testing.T) {
	p := basePlan("/r")
	p.Mounts = append(p.Mounts,
		specs.Mount{Destination: "/data", Type: "bind", Source: "data", Options: []string{"ro", "rprivate"}})
	p.MaskedPaths = []string{"/proc/kcore"}
	p.ReadonlyPaths = []string{"/proc/sys"}
	p.Readonly = true
	p.Propagation = "rprivate"
	s := &CSettings{Hostname: "h", Sysctl: map[string]string{"net.ipv4.ip_forward": "1"}, Cwd: "/w", Bundle: "/b", OwnMounts: true}
	recs := decode(t, CompileC(p, s))

	var tags []uint32
	byTag := map[uint32][]record{}
	for _, r := range recs {
		if r.tag != wire.RfCtx {
			tags = append(tags, r.tag)
		}
		byTag[r.tag] = append(byTag[r.tag], r)
	}
	want := []uint32{wire.RfPropagation, wire.RfRoot, wire.RfFSDir, wire.RfFS, wire.RfBind, wire.RfMntProp} // proc needs an ordinary directory, tmpfs not
	for range missingDefaults(nil) {
		want = append(want, wire.RfDev)
	}
	want = append(want, wire.RfDevlinks, wire.RfHooks, wire.RfPivot, wire.RfHostname, wire.RfSysctl, wire.RfMkcwd,
		wire.RfRoRoot, wire.RfMask, wire.RfRoPath, wire.RfFinalProp)
	if !reflect.DeepEqual(tags, want) {
		t.Fatalf("program steps = %v, want %v", tags, want)
	}
	if got := byTag[wire.RfPropagation][0].u64(0); got != unix.MS_PRIVATE|unix.MS_REC {
		t.Errorf("first propagation = %#x, want MS_PRIVATE|MS_REC", got)
	}
	bind := byTag[wire.RfBind][0]
	if got := bindStrs(bind); !reflect.DeepEqual(got, []string{"/data", "/b/data"}) {
		t.Errorf("bind = %q, want the destination and the source made absolute in the bundle", got)
	}
	if slot := bindSlot(bind); slot != 0 {
		t.Errorf("bind slot %d without a user namespace, want 0 (the builder opens the source)", slot)
	}
	if bind.u64(0) != unix.MS_BIND || bind.u64(1)&unix.MS_RDONLY == 0 {
		t.Errorf("bind flags %#x, set %#x: want MS_BIND, and ro to set", bind.u64(0), bind.u64(1))
	}
	if got := byTag[wire.RfSysctl][0].strs(0); !reflect.DeepEqual(got, []string{"net/ipv4/ip_forward", "1"}) {
		t.Errorf("sysctl = %q", got)
	}
	ctxs := map[string]bool{}
	for _, r := range byTag[wire.RfCtx] {
		ctxs[r.strs(0)[0]] = true
	}
	for _, c := range []string{`rootfs: mounts[2] destination "/data"`, `linux.sysctl["net.ipv4.ip_forward"]`,
		`rootfs: maskedPaths[0] "/proc/kcore"`, `process.cwd "/w"`} {
		if !ctxs[c] {
			t.Errorf("no error context %q in the program", c)
		}
	}
}

// programTags lists a program's steps but the error contexts.
func programTags(t *testing.T, b []byte) []uint32 {
	var tags []uint32
	for _, r := range decode(t, b) {
		if r.tag != wire.RfCtx {
			tags = append(tags, r.tag)
		}
	}
	return tags
}

// TestCompileCWaysIn: how the root is entered is decided here: a shared or
// non-recursive propagation makes the rootfs's parent private first, no
// pivot_root moves the root, no mount namespace only chroots (no mount,
// no cwd made in the runtime's mount table).
func TestCompileCWaysIn(t *testing.T) {
	s := func(own bool) *CSettings { return &CSettings{Cwd: "/w", Bundle: "/b", OwnMounts: own} }
	for _, tt := range []struct {
		name   string
		change func(*Plan)
		own    bool
		want   []uint32 // the steps, but devices
	}{
		{"rslave", func(*Plan) {}, true, []uint32{wire.RfPropagation, wire.RfRoot, wire.RfFSDir, wire.RfFS,
			wire.RfDevlinks, wire.RfHooks, wire.RfPivot, wire.RfMkcwd}},
		{"rshared", func(p *Plan) { p.Propagation = "rshared" }, true, []uint32{wire.RfPropagation, wire.RfParentPrivate,
			wire.RfRoot, wire.RfFSDir, wire.RfFS, wire.RfDevlinks, wire.RfHooks, wire.RfPivot, wire.RfMkcwd, wire.RfFinalProp}},
		{"private", func(p *Plan) { p.Propagation = "private" }, true, []uint32{wire.RfPropagation, wire.RfParentPrivate,
			wire.RfRoot, wire.RfFSDir, wire.RfFS, wire.RfDevlinks, wire.RfHooks, wire.RfPivot, wire.RfMkcwd, wire.RfFinalProp}},
		{"no pivot_root", func(p *Plan) { p.NoPivot = true }, true, []uint32{wire.RfPropagation, wire.RfRoot, wire.RfFSDir, wire.RfFS,
			wire.RfDevlinks, wire.RfHooks, wire.RfMoveRoot, wire.RfMkcwd}},
		{"no mount namespace", func(*Plan) {}, false, []uint32{wire.RfHooks, wire.RfChroot}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := basePlan("/r")
			tt.change(p)
			var got []uint32
			for _, tag := range programTags(t, CompileC(p, s(tt.own))) {
				if tag != wire.RfDev {
					got = append(got, tag)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("steps %v, want %v", got, tt.want)
			}
		})
	}
}

// TestCompileCCopyUpRemount: tmpcopyup mounts writable and applies the
// per-mount flags after the copy (ro at the end, as for any tmpfs); a
// remount carries its flags, what it sets and clears.
func TestCompileCCopyUpRemount(t *testing.T) {
	p := basePlan("/r")
	p.Mounts = append(p.Mounts,
		specs.Mount{Destination: "/t", Type: "tmpfs", Source: "tmpfs", Options: []string{"tmpcopyup", "ro", "nosuid", "size=1m"}},
		specs.Mount{Destination: "/t", Type: "tmpfs", Options: []string{"remount", "nodev"}})
	byTag := map[uint32]record{}
	for _, r := range decode(t, CompileC(p, &CSettings{Cwd: "/", OwnMounts: true})) {
		byTag[r.tag] = r
	}
	c, ok := byTag[wire.RfCopyup]
	if !ok {
		t.Fatal("no copyup step")
	}
	if c.u64(0) != 0 || c.u64(1) != unix.MS_NOSUID {
		t.Errorf("copyup mount flags %#x, set %#x: want none while copying, nosuid after (ro at the end)", c.u64(0), c.u64(1))
	}
	if got := c.strs(24); !reflect.DeepEqual(got, []string{"/t", "tmpfs", "tmpfs", "size=1m"}) {
		t.Errorf("copyup strings %q", got)
	}
	if _, ok := byTag[wire.RfRoMount]; !ok {
		t.Error("the ro tmpfs is not made read-only at the end")
	}
	r, ok := byTag[wire.RfRemount]
	if !ok {
		t.Fatal("no remount step")
	}
	if r.u64(0) != unix.MS_REMOUNT|unix.MS_NODEV || r.u64(1)&unix.MS_NODEV == 0 {
		t.Errorf("remount flags %#x, set %#x: want MS_REMOUNT|MS_NODEV", r.u64(0), r.u64(1))
	}
}

func TestInRootSource(t *testing.T) {
	for _, tt := range []struct {
		root, src, want string
		ok              bool
	}{
		{"/b/rootfs", "/b/rootfs/etc", "/etc", true},
		{"/b/rootfs/", "/b/rootfs", "/", true},
		{"/b/rootfs", "/b/rootfs2/etc", "", false},
		{"/b/rootfs", "/etc", "", false},
	} {
		got, ok := inRootSource(tt.root, tt.src)
		if got != tt.want || ok != tt.ok {
			t.Errorf("inRootSource(%q, %q) = %q %v, want %q %v", tt.root, tt.src, got, ok, tt.want, tt.ok)
		}
	}
}
