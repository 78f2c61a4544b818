package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/berthrun/berth/internal/trace"
	"github.com/berthrun/berth/internal/wire"
	"github.com/urfave/cli/v2"
)

var stateCommand = &cli.Command{
	Name:      "state",
	Usage:     "print the state of a container as JSON",
	ArgsUsage: "<container-id>",
	Action: func(c *cli.Context) error {
		id, err := idArg(c)
		if err != nil {
			return err
		}
		ct, err := runtimeFor(c).Load(id)
		if err != nil {
			return fmt.Errorf("state %s: %w", id, err)
		}
		b, err := json.MarshalIndent(ct.State(), "", "  ")
		if err != nil {
			return err
		}
		trace.Point(wire.PointStateLoaded) // fastpath.c passes it too
		os.Stdout.Write(append(b, '\n'))
		return nil
	},
}
