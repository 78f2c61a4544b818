package cgroups

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/opencontainers/cgroups"
	devices "github.com/opencontainers/cgroups/devices/config"
	"golang.org/x/sys/unix"
)

func TestDevicesProgramShape(t *testing.T) {
	prog := devicesProgram(DefaultDeviceRules())
	if last := prog[len(prog)-1]; last.op != opExit {
		t.Fatalf("program does not end in exit: %+v", last)
	}
	if fb := prog[len(prog)-2]; fb.op != opMov64K || fb.imm != 0 {
		t.Errorf("deny-all program falls back to %+v, want r0 = 0", fb)
	}
	for i, in := range prog {
		if in.op == opJneK || in.op == opJeqK {
			if tgt := i + 1 + int(in.off); in.off < 0 || tgt >= len(prog) {
				t.Errorf("insn %d jumps to %d (program has %d)", i, tgt, len(prog))
			}
		}
	}
	allow := devicesProgram([]*devices.Rule{rule('a', wildcard, wildcard, "rwm", true), rule('c', 1, 7, "rwm", false)})
	if fb := allow[len(allow)-2]; fb.imm != 1 {
		t.Errorf("allow-all program falls back to %+v, want r0 = 1", fb)
	}
	if got := len(encodeProgram(prog)); got != 8*len(prog) {
		t.Errorf("encoded %d bytes for %d instructions", got, len(prog))
	}
}

// probe runs a shell in the cgroup2 directory and reports which devices it
// could open.
func probe(t *testing.T, dir string) string {
	t.Helper()
	cmd := exec.Command("sh", "-c", `read go; for d in null full zero; do if true <"/dev/$d"; then printf "$d=ok "; else printf "$d=denied "; fi; done`)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal(err)
	}
	stdin.Write([]byte("go\n"))
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("probe: %v", err)
	}
	return strings.TrimSpace(out.String())
}

// TestDevicesV2Program loads and attaches real programs to a cgroup2
// directory (the hybrid host's /sys/fs/cgroup/unified works: the kernel
// runs device programs of the task's cgroup2 cgroup on any host).
func TestDevicesV2Program(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipped: loading eBPF programs needs root")
	}
	h, err := detectHost()
	if err != nil || h.v2root == "" {
		t.Skip("skipped: no cgroup2 mount on this host")
	}
	dir := filepath.Join(h.v2root, randomID(t))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.Remove(dir); err != nil {
			t.Errorf("remove %s: %v", dir, err)
		}
	})

	rules := append(DefaultDeviceRules(), rule('c', 1, 7, "rwm", false))
	if err := setDevicesV2(dir, &cgroups.Resources{Devices: rules}); err != nil {
		t.Fatal(err)
	}
	if got := probe(t, dir); got != "null=ok full=denied zero=ok" {
		t.Errorf("with /dev/full denied: %s", got)
	}
	// Replace: now /dev/zero is denied and /dev/full allowed; exactly one
	// program stays attached.
	rules = append(DefaultDeviceRules(), rule('c', 1, 5, "r", false))
	if err := setDevicesV2(dir, &cgroups.Resources{Devices: rules}); err != nil {
		t.Fatal(err)
	}
	if got := probe(t, dir); got != "null=ok full=ok zero=denied" {
		t.Errorf("after replacing: %s", got)
	}
	fd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	ids, _, err := attachedDevicePrograms(fd)
	if err != nil || len(ids) != 1 {
		t.Errorf("attached programs %v, %v; want exactly one", ids, err)
	}
	// Allow-all with one exception.
	if err := setDevicesV2(dir, &cgroups.Resources{Devices: []*devices.Rule{rule('a', wildcard, wildcard, "rwm", true), rule('c', 1, 3, "rwm", false)}}); err != nil {
		t.Fatal(err)
	}
	if got := probe(t, dir); got != "null=denied full=ok zero=ok" {
		t.Errorf("allow-all but /dev/null: %s", got)
	}
}
