package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
)

var killCommand = &cli.Command{
	Name:      "kill",
	Usage:     "send a signal (default SIGTERM) to a container's init",
	ArgsUsage: "<container-id> [signal]",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "signal every process in the container's cgroup"},
	},
	Action: func(c *cli.Context) error {
		if c.NArg() < 1 || c.NArg() > 2 {
			return fmt.Errorf("kill: expects a container id and an optional signal (got %d arguments); see berth kill --help", c.NArg())
		}
		id := c.Args().Get(0)
		sig := unix.SIGTERM
		if c.NArg() == 2 {
			var err error
			if sig, err = killSignal(c.Args().Get(1)); err != nil {
				return fmt.Errorf("kill %s: %w", id, err)
			}
		}
		ct, err := runtimeFor(c).LoadLocked(id)
		if err != nil {
			return fmt.Errorf("kill %s: %w", id, err)
		}
		defer ct.Unlock()
		if err := ct.Signal(sig, c.Bool("all")); err != nil {
			return fmt.Errorf("kill %s: %w", id, err)
		}
		return nil
	},
}

// killSignal is parseSignal plus signal 0, which kill(2) uses to ask
// whether a process is alive: `kill ID 0` exits 0 for a live container
// and 1 ("container not running") for a stopped one, as runc's does.
func killSignal(s string) (unix.Signal, error) {
	if s == "0" {
		return 0, nil
	}
	return parseSignal(s)
}
