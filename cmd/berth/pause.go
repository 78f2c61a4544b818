package main

import (
	"fmt"

	"github.com/berthrun/berth/libcontainer"
	"github.com/urfave/cli/v2"
)

var pauseCommand = &cli.Command{
	Name:      "pause",
	Usage:     "freeze every process of a running container",
	ArgsUsage: "<container-id>",
	Action: func(c *cli.Context) error {
		return withLocked(c, "pause", (*libcontainer.Container).Pause)
	},
}

var resumeCommand = &cli.Command{
	Name:      "resume",
	Usage:     "thaw a paused container",
	ArgsUsage: "<container-id>",
	Action: func(c *cli.Context) error {
		return withLocked(c, "resume", (*libcontainer.Container).Resume)
	},
}

// withLocked runs op on the locked container named by the only argument.
func withLocked(c *cli.Context, name string, op func(*libcontainer.Container) error) error {
	id, err := idArg(c)
	if err != nil {
		return err
	}
	ct, err := runtimeFor(c).LoadLocked(id)
	if err != nil {
		return fmt.Errorf("%s %s: %w", name, id, err)
	}
	defer ct.Unlock()
	if err := op(ct); err != nil {
		return fmt.Errorf("%s %s: %w", name, id, err)
	}
	return nil
}
