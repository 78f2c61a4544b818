package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/berthrun/berth/internal/hostcheck"
	"github.com/urfave/cli/v2"
)

var checkCommand = &cli.Command{
	Name:  "check",
	Usage: "probe what this host supports and what berth will use; exit 1 if something required is missing",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "table or json"},
	},
	Action: func(c *cli.Context) error {
		format := c.String("format")
		if format != "table" && format != "json" {
			return fmt.Errorf("check: --format %q: must be table or json", format)
		}
		if c.NArg() != 0 {
			return fmt.Errorf("check: takes no arguments (got %d)", c.NArg())
		}
		r := hostcheck.Run()
		if format == "json" {
			b, err := json.MarshalIndent(r, "", "  ")
			if err != nil {
				return err
			}
			os.Stdout.Write(append(b, '\n'))
		} else {
			printCheckTable(os.Stdout, r)
		}
		if !r.OK {
			return fmt.Errorf("check: this host lacks what berth requires: %s", strings.Join(r.Missing, ", "))
		}
		return nil
	},
}

// printCheckTable prints one aligned row per check.
func printCheckTable(out io.Writer, r hostcheck.Report) {
	w := tabwriter.NewWriter(out, 0, 1, 2, ' ', 0)
	fmt.Fprint(w, "CHECK\tREQUIRED\tSTATUS\tHOST\tBERTH\n")
	for _, c := range r.Checks {
		required := "no"
		if c.Required {
			required = "yes"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", c.Name, required, c.Status(), c.Host, c.Berth)
	}
	w.Flush()
}
