package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// workerArg, as the first argument, makes the bench binary a worker: it runs
// one case for one runtime, in that runtime's mode, and writes what it
// measured to job.Result. Every runtime gets a worker per case, so a peer
// that must run in a private mount namespace does the same work, the same
// way, as the others.
const workerArg = "__bench_worker"

// job is what the driver asks of one worker.
type job struct {
	Case    string      `json:"case"`
	Runtime runtimeSpec `json:"runtime"`
	Mode    mode        `json:"mode"`
	Root    string      `json:"root"`    // the runtime's --root
	Scratch string      `json:"scratch"` // pid files, hyperfine output
	Tag     string      `json:"tag"`     // prefix of every container id
	True    string      `json:"true"`    // bundle whose process is true
	Sleep   string      `json:"sleep"`   // bundle whose process sleeps
	Params  params      `json:"params"`
	Result  string      `json:"result"` // file the worker writes
}

// params size the cases.
type params struct {
	Runs       int `json:"runs"`        // timed iterations of cases 1-4
	Warmup     int `json:"warmup"`      // untimed iterations before them
	Containers int `json:"containers"`  // present during state and list
	Total      int `json:"total"`       // containers in the throughput case
	InFlight   int `json:"in_flight"`   // concurrent lifecycles in it
	MemRuns    int `json:"memory_runs"` // samples of each memory figure
}

// workerResult is what a worker writes back.
type workerResult struct {
	Measurements []measurement `json:"measurements"`
	Error        string        `json:"error,omitempty"`
}

// runWorker runs j in a worker process and returns its measurements. The
// worker has its own process group, so a Ctrl-C reaches only the driver,
// which then asks the worker to stop (SIGTERM) and waits for its cleanup.
func runWorker(ctx context.Context, j job) ([]measurement, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	in, err := json.Marshal(j)
	if err != nil {
		return nil, err
	}
	os.Remove(j.Result)
	cmd := exec.Command(exe, workerArg)
	cmd.Stdin = bytes.NewReader(in)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if j.Mode == modeCgroup2 {
		// Go makes every mount private in the new namespace before exec.
		cmd.SysProcAttr.Unshareflags = syscall.CLONE_NEWNS
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var waitErr error
	select {
	case waitErr = <-done:
	case <-ctx.Done():
		cmd.Process.Signal(syscall.SIGTERM)
		<-done
		return nil, ctx.Err()
	}
	var res workerResult
	b, err := os.ReadFile(j.Result)
	if err != nil {
		return nil, fmt.Errorf("%s %s: worker: %v (%v)", j.Runtime.Name, j.Case, waitErr, err)
	}
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, fmt.Errorf("%s %s: worker result: %w", j.Runtime.Name, j.Case, err)
	}
	if res.Error != "" {
		return nil, fmt.Errorf("%s", res.Error)
	}
	return res.Measurements, nil
}

// workerMain is the worker side: read the job, enter the mode, run the case,
// delete whatever the case left in the root, write the result.
func workerMain() int {
	var j job
	if err := json.NewDecoder(os.Stdin).Decode(&j); err != nil {
		fmt.Fprintln(os.Stderr, "bench worker: reading job:", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), unix.SIGTERM, unix.SIGINT)
	defer stop()
	var res workerResult
	var ms []measurement
	err := enterMode(j.Mode)
	if err == nil {
		ms, err = runCase(ctx, &j)
	}
	if cerr := deleteAll(&j); cerr != nil && err == nil {
		err = cerr
	}
	res.Measurements = ms
	if err != nil {
		res.Error = err.Error()
	}
	b, _ := json.Marshal(res)
	if werr := os.WriteFile(j.Result, b, 0o600); werr != nil {
		fmt.Fprintln(os.Stderr, "bench worker:", werr)
		return 1
	}
	if err != nil {
		return 1
	}
	return 0
}

// enterMode prepares the worker's mount namespace for m.
func enterMode(m mode) error {
	if m == modeCgroup2 {
		if err := unix.Mount("cgroup2", "/sys/fs/cgroup", "cgroup2", 0, ""); err != nil {
			return fmt.Errorf("mount cgroup2 on /sys/fs/cgroup in a private namespace: %w", err)
		}
	}
	return nil
}
