package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"
)

var updateCommand = &cli.Command{
	Name:      "update",
	Usage:     "change the resource limits of a container",
	ArgsUsage: "<container-id>",
	Description: `Only the values given change. --resources takes a LinuxResources JSON
file (or - for stdin), as containerd sends it; the flags override it.`,
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "resources", Aliases: []string{"r"}, Usage: "LinuxResources JSON file, or - for stdin"},
		&cli.StringFlag{Name: "memory", Usage: "memory limit (bytes, or with k/m/g suffix; -1 unlimited)"},
		&cli.StringFlag{Name: "memory-reservation", Usage: "memory soft limit"},
		&cli.StringFlag{Name: "memory-swap", Usage: "memory plus swap limit"},
		&cli.StringFlag{Name: "kernel-memory", Usage: "kernel memory limit (ignored by new kernels)"},
		&cli.StringFlag{Name: "kernel-memory-tcp", Usage: "kernel TCP buffer limit"},
		&cli.StringFlag{Name: "cpu-share", Usage: "CPU shares (relative weight)"},
		&cli.StringFlag{Name: "cpu-quota", Usage: "CPU CFS quota in µs per period"},
		&cli.StringFlag{Name: "cpu-period", Usage: "CPU CFS period in µs"},
		&cli.StringFlag{Name: "cpu-rt-runtime", Usage: "realtime runtime in µs per period"},
		&cli.StringFlag{Name: "cpu-rt-period", Usage: "realtime period in µs"},
		&cli.StringFlag{Name: "cpu-idle", Usage: "1: the cgroup runs as SCHED_IDLE; 0: as usual"},
		&cli.StringFlag{Name: "cpuset-cpus", Usage: "CPUs to run on (0-3,5)"},
		&cli.StringFlag{Name: "cpuset-mems", Usage: "memory nodes to allocate from"},
		&cli.StringFlag{Name: "pids-limit", Usage: "maximum number of tasks"},
		&cli.StringFlag{Name: "blkio-weight", Usage: "block IO weight (10-1000)"},
		&cli.StringFlag{Name: "l3-cache-schema", Usage: "Intel RDT L3 cache schema"},
		&cli.StringFlag{Name: "mem-bw-schema", Usage: "Intel RDT memory bandwidth schema"},
	},
	Action: func(c *cli.Context) error {
		c, err := flagsAfterID(c)
		if err != nil {
			return err
		}
		id, err := idArg(c)
		if err != nil {
			return err
		}
		r, err := updateResources(c)
		if err != nil {
			return fmt.Errorf("update %s: %w", id, err)
		}
		ct, err := runtimeFor(c).LoadLocked(id)
		if err != nil {
			return fmt.Errorf("update %s: %w", id, err)
		}
		defer ct.Unlock()
		if err := ct.Update(r); err != nil {
			return fmt.Errorf("update %s: %w", id, err)
		}
		return nil
	},
}

// updateResources builds the resources to merge: --resources first, then
// each flag given on top.
// flagsAfterID lets flags follow the container id (`update ID --memory
// 64m`), as runc's command line has always taken them: urfave/cli stops at
// the first argument, so what follows the id is parsed again as flags.
func flagsAfterID(c *cli.Context) (*cli.Context, error) {
	if c.NArg() < 2 {
		return c, nil
	}
	set := flag.NewFlagSet(c.Command.Name, flag.ContinueOnError)
	set.SetOutput(io.Discard)
	for _, f := range c.Command.Flags {
		if err := f.Apply(set); err != nil {
			return nil, err
		}
	}
	args := append(c.Args().Tail(), c.Args().First())
	// Flags given before the id still count: set them first.
	for _, name := range c.LocalFlagNames() {
		if err := set.Set(name, c.String(name)); err != nil {
			return nil, fmt.Errorf("update: --%s: %w", name, err)
		}
	}
	if err := set.Parse(args); err != nil {
		return nil, fmt.Errorf("update: %v; see berth update --help", err)
	}
	nc := cli.NewContext(c.App, set, c.Lineage()[1])
	nc.Command = c.Command
	return nc, nil
}

func updateResources(c *cli.Context) (*specs.LinuxResources, error) {
	r := &specs.LinuxResources{}
	if path := c.String("resources"); path != "" {
		if err := readResources(path, r); err != nil {
			return nil, err
		}
	}
	for _, name := range []string{"l3-cache-schema", "mem-bw-schema"} {
		if c.IsSet(name) {
			return nil, fmt.Errorf("--%s: this host has no Intel RDT (resctrl) support", name)
		}
	}
	return r, applyUpdateFlags(c, r)
}

func readResources(path string, r *specs.LinuxResources) error {
	var in io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("--resources: %w", err)
		}
		defer f.Close()
		in = f
	}
	dec := json.NewDecoder(in)
	if err := dec.Decode(r); err != nil {
		return fmt.Errorf("--resources %s: invalid LinuxResources JSON: %w", path, err)
	}
	return nil
}

// updateFlag is one numeric flag and where its value goes.
type updateFlag struct {
	name  string
	bytes bool // accepts k/m/g suffixes
	set   func(r *specs.LinuxResources, v int64)
}

var updateFlags = []updateFlag{
	{"memory", true, func(r *specs.LinuxResources, v int64) { mem(r).Limit = &v }},
	{"memory-reservation", true, func(r *specs.LinuxResources, v int64) { mem(r).Reservation = &v }},
	{"memory-swap", true, func(r *specs.LinuxResources, v int64) { mem(r).Swap = &v }},
	{"kernel-memory", true, func(r *specs.LinuxResources, v int64) { mem(r).Kernel = &v }},
	{"kernel-memory-tcp", true, func(r *specs.LinuxResources, v int64) { mem(r).KernelTCP = &v }},
	{"cpu-share", false, func(r *specs.LinuxResources, v int64) { u := uint64(v); cpu(r).Shares = &u }},
	{"cpu-quota", false, func(r *specs.LinuxResources, v int64) { cpu(r).Quota = &v }},
	{"cpu-period", false, func(r *specs.LinuxResources, v int64) { u := uint64(v); cpu(r).Period = &u }},
	{"cpu-rt-runtime", false, func(r *specs.LinuxResources, v int64) { cpu(r).RealtimeRuntime = &v }},
	{"cpu-rt-period", false, func(r *specs.LinuxResources, v int64) { u := uint64(v); cpu(r).RealtimePeriod = &u }},
	{"cpu-idle", false, func(r *specs.LinuxResources, v int64) { cpu(r).Idle = &v }},
	{"pids-limit", false, func(r *specs.LinuxResources, v int64) { r.Pids = &specs.LinuxPids{Limit: &v} }},
	{"blkio-weight", false, func(r *specs.LinuxResources, v int64) {
		w := uint16(v)
		if r.BlockIO == nil {
			r.BlockIO = &specs.LinuxBlockIO{}
		}
		r.BlockIO.Weight = &w
	}},
}

// unsignedFlags may not be negative (they land in unsigned fields).
var unsignedFlags = map[string]bool{"cpu-share": true, "cpu-period": true, "cpu-rt-period": true, "blkio-weight": true}

func applyUpdateFlags(c *cli.Context, r *specs.LinuxResources) error {
	for _, f := range updateFlags {
		if !c.IsSet(f.name) {
			continue
		}
		v, err := parseLimit(c.String(f.name), f.bytes)
		if err != nil {
			return fmt.Errorf("--%s %q: %w", f.name, c.String(f.name), err)
		}
		if unsignedFlags[f.name] && v < 0 {
			return fmt.Errorf("--%s %q: must not be negative", f.name, c.String(f.name))
		}
		if f.name == "blkio-weight" && v > 1000 {
			return fmt.Errorf("--blkio-weight %d: must be 10-1000", v)
		}
		f.set(r, v)
	}
	if c.IsSet("cpuset-cpus") {
		cpu(r).Cpus = c.String("cpuset-cpus")
	}
	if c.IsSet("cpuset-mems") {
		cpu(r).Mems = c.String("cpuset-mems")
	}
	return nil
}

func mem(r *specs.LinuxResources) *specs.LinuxMemory {
	if r.Memory == nil {
		r.Memory = &specs.LinuxMemory{}
	}
	return r.Memory
}

func cpu(r *specs.LinuxResources) *specs.LinuxCPU {
	if r.CPU == nil {
		r.CPU = &specs.LinuxCPU{}
	}
	return r.CPU
}

// parseLimit parses an integer; with bytes, also a k/m/g/t suffix (binary
// units, as docker and runc take them; a trailing b is allowed).
func parseLimit(s string, bytes bool) (int64, error) {
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v, nil
	}
	if !bytes {
		return 0, fmt.Errorf("not an integer")
	}
	t := strings.TrimSuffix(strings.ToLower(s), "b")
	mult := int64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'k':
			mult = 1 << 10
		case 'm':
			mult = 1 << 20
		case 'g':
			mult = 1 << 30
		case 't':
			mult = 1 << 40
		}
		if mult != 1 {
			t = t[:n-1]
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 || mult == 1 {
		return 0, fmt.Errorf("not a size (want bytes or a number with k, m, g or t)")
	}
	return int64(v * float64(mult)), nil
}
