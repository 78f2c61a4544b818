package main

import (
	"fmt"
	"os"
	"os/signal"

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
	),
	Action: func(c *cli.Context) error {
		id, err := idArg(c)
		if err != nil {
			return err
		}
		detach := c.Bool("detach")
		ct, err := createContainer(c, id, !detach)
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
		return runForeground(ct)
	},
}

// runForeground starts the container, forwards our signals to its init,
// waits for it, deletes it and exits with its status (128+N if killed by N).
func runForeground(ct *libcontainer.Container) error {
	sigs := make(chan os.Signal, 32)
	signal.Notify(sigs)
	defer signal.Stop(sigs)
	if err := ct.Start(); err != nil {
		ct.Delete(true)
		return fmt.Errorf("run %s: %w", ct.ID(), err)
	}
	// While it runs, others may kill, inspect or even delete it.
	ct.Unlock()
	go forwardSignals(sigs, ct.Pid())
	code, err := ct.Wait()
	if lerr := ct.Relock(); lerr != nil {
		return exitOrError(code, err) // deleted by someone else meanwhile
	}
	if err != nil {
		ct.Delete(true)
		return fmt.Errorf("run %s: %w", ct.ID(), err)
	}
	if err := ct.Delete(true); err != nil {
		return fmt.Errorf("run %s: %w", ct.ID(), err)
	}
	if code != 0 {
		return exitCode(code)
	}
	return nil
}

func forwardSignals(sigs chan os.Signal, pid int) {
	for s := range sigs {
		sig := s.(unix.Signal)
		// SIGCHLD is ours; SIGURG is the Go runtime's preemption signal.
		if sig == unix.SIGCHLD || sig == unix.SIGURG || sig == unix.SIGPIPE {
			continue
		}
		unix.Kill(pid, sig)
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
