package tests

// The escape-regression suite: one test per class of container escape that
// hit runc, each building its malicious bundle itself and asserting that the
// host is untouched and that berth refuses or contains the attack. This file
// holds the shared helpers and CVE-2019-5736 (overwriting the runtime);
// security_*_test.go hold the others.

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berthrun/berth/internal/hostscan"
)

// fileSnapshot is what must not change about a host file.
type fileSnapshot struct {
	path    string
	sum     string
	ino     uint64
	size    int64
	mtimeNs int64
}

func snapshot(t *testing.T, path string) fileSnapshot {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return fileSnapshot{path: path, sum: hex.EncodeToString(sum[:]), ino: st.Ino, size: st.Size, mtimeNs: st.Mtim.Nano()}
}

// assertUnchanged fails the test if the file's content, inode, size or
// mtime differ from the snapshot.
func (s fileSnapshot) assertUnchanged(t *testing.T) {
	t.Helper()
	now := snapshot(t, s.path)
	if now != s {
		t.Errorf("host file %s changed: %+v, was %+v", s.path, now, s)
	}
}

// assertEmptyDir fails the test if anything was created in a host
// directory or mounted below it.
func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range entries {
		t.Errorf("host directory %s: %s was created", dir, de.Name())
	}
	for _, m := range hostscan.MountsBelow(dir) {
		t.Errorf("host directory %s: %s is mounted", dir, m)
	}
}

// refusedOrRan accepts the two outcomes of an attack that is contained:
// a clean refusal (exit 1, one line) or a successful run.
func refusedOrRan(t *testing.T, r result) bool {
	t.Helper()
	if r.code == 0 {
		return true
	}
	assertError(t, r)
	return false
}

// allCaps is every capability this host's root has (it lacks
// CAP_SYS_RESOURCE), for attackers as strong as a privileged container.
func allCaps(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, c := range []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
		"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_NET_ADMIN", "CAP_NET_RAW",
		"CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_ADMIN", "CAP_MKNOD", "CAP_AUDIT_WRITE"} {
		if hasCap(t, c) {
			out = append(out, c)
		}
	}
	return out
}

func privileged(s *specs.Spec, caps []string) {
	s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps}
	s.Process.NoNewPrivileges = false
}

// TestCVE2019_5736RuntimeOverwrite: code in the container tries to
// overwrite the runtime through /proc/<pid>/exe of berth's processes:
//
//   - a createContainer hook (root with every capability, CAP_SYS_PTRACE
//     included, in the container) writes to its parent, the berth init;
//   - an exec'd process without CAP_SYS_PTRACE targets the waiting init,
//     which must be non-dumpable: it cannot even read the link;
//   - an exec'd process with CAP_SYS_PTRACE does what the original exploit
//     did: it holds the init's exe open until the init has exec'd the
//     container process (when nothing runs the file any more, so ETXTBSY
//     no longer protects it) and then writes through that fd. It finds a
//     sealed copy that cannot be written.
//
// The host binary's content, inode, size and mtime stay the same.
func TestCVE2019_5736RuntimeOverwrite(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	host := snapshot(t, berthBin)
	logDir := e.dir("log")
	// >> opens for appending, > truncates (F_SEAL_SHRINK), each then
	// writes. The writes only go to an exe that is not a host program
	// (the link names berth, or cannot be read).
	attack := func(exe, log string) string {
		return `exe=` + exe + `; log=` + log + `
readlink $exe > $log.link 2>&1 || echo "readlink refused" > $log.link
case "$(cat $log.link)" in *berth*|*refused*)
  (printf pwned >> $exe) 2>/dev/null && echo appended >> $log
  (printf pwned > $exe) 2>/dev/null && echo truncated >> $log;;
esac
echo done >> $log`
	}
	spec := sh("sleep 1000")
	hookLog := filepath.Join(logDir, "hook")
	// The hook runs in the container's pid namespace but still sees the
	// host's /proc: its parent's pid there is field 4 of its own stat
	// (read by the shell itself, so that "self" is the shell).
	spec.Hooks = &specs.Hooks{CreateContainer: []specs.Hook{{
		Path: "/bin/sh", Args: []string{"sh", "-c", "read -r _ _ _ ppid _ < /proc/self/stat\n" + attack("/proc/$ppid/exe", hookLog)},
	}}}
	id := e.id("exe")
	e.mustBerth("create", "--bundle", e.bundle(spec), id)
	if got := waitFile(t, hookLog); got != "done\n" {
		t.Errorf("the hook wrote to the init's exe: %q", got)
	}
	if link, _ := os.ReadFile(hookLog + ".link"); !sealedLink(string(link)) {
		t.Errorf("the init's exe is %q, want berth through its read-only overlay (\"/berth\") or a sealed memfd copy", link)
	}

	// exec'd processes attack pid 1, the init waiting for start.
	r := e.mustBerth("exec", id, "sh", "-c", attack("/proc/1/exe", "/tmp/plain")+"; cat /tmp/plain.link /tmp/plain")
	if l := lines(r.stdout); len(l) != 2 || !strings.Contains(l[0], "refused") || l[1] != "done" {
		t.Errorf("without CAP_SYS_PTRACE: %q, want the init's exe unreadable (non-dumpable) and unwritten", l)
	}
	hold := `exec 3< /proc/1/exe || exit 1
readlink /proc/1/exe > /tmp/held
while readlink /proc/1/exe | grep -q -e memfd -e '^/berth$'; do usleep 10000; done
(printf pwned >> /proc/self/fd/3) 2>/dev/null && echo appended >> /tmp/hold
(printf pwned > /proc/self/fd/3) 2>/dev/null && echo truncated >> /tmp/hold
echo done >> /tmp/hold`
	e.mustBerth("exec", "-d", "--cap", "CAP_SYS_PTRACE", "--cap", "CAP_DAC_OVERRIDE", id, "sh", "-c", hold)
	waitInside(t, e, id, "/tmp/held")
	e.mustBerth("start", id)
	got := waitInside(t, e, id, "/tmp/hold")
	if got != "done\n" {
		t.Errorf("after the init exec'd, writing through its held exe: %q, want no write", got)
	}
	if held := waitInside(t, e, id, "/tmp/held"); !sealedLink(strings.TrimSpace(held)) {
		t.Errorf("the attacker held %q, want berth through its read-only overlay or a sealed memfd copy", held)
	}
	e.mustBerth("delete", "--force", id)
	host.assertUnchanged(t)
}

// sealedLink tells whether /proc/<pid>/exe reads like berth's protected
// binary: the file at the root of its detached, lower-only overlay mount
// ("/" + the binary's name) or the sealed memfd copy of hosts without one.
func sealedLink(link string) bool {
	link = strings.TrimSpace(link)
	return link == "/"+filepath.Base(berthBin) || strings.HasPrefix(link, "/memfd:berth")
}

// waitInside polls until path exists in the container and is not empty,
// and returns its content.
func waitInside(t *testing.T, e *env, id, path string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := e.mustBerth("exec", id, "sh", "-c", "cat "+path+" 2>/dev/null; true")
		if r.stdout != "" {
			return r.stdout
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still missing in the container after 10s", path)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCVE2019_5736ExecRace: a privileged container scans its /proc in a
// loop and writes to the exe of every process that is not its own, while
// berth execs into it again and again: the exec'd berth processes pass
// through its pid namespace on the way in.
func TestCVE2019_5736ExecRace(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	host := snapshot(t, berthBin)
	spec := sh(`while :; do
  for p in /proc/[0-9]*; do
    l=$(readlink $p/exe 2>/dev/null) || continue
    case "$l" in *berth*) echo "seen $l" >> /tmp/log; (printf pwned >> $p/exe) 2>/dev/null && echo WROTE >> /tmp/log;; esac
  done
done`)
	privileged(spec, allCaps(t))
	id := e.id("exerace")
	e.mustBerth("run", "-d", "--bundle", e.bundle(spec), id)
	for range 20 {
		e.mustBerth("exec", id, "true")
	}
	log := e.mustBerth("exec", id, "sh", "-c", "cat /tmp/log 2>/dev/null; true").stdout
	if strings.Contains(log, "WROTE") {
		t.Errorf("the container wrote to a berth process's exe:\n%s", log)
	}
	t.Logf("the attacker saw %d berth processes", strings.Count(log, "seen"))
	e.mustBerth("delete", "--force", id)
	host.assertUnchanged(t)
}
