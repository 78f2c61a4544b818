package main

import (
	"fmt"
	"os"

	"github.com/berthrun/berth/libcontainer"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
)

var runCommand = &cli.Command{
	Name:      "run",
	Usage:     "create and start a container; in the foreground, wait for it and exit with its status",
	ArgsUsage: "<container-id>",
	Flags: append(createFlags(),
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "return once the container is started"},
		&cli.BoolFlag{Name: "keep", Usage: "keep the stopped container (state and cgroup) after it exits, for state, ps, events --stats, delete"},
	),
	Action: func(c *cli.Context) error {
		id, err := idArg(c)
		if err != nil {
			return err
		}
		detach := c.Bool("detach")
		var sigs *caughtSignals
		if !detach {
			// Before the init exists, so that nothing it leaves is lost.
			if err := libcontainer.SetSubreaper(); err != nil {
				return fmt.Errorf("run %s: %w", id, err)
			}
			sigs = catchSignals()
			defer sigs.stop()
		}
		ct, tty, err := createContainer(c, id, !detach)
		if err != nil {
			return fmt.Errorf("run %s: %w", id, err)
		}
		defer ct.Unlock()
		if detach {
			if err := ct.Start(); err != nil {
				ct.Delete(true)
				return fmt.Errorf("run %s: %w", id, err)
			}
			return nil
		}
		return runForeground(ct, tty, sigs, c.Bool("keep"))
	},
}

// runForeground starts the container, forwards our signals to its init,
// waits for it, deletes it (unless keep) and exits with its status (128+N
// if killed by N).
func runForeground(ct *libcontainer.Container, tty *ttyProxy, sigs *caughtSignals, keep bool) error {
	sigs.wait()
	if tty != nil {
		defer tty.finish()
		if err := tty.start(); err != nil {
			ct.Delete(true)
			return fmt.Errorf("run %s: %w", ct.ID(), err)
		}
	}
	if err := ct.StartAttached(); err != nil {
		ct.Delete(true)
		return fmt.Errorf("run %s: %w", ct.ID(), err)
	}
	// While it runs, others may kill, inspect or even delete it.
	ct.Unlock()
	go forwardSignals(sigs.C, ct.Pid(), tty)
	code, err := ct.Wait()
	defer libcontainer.ReapOrphans()
	if lerr := ct.Relock(); lerr != nil {
		return exitOrError(code, err) // deleted by someone else meanwhile
	}
	if err != nil {
		if !keep {
			ct.Delete(true)
		}
		return fmt.Errorf("run %s: %w", ct.ID(), err)
	}
	if keep {
		return exitOrError(code, nil)
	}
	if err := ct.Delete(true); err != nil {
		return fmt.Errorf("run %s: %w", ct.ID(), err)
	}
	return exitOrError(code, nil)
}

// forwardSignals passes our signals on to pid. With a terminal proxy,
// SIGWINCH resizes the container's terminal instead (the kernel then
// signals the terminal's foreground process group itself).
func forwardSignals(sigs chan os.Signal, pid int, tty *ttyProxy) {
	for s := range sigs {
		sig := s.(unix.Signal)
		switch {
		// SIGCHLD is ours; SIGURG is the Go runtime's preemption signal.
		case sig == unix.SIGCHLD || sig == unix.SIGURG || sig == unix.SIGPIPE:
		case sig == unix.SIGWINCH && tty != nil:
			tty.resize()
		default:
			unix.Kill(pid, sig)
		}
	}
}

// exitOrError is run's result when the container is already gone.
func exitOrError(code int, err error) error {
	if err != nil {
		return err
	}
	if code != 0 {
		return exitCode(code)
	}
	return nil
}
