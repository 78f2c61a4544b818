package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/berthrun/berth/libcontainer"
	"github.com/berthrun/berth/specconv"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"
)

var createCommand = &cli.Command{
	Name:      "create",
	Usage:     "create a container from a bundle; its process waits for start",
	ArgsUsage: "<container-id>",
	Flags:     createFlags(),
	Action: func(c *cli.Context) error {
		id, err := idArg(c)
		if err != nil {
			return err
		}
		ct, _, err := createContainer(c, id, false)
		if err != nil {
			return fmt.Errorf("create %s: %w", id, err)
		}
		ct.Unlock()
		return nil
	},
}

func createFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "bundle", Aliases: []string{"b"}, Value: ".", Usage: "path to the bundle directory"},
		&cli.StringFlag{Name: "pid-file", Usage: "write the init's pid to this file"},
		&cli.StringFlag{Name: "console-socket", Usage: "unix socket that receives the pty master (terminal: true)"},
		&cli.BoolFlag{Name: "no-pivot", Usage: "do not use pivot_root (for a rootfs on ramfs)"},
		&cli.BoolFlag{Name: "no-new-keyring", Usage: "keep the caller's session keyring"},
		&cli.IntFlag{Name: "preserve-fds", Usage: "pass N more fds (3..3+N-1) to the process"},
		&cli.StringFlag{Name: "pidfd-socket", Usage: "unix socket that receives a pidfd of the container's init"},
	}
}

// createContainer loads the bundle and creates the container; the returned
// container holds its lock. In the foreground with a terminal (run), it
// also returns the terminal proxy that the init sends the pty master to.
func createContainer(c *cli.Context, id string, foreground bool) (*libcontainer.Container, *ttyProxy, error) {
	n := c.Int("preserve-fds")
	if n < 0 {
		return nil, nil, fmt.Errorf("--preserve-fds %d: must not be negative", n)
	}
	libcontainer.PrewarmCreate()
	cfg, err := specconv.Load(c.String("bundle"), id, specconv.Options{
		NoPivot:       c.Bool("no-pivot"),
		NoNewKeyring:  c.Bool("no-new-keyring"),
		SystemdCgroup: c.Bool("systemd-cgroup"),
		Rootless:      rootless(c),
	})
	if err != nil {
		return nil, nil, err
	}
	if err := checkTerminalFlags(cfg.Spec.Process.Terminal, !foreground, c.String("console-socket")); err != nil {
		return nil, nil, err
	}
	n += socketActivation(cfg.Spec.Process)
	opts := libcontainer.CreateOpts{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		PreserveFDs: n, Foreground: foreground, ConsoleSocket: c.String("console-socket"),
		NotifySocket: os.Getenv("NOTIFY_SOCKET"),
	}
	var tty *ttyProxy
	if foreground && cfg.Spec.Process.Terminal {
		if tty, err = newTTYProxy(); err != nil {
			return nil, nil, err
		}
		opts.Console = tty.initEnd
	}
	ct, err := runtimeFor(c).Create(cfg, opts)
	if err != nil {
		if tty != nil {
			tty.finish()
		}
		return nil, nil, err
	}
	if err := afterCreate(c, ct); err != nil {
		ct.Delete(true)
		ct.Unlock()
		if tty != nil {
			tty.finish()
		}
		return nil, nil, err
	}
	return ct, tty, nil
}

// afterCreate hands the init's pid to those who asked for it.
func afterCreate(c *cli.Context, ct *libcontainer.Container) error {
	if path := c.String("pid-file"); path != "" {
		if err := writePidFile(path, ct.Pid()); err != nil {
			return err
		}
	}
	if path := c.String("pidfd-socket"); path != "" {
		return sendPidfd(path, ct.Pid())
	}
	return nil
}

// writePidFile writes the pid atomically: a reader never sees a partial file.
func writePidFile(path string, pid int) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("--pid-file %q: %w", path, err)
	}
	tmp := filepath.Join(filepath.Dir(abs), "."+filepath.Base(abs)+".tmp")
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(pid)), 0o644); err != nil {
		return fmt.Errorf("--pid-file %q: %w", path, err)
	}
	if err := os.Rename(tmp, abs); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("--pid-file %q: %w", path, err)
	}
	return nil
}

// socketActivation passes systemd's listening sockets on: when LISTEN_FDS is
// set for this very process (LISTEN_PID), fds 3..3+N-1 go to the container
// (before any --preserve-fds) and its process gets LISTEN_FDS=N and
// LISTEN_PID=1, as runc does. It returns N.
func socketActivation(proc *specs.Process) int {
	if pid := os.Getenv("LISTEN_PID"); pid != "" && pid != strconv.Itoa(os.Getpid()) {
		return 0
	}
	n, err := strconv.Atoi(os.Getenv("LISTEN_FDS"))
	if err != nil || n <= 0 {
		return 0
	}
	proc.Env = append(proc.Env, "LISTEN_FDS="+strconv.Itoa(n), "LISTEN_PID=1")
	return n
}
