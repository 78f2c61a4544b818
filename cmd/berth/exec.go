package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"

	"github.com/berthrun/berth/libcontainer"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"
)

var execCommand = &cli.Command{
	Name:      "exec",
	Usage:     "run a new process inside a running container",
	ArgsUsage: "<container-id> <command> [args...]  (or --process FILE <container-id>)",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "process", Aliases: []string{"p"}, Usage: "runtime-spec Process JSON file (- for stdin)"},
		&cli.StringFlag{Name: "cwd", Usage: "working directory inside the container"},
		&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "set an environment variable (NAME=value)"},
		&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "uid[:gid] to run as"},
		&cli.StringSliceFlag{Name: "additional-gids", Aliases: []string{"g"}, Usage: "additional group ids"},
		&cli.StringSliceFlag{Name: "cap", Aliases: []string{"c"}, Usage: "add a capability (CAP_NAME)"},
		&cli.BoolFlag{Name: "no-new-privs", Usage: "set no_new_privs"},
		&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "allocate a pseudo-TTY"},
		&cli.StringFlag{Name: "console-socket", Usage: "unix socket that receives the pty master"},
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "do not wait for the process"},
		&cli.StringFlag{Name: "pid-file", Usage: "write the process's pid to this file"},
		&cli.IntFlag{Name: "preserve-fds", Usage: "pass N more fds (3..3+N-1) to the process"},
		&cli.BoolFlag{Name: "ignore-paused", Usage: "exec even into a paused container"},
		&cli.StringFlag{Name: "apparmor", Usage: "AppArmor profile for the process"},
		&cli.StringFlag{Name: "process-label", Usage: "SELinux label for the process"},
		&cli.StringFlag{Name: "cgroup", Usage: "sub-cgroup to run the process in"},
	},
	Action: func(c *cli.Context) error {
		if c.NArg() < 1 {
			return fmt.Errorf("exec: expects a container id; see berth exec --help")
		}
		id := c.Args().First()
		if err := libcontainer.ValidateID(id); err != nil {
			return err
		}
		if err := execCode(c, id); err != nil {
			var ec exitCode
			if asExit(err, &ec) {
				return err
			}
			return fmt.Errorf("exec %s: %w", id, err)
		}
		return nil
	},
}

func asExit(err error, ec *exitCode) bool {
	e, ok := err.(exitCode)
	*ec = e
	return ok
}

func execCode(c *cli.Context, id string) error {
	if err := refuseUnsupportedExecFlags(c); err != nil {
		return err
	}
	ct, err := runtimeFor(c).Load(id)
	if err != nil {
		return err
	}
	proc, err := execProcess(c, ct.Config().Spec.Process)
	if err != nil {
		return err
	}
	n := c.Int("preserve-fds")
	if n < 0 {
		return fmt.Errorf("--preserve-fds %d: must not be negative", n)
	}
	var sigs chan os.Signal
	if !c.Bool("detach") {
		sigs = make(chan os.Signal, 32)
		signal.Notify(sigs)
		defer signal.Stop(sigs)
	}
	p, err := ct.Exec(proc, libcontainer.ExecOpts{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		PreserveFDs: n, IgnorePaused: c.Bool("ignore-paused"),
	})
	if err != nil {
		return err
	}
	if path := c.String("pid-file"); path != "" {
		if err := writePidFile(path, p.Pid); err != nil {
			return err
		}
	}
	if c.Bool("detach") {
		return nil
	}
	go forwardSignals(sigs, p.Pid)
	code, err := p.Wait()
	if err != nil {
		return err
	}
	if code != 0 {
		return exitCode(code)
	}
	return nil
}

func refuseUnsupportedExecFlags(c *cli.Context) error {
	switch {
	case c.Bool("tty") || c.String("console-socket") != "":
		return fmt.Errorf("--tty/--console-socket: terminals are not supported by this berth build yet")
	case c.String("apparmor") != "":
		return fmt.Errorf("--apparmor %q: AppArmor labels are not supported (and not enabled on this host)", c.String("apparmor"))
	case c.String("process-label") != "":
		return fmt.Errorf("--process-label %q: SELinux labels are not supported (and not enabled on this host)", c.String("process-label"))
	case c.String("cgroup") != "":
		return fmt.Errorf("--cgroup %q: sub-cgroups are not supported by this berth build yet", c.String("cgroup"))
	}
	return nil
}

// execProcess builds the process: from --process, or from the container's
// own process with the command and the flags applied, as runc does.
func execProcess(c *cli.Context, base *specs.Process) (*specs.Process, error) {
	if path := c.String("process"); path != "" {
		return readProcessFile(path)
	}
	if c.NArg() < 2 {
		return nil, fmt.Errorf("no command given (berth exec ID COMMAND [ARGS...], or --process FILE)")
	}
	p := *base
	p.Args = c.Args().Slice()[1:]
	p.Terminal = false
	p.Env = append(append([]string{}, base.Env...), c.StringSlice("env")...)
	if cwd := c.String("cwd"); cwd != "" {
		p.Cwd = cwd
	}
	if u := c.String("user"); u != "" {
		uid, gid, err := parseUser(u)
		if err != nil {
			return nil, err
		}
		p.User = specs.User{UID: uid, GID: gid}
	}
	for _, g := range c.StringSlice("additional-gids") {
		n, err := strconv.ParseUint(g, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("--additional-gids %q: not a number", g)
		}
		p.User.AdditionalGids = append(p.User.AdditionalGids, uint32(n))
	}
	if caps := c.StringSlice("cap"); len(caps) > 0 {
		if err := addCaps(&p, caps); err != nil {
			return nil, err
		}
	}
	if c.Bool("no-new-privs") {
		p.NoNewPrivileges = true
	}
	return &p, nil
}

func readProcessFile(path string) (*specs.Process, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = readAllStdin()
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("--process %q: %w", path, err)
	}
	p := new(specs.Process)
	if err := json.Unmarshal(b, p); err != nil {
		return nil, fmt.Errorf("--process %q: invalid Process JSON: %w", path, err)
	}
	switch {
	case len(p.Args) == 0 || p.Args[0] == "":
		return nil, fmt.Errorf("--process %q: args: missing (the command to run)", path)
	case p.Cwd == "" || !strings.HasPrefix(p.Cwd, "/"):
		return nil, fmt.Errorf("--process %q: cwd %q: must be an absolute path", path, p.Cwd)
	case p.Terminal:
		return nil, fmt.Errorf("--process %q: terminal: terminals are not supported by this berth build yet", path)
	}
	return p, nil
}

func readAllStdin() ([]byte, error) {
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := os.Stdin.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			return []byte(sb.String()), nil
		}
	}
}

// parseUser parses uid[:gid]; names are not looked up (use numbers).
func parseUser(s string) (uid, gid uint32, err error) {
	us, gs, hasGid := strings.Cut(s, ":")
	u, err := strconv.ParseUint(us, 10, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("--user %q: want a numeric uid[:gid]", s)
	}
	if !hasGid {
		return uint32(u), 0, nil
	}
	g, err := strconv.ParseUint(gs, 10, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("--user %q: want a numeric uid[:gid]", s)
	}
	return uint32(u), uint32(g), nil
}

func addCaps(p *specs.Process, caps []string) error {
	c := specs.LinuxCapabilities{}
	if p.Capabilities != nil {
		c = *p.Capabilities
	}
	for _, name := range caps {
		name = strings.ToUpper(name)
		if !strings.HasPrefix(name, "CAP_") {
			name = "CAP_" + name
		}
		if _, ok := libcontainer.CapabilityNumber(name); !ok {
			return fmt.Errorf("--cap %q: unknown capability", name)
		}
		c.Bounding = append(append([]string{}, c.Bounding...), name)
		c.Effective = append(append([]string{}, c.Effective...), name)
		c.Permitted = append(append([]string{}, c.Permitted...), name)
	}
	p.Capabilities = &c
	return nil
}
