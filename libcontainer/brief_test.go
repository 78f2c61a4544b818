package libcontainer

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/berthrun/berth/internal/wire"

	"github.com/berthrun/berth/libcontainer/executor/ctest"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// readBrief parses state.brief strictly, the way fastpath.c does: the
// header, then every field of wire.BriefFields in order with its exact length.
func readBrief(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rest, ok := bytes.CutPrefix(b, []byte(briefHeader()+"\n"))
	if !ok {
		t.Fatalf("brief does not start with %q: %q", briefHeader(), b)
	}
	out := map[string]string{}
	for _, name := range wire.BriefFields {
		line, after, ok := bytes.Cut(rest, []byte("\n"))
		got, num, ok2 := strings.Cut(string(line), " ")
		n, err := strconv.Atoi(num)
		if !ok || !ok2 || got != name || err != nil || n+1 > len(after) || after[n] != '\n' {
			t.Fatalf("record %q malformed at %q", name, rest)
		}
		out[name] = string(after[:n])
		rest = after[n+1:]
	}
	if len(rest) != 0 {
		t.Fatalf("trailing bytes after the last record: %q", rest)
	}
	return out
}

// fillSlots does what fastpath.c does with a template.
func fillSlots(tpl string, pid int, status string) string {
	return strings.NewReplacer(pidSlot, strconv.Itoa(pid), statusSlot, status).Replace(tpl)
}

func TestBriefWriter(t *testing.T) {
	for _, tc := range []struct {
		name        string
		edit        func(st *savedState)
		noBrief     bool
		freezer     string // want, relative to the cgroup path
		frozen      string
		annotations map[string]string
	}{
		{name: "no freezer", edit: func(*savedState) {}},
		{name: "v1 freezer", freezer: "/sys/fs/cgroup/freezer/box/freezer.state", frozen: "FROZEN",
			edit: func(st *savedState) { st.CgroupPaths["freezer"] = "/sys/fs/cgroup/freezer/box" }},
		{name: "v2 unified", freezer: "/sys/fs/cgroup/box/cgroup.freeze", frozen: "1",
			edit: func(st *savedState) { st.CgroupPaths = map[string]string{"": "/sys/fs/cgroup/box"} }},
		{name: "annotations and unicode bundle", edit: func(st *savedState) {
			st.Config.Bundle = "/b ünï ☃"
			st.Config.Spec.Annotations = map[string]string{`q"uote`: "a\nb\t<&>\u2028é", "k": ""}
		}},
		{name: "exe recorded", edit: func(st *savedState) { st.InitExe = "63:1234" }},
		{name: "creating", noBrief: true, edit: func(st *savedState) { st.InitPid = 0 }},
		{name: "tab in bundle", noBrief: true, edit: func(st *savedState) { st.Config.Bundle = "/b\tx" }},
		{name: "newline in bundle", noBrief: true, edit: func(st *savedState) { st.Config.Bundle = "/b\nx" }},
		{name: "invalid utf-8 annotation", noBrief: true, edit: func(st *savedState) {
			st.Config.Spec.Annotations = map[string]string{"k": "\xff"}
		}},
		{name: "unclean cgroup path", noBrief: true, edit: func(st *savedState) { st.CgroupPaths["x"] = "/a/../b" }},
		{name: "no linux section", noBrief: true, edit: func(st *savedState) { st.Config.Spec.Linux = nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, st := savedBox(t, tc.edit)
			path := filepath.Join(s.dir("box"), briefFile)
			if tc.noBrief {
				if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("brief written (%v), want none", err)
				}
				return
			}
			checkBrief(t, s, st, readBrief(t, path), tc.freezer, tc.frozen)
		})
	}
}

// checkBrief compares every record with what Go itself computes.
func checkBrief(t *testing.T, s stateStore, st *savedState, got map[string]string, freezer, frozen string) {
	t.Helper()
	var js, ds unix.Stat_t
	if err := unix.Stat(filepath.Join(s.dir(st.ID), stateFile), &js); err != nil {
		t.Fatal(err)
	}
	if err := unix.Stat(s.dir(st.ID), &ds); err != nil {
		t.Fatal(err)
	}
	c := &Container{rt: &Runtime{Root: s.root}, st: st}
	owner := c.owner()
	want := map[string]string{
		"id":        st.ID,
		"pid":       strconv.Itoa(st.InitPid),
		"start":     strconv.FormatUint(st.InitStartTime, 10),
		"exe":       st.InitExe,
		"statejson": fmt.Sprintf("%d %d %d %d", js.Ino, js.Size, js.Mtim.Sec, js.Mtim.Nsec),
		"uid":       strconv.Itoa(int(ds.Uid)),
		"freezer":   freezer,
		"frozen":    frozen,
		"bundle":    st.Config.Bundle,
		"bundlew":   strconv.Itoa(utf8.RuneCountInString(st.Config.Bundle)),
		"created":   st.Created.Format("2006-01-02T15:04:05.999999999Z07:00"),
		"owner":     owner,
		"ownerw":    strconv.Itoa(utf8.RuneCountInString(owner)),
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("record %s = %q, want %q", k, got[k], v)
		}
	}
	spec := &StateSpec{OCIVersion: specs.Version, ID: st.ID, Pid: 42, Status: Paused, Bundle: st.Config.Bundle,
		Rootfs: st.Config.Rootfs, Created: st.Created, Annotations: st.Config.Spec.Annotations}
	indented, _ := json.MarshalIndent(spec, "", "  ")
	if filled := fillSlots(got["state"], 42, Paused); filled != string(indented)+"\n" {
		t.Errorf("state template filled:\n%s\nwant:\n%s", filled, indented)
	}
	spec.Owner, spec.Pid, spec.Status = owner, 0, Stopped
	compact, _ := json.Marshal([]*StateSpec{spec})
	if filled := "[" + fillSlots(got["json"], 0, Stopped) + "]"; filled != string(compact) {
		t.Errorf("json template filled:\n%s\nwant:\n%s", filled, compact)
	}
}

// A save that writes no brief leaves the old one stale, and the recorded
// state.json identity is what tells the fast path so.
func TestBriefGoesStaleWithItsStateJSON(t *testing.T) {
	s := newBoxStore(t)
	st := testState("box")
	if err := s.save(st); err != nil {
		t.Fatal(err)
	}
	before := readBrief(t, filepath.Join(s.dir("box"), briefFile))["statejson"]
	st.InitPid = 0
	if err := s.save(st); err != nil {
		t.Fatal(err)
	}
	after := readBrief(t, filepath.Join(s.dir("box"), briefFile))["statejson"]
	var js unix.Stat_t
	if err := unix.Stat(filepath.Join(s.dir("box"), stateFile), &js); err != nil {
		t.Fatal(err)
	}
	now := fmt.Sprintf("%d %d %d %d", js.Ino, js.Size, js.Mtim.Sec, js.Mtim.Nsec)
	if before != after || after == now {
		t.Errorf("brief statejson %q (was %q) matches the new state.json %q", after, before, now)
	}
}

// newBoxStore is a store in a temp dir with the directory of container
// "box" made and locked until the test ends.
func newBoxStore(t *testing.T) stateStore {
	t.Helper()
	s := stateStore{root: t.TempDir()}
	lock, err := s.create("box")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lock.Close() })
	return s
}

// The records of fastops.c say what Start and Delete would do besides the
// plain part C does; anything more must send C back to Go. The cgroups
// record lists the directories whatever the flags say (fastexec.c uses it).
func TestBriefOpsRecords(t *testing.T) {
	hook := specs.Hook{Path: "/bin/true"}
	v1 := map[string]string{
		"memory": "/sys/fs/cgroup/memory/box", "cpu": "/sys/fs/cgroup/cpu,cpuacct/box",
		"cpuacct": "/sys/fs/cgroup/cpu,cpuacct/box", "": "/sys/fs/cgroup/unified/box",
	}
	for _, tc := range []struct {
		name                  string
		edit                  func(st *savedState)
		faststart, fastdelete string
		cgroups               string
	}{
		{name: "plain", edit: func(*savedState) {}, faststart: "1", fastdelete: "1",
			cgroups: "/sys/fs/cgroup/memory/box"},
		{name: "shared v1 hierarchies listed once, sorted", edit: func(st *savedState) { st.CgroupPaths = v1 },
			faststart: "1", fastdelete: "1",
			cgroups: "/sys/fs/cgroup/cpu,cpuacct/box\n/sys/fs/cgroup/memory/box\n/sys/fs/cgroup/unified/box"},
		{name: "no cgroup (rootless)", edit: func(st *savedState) { st.CgroupPaths = nil },
			faststart: "1", fastdelete: "1", cgroups: ""},
		{name: "hooks of other kinds", faststart: "1", fastdelete: "1", cgroups: "/sys/fs/cgroup/memory/box",
			edit: func(st *savedState) {
				st.Config.Spec.Hooks = &specs.Hooks{Prestart: []specs.Hook{hook}, StartContainer: []specs.Hook{hook}}
			}},
		{name: "poststart hook", faststart: "0", fastdelete: "1", cgroups: "/sys/fs/cgroup/memory/box",
			edit: func(st *savedState) { st.Config.Spec.Hooks = &specs.Hooks{Poststart: []specs.Hook{hook}} }},
		{name: "NOTIFY_SOCKET", faststart: "0", fastdelete: "1", cgroups: "/sys/fs/cgroup/memory/box",
			edit: func(st *savedState) { st.Config.NotifySocket = "/run/notify.sock" }},
		{name: "poststop hook", faststart: "1", fastdelete: "0", cgroups: "/sys/fs/cgroup/memory/box",
			edit: func(st *savedState) { st.Config.Spec.Hooks = &specs.Hooks{Poststop: []specs.Hook{hook}} }},
		{name: "network to tear down", faststart: "1", fastdelete: "0", cgroups: "/sys/fs/cgroup/memory/box",
			edit: func(st *savedState) { st.Network = &netState{} }},
		{name: "systemd driver", faststart: "1", fastdelete: "0", cgroups: "/sys/fs/cgroup/memory/box",
			edit: func(st *savedState) { st.Config.SystemdCgroup = true }},
		{name: "newline in a cgroup path", faststart: "1", fastdelete: "0", cgroups: "",
			edit: func(st *savedState) { st.CgroupPaths["pids"] = "/sys/fs/cgroup/pids/a\nb" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := savedBox(t, tc.edit)
			got := readBrief(t, filepath.Join(s.dir("box"), briefFile))
			want := map[string]string{"faststart": tc.faststart, "fastdelete": tc.fastdelete, "cgroups": tc.cgroups}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("record %s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

// savedBox saves the test state "box", changed by edit, in a fresh store.
func savedBox(t *testing.T, edit func(*savedState)) (stateStore, *savedState) {
	t.Helper()
	s := newBoxStore(t)
	st := testState("box")
	edit(st)
	if err := s.save(st); err != nil {
		t.Fatal(err)
	}
	return s, st
}

// The exec records of fastexec.c: the bootstrap that joins the init's
// namespaces and the plan without argv, or nothing when a plain exec of
// the container needs Go.
func TestBriefExecRecords(t *testing.T) {
	withNamespaces := func(edit func(st *savedState)) func(st *savedState) {
		return func(st *savedState) {
			st.Config.Namespaces = []Namespace{{Type: specs.MountNamespace}, {Type: specs.PIDNamespace}}
			st.Config.Spec.Process.Cwd = "/"
			edit(st)
		}
	}
	for _, tc := range []struct {
		name     string
		edit     func(st *savedState)
		wantExec bool
	}{
		{"plain", func(*savedState) {}, true},
		{"a terminal (exec runs without one)", func(st *savedState) { st.Config.Spec.Process.Terminal = true }, true},
		{"execCPUAffinity", func(st *savedState) {
			st.Config.Spec.Process.ExecCPUAffinity = &specs.CPUAffinity{Initial: "0"}
		}, false},
		{"systemd driver", func(st *savedState) { st.Config.SystemdCgroup = true }, false},
		{"no cgroup", func(st *savedState) { st.CgroupPaths = nil }, false},
		{"an AppArmor profile (the C init applies it)", func(st *savedState) { st.Config.Spec.Process.ApparmorProfile = "p" }, true},
		{"an SELinux label (the C init applies it)", func(st *savedState) { st.Config.Spec.Process.SelinuxLabel = "u:r:t:s0" }, true},
		{"a notifying seccomp profile (the agent hand-off is Go's)", func(st *savedState) {
			st.Config.Spec.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/run/a.sock",
				Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActNotify}}}
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := savedBox(t, withNamespaces(tc.edit))
			got := readBrief(t, filepath.Join(s.dir("box"), briefFile))
			boot, plan := got["execboot"], got["execplan"]
			if (boot != "") != tc.wantExec || (plan != "") != tc.wantExec {
				t.Fatalf("execboot %q, execplan %d bytes; want records: %v", boot, len(plan), tc.wantExec)
			}
			if !tc.wantExec {
				return
			}
			// What nsenter's C reader makes of it.
			want := fmt.Sprintf("join %#x /proc/42/ns/mnt\njoin %#x /proc/42/ns/pid\nclone 0\ncinit 1 affinity 0 setgroups 0 rootless 0\n",
				cloneFlags["mount"], cloneFlags["pid"])
			if got, ok := ctest.Bootstrap([]byte(boot)); !ok || got != want {
				t.Errorf("execboot %q: C read %v %q, want %q", boot, ok, got, want)
			}
			if tags := planTags([]byte(plan)); tags[wire.PlanArg] != 0 || tags[wire.PlanMode] != 1 || tags[wire.PlanCwd] != 1 {
				t.Errorf("execplan records %v: want a mode and a cwd, no argv", tags)
			}
		})
	}
}

// planTags counts a plan's records by tag.
func planTags(plan []byte) map[uint32]int {
	n := map[uint32]int{}
	for len(plan) >= 8 {
		n[binary.NativeEndian.Uint32(plan)]++
		plan = plan[8+binary.NativeEndian.Uint32(plan[4:]):]
	}
	return n
}
