package main

import (
	"errors"
	"fmt"

	"github.com/berthrun/berth/libcontainer"
	"github.com/urfave/cli/v2"
)

var deleteCommand = &cli.Command{
	Name:      "delete",
	Usage:     "delete a stopped container (--force: any container)",
	ArgsUsage: "<container-id>",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "kill the container's processes first"},
	},
	Action: func(c *cli.Context) error {
		id, err := idArg(c)
		if err != nil {
			return err
		}
		ct, err := runtimeFor(c).LoadLocked(id)
		if err != nil {
			// runc: deleting a missing container with --force succeeds.
			if c.Bool("force") && errors.Is(err, libcontainer.ErrNotExist) {
				return nil
			}
			return fmt.Errorf("delete %s: %w", id, err)
		}
		defer ct.Unlock()
		if err := ct.Delete(c.Bool("force")); err != nil {
			return fmt.Errorf("delete %s: %w", id, err)
		}
		return nil
	},
}
