package libcontainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"golang.org/x/sys/unix"
)

const (
	stateFile = "state.json"
	fifoName  = "exec.fifo"
)

// ErrNotExist is returned for a container id that has no state directory.
var ErrNotExist = errors.New("does not exist")

// stateStore is the --root directory: one sub-directory per container holding
// state.json and, between create and start, exec.fifo.
type stateStore struct {
	root string
}

func (s stateStore) dir(id string) string { return filepath.Join(s.root, id) }

// create makes the container's directory and takes its lock. mkdir is the
// atomic step that decides which of several concurrent creates wins.
func (s stateStore) create(id string) (*os.File, error) {
	if err := os.MkdirAll(s.root, 0o711); err != nil {
		return nil, fmt.Errorf("state root %q: %w", s.root, err)
	}
	err := os.Mkdir(s.dir(id), 0o711)
	if errors.Is(err, os.ErrExist) && s.removeAbandoned(id) {
		err = os.Mkdir(s.dir(id), 0o711)
	}
	if errors.Is(err, os.ErrExist) {
		return nil, s.existsError(id)
	}
	if err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	lock, err := s.lock(id)
	if err != nil {
		os.Remove(s.dir(id))
		return nil, err
	}
	return lock, nil
}

// removeAbandoned removes the directory of a create that died before its
// first save: no state.json, and no create holds its lock. Nothing else of
// such a create exists, so the new create of the same id may go ahead.
func (s stateStore) removeAbandoned(id string) bool {
	d, err := os.OpenFile(s.dir(id), os.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer d.Close()
	if unix.Flock(int(d.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
		return false // its create is still running
	}
	if _, err := os.Lstat(filepath.Join(s.dir(id), stateFile)); !errors.Is(err, os.ErrNotExist) {
		return false
	}
	return os.RemoveAll(s.dir(id)) == nil
}

// existsError says that id is taken; when what takes it is stopped (a
// create that never finished leaves such a container too), it names the
// command that removes it.
func (s stateStore) existsError(id string) error {
	if st, err := s.load(id); err == nil && st.status(s.dir(id)) == Stopped {
		return fmt.Errorf("container %q already exists and is stopped; remove it with \"berth delete %s\"", id, id)
	}
	return fmt.Errorf("container %q already exists", id)
}

// lock takes the container's exclusive lock (flock on its directory),
// waiting at most lockTimeout for another command to release it: a stuck
// holder gets a clear error, never a hang. A directory removed while we
// waited means the container is gone.
func (s stateStore) lock(id string) (*os.File, error) {
	d, err := os.OpenFile(s.dir(id), os.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("container %q %w", id, ErrNotExist)
		}
		return nil, err
	}
	timeout := lockTimeout()
	if err := flockWithin(int(d.Fd()), timeout); err != nil {
		if errors.Is(err, errLockBusy) {
			err = lockTimeoutError(id, int(d.Fd()), timeout)
		} else {
			err = fmt.Errorf("lock container %q: %w", id, err)
		}
		d.Close()
		return nil, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(d.Fd()), &st); err != nil || st.Nlink == 0 {
		d.Close()
		return nil, fmt.Errorf("container %q %w", id, ErrNotExist)
	}
	return d, nil
}

// save writes state.json atomically: temp file, fsync, rename.
func (s stateStore) save(st *savedState) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(s.dir(st.ID), ".state-*")
	if err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(s.dir(st.ID), stateFile))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write state: %w", err)
	}
	s.writeBrief(st) // for state and list without the Go runtime (brief.go)
	return nil
}

func (s stateStore) load(id string) (*savedState, error) {
	b, err := os.ReadFile(filepath.Join(s.dir(id), stateFile))
	if errors.Is(err, os.ErrNotExist) {
		return s.loadUnsaved(id)
	}
	if err != nil {
		return nil, err
	}
	return decodeState(id, b)
}

// loadUnsaved is the state of a container directory without state.json:
// a create between its mkdir and its first save, or one killed there (a
// kubelet cancelling its context). It is shown, not hidden: state and list
// report it as creating, or stopped once its creator is dead (status.go),
// and delete removes it. Nothing else of it exists yet: no process,
// cgroup or network.
func (s stateStore) loadUnsaved(id string) (*savedState, error) {
	var st unix.Stat_t
	if err := unix.Lstat(s.dir(id), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return nil, fmt.Errorf("container %q %w", id, ErrNotExist)
	}
	created := time.Unix(st.Mtim.Unix()).UTC()
	return &savedState{ID: id, Created: created, Config: &Config{ID: id, Spec: &specs.Spec{}}}, nil
}

func (s stateStore) remove(id string) error {
	return os.RemoveAll(s.dir(id))
}

// ids lists the containers in the store, sorted.
func (s stateStore) ids() ([]string, error) {
	entries, err := os.ReadDir(s.root)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var ids []string
	for _, e := range entries {
		if e.IsDir() && ValidateID(e.Name()) == nil {
			ids = append(ids, e.Name())
		}
	}
	sort.Strings(ids)
	return ids, nil
}
