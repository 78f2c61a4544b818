package tests

import (
	"encoding/json"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// checkReport is `berth check --format json`.
type checkReport struct {
	OK      bool     `json:"ok"`
	Missing []string `json:"missing"`
	Checks  []struct {
		Name     string          `json:"name"`
		Required bool            `json:"required"`
		OK       bool            `json:"ok"`
		Host     string          `json:"host"`
		Berth    string          `json:"berth"`
		Facts    json.RawMessage `json:"facts"`
	} `json:"checks"`
}

// facts decodes the facts of the check called name into v.
func (r checkReport) facts(t *testing.T, name string, v any) {
	t.Helper()
	for _, c := range r.Checks {
		if c.Name == name {
			if err := json.Unmarshal(c.Facts, v); err != nil {
				t.Fatalf("%s facts %s: %v", name, c.Facts, err)
			}
			return
		}
	}
	t.Fatalf("no check %q in the report", name)
}

var checkNames = []string{"kernel", "cgroups", "systemd", "seccomp", "namespaces", "userns", "idmapped-mounts",
	"openat2", "pidfd", "close_range", "memfd-sealing", "overlayfs-sealing", "criu", "apparmor", "selinux"}

// TestCheckTable: the table has one aligned row per check, the kernel row
// shows uname's release, and this host passes.
func TestCheckTable(t *testing.T) {
	e := newEnv(t)
	r := e.mustBerth("check")
	rows := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(rows) != 1+len(checkNames) {
		t.Fatalf("%d lines, want a header and %d rows:\n%s", len(rows), len(checkNames), r.stdout)
	}
	header := rows[0]
	if !strings.HasPrefix(header, "CHECK ") {
		t.Errorf("header %q", header)
	}
	// Aligned: every column starts where its header does.
	for _, col := range []string{"REQUIRED", "STATUS", "HOST", "BERTH"} {
		at := strings.Index(header, col)
		for _, row := range rows[1:] {
			if at <= 0 || len(row) <= at || row[at-1] != ' ' || row[at] == ' ' {
				t.Errorf("column %s (at %d) not aligned in %q", col, at, row)
			}
		}
	}
	release, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range checkNames {
		if fields := strings.Fields(rows[i+1]); fields[0] != name {
			t.Errorf("row %d is %q, want %s", i+1, fields[0], name)
		}
	}
	if !strings.Contains(rows[1], "Linux "+strings.TrimSpace(string(release))) {
		t.Errorf("kernel row %q does not show the release %q", rows[1], release)
	}
	for _, row := range rows[1:] {
		if f := strings.Fields(row); f[1] == "yes" && f[2] != "ok" {
			t.Errorf("required check not ok on this host: %q", row)
		}
	}
}

// TestCheckJSON: the JSON parses, says this host is fine, and agrees with
// what /proc and statfs say.
func TestCheckJSON(t *testing.T) {
	e := newEnv(t)
	var r checkReport
	out := e.mustBerth("check", "--format", "json").stdout
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("bad JSON %q: %v", out, err)
	}
	if !r.OK || r.Missing == nil || len(r.Missing) != 0 {
		t.Errorf("ok %v missing %v, want ok and an empty list", r.OK, r.Missing)
	}
	var names []string
	for _, c := range r.Checks {
		names = append(names, c.Name)
	}
	if !slices.Equal(names, checkNames) {
		t.Errorf("checks %v, want %v", names, checkNames)
	}

	var kernel struct{ Release string }
	r.facts(t, "kernel", &kernel)
	if release := readTrimmed(t, "/proc/sys/kernel/osrelease"); kernel.Release != release {
		t.Errorf("kernel release %q, /proc says %q", kernel.Release, release)
	}

	var cg struct {
		Mode    string
		V1      map[string]string
		V2Mount string
		Enabled []string
	}
	r.facts(t, "cgroups", &cg)
	if want := hostCgroupMode(t); cg.Mode != want {
		t.Errorf("cgroup mode %q, statfs says %q", cg.Mode, want)
	}
	if want := enabledInProc(t); !slices.Equal(cg.Enabled, want) {
		t.Errorf("enabled controllers %v, /proc/cgroups says %v", cg.Enabled, want)
	}
	for ctrl, mnt := range cg.V1 {
		if opts := cgroupMountOptions(t, mnt); !slices.Contains(opts, ctrl) {
			t.Errorf("v1 controller %s at %s, but that mount has options %v", ctrl, mnt, opts)
		}
	}

	var sc struct{ Actions []string }
	r.facts(t, "seccomp", &sc)
	if want := strings.Fields(readTrimmed(t, "/proc/sys/kernel/seccomp/actions_avail")); !sameSet(sc.Actions, want) {
		t.Errorf("seccomp actions %v, the kernel lists %v", sc.Actions, want)
	}

	var ns map[string]bool
	r.facts(t, "namespaces", &ns)
	for file, typ := range map[string]string{"pid": "pid", "net": "network", "ipc": "ipc", "uts": "uts", "mnt": "mount",
		"user": "user", "cgroup": "cgroup", "time": "time"} {
		_, err := os.Stat("/proc/self/ns/" + file)
		if have := err == nil; ns[typ] != have {
			t.Errorf("namespace %s: check says %v, /proc/self/ns/%s exists: %v", typ, ns[typ], file, have)
		}
	}
}

// TestCheckMissingRequired: under a seccomp filter that makes pidfd_open
// fail with ENOSYS, as on a kernel older than 5.3, check still prints the
// report, marks pidfd missing and exits 1 naming it.
func TestCheckMissingRequired(t *testing.T) {
	newEnv(t) // skips where the suite cannot run
	r := runWithoutPidfd(t, berthBin, "check", "--format", "json")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\nstdout %q\nstderr %q", r.code, r.stdout, r.stderr)
	}
	if !strings.HasPrefix(r.stderr, "berth: check:") || !strings.Contains(r.stderr, "pidfd") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr %q: want one line naming pidfd", r.stderr)
	}
	var rep checkReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("bad JSON %q: %v", r.stdout, err)
	}
	if rep.OK || !slices.Equal(rep.Missing, []string{"pidfd"}) {
		t.Errorf("ok %v missing %v, want pidfd missing", rep.OK, rep.Missing)
	}
}

// TestCheckBadArguments: bad flags and arguments fail in one line.
func TestCheckBadArguments(t *testing.T) {
	e := newEnv(t)
	assertError(t, e.berth("check", "--format", "xml"), `check: --format "xml": must be table or json`)
	assertError(t, e.berth("check", "extra"), "check: takes no arguments (got 1)")
}

// runWithoutPidfd runs a command under a seccomp filter that fails
// pidfd_open with ENOSYS. The filter is installed on a locked thread of
// this test (no TSYNC) that then forks the command and is thrown away.
func runWithoutPidfd(t *testing.T, path string, args ...string) result {
	t.Helper()
	done := make(chan result)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		if err := denyPidfdOpen(); err != nil {
			t.Error(err)
			done <- result{code: -1}
			return
		}
		var stdout, stderr strings.Builder
		cmd := exec.Command(path, args...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		r := result{stdout: stdout.String(), stderr: stderr.String()}
		if ee, ok := err.(*exec.ExitError); ok {
			r.code = ee.ExitCode()
		} else if err != nil {
			r.code, r.stderr = -1, err.Error()
		}
		done <- r
	}()
	return <-done
}

// denyPidfdOpen installs, on the calling thread, a classic BPF filter:
// pidfd_open returns ENOSYS, everything else is allowed.
func denyPidfdOpen() error {
	prog := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0}, // seccomp_data.nr
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 1, K: unix.SYS_PIDFD_OPEN},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return err
	}
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&fprog)))
	if errno != 0 {
		return errno
	}
	return nil
}

func readTrimmed(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// hostCgroupMode tells the mode from the filesystem types.
func hostCgroupMode(t *testing.T) string {
	var st syscall.Statfs_t
	if syscall.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return "v2"
	}
	if syscall.Statfs("/sys/fs/cgroup/unified", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return "hybrid"
	}
	return "v1"
}

// enabledInProc lists the controllers /proc/cgroups marks enabled, sorted.
func enabledInProc(t *testing.T) []string {
	var out []string
	for _, line := range strings.Split(readTrimmed(t, "/proc/cgroups"), "\n") {
		f := strings.Fields(line)
		if len(f) == 4 && !strings.HasPrefix(f[0], "#") && f[3] == "1" {
			out = append(out, f[0])
		}
	}
	slices.Sort(out)
	return out
}

// cgroupMountOptions returns the super options of the cgroup mount at mnt.
func cgroupMountOptions(t *testing.T, mnt string) []string {
	for _, line := range strings.Split(readTrimmed(t, "/proc/self/mountinfo"), "\n") {
		pre, post, _ := strings.Cut(line, " - ")
		pf, sf := strings.Fields(pre), strings.Fields(post)
		if len(pf) >= 5 && len(sf) >= 3 && pf[4] == mnt && sf[0] == "cgroup" {
			return strings.Split(sf[2], ",")
		}
	}
	return nil
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
