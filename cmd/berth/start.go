package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

var startCommand = &cli.Command{
	Name:      "start",
	Usage:     "start the process of a created container",
	ArgsUsage: "<container-id>",
	Action: func(c *cli.Context) error {
		id, err := idArg(c)
		if err != nil {
			return err
		}
		ct, err := runtimeFor(c).LoadLocked(id)
		if err != nil {
			return fmt.Errorf("start %s: %w", id, err)
		}
		defer ct.Unlock()
		if err := ct.Start(); err != nil {
			return fmt.Errorf("start %s: %w", id, err)
		}
		return nil
	},
}
