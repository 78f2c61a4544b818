package cgroups

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/fscommon"
	"golang.org/x/sys/unix"
)

// OOMWatch delivers one value on C each time the kernel reports an OOM in
// the container's cgroup (events that arrive while the reader is busy are
// merged). C is closed when the cgroup is removed or Close is called.
//
// cgroup v1 registers an eventfd on memory.oom_control through
// cgroup.event_control; cgroup v2 watches memory.events with inotify and
// reports each rise of its oom_kill counter.
type OOMWatch struct {
	C    <-chan struct{}
	f    *os.File
	once sync.Once
}

// Close stops the watch and closes C.
func (w *OOMWatch) Close() error {
	var err error
	w.once.Do(func() { err = w.f.Close() })
	return err
}

// NotifyOOM starts an OOMWatch on the container's memory cgroup.
func (m *Manager) NotifyOOM() (*OOMWatch, error) {
	if cgroups.IsCgroup2UnifiedMode() {
		return notifyOOMv2(m.m.Path(""))
	}
	return notifyOOMv1(m.m.Path("memory"))
}

func notifyOOMv1(dir string) (*OOMWatch, error) {
	if dir == "" {
		return nil, errors.New("cgroup: oom notify: the container has no memory cgroup")
	}
	ctl, err := os.Open(filepath.Join(dir, "memory.oom_control"))
	if err != nil {
		return nil, fmt.Errorf("cgroup: oom notify: %w", err)
	}
	defer ctl.Close()
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("cgroup: oom notify: eventfd: %w", err)
	}
	ev := os.NewFile(uintptr(efd), "oom-eventfd")
	reg := strconv.Itoa(efd) + " " + strconv.Itoa(int(ctl.Fd()))
	if err := cgroups.WriteFile(dir, "cgroup.event_control", reg); err != nil {
		ev.Close()
		return nil, fmt.Errorf("cgroup: oom notify: %w", err)
	}
	ch := make(chan struct{}, 1)
	w := &OOMWatch{C: ch, f: ev}
	go func() {
		defer close(ch)
		buf := make([]byte, 8)
		for {
			if _, err := ev.Read(buf); err != nil {
				w.Close()
				return
			}
			// The kernel also signals the eventfd when the cgroup is
			// removed; that is the end, not an OOM.
			if _, err := os.Lstat(filepath.Join(dir, "memory.oom_control")); err != nil {
				w.Close()
				return
			}
			if binary.NativeEndian.Uint64(buf) == 0 {
				continue
			}
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	return w, nil
}

func notifyOOMv2(dir string) (*OOMWatch, error) {
	if dir == "" {
		return nil, errors.New("cgroup: oom notify: the container has no cgroup")
	}
	events := filepath.Join(dir, "memory.events")
	ifd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("cgroup: oom notify: inotify: %w", err)
	}
	f := os.NewFile(uintptr(ifd), "oom-inotify")
	if _, err := unix.InotifyAddWatch(ifd, events, unix.IN_MODIFY); err != nil {
		f.Close()
		return nil, fmt.Errorf("cgroup: oom notify: watch %s: %w", events, err)
	}
	if _, err := unix.InotifyAddWatch(ifd, filepath.Join(dir, "cgroup.events"), unix.IN_MODIFY); err != nil {
		f.Close()
		return nil, fmt.Errorf("cgroup: oom notify: watch %s/cgroup.events: %w", dir, err)
	}
	last, _ := fscommon.GetValueByKey(dir, "memory.events", "oom_kill")
	ch := make(chan struct{}, 1)
	w := &OOMWatch{C: ch, f: f}
	go func() {
		defer close(ch)
		buf := make([]byte, 4096)
		for {
			if _, err := f.Read(buf); err != nil {
				w.Close()
				return
			}
			n, err := fscommon.GetValueByKey(dir, "memory.events", "oom_kill")
			if err != nil { // the cgroup is gone
				w.Close()
				return
			}
			if n > last {
				last = n
				select {
				case ch <- struct{}{}:
				default:
				}
			}
		}
	}()
	return w, nil
}
