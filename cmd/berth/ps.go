package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
)

var psCommand = &cli.Command{
	Name:      "ps",
	Usage:     "list the processes of a container (ps(1) options may follow the id)",
	ArgsUsage: "<container-id> [ps options]",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "table (through ps(1)) or json (host pids)"},
	},
	SkipFlagParsing: false,
	Action: func(c *cli.Context) error {
		if c.NArg() < 1 {
			return fmt.Errorf("ps: expects a container id; see berth ps --help")
		}
		id := c.Args().First()
		ct, err := runtimeFor(c).Load(id)
		if err != nil {
			return fmt.Errorf("ps %s: %w", id, err)
		}
		pids, err := ct.Processes()
		if err != nil {
			return fmt.Errorf("ps %s: %w", id, err)
		}
		switch c.String("format") {
		case "json":
			// No processes print as null, as runc's do.
			return json.NewEncoder(os.Stdout).Encode(pids)
		case "table":
			return psTable(pids, c.Args().Tail())
		default:
			return fmt.Errorf("ps: --format %q: must be table or json", c.String("format"))
		}
	},
}

// psTable runs ps(1) with the given options (default -ef) and keeps the
// header and the lines whose PID column is one of pids.
func psTable(pids []int, psArgs []string) error {
	if len(psArgs) == 0 {
		psArgs = []string{"-ef"}
	}
	out, err := exec.Command("ps", psArgs...).Output()
	if err != nil {
		return fmt.Errorf("ps %s: %w", strings.Join(psArgs, " "), err)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	col := -1
	for i, h := range strings.Fields(lines[0]) {
		if h == "PID" {
			col = i
		}
	}
	if col < 0 {
		return fmt.Errorf("ps %s: output has no PID column", strings.Join(psArgs, " "))
	}
	want := make(map[string]bool, len(pids))
	for _, p := range pids {
		want[strconv.Itoa(p)] = true
	}
	var b bytes.Buffer
	b.WriteString(lines[0] + "\n")
	for _, l := range lines[1:] {
		if f := strings.Fields(l); len(f) > col && want[f[col]] {
			b.WriteString(l + "\n")
		}
	}
	_, err = os.Stdout.Write(b.Bytes())
	return err
}
