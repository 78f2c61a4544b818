package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/berthrun/berth/libcontainer"
	"github.com/berthrun/berth/libcontainer/cgroups"
	"github.com/urfave/cli/v2"
)

var eventsCommand = &cli.Command{
	Name:      "events",
	Usage:     "print container statistics (and OOM events) as JSON lines",
	ArgsUsage: "<container-id>",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "stats", Usage: "print one stats event and exit"},
		&cli.DurationFlag{Name: "interval", Value: 5 * time.Second, Usage: "time between stats events"},
	},
	Action: func(c *cli.Context) error {
		id, err := idArg(c)
		if err != nil {
			return err
		}
		if c.Duration("interval") <= 0 {
			return fmt.Errorf("events: --interval %v: must be positive", c.Duration("interval"))
		}
		ct, err := runtimeFor(c).Load(id)
		if err != nil {
			return fmt.Errorf("events %s: %w", id, err)
		}
		enc := json.NewEncoder(os.Stdout)
		if c.Bool("stats") {
			st, err := ct.Stats()
			if err != nil {
				return fmt.Errorf("events %s: %w", id, err)
			}
			return enc.Encode(&cgroups.Event{Type: "stats", ID: id, Data: st})
		}
		if err := streamEvents(ct, enc, c.Duration("interval")); err != nil {
			return fmt.Errorf("events %s: %w", id, err)
		}
		return nil
	},
}

// streamEvents prints a stats event every interval and an oom event each
// time the kernel OOM-kills in the container, until the container stops.
func streamEvents(ct *libcontainer.Container, enc *json.Encoder, interval time.Duration) error {
	oom, err := ct.NotifyOOM()
	if err != nil {
		return err
	}
	defer oom.Close()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case _, ok := <-oom.C:
			if !ok {
				return nil // cgroup removed: the container is gone
			}
			enc.Encode(cgroups.OOMEvent(ct.ID()))
		case <-tick.C:
			st, err := ct.Stats()
			if err != nil {
				if s := ct.Status(); s == libcontainer.Stopped {
					return nil
				}
				return err
			}
			enc.Encode(&cgroups.Event{Type: "stats", ID: ct.ID(), Data: st})
		}
	}
}
