package tests

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// AppArmor on a host that runs it (make vmtest's guest): a container's
// process.apparmorProfile and exec --apparmor confine the process from its
// execve on, by either init, and a profile that is not loaded is refused
// with nothing left behind. Each test loads a profile of its own with
// apparmor_parser and removes it afterwards.

// aaProbe prints the process's AppArmor label, then tries a write the test
// profile denies and one it allows (busybox sh reports a refused
// redirection as "can't create ...: Permission denied").
const aaProbe = `echo "label=$(cat /proc/self/attr/apparmor/current 2>/dev/null || cat /proc/self/attr/current)"
echo x > /tmp/aa-denied && echo denied-write=ok
echo x > /tmp/aa-allowed && echo allowed-write=ok
true`

// requireAppArmor skips unless the suite runs here, the kernel runs
// AppArmor and apparmor_parser is installed, and returns the parser's path.
func requireAppArmor(t *testing.T) string {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	if b, _ := os.ReadFile("/sys/module/apparmor/parameters/enabled"); !strings.HasPrefix(string(b), "Y") {
		t.Skip("AppArmor is not enabled on this host (/sys/module/apparmor/parameters/enabled is not Y)")
	}
	parser, err := exec.LookPath("apparmor_parser")
	if err != nil {
		t.Skip("apparmor_parser is not installed (Debian: apparmor)")
	}
	return parser
}

// loadProfile loads an enforcing profile of a fresh name with
// apparmor_parser -r and removes it (-R) when the test ends. It allows
// files and signals, denies the write to /tmp/aa-denied, and grants no
// capability: were it applied before the execve rather than at it, the
// init's own setup (capset, setresuid, dropping the bounding set) would
// fail under it. Call it before newEnv: cleanups run last-in first-out,
// so the profile then goes after the env's cleanup deleted its containers.
func loadProfile(t *testing.T, parser string) string {
	t.Helper()
	name := "berth-test-" + randHex(4)
	text := fmt.Sprintf(`profile %s flags=(attach_disconnected,mediate_deleted) {
  file,
  signal,
  ptrace,
  deny /tmp/aa-denied w,
}
`, name)
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	// -K: no cache in /var/cache/apparmor for a profile that lives for one test.
	if out, err := exec.Command(parser, "-r", "-K", path).CombinedOutput(); err != nil {
		t.Fatalf("apparmor_parser -r %s: %v\n%s", path, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command(parser, "-R", "-K", path).CombinedOutput(); err != nil {
			t.Errorf("apparmor_parser -R %s: %v\n%s", path, err, out)
		}
	})
	return name
}

// checkConfined fails unless the probe's output shows the process in
// profile, in enforce mode, refused the denied write and allowed the other.
func checkConfined(t *testing.T, what, profile string, r result) {
	t.Helper()
	if r.code != 0 {
		t.Errorf("%s: %v", what, r)
		return
	}
	kv := parseKV(r.stdout)
	if got, want := kv["label"], profile+" (enforce)"; got != want {
		t.Errorf("%s: AppArmor label %q, want %q\n%s", what, got, want, r.stdout)
	}
	if kv["denied-write"] != "" || !strings.Contains(r.stderr+r.stdout, "/tmp/aa-denied: Permission denied") {
		t.Errorf("%s: the write the profile denies was not refused with EACCES\nstdout %q\nstderr %q", what, r.stdout, r.stderr)
	}
	if kv["allowed-write"] != "ok" {
		t.Errorf("%s: the write the profile allows failed\nstdout %q\nstderr %q", what, r.stdout, r.stderr)
	}
}

// aaSpec is a busybox container running script under profile.
func aaSpec(script, profile string) *specs.Spec {
	s := sh(script)
	s.Process.ApparmorProfile = profile
	return s
}

func TestAppArmorProfileConfines(t *testing.T) {
	t.Parallel()
	parser := requireAppArmor(t)
	profile := loadProfile(t, parser)
	e := newEnv(t)

	// The control: the same probe without a profile is unconfined and
	// writes both files, so a refusal below is the profile's doing.
	r := e.run(sh(aaProbe))
	if kv := parseKV(r.stdout); r.code != 0 || kv["label"] != "unconfined" || kv["denied-write"] != "ok" {
		t.Fatalf("without a profile: want unconfined and both writes done: %v", r)
	}
	for _, w := range runWays {
		b := e.bundle(aaSpec(aaProbe, profile))
		checkConfined(t, "run, "+w.name, profile, e.berthOpts(runOpts{env: w.env}, "run", "--bundle", b, e.id("aa-run")))
	}
	// create, then start: the waiting init keeps the profile named for the
	// execve that start releases. Read from the host, as ps -Z does.
	for _, w := range runWays {
		id := e.id("aa-created")
		if r := e.berthOpts(runOpts{env: w.env}, "create", "--bundle", e.bundle(aaSpec("sleep 1000", profile)), id); r.code != 0 {
			t.Fatalf("create, %s: %v", w.name, r)
		}
		pid := e.state(id).Pid
		if got := hostLabel(t, pid); got == profile+" (enforce)" {
			t.Errorf("create, %s: the waiting init is already in %q: the profile must apply at the execve", w.name, got)
		}
		e.mustBerth("start", id)
		e.waitStatus(id, "running")
		if got, want := hostLabel(t, pid), profile+" (enforce)"; got != want {
			t.Errorf("create and start, %s: pid %d runs in %q, want %q", w.name, pid, got, want)
		}
		e.mustBerth("delete", "--force", id)
	}
}

// hostLabel reads the AppArmor label of a host pid.
func hostLabel(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/attr/apparmor/current", pid))
	if errors.Is(err, os.ErrNotExist) {
		b, err = os.ReadFile(fmt.Sprintf("/proc/%d/attr/current", pid))
	}
	if err != nil {
		t.Fatalf("AppArmor label of pid %d: %v", pid, err)
	}
	return strings.TrimSpace(string(b))
}

func TestAppArmorExec(t *testing.T) {
	t.Parallel()
	parser := requireAppArmor(t)
	profile := loadProfile(t, parser)
	e := newEnv(t)
	probe := []string{"sh", "-c", aaProbe}

	// An exec without --apparmor runs in the container's own profile (as
	// in runc: the exec'd process starts from the container's process).
	confined := e.id("aa-confined")
	e.mustBerth("run", "-d", "--bundle", e.bundle(aaSpec("sleep 1000", profile)), confined)
	for _, w := range execWays {
		checkConfined(t, "exec into a confined container, "+w.name, profile,
			e.berthOpts(runOpts{env: w.env}, append([]string{"exec", confined}, probe...)...))
	}
	// exec --apparmor confines a process of an unconfined container.
	free := e.startSleeper()
	for _, w := range execWays {
		checkConfined(t, "exec --apparmor, "+w.name, profile,
			e.berthOpts(runOpts{env: w.env}, append([]string{"exec", "--apparmor", profile, free}, probe...)...))
	}
	if r := e.berth(append([]string{"exec", free}, probe...)...); parseKV(r.stdout)["label"] != "unconfined" {
		t.Errorf("a plain exec into the unconfined container after exec --apparmor: %v", r)
	}
	e.mustBerth("delete", "--force", confined)
}

func TestAppArmorProfileNotLoaded(t *testing.T) {
	t.Parallel()
	requireAppArmor(t)
	e := newEnv(t)
	missing := "berth-not-loaded-" + randHex(4)
	for _, w := range runWays {
		for _, cmd := range []string{"run", "create"} {
			id := e.id("aa-missing")
			r := e.berthOpts(runOpts{env: w.env}, cmd, "--bundle", e.bundle(aaSpec("true", missing)), id)
			assertError(t, r, fmt.Sprintf("process.apparmorProfile %q", missing), "no such AppArmor profile is loaded")
			if _, err := os.Stat(filepath.Join(e.root, id)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s, %s: the state directory of %s remains (%v)", cmd, w.name, id, err)
			}
			if dirs := cgroupDirsNamed(id); len(dirs) > 0 {
				t.Errorf("%s, %s: cgroups of %s remain: %v", cmd, w.name, id, dirs)
			}
		}
	}
	sleeper := e.startSleeper()
	for _, w := range execWays {
		r := e.berthOpts(runOpts{env: w.env}, "exec", "--apparmor", missing, sleeper, "true")
		assertExecError(t, r, fmt.Sprintf("process.apparmorProfile %q", missing), "no such AppArmor profile is loaded")
	}
	if s := e.state(sleeper); s.Status != "running" {
		t.Errorf("the container after the failed execs: %q, want running", s.Status)
	}
}
