package libcontainer

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestParseLockLine(t *testing.T) {
	const file = "00:1a:12345"
	for _, tc := range []struct {
		line string
		want int
	}{
		{"3: FLOCK  ADVISORY  WRITE 4242 00:1a:12345 0 EOF", 4242},
		{"3: FLOCK  ADVISORY  WRITE 4242 00:1a:123456 0 EOF", 0}, // another inode
		{"3: POSIX  ADVISORY  WRITE 4242 00:1a:12345 0 EOF", 0},  // not a flock
		{"3: -> FLOCK  ADVISORY  WRITE 77 00:1a:12345 0 EOF", 0}, // a waiter
		{"3: FLOCK  ADVISORY  WRITE x 00:1a:12345 0 EOF", 0},
		{"3: FLOCK", 0},
		{"", 0},
	} {
		if got := parseLockLine(tc.line, file); got != tc.want {
			t.Errorf("parseLockLine(%q) = %d, want %d", tc.line, got, tc.want)
		}
	}
}

func TestFlockHolderFromFile(t *testing.T) {
	locks := filepath.Join(t.TempDir(), "locks")
	content := "1: POSIX  ADVISORY  WRITE 10 08:01:99 0 EOF\n" +
		"2: FLOCK  ADVISORY  WRITE 1234 00:2f:4096 0 EOF\n" +
		"3: FLOCK  ADVISORY  WRITE 999 00:2f:4097 0 EOF\n"
	if err := os.WriteFile(locks, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	dev := unix.Mkdev(0, 0x2f)
	for _, tc := range []struct {
		ino  uint64
		want int
	}{{4096, 1234}, {4097, 999}, {99, 0}, {1, 0}} {
		if got := flockHolder(locks, dev, tc.ino); got != tc.want {
			t.Errorf("flockHolder(ino %d) = %d, want %d", tc.ino, got, tc.want)
		}
	}
	if got := flockHolder(filepath.Join(t.TempDir(), "missing"), dev, 4096); got != 0 {
		t.Errorf("missing locks file: %d, want 0", got)
	}
}

// TestStoreLockTimesOut holds a container's lock through another open file
// description (flock locks belong to those) and checks that a second lock
// gives up with an error naming the container, the holder and the timeout,
// then succeeds once the lock is released.
func TestStoreLockTimesOut(t *testing.T) {
	s := stateStore{root: t.TempDir()}
	held, err := s.create("box")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(LockTimeoutEnv, "50ms")
	_, err = s.lock("box")
	if err == nil {
		t.Fatal("second lock succeeded while the first is held")
	}
	for _, want := range []string{`container "box" is locked by another berth command`, "pid " + strconv.Itoa(os.Getpid()), "timed out after 50ms"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	held.Close()
	again, err := s.lock("box")
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	again.Close()
}

// TestFlockWithinWaitsForRelease: a waiter gets the lock once the holder
// lets go within the timeout.
func TestFlockWithinWaitsForRelease(t *testing.T) {
	dir := t.TempDir()
	holder, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(int(holder.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	waiter, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer waiter.Close()
	released := make(chan struct{})
	go func() {
		time.Sleep(20 * time.Millisecond)
		holder.Close()
		close(released)
	}()
	if err := flockWithin(int(waiter.Fd()), time.Minute); err != nil {
		t.Fatalf("flockWithin: %v", err)
	}
	select {
	case <-released:
	default:
		t.Error("got the lock before the holder released it")
	}
}

func TestLockTimeoutFromEnv(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want time.Duration
	}{
		{"", defaultLockTimeout},
		{"250ms", 250 * time.Millisecond},
		{"0s", 0},
		{"-1s", defaultLockTimeout},
		{"soon", defaultLockTimeout},
	} {
		t.Run(fmt.Sprintf("%q", tc.env), func(t *testing.T) {
			t.Setenv(LockTimeoutEnv, tc.env)
			if got := lockTimeout(); got != tc.want {
				t.Errorf("lockTimeout() = %v, want %v", got, tc.want)
			}
		})
	}
}
