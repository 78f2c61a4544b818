package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/berthrun/berth/internal/testbundle"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// CVE-2019-16884, CVE-2025-52881: a mount over (part of) the container's
// /proc turns the runtime's procfs writes (LSM labels, sysctls,
// oom_score_adj) into writes to a file of the attacker's choosing, and the
// setting is silently not applied. berth writes through a procfs instance
// of its own: the decoys stay untouched and the real settings are made.
// (No LSM runs on the test host; labels go through the same writer, whose
// refusal of overmounts is tested in libcontainer/procfs.)

// fakeProc makes a host directory shaped like the parts of /proc berth
// writes: sys/net/ipv4/ip_default_ttl and 1/oom_score_adj (pid 1, the init in
// its pid namespace), each holding "decoy".
func fakeProc(t *testing.T, e *env) (dir string, decoys []fileSnapshot) {
	t.Helper()
	dir = e.dir("fakeproc")
	for _, f := range []string{"sys/net/ipv4/ip_default_ttl", "1/oom_score_adj", "self/oom_score_adj"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("decoy\n"), 0o666); err != nil {
			t.Fatal(err)
		}
		decoys = append(decoys, snapshot(t, p))
	}
	return dir, decoys
}

// realSettings returns the container init's oom_score_adj and its
// network namespace's ip_default_ttl, read from the host.
func realSettings(t *testing.T, pid int) (oom, ttl string) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/oom_score_adj", pid))
	if err != nil {
		t.Fatal(err)
	}
	nsenter := requireTool(t, "nsenter")
	out, err := exec.Command(nsenter, "--net=/proc/"+strconv.Itoa(pid)+"/ns/net", "cat", "/proc/sys/net/ipv4/ip_default_ttl").Output()
	if err != nil {
		t.Fatalf("nsenter: %v", err)
	}
	return strings.TrimSpace(string(b)), strings.TrimSpace(string(out))
}

func TestCVE2025_52881ProcfsWritesNotRedirected(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		shape func(e *env, s *specs.Spec, rootfs, fake string)
	}{
		{
			// The image's /proc is a look-alike bound in place of procfs.
			"fake-proc", func(e *env, s *specs.Spec, _, fake string) {
				for i := range s.Mounts {
					if s.Mounts[i].Destination == "/proc" {
						s.Mounts[i] = specs.Mount{Destination: "/proc", Type: "bind", Source: fake, Options: []string{"rbind"}}
					}
				}
				s.Linux.MaskedPaths, s.Linux.ReadonlyPaths = nil, nil
			},
		},
		{
			// Decoys mounted over the real /proc's files after berth
			// mounted it (CVE-2025-52881's shape, by a hook here).
			"overmounted-proc", func(e *env, s *specs.Spec, rootfs, fake string) {
				createContainerHook(s, rootfs, fmt.Sprintf(`mount --bind %[1]s/sys/net/ipv4 "$ROOTFS/proc/sys/net/ipv4" &&
mount --bind %[1]s/1/oom_score_adj "$ROOTFS/proc/1/oom_score_adj"`, fake))
			},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			fake, decoys := fakeProc(t, e)
			spec := sh("sleep 1000")
			spec.Linux.Sysctl = map[string]string{"net.ipv4.ip_default_ttl": "77"}
			spec.Process.OOMScoreAdj = intp(345)
			b := e.dir("bundle")
			tt.shape(e, spec, filepath.Join(b, "rootfs"), fake)
			if err := testbundle.New(b, spec); err != nil {
				t.Fatal(err)
			}
			id := e.id("procfs")
			e.mustBerth("run", "-d", "--bundle", b, id)
			if oom, ttl := realSettings(t, e.state(id).Pid); oom != "345" || ttl != "77" {
				t.Errorf("real settings: oom_score_adj %s, ip_default_ttl %s; want 345 and 77", oom, ttl)
			}
			for _, d := range decoys {
				d.assertUnchanged(t)
			}
			e.mustBerth("delete", "--force", id)
		})
	}
}

// TestCVE2019_16884MountOverProcRefused: a spec mount over a procfs file
// berth writes (or over one that holds LSM attributes) is refused.
func TestCVE2019_16884MountOverProcRefused(t *testing.T) {
	t.Parallel()
	for _, dst := range []string{"/proc/sys/net/ipv4", "/proc/self/attr", "/proc/1/oom_score_adj"} {
		t.Run(strings.ReplaceAll(dst, "/", "_"), func(t *testing.T) {
			e := newEnv(t)
			fake, decoys := fakeProc(t, e)
			src := filepath.Join(fake, "sys/net/ipv4")
			if strings.HasSuffix(dst, "oom_score_adj") {
				src = filepath.Join(fake, "1/oom_score_adj")
			}
			spec := sh("true")
			spec.Linux.Sysctl = map[string]string{"net.ipv4.ip_default_ttl": "77"}
			spec.Mounts = append(spec.Mounts, specs.Mount{Destination: dst, Type: "bind", Source: src, Options: []string{"bind"}})
			id := e.id("overproc")
			assertError(t, e.berth("create", "--bundle", e.bundle(spec), id), "refusing to mount over procfs")
			for _, d := range decoys {
				d.assertUnchanged(t)
			}
		})
	}
}
