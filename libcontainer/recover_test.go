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

// TestUnsavedCreate: a state directory without state.json (a create killed
// before its first save, or one still before it) is shown by Load and List,
// removed by Delete, and replaced by a new create of the same id once its
// creator is gone.
func TestUnsavedCreate(t *testing.T) {
	for _, tc := range []struct {
		name       string
		locked     bool // the create still runs
		withState  bool
		wantStatus string
		recreate   string // "" = a new create succeeds, else its error
	}{
		{name: "create killed before its save", wantStatus: Stopped},
		{name: "create still before its save", locked: true, wantStatus: Creating, recreate: "already exists"},
		{name: "create killed after its save, before the init", withState: true, wantStatus: Stopped,
			recreate: `already exists and is stopped; remove it with "berth delete box"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := &Runtime{Root: t.TempDir()}
			s := rt.store()
			lock, err := s.create("box")
			if err != nil {
				t.Fatal(err)
			}
			if tc.withState {
				st := testState("box")
				st.InitPid = 0
				if err := s.save(st); err != nil {
					t.Fatal(err)
				}
			}
			if tc.locked {
				defer lock.Close()
			} else {
				lock.Close()
			}
			c, err := rt.Load("box")
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got := c.State(); got.Status != tc.wantStatus || got.Pid != 0 || got.ID != "box" {
				t.Errorf("state = %+v, want status %s, pid 0", got, tc.wantStatus)
			}
			list, err := rt.List()
			if err != nil || len(list) != 1 || list[0].Status != tc.wantStatus {
				t.Errorf("List = %v, %v; want one container, %s", list, err, tc.wantStatus)
			}
			_, err = s.create("box")
			switch {
			case tc.recreate == "" && err != nil:
				t.Errorf("create again: %v", err)
			case tc.recreate != "" && (err == nil || !strings.Contains(err.Error(), tc.recreate)):
				t.Errorf("create again: %v, want an error saying %q", err, tc.recreate)
			}
			if err != nil && !tc.locked {
				c, err := rt.LoadLocked("box")
				if err != nil {
					t.Fatal(err)
				}
				if err := c.Delete(false); err != nil {
					t.Fatalf("Delete: %v", err)
				}
				if _, err := os.Stat(s.dir("box")); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("state dir still there after Delete: %v", err)
				}
			}
		})
	}
}
