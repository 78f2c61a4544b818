package libcontainer

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func testState(id string) *savedState {
	return &savedState{
		ID: id, InitPid: 42, InitStartTime: 7, Created: time.Unix(1700000000, 5).UTC(),
		CgroupPaths: map[string]string{"memory": "/sys/fs/cgroup/memory/" + id},
		Config:      &Config{ID: id, Bundle: "/b", Rootfs: "/b/rootfs", Spec: &specs.Spec{Version: specs.Version, Process: &specs.Process{Args: []string{"sh"}}, Linux: &specs.Linux{}}},
	}
}

func TestStoreRoundTrip(t *testing.T) {
	s := stateStore{root: filepath.Join(t.TempDir(), "root")}
	lock, err := s.create("box")
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	want := testState("box")
	if err := s.save(want); err != nil {
		t.Fatal(err)
	}
	got, err := s.load("box")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("loaded %+v, want %+v", got, want)
	}
	entries, _ := os.ReadDir(s.dir("box"))
	if len(entries) != 2 || entries[0].Name() != briefFile || entries[1].Name() != stateFile {
		t.Errorf("state dir holds %v, want only %s and %s (no temp file left)", entries, briefFile, stateFile)
	}
}

func TestStoreCreateTwiceFails(t *testing.T) {
	s := stateStore{root: t.TempDir()}
	lock, err := s.create("box")
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if _, err := s.create("box"); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second create: %v, want 'already exists'", err)
	}
}

func TestStoreLoadErrors(t *testing.T) {
	s := stateStore{root: t.TempDir()}
	if _, err := s.load("missing"); !errors.Is(err, ErrNotExist) {
		t.Errorf("load of a missing container: %v, want ErrNotExist", err)
	}
	if _, err := s.lock("missing"); !errors.Is(err, ErrNotExist) {
		t.Errorf("lock of a missing container: %v, want ErrNotExist", err)
	}
	os.Mkdir(s.dir("corrupt"), 0o700)
	os.WriteFile(filepath.Join(s.dir("corrupt"), stateFile), []byte("{not json"), 0o600)
	if _, err := s.load("corrupt"); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("load of corrupt state: %v, want 'corrupt'", err)
	}
	os.Mkdir(s.dir("noconfig"), 0o700)
	os.WriteFile(filepath.Join(s.dir("noconfig"), stateFile), []byte(`{"id":"noconfig"}`), 0o600)
	if _, err := s.load("noconfig"); err == nil || !strings.Contains(err.Error(), "no config") {
		t.Errorf("load of state without config: %v, want 'no config'", err)
	}
}

func TestStoreLockOfRemovedDir(t *testing.T) {
	s := stateStore{root: t.TempDir()}
	lock, err := s.create("box")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		l, err := s.lock("box") // blocks until the first lock goes
		if l != nil {
			l.Close()
		}
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	s.remove("box")
	lock.Close()
	if err := <-done; !errors.Is(err, ErrNotExist) {
		t.Errorf("lock that waited for a deleted container: %v, want ErrNotExist", err)
	}
}

func TestStoreIDs(t *testing.T) {
	s := stateStore{root: t.TempDir()}
	for _, id := range []string{"b", "a", "c"} {
		l, err := s.create(id)
		if err != nil {
			t.Fatal(err)
		}
		l.Close()
	}
	os.WriteFile(filepath.Join(s.root, "stray-file"), nil, 0o600)
	os.Mkdir(filepath.Join(s.root, ".tmp"), 0o700)
	ids, err := s.ids()
	if err != nil || !reflect.DeepEqual(ids, []string{"a", "b", "c"}) {
		t.Errorf("ids() = %v, %v; want [a b c]", ids, err)
	}
	empty := stateStore{root: filepath.Join(t.TempDir(), "absent")}
	if ids, err := empty.ids(); err != nil || len(ids) != 0 {
		t.Errorf("ids() of a missing root = %v, %v; want none", ids, err)
	}
}
