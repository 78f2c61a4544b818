package hostscan

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{
		"/plain":         "/plain",
		`/a\040b`:        "/a b",
		`/tab\011x\134y`: "/tab\tx\\y",
		`/not\08octal`:   `/not\08octal`,
		`/short\04`:      `/short\04`,
	} {
		if got := Unescape(in); got != want {
			t.Errorf("Unescape(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestMountsBelow mounts two nested tmpfs (one with a space in its path)
// and expects both, deepest first, and nothing for a sibling directory.
func TestMountsBelow(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount")
	}
	dir := t.TempDir()
	outer, inner := filepath.Join(dir, "a b"), filepath.Join(dir, "a b", "c")
	if err := os.Mkdir(outer, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", outer, "tmpfs", 0, ""); err != nil {
		t.Fatal(err)
	}
	defer syscall.Unmount(outer, syscall.MNT_DETACH)
	if err := os.Mkdir(inner, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", inner, "tmpfs", 0, ""); err != nil {
		t.Fatal(err)
	}
	defer syscall.Unmount(inner, syscall.MNT_DETACH)
	if got := MountsBelow(dir); !slices.Equal(got, []string{inner, outer}) {
		t.Errorf("MountsBelow = %q, want %q", got, []string{inner, outer})
	}
	if got := MountsBelow(dir + "/a"); len(got) != 0 {
		t.Errorf("MountsBelow of a name prefix = %q, want none", got)
	}
	if len(CgroupMounts()) == 0 {
		t.Error("CgroupMounts found no cgroup hierarchy")
	}
}

// TestPids finds a child by an environment entry and by its command line.
func TestPids(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	cmd.Env = []string{"HOSTSCAN_TEST=x1"}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	pid := cmd.Process.Pid
	if got := PidsWithEnv("HOSTSCAN_TEST=x1"); !slices.Equal(got, []int{pid}) {
		t.Errorf("PidsWithEnv = %v, want [%d]", got, pid)
	}
	if got := PidsWithEnv("HOSTSCAN_TEST=x"); len(got) != 0 {
		t.Errorf("PidsWithEnv of a value prefix = %v, want none", got)
	}
	if !slices.Contains(PidsMentioning("sleep\x0030"), pid) {
		t.Errorf("PidsMentioning misses %d", pid)
	}
	if got := Cmdline(pid); got != "sleep 30" {
		t.Errorf("Cmdline = %q", got)
	}
}
