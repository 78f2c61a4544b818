package main

import (
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/berthrun/berth/internal/trace"
	"github.com/berthrun/berth/internal/wire"
	"github.com/berthrun/berth/libcontainer"
	"github.com/urfave/cli/v2"
)

var listCommand = &cli.Command{
	Name:    "list",
	Aliases: []string{"ps-all"},
	Usage:   "list the containers in --root",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only the ids"},
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "table or json"},
	},
	Action: func(c *cli.Context) error {
		format := c.String("format")
		if format != "table" && format != "json" {
			return fmt.Errorf("list: --format %q: must be table or json", format)
		}
		// A --root that does not exist is a mistake (a typo, the wrong
		// engine's root) that an empty list would hide; runc fails too.
		// The default root is missing only until the first create.
		if c.IsSet("root") {
			f, err := os.Open(c.String("root"))
			if err != nil {
				return fmt.Errorf("list: %w", err)
			}
			f.Close()
		}
		states, err := runtimeFor(c).List()
		if err != nil {
			return fmt.Errorf("list: %w", err)
		}
		trace.Point(wire.PointListLoaded) // fastpath.c passes it too
		switch {
		case c.Bool("quiet"):
			for _, s := range states {
				fmt.Println(s.ID)
			}
		case format == "json":
			return printJSONList(states)
		default:
			printTable(states)
		}
		return nil
	},
}

func printJSONList(states []*libcontainer.StateSpec) error {
	b, err := json.Marshal(states)
	if err != nil {
		return err
	}
	os.Stdout.Write(append(b, '\n'))
	return nil
}

func printTable(states []*libcontainer.StateSpec) {
	w := tabwriter.NewWriter(os.Stdout, 12, 1, 3, ' ', 0)
	fmt.Fprint(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n")
	for _, s := range states {
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", s.ID, s.Pid, s.Status, s.Bundle,
			s.Created.Format(time.RFC3339Nano), s.Owner)
	}
	w.Flush()
}
