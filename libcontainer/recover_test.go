package libcontainer

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestCreatingOrAbandoned(t *testing.T) {
	for _, tc := range []struct {
		name   string
		locked bool
		noDir  bool
		want   string
	}{
		{"create still running (holds the lock)", true, false, Creating},
		{"create killed (lock free)", false, false, Stopped},
		{"directory gone", false, true, Creating},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "box")
			if !tc.noDir {
				if err := os.Mkdir(dir, 0o711); err != nil {
					t.Fatal(err)
				}
			}
			if tc.locked {
				f, err := os.Open(dir)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
					t.Fatal(err)
				}
			}
			if got := creatingOrAbandoned(dir); got != tc.want {
				t.Errorf("creatingOrAbandoned = %q, want %q", got, tc.want)
			}
		})
	}
}

const busybox = "/bin/busybox" // Debian busybox-static, a static binary

// waitExeced waits until pid no longer runs this test binary. Start returns
// once the child's execve is under way, and in the vmtest guest (Linux 6.1
// under TCG) /proc/<pid>/exe was seen to still name the test binary right
// after it.
func waitExeced(t *testing.T, pid int) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	link := "/proc/" + strconv.Itoa(pid) + "/exe"
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		if exe, err := os.Readlink(link); err != nil || exe != self {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid %d still runs %s 5s after its exec", pid, self)
		}
	}
}

// startLikeInit starts `sleep 60` from a memfd named like berth's sealed
// copy, as a waiting init runs, and stops it when the test ends.
func startLikeInit(t *testing.T) *exec.Cmd {
	t.Helper()
	src, err := os.Open(busybox)
	if err != nil {
		t.Fatalf("%v (apt-get install busybox-static)", err)
	}
	defer src.Close()
	fd, err := unix.MemfdCreate("berth", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	memfd := os.NewFile(uintptr(fd), "memfd")
	defer memfd.Close()
	if _, err := io.Copy(memfd, src); err != nil {
		t.Fatal(err)
	}
	cmd := &exec.Cmd{Path: "/proc/self/fd/" + strconv.Itoa(fd), Args: []string{"sleep", "60"}}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitExeced(t, cmd.Process.Pid)
	exe, _ := os.Readlink("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/exe")
	if !strings.HasPrefix(exe, sealedExePrefix) {
		t.Fatalf("a process run from the memfd has exe %q, want prefix %q", exe, sealedExePrefix)
	}
	return cmd
}

// TestInitExeced compares a process run from a memfd named like berth's
// sealed copy (a waiting init) with processes that run a file (an init
// that has exec'd the container's process).
func TestInitExeced(t *testing.T) {
	waiting := startLikeInit(t)
	execed := exec.Command(busybox, "sleep", "60")
	if err := execed.Start(); err != nil {
		t.Fatal(err)
	}
	defer execed.Wait()
	defer execed.Process.Kill()
	waitExeced(t, execed.Process.Pid)
	for _, tc := range []struct {
		name string
		pid  int
		want bool
	}{
		{"running berth's sealed copy", waiting.Process.Pid, false},
		{"running a file", execed.Process.Pid, true},
		{"this test", os.Getpid(), true},
		{"no such process", 1 << 30, false},
	} {
		if got := initExeced(tc.pid, ""); got != tc.want {
			t.Errorf("%s: initExeced = %v, want %v", tc.name, got, tc.want)
		}
	}
	// With the identity of the file the init started from recorded.
	bb, err := os.Open(busybox)
	if err != nil {
		t.Fatal(err)
	}
	defer bb.Close()
	id := fileID(bb)
	if initExeced(execed.Process.Pid, id) {
		t.Error("a process still running the recorded file reads as exec'd")
	}
	if !initExeced(os.Getpid(), id) {
		t.Error("a process running another file reads as not exec'd")
	}
}

func TestRemoveIncomplete(t *testing.T) {
	for _, tc := range []struct {
		name      string
		withState bool
		noDir     bool
		locked    bool
		wantGone  bool
		wantErr   string
	}{
		{name: "state dir without state.json", wantGone: true},
		{name: "complete container", withState: true, wantGone: false},
		{name: "no directory", noDir: true, wantGone: true},
		{name: "create in progress", locked: true, wantErr: "is locked by another berth command"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := &Runtime{Root: t.TempDir()}
			s := rt.store()
			if !tc.noDir {
				lock, err := s.create("box")
				if err != nil {
					t.Fatal(err)
				}
				if tc.withState {
					if err := s.save(testState("box")); err != nil {
						t.Fatal(err)
					}
				}
				if tc.locked {
					defer lock.Close()
					t.Setenv(LockTimeoutEnv, "20ms")
				} else {
					lock.Close()
				}
			}
			err := rt.RemoveIncomplete("box")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("RemoveIncomplete: %v, want an error saying %q", err, tc.wantErr)
				}
				if _, err := os.Stat(s.dir("box")); err != nil {
					t.Errorf("the state dir of a create in progress went: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("RemoveIncomplete: %v", err)
			}
			_, err = os.Stat(s.dir("box"))
			if gone := errors.Is(err, os.ErrNotExist); gone != tc.wantGone {
				t.Errorf("state dir gone: %v, want %v", gone, tc.wantGone)
			}
		})
	}
	if err := (&Runtime{Root: t.TempDir()}).RemoveIncomplete("../x"); err == nil {
		t.Error("RemoveIncomplete accepted the id ../x")
	}
}
