package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// tagVar is set in the environment of every runtime command the bench runs,
// so that the final sweep can find anything of this run still alive.
const tagVar = "BERTH_BENCH_TAG"

// runner runs the subcommands of one runtime against one --root. Each
// goroutine needs its own: errf collects the stderr of its last command.
type runner struct {
	rt      runtimeSpec
	root    string
	scratch string // pid files
	env     []string
	errf    *os.File
}

func newRunner(j *job) (*runner, error) {
	f, err := os.CreateTemp(j.Scratch, "stderr-")
	if err != nil {
		return nil, err
	}
	env := append(os.Environ(), tagVar+"="+j.Tag)
	return &runner{rt: j.Runtime, root: j.Root, scratch: j.Scratch, env: env, errf: f}, nil
}

func (r *runner) close() { r.errf.Close() }

// command builds a runtime command. Its stdio is /dev/null and a file, never
// a pipe: a detached container inherits them and would keep a pipe open.
func (r *runner) command(args ...string) *exec.Cmd {
	argv := r.rt.argv(r.root, args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = r.env
	cmd.Stderr = r.errf
	return cmd
}

// do runs one subcommand and turns a failure into an error carrying the
// command and the last line it printed on stderr.
func (r *runner) do(args ...string) error {
	if err := r.errf.Truncate(0); err != nil {
		return err
	}
	if _, err := r.errf.Seek(0, 0); err != nil {
		return err
	}
	if err := r.command(args...).Run(); err != nil {
		return r.failed(args, err)
	}
	return nil
}

func (r *runner) failed(args []string, err error) error {
	b, _ := os.ReadFile(r.errf.Name())
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return fmt.Errorf("%s %s: %v: %s", r.rt.Name, strings.Join(args, " "), err, lines[len(lines)-1])
}

// create makes container id from bundle and returns a pidfd of its waiting
// init, opened while the init surely exists.
func (r *runner) create(id, bundle string) (pidfd int, pid int, err error) {
	pidFile := filepath.Join(r.scratch, id+".pid")
	if err := r.do("create", "--bundle", bundle, "--pid-file", pidFile, id); err != nil {
		return -1, 0, err
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return -1, 0, err
	}
	os.Remove(pidFile)
	if pid, err = strconv.Atoi(strings.TrimSpace(string(b))); err != nil {
		return -1, 0, fmt.Errorf("%s create %s: pid file: %w", r.rt.Name, id, err)
	}
	if pidfd, err = unix.PidfdOpen(pid, 0); err != nil {
		return -1, 0, fmt.Errorf("%s create %s: pidfd_open %d: %w", r.rt.Name, id, pid, err)
	}
	return pidfd, pid, nil
}

// waitExit blocks until the process behind pidfd has exited (a pidfd polls
// readable then, whoever its parent is) and closes pidfd.
func waitExit(pidfd int) error {
	defer unix.Close(pidfd)
	deadline := time.Now().Add(30 * time.Second)
	for {
		fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 1000)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return err
		}
		if n > 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("container process still running after 30s")
		}
	}
}

// deleteRetries counts the deletes refused right after the container's
// process exited; the cases report it, since each retry costs time.
var deleteRetries atomic.Int64

// deleteStopped deletes a container whose process has exited. Its parent
// (pid 1 here) may not have reaped it yet, and a runtime may still call it
// running for that instant, so a refused delete is retried for a while.
func (r *runner) deleteStopped(id string) error {
	var err error
	for i := 0; i < 200; i++ {
		if err = r.do("delete", id); err == nil {
			return nil
		}
		deleteRetries.Add(1)
		time.Sleep(time.Millisecond)
	}
	return err
}

// cycle is one container's whole life: create, start, wait for its process
// to exit, delete. It returns how long that took.
func (r *runner) cycle(id, bundle string) (time.Duration, error) {
	t0 := time.Now()
	pidfd, _, err := r.create(id, bundle)
	if err != nil {
		return 0, err
	}
	if err := r.do("start", id); err != nil {
		unix.Close(pidfd)
		r.do("delete", "--force", id)
		return 0, err
	}
	if err := waitExit(pidfd); err != nil {
		return 0, fmt.Errorf("%s %s: %w", r.rt.Name, id, err)
	}
	if err := r.deleteStopped(id); err != nil {
		return 0, err
	}
	return time.Since(t0), nil
}

// createStarted creates and starts a long-running container.
func (r *runner) createStarted(id, bundle string) error {
	pidfd, _, err := r.create(id, bundle)
	if err != nil {
		return err
	}
	unix.Close(pidfd)
	if err := r.do("start", id); err != nil {
		r.do("delete", "--force", id)
		return err
	}
	return nil
}

// forEach runs fn on ids with inFlight goroutines, each with its own
// runner, and returns the first error. It stops handing out ids once ctx is
// done; commands already running finish.
func forEach(ctx context.Context, j *job, ids []string, inFlight int, fn func(r *runner, id string) error) error {
	next := make(chan string)
	errs := make(chan error, inFlight)
	for w := 0; w < inFlight; w++ {
		go func() {
			r, err := newRunner(j)
			if err != nil {
				errs <- err
				for range next {
				}
				return
			}
			defer r.close()
			var first error
			for id := range next {
				if first == nil {
					first = fn(r, id)
				}
			}
			errs <- first
		}()
	}
	var err error
feed:
	for _, id := range ids {
		select {
		case next <- id:
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(next)
	for w := 0; w < inFlight; w++ {
		if e := <-errs; e != nil && err == nil {
			err = e
		}
	}
	return err
}
