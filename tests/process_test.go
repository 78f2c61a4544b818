package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// statusField returns the value of one "Name:\tvalue" line of a
// /proc/<pid>/status dump.
func statusField(t *testing.T, status, name string) string {
	t.Helper()
	for _, l := range strings.Split(status, "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && k == name {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no %s in /proc/self/status:\n%s", name, status)
	return ""
}

func hexMask(t *testing.T, s string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		t.Fatalf("capability mask %q: %v", s, err)
	}
	return n
}

func intp(n int) *int { return &n }

// TestProcess runs one container per case and checks what the process sees.
func TestProcess(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		script string
		modify func(*specs.Spec)
		check  func(t *testing.T, out string)
	}{
		{
			name:   "pid1",
			script: `echo pid=$$; echo cmd=$(tr '\0' ' ' </proc/1/cmdline); echo n=$(ls -d /proc/[0-9]* | wc -l)`,
			check: func(t *testing.T, out string) {
				kv := parseKV(out)
				if kv["pid"] != "1" {
					t.Errorf("the container's process is pid %q, want 1", kv["pid"])
				}
				if !strings.HasPrefix(kv["cmd"], "sh -c ") {
					t.Errorf("pid 1 is %q, want the sh of process.args", kv["cmd"])
				}
				// sh, the subshell and ls: nothing of the host is visible.
				if n, _ := strconv.Atoi(kv["n"]); n < 1 || n > 4 {
					t.Errorf("%s processes visible in the pid namespace", kv["n"])
				}
			},
		},
		{
			name:   "hostname-default",
			script: `hostname; cat /proc/sys/kernel/hostname`,
			check: func(t *testing.T, out string) {
				if l := lines(out); len(l) != 2 || l[0] != "berth" || l[1] != "berth" {
					t.Errorf("hostname %q, want berth", l)
				}
			},
		},
		{
			name:   "hostname-custom",
			script: `hostname`,
			modify: func(s *specs.Spec) { s.Hostname = "box-42.example" },
			check: func(t *testing.T, out string) {
				if strings.TrimSpace(out) != "box-42.example" {
					t.Errorf("hostname %q", out)
				}
			},
		},
		{
			name:   "root-user",
			script: `echo uid=$(id -u) gid=$(id -g); grep -E '^(Uid|Gid|Groups):' /proc/self/status`,
			check: func(t *testing.T, out string) {
				if !strings.Contains(out, "uid=0 gid=0") {
					t.Errorf("want uid 0 gid 0: %q", out)
				}
				if g := statusField(t, out, "Groups"); g != "" {
					t.Errorf("root with no additionalGids has groups %q", g)
				}
			},
		},
		{
			name:   "user-and-groups",
			script: `echo uid=$(id -u); echo gid=$(id -g); echo groups=$(id -G); cat /proc/self/status`,
			modify: func(s *specs.Spec) {
				s.Process.User = specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{10, 20, 65534}}
			},
			check: func(t *testing.T, out string) {
				kv := parseKV(out)
				if kv["uid"] != "1000" || kv["gid"] != "1000" {
					t.Errorf("id: uid %q gid %q, want 1000 1000", kv["uid"], kv["gid"])
				}
				if f := strings.Fields(statusField(t, out, "Uid")); strings.Join(f, " ") != "1000 1000 1000 1000" {
					t.Errorf("Uid (real, effective, saved, fs) = %q", f)
				}
				if f := strings.Fields(statusField(t, out, "Gid")); strings.Join(f, " ") != "1000 1000 1000 1000" {
					t.Errorf("Gid (real, effective, saved, fs) = %q", f)
				}
				g := strings.Fields(statusField(t, out, "Groups"))
				sort.Strings(g)
				if strings.Join(g, " ") != "10 20 65534" {
					t.Errorf("Groups %q, want 10 20 65534", g)
				}
				// A non-root user has no capabilities left after exec
				// (none ambient).
				for _, set := range []string{"CapEff", "CapPrm", "CapAmb"} {
					if m := hexMask(t, statusField(t, out, set)); m != 0 {
						t.Errorf("%s = %#x for uid 1000 without ambient caps, want 0", set, m)
					}
				}
			},
		},
		{
			name:   "user-cannot-write-root-files",
			script: `touch /etc/x 2>&1 && echo wrote || echo refused`,
			modify: func(s *specs.Spec) { s.Process.User = specs.User{UID: 1000, GID: 1000} },
			check: func(t *testing.T, out string) {
				if !strings.Contains(out, "refused") {
					t.Errorf("uid 1000 wrote into root's /etc: %q", out)
				}
			},
		},
		{
			name:   "capabilities-default",
			script: `cat /proc/self/status`,
			check: func(t *testing.T, out string) {
				want := capMask("CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE")
				for set, w := range map[string]uint64{"CapEff": want, "CapPrm": want, "CapBnd": want, "CapInh": 0, "CapAmb": 0} {
					if m := hexMask(t, statusField(t, out, set)); m != w {
						t.Errorf("%s = %#x, want %#x", set, m, w)
					}
				}
			},
		},
		{
			// Root with no_new_privs: after execve the permitted set is
			// what the runtime left (capped by no_new_privs) and the
			// effective set is all of it (legacy root semantics).
			name:   "capabilities-sets-root",
			script: `cat /proc/self/status`,
			modify: func(s *specs.Spec) {
				s.Process.Capabilities = &specs.LinuxCapabilities{
					Bounding:    []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID", "CAP_NET_RAW", "CAP_SYS_CHROOT"},
					Permitted:   []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"},
					Effective:   []string{"CAP_CHOWN", "CAP_KILL"},
					Inheritable: []string{"CAP_NET_BIND_SERVICE", "CAP_NET_RAW"},
					Ambient:     []string{"CAP_NET_BIND_SERVICE"},
				}
			},
			check: func(t *testing.T, out string) {
				prm := capMask("CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW")
				for set, w := range map[string]uint64{
					"CapBnd": capMask("CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID", "CAP_NET_RAW", "CAP_SYS_CHROOT"),
					"CapPrm": prm,
					"CapEff": prm,
					"CapInh": capMask("CAP_NET_BIND_SERVICE", "CAP_NET_RAW"),
					"CapAmb": capMask("CAP_NET_BIND_SERVICE"),
				} {
					if m := hexMask(t, statusField(t, out, set)); m != w {
						t.Errorf("%s = %#x, want %#x", set, m, w)
					}
				}
			},
		},
		{
			// A non-root user keeps exactly its ambient capabilities
			// across execve.
			name:   "capabilities-ambient-user",
			script: `cat /proc/self/status`,
			modify: func(s *specs.Spec) {
				s.Process.User = specs.User{UID: 1000, GID: 1000}
				s.Process.Capabilities = &specs.LinuxCapabilities{
					Bounding:    []string{"CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"},
					Permitted:   []string{"CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"},
					Effective:   []string{"CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"},
					Inheritable: []string{"CAP_NET_BIND_SERVICE", "CAP_NET_RAW"},
					Ambient:     []string{"CAP_NET_BIND_SERVICE", "CAP_NET_RAW"},
				}
			},
			check: func(t *testing.T, out string) {
				amb := capMask("CAP_NET_BIND_SERVICE", "CAP_NET_RAW")
				for set, w := range map[string]uint64{
					"CapBnd": capMask("CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"),
					"CapPrm": amb, "CapEff": amb, "CapInh": amb, "CapAmb": amb,
				} {
					if m := hexMask(t, statusField(t, out, set)); m != w {
						t.Errorf("%s = %#x, want %#x", set, m, w)
					}
				}
			},
		},
		{
			name:   "capabilities-none",
			script: `cat /proc/self/status`,
			modify: func(s *specs.Spec) { s.Process.Capabilities = &specs.LinuxCapabilities{} },
			check: func(t *testing.T, out string) {
				for _, set := range []string{"CapEff", "CapPrm", "CapBnd", "CapInh", "CapAmb"} {
					if m := hexMask(t, statusField(t, out, set)); m != 0 {
						t.Errorf("%s = %#x, want 0", set, m)
					}
				}
			},
		},
		{
			name:   "no-new-privileges",
			script: `grep NoNewPrivs /proc/self/status`,
			check: func(t *testing.T, out string) {
				if statusField(t, out, "NoNewPrivs") != "1" {
					t.Errorf("NoNewPrivs: %q, want 1", out)
				}
			},
		},
		{
			name:   "new-privileges-allowed",
			script: `grep NoNewPrivs /proc/self/status`,
			modify: func(s *specs.Spec) { s.Process.NoNewPrivileges = false },
			check: func(t *testing.T, out string) {
				if statusField(t, out, "NoNewPrivs") != "0" {
					t.Errorf("NoNewPrivs: %q, want 0", out)
				}
			},
		},
		{
			name:   "rlimits",
			script: `echo soft=$(ulimit -Sn) hard=$(ulimit -Hn); grep -E 'Max (open files|core file size|processes)' /proc/self/limits`,
			modify: func(s *specs.Spec) {
				s.Process.Rlimits = []specs.POSIXRlimit{
					{Type: "RLIMIT_NOFILE", Soft: 512, Hard: 4096},
					{Type: "RLIMIT_CORE", Soft: 0, Hard: 1048576},
					{Type: "RLIMIT_NPROC", Soft: 300, Hard: 400},
				}
			},
			check: func(t *testing.T, out string) {
				if !strings.Contains(out, "soft=512 hard=4096") {
					t.Errorf("ulimit -n: %q, want soft=512 hard=4096", out)
				}
				want := map[string][]string{
					"Max open files":     {"512", "4096"},
					"Max core file size": {"0", "1048576"},
					"Max processes":      {"300", "400"},
				}
				for _, l := range lines(out) {
					for name, w := range want {
						if strings.HasPrefix(l, name) {
							f := strings.Fields(strings.TrimPrefix(l, name))
							if len(f) < 2 || f[0] != w[0] || f[1] != w[1] {
								t.Errorf("%q: want soft %s hard %s", l, w[0], w[1])
							}
							delete(want, name)
						}
					}
				}
				if len(want) != 0 {
					t.Errorf("limits not shown: %v\n%s", want, out)
				}
			},
		},
		{
			name:   "env",
			script: `env`,
			modify: func(s *specs.Spec) {
				s.Process.Env = []string{"PATH=/bin", "A=1", "B=two words", "EMPTY=", "HOME=/root"}
			},
			check: func(t *testing.T, out string) {
				got := map[string]bool{}
				for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
					got[l] = true
				}
				for _, w := range []string{"PATH=/bin", "A=1", "B=two words", "EMPTY=", "HOME=/root"} {
					if !got[w] {
						t.Errorf("env lacks %q:\n%s", w, out)
					}
				}
				for l := range got {
					if strings.HasPrefix(l, tagVar) || strings.HasPrefix(l, "_BERTH") {
						t.Errorf("the runtime's environment leaked into the container: %q", l)
					}
				}
			},
		},
		{
			name:   "cwd",
			script: `pwd`,
			modify: func(s *specs.Spec) { s.Process.Cwd = "/tmp" },
			check: func(t *testing.T, out string) {
				if strings.TrimSpace(out) != "/tmp" {
					t.Errorf("pwd %q, want /tmp", out)
				}
			},
		},
		{
			name:   "cwd-created",
			script: `pwd; ls -ld . | cut -c1-10`,
			modify: func(s *specs.Spec) { s.Process.Cwd = "/does/not/exist" },
			check: func(t *testing.T, out string) {
				l := lines(out)
				if len(l) != 2 || l[0] != "/does/not/exist" || l[1][0] != 'd' {
					t.Errorf("missing cwd: %q, want it created and entered", l)
				}
			},
		},
		{
			name:   "cwd-for-user",
			script: `pwd`,
			modify: func(s *specs.Spec) {
				s.Process.User = specs.User{UID: 1000, GID: 1000}
				s.Process.Cwd = "/home/user"
			},
			check: func(t *testing.T, out string) {
				if l := lines(out); len(l) < 1 || l[0] != "/home/user" {
					t.Errorf("pwd %q", out)
				}
			},
		},
		{
			name:   "umask",
			script: `umask; touch /tmp/f; stat -c %a /tmp/f`,
			modify: func(s *specs.Spec) { s.Process.User.Umask = uint32p(0o027) },
			check: func(t *testing.T, out string) {
				l := lines(out)
				if len(l) != 2 || l[0] != "0027" || l[1] != "640" {
					t.Errorf("umask/file mode %q, want 0027 and 640", l)
				}
			},
		},
		{
			name:   "umask-default",
			script: `umask`,
			check: func(t *testing.T, out string) {
				if strings.TrimSpace(out) != "0022" {
					t.Errorf("default umask %q, want 0022", out)
				}
			},
		},
		{
			name:   "oom-score-adj",
			script: `cat /proc/self/oom_score_adj`,
			modify: func(s *specs.Spec) { s.Process.OOMScoreAdj = intp(min(ownOOMScoreAdj()+100, 1000)) },
			check: func(t *testing.T, out string) {
				if want := strconv.Itoa(min(ownOOMScoreAdj()+100, 1000)); strings.TrimSpace(out) != want {
					t.Errorf("oom_score_adj %q, want %s", out, want)
				}
			},
		},
		{
			name:   "args-exec-directly",
			script: "",
			modify: func(s *specs.Spec) { s.Process.Args = []string{"echo", "one", "two  three"} },
			check: func(t *testing.T, out string) {
				if out != "one two  three\n" {
					t.Errorf("echo printed %q", out)
				}
			},
		},
		{
			name:   "args-absolute-path",
			modify: func(s *specs.Spec) { s.Process.Args = []string{"/bin/busybox", "echo", "abs"} },
			check: func(t *testing.T, out string) {
				if out != "abs\n" {
					t.Errorf("printed %q", out)
				}
			},
		},
		{
			// Only stdio is open in the process: no fd of the runtime
			// leaks in (CVE-2024-21626).
			name: "no-leaked-fds",
			// ls is a child of pid 1: it lists pid 1's fds while sh
			// holds nothing extra (no command substitution).
			script: `ls -l /proc/1/fd; true`,
			check: func(t *testing.T, out string) {
				n := 0
				for _, l := range lines(out) {
					f := strings.Fields(l)
					if len(f) < 3 || f[len(f)-2] != "->" {
						continue
					}
					n++
					if fd, err := strconv.Atoi(f[len(f)-3]); err != nil || fd > 2 {
						t.Errorf("unexpected fd open in the container: %q", l)
					}
				}
				if n != 3 {
					t.Errorf("want fds 0, 1, 2 open in pid 1:\n%s", out)
				}
			},
		},
		{
			name:   "cwd-inside-root",
			script: `readlink /proc/self/cwd; ls /proc/1/cwd/bin/busybox`,
			check: func(t *testing.T, out string) {
				if l := lines(out); len(l) != 2 || l[0] != "/" || l[1] != "/proc/1/cwd/bin/busybox" {
					t.Errorf("cwd %q", l)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			spec := sh(tc.script)
			if tc.modify != nil {
				tc.modify(spec)
			}
			tc.check(t, e.mustRun(spec))
		})
	}
}

func uint32p(n uint32) *uint32 { return &n }

// ownOOMScoreAdj is the oom_score_adj of the test process: a container may
// only raise it (lowering needs CAP_SYS_RESOURCE).
func ownOOMScoreAdj() int {
	b, _ := os.ReadFile("/proc/self/oom_score_adj")
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}

// TestRlimitAboveHostHardLimit: a hard limit above what the caller may set
// fails create with an error that names the rlimit. For RLIMIT_NOFILE that
// is fs.nr_open even for root (CAP_SYS_RESOURCE lets root raise its hard
// limit up to there: systemd services start at 524288, far below it).
func TestRlimitAboveHostHardLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	raw, err := os.ReadFile("/proc/sys/fs/nr_open")
	if err != nil {
		t.Fatal(err)
	}
	nrOpen, err := strconv.ParseUint(strings.TrimSpace(string(raw)), 10, 64)
	if err != nil {
		t.Fatalf("fs.nr_open %q: %v", raw, err)
	}
	spec := sh("true")
	spec.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: nrOpen + 10000}}
	b := e.bundle(spec)
	id := e.id("rlimit-high")
	assertError(t, e.berth("create", "--bundle", b, id), "RLIMIT_NOFILE")
	assertError(t, e.berth("state", id))
	assertError(t, e.berth("run", "--bundle", b, e.id("rlimit-high-run")), "RLIMIT_NOFILE")
}

// TestOOMScoreAdjLowerFails: lowering oom_score_adj below the caller's needs
// CAP_SYS_RESOURCE; when the caller lacks it, create fails naming the field.
func TestOOMScoreAdjLowerFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if hasCap(t, "CAP_SYS_RESOURCE") {
		t.Skip("the caller has CAP_SYS_RESOURCE: lowering oom_score_adj is allowed here")
	}
	cur := ownOOMScoreAdj()
	if cur <= -1000 {
		t.Skip("oom_score_adj is already at its minimum")
	}
	spec := sh("true")
	spec.Process.OOMScoreAdj = intp(cur - 1)
	assertError(t, e.run(spec), "oomScoreAdj")
}

// TestCapabilityNotHeldByBerth: a capability berth does not hold itself
// (this host's root lacks CAP_SYS_RESOURCE) cannot be granted; create fails
// naming the set and the capability, and leaves nothing behind.
func TestCapabilityNotHeldByBerth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if hasCap(t, "CAP_SYS_RESOURCE") {
		t.Skip("the caller has CAP_SYS_RESOURCE: nothing to refuse here")
	}
	spec := sh("true")
	caps := spec.Process.Capabilities
	caps.Permitted = append(caps.Permitted, "CAP_SYS_RESOURCE")
	caps.Effective = append(caps.Effective, "CAP_SYS_RESOURCE")
	caps.Bounding = append(caps.Bounding, "CAP_SYS_RESOURCE")
	assertError(t, e.run(spec), "process.capabilities.effective: CAP_SYS_RESOURCE: berth itself does not hold it")
}

// hasCap reports whether the test process has the named capability in its
// effective set.
func hasCap(t *testing.T, name string) bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	return hexMask(t, statusField(t, string(b), "CapEff"))&capMask(name) != 0
}

func TestStdio(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.bundle(sh(`read line; echo "in:$line"; echo to-stderr >&2; cat`))
	r := e.berthOpts(runOpts{stdin: "first line\nrest 1\nrest 2\n"}, "run", "--bundle", b, e.id("stdio"))
	if r.code != 0 {
		t.Fatalf("%v", r)
	}
	if r.stdout != "in:first line\nrest 1\nrest 2\n" {
		t.Errorf("stdout %q", r.stdout)
	}
	if r.stderr != "to-stderr\n" {
		t.Errorf("stderr %q, want only the container's line", r.stderr)
	}
}

func TestPreserveFDs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f3 := e.tempFile("fd3")
	f3.WriteString("preserved-3\n")
	f3.Seek(0, 0)
	f4 := e.tempFile("fd4")
	f4.WriteString("not-preserved\n")
	f4.Seek(0, 0)
	b := e.bundle(sh(`cat <&3; test -e /proc/$$/fd/4 && echo fd4-open || echo fd4-closed`))
	r := e.berthOpts(runOpts{extraFiles: []*os.File{f3, f4}}, "run", "--preserve-fds", "1", "--bundle", b, e.id("fds"))
	if r.code != 0 {
		t.Fatalf("%v", r)
	}
	if l := lines(r.stdout); len(l) != 2 || l[0] != "preserved-3" || l[1] != "fd4-closed" {
		t.Errorf("with --preserve-fds 1: %q, want fd 3 readable and fd 4 closed", l)
	}

	// Through create and start too.
	f3.Seek(0, 0)
	out := e.tempFile("out")
	id := e.id("fds-create")
	if r := e.berthOpts(runOpts{extraFiles: []*os.File{f3}, stdout: out}, "create", "--preserve-fds", "1", "--bundle", b, id); r.code != 0 {
		t.Fatalf("%v", r)
	}
	e.mustBerth("start", id)
	e.waitStatus(id, "stopped")
	if l := lines(readFrom(out.Name(), 0)); len(l) != 2 || l[0] != "preserved-3" {
		t.Errorf("create --preserve-fds 1: %q", l)
	}
	e.mustBerth("delete", id)
	assertError(t, e.berth("run", "--preserve-fds", "-1", "--bundle", b, e.id("fds-neg")), "preserve-fds")
}

// TestProcessRunsAsSpecUser checks the user of the process from the host.
func TestProcessRunsAsSpecUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	spec := sh("sleep 1000")
	spec.Process.User = specs.User{UID: 1234, GID: 2345}
	id := e.id("hostuid")
	e.mustBerth("run", "-d", "--bundle", e.bundle(spec), id)
	s := e.state(id)
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.Pid))
	if err != nil {
		t.Fatal(err)
	}
	if f := strings.Fields(statusField(t, string(b), "Uid")); f[0] != "1234" || f[1] != "1234" {
		t.Errorf("host sees uid %v, want 1234", f)
	}
	if f := strings.Fields(statusField(t, string(b), "Gid")); f[0] != "2345" || f[1] != "2345" {
		t.Errorf("host sees gid %v, want 2345", f)
	}
	e.mustBerth("delete", "--force", id)
}

// TestInitExeIsReadOnly: whoever gets hold of the init's exe (here the
// host, as root, through an O_PATH handle of /proc/<pid>/exe kept until the
// init has exec'd the container's process and nothing runs the file any
// more, which is what the CVE-2019-5736 exploit did) cannot write to it.
func TestInitExeIsReadOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.id("sealed")
	// A private copy of berth creates the container: no other process may
	// run the file later, or opening it for writing fails with ETXTBSY
	// before the read-only protection is even asked.
	exe := filepath.Join(e.dir("exe"), "berth")
	copyExe(t, berthBin, exe)
	cmd := exec.Command(exe, append(e.globals(), "create", "--bundle", e.bundle(sh("true")), id)...)
	cmd.Env = append(os.Environ(), tagVar+"="+e.tag)
	// A file, not a pipe: the init keeps its stdio, and a pipe would make
	// the wait for output last as long as the container.
	out, err := os.Create(filepath.Join(e.dir("out"), "create.out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		msg, _ := os.ReadFile(out.Name())
		t.Fatalf("create: %v: %s", err, msg)
	}
	pid := e.state(id).Pid
	fd, err := unix.Open(fmt.Sprintf("/proc/%d/exe", pid), unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	e.mustBerth("start", id)
	e.waitStatus(id, "stopped")
	// A read-only mount flag alone is no seal: whoever holds a detached
	// mount can clear it (from any user namespace). Try, then write.
	_ = unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &unix.MountAttr{Attr_clr: unix.MOUNT_ATTR_RDONLY})
	w, err := unix.Open(fmt.Sprintf("/proc/self/fd/%d", fd), unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err == nil {
		// A sealed memfd copy (where the overlay cannot be made, e.g.
		// Linux 6.1) opens for writing, but its seals refuse the write.
		link, _ := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
		_, werr := unix.Write(w, []byte{0})
		unix.Close(w)
		if strings.HasPrefix(link, "/memfd:") && werr == unix.EPERM {
			e.mustBerth("delete", id)
			return
		}
		t.Fatalf("the init's exe (%s) opened for writing once the init had exec'd, and a write gave %v: the host binary is exposed", link, werr)
	}
	if err != unix.EROFS && err != unix.EPERM {
		t.Errorf("opening the init's exe for writing: %v, want EROFS (lower-only overlay) or EPERM (sealed memfd)", err)
	}
	e.mustBerth("delete", id)
}
