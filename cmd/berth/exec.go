package main

import (
	"fmt"
	"github.com/berthrun/berth/internal/trace"
	"github.com/berthrun/berth/internal/wire"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/berthrun/berth/libcontainer"
	"github.com/berthrun/berth/specconv"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
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
		&cli.StringSliceFlag{Name: "cgroup", Usage: "run the process in an existing sub-cgroup: [CONTROLLER[,CONTROLLER]:]PATH (repeatable)"},
		&cli.StringFlag{Name: "pidfd-socket", Usage: "unix socket that receives a pidfd of the process"},
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
			// Once the command line is understood, berth's own failures
			// exit 255, as runc's exec does: 1 could be the process's.
			return failedWith{fmt.Errorf("exec %s: %w", id, err), execFailed}
		}
		return nil
	},
}

// execFailed is exec's exit status when berth, not the process, failed
// (EXEC_FAILED in fastexec.c).
const execFailed = 255

func asExit(err error, ec *exitCode) bool {
	e, ok := err.(exitCode)
	*ec = e
	return ok
}

func execCode(c *cli.Context, id string) error {
	ct, err := runtimeFor(c).Load(id)
	if err != nil {
		return err
	}
	trace.Point(wire.PointExecLoaded)
	proc, err := execProcess(c, ct.Config().Spec.Process)
	if err != nil {
		return err
	}
	detach := c.Bool("detach")
	if err := checkTerminalFlags(proc.Terminal, detach, c.String("console-socket")); err != nil {
		return err
	}
	n := c.Int("preserve-fds")
	if n < 0 {
		return fmt.Errorf("--preserve-fds %d: must not be negative", n)
	}
	sub, err := parseSubCgroups(c.StringSlice("cgroup"))
	if err != nil {
		return err
	}
	opts := libcontainer.ExecOpts{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		PreserveFDs: n, IgnorePaused: c.Bool("ignore-paused"),
		ConsoleSocket: c.String("console-socket"), Cgroup: sub,
	}
	var sigs *caughtSignals
	var tty *ttyProxy
	if !detach {
		if err := libcontainer.SetSubreaper(); err != nil {
			return err
		}
		sigs = catchSignals()
		defer sigs.stop()
		if proc.Terminal {
			if tty, err = newTTYProxy(); err != nil {
				return err
			}
			defer tty.finish()
			opts.Console = tty.initEnd
		}
	}
	p, err := ct.Exec(proc, opts)
	if err != nil {
		return err
	}
	if err := afterExec(c, p.Pid); err != nil {
		if !detach {
			p.Wait()
		}
		return err
	}
	if detach {
		return nil
	}
	return waitExec(p, sigs, tty)
}

// afterExec hands the process's pid to those who asked for it; on failure
// the process is killed.
func afterExec(c *cli.Context, pid int) error {
	err := error(nil)
	if path := c.String("pid-file"); path != "" {
		err = writePidFile(path, pid)
	}
	if path := c.String("pidfd-socket"); path != "" && err == nil {
		err = sendPidfd(path, pid)
	}
	if err != nil {
		unix.Kill(pid, unix.SIGKILL)
	}
	return err
}

// waitExec proxies the terminal, forwards signals and returns the process's
// exit status as ours.
func waitExec(p *libcontainer.Process, sigs *caughtSignals, tty *ttyProxy) error {
	defer libcontainer.ReapOrphans()
	sigs.wait()
	if tty != nil {
		if err := tty.start(); err != nil {
			unix.Kill(p.Pid, unix.SIGKILL)
			p.Wait()
			return err
		}
	}
	go forwardSignals(sigs.C, p.Pid, tty)
	code, err := p.Wait()
	if err != nil {
		return err
	}
	if code != 0 {
		return exitCode(code)
	}
	return nil
}

// applyLabelFlags sets --apparmor and --process-label, by runc's rules: an
// AppArmor profile on a host without AppArmor is an error, an SELinux label
// on a host without SELinux is ignored (with a warning).
func applyLabelFlags(c *cli.Context, p *specs.Process) error {
	if prof := c.String("apparmor"); prof != "" {
		if !libcontainer.AppArmorEnabled() {
			return fmt.Errorf("--apparmor %q: AppArmor is not enabled on this host; drop the flag", prof)
		}
		p.ApparmorProfile = prof
	}
	if label := c.String("process-label"); label != "" {
		if !libcontainer.SELinuxEnabled() {
			logWarning(fmt.Sprintf("--process-label %q ignored: SELinux is not enabled on this host", label))
			return nil
		}
		p.SelinuxLabel = label
	}
	return nil
}

// parseSubCgroups parses --cgroup values, "PATH" or "CONTROLLER[,CONTROLLER]:PATH",
// PATH relative to the container's cgroup.
func parseSubCgroups(vals []string) (map[string]string, error) {
	if len(vals) == 0 {
		return nil, nil
	}
	sub := map[string]string{}
	for _, v := range vals {
		ctrls, path, found := strings.Cut(v, ":")
		if !found {
			ctrls, path = "", v
		}
		clean := filepath.Clean(path)
		if path == "" || filepath.IsAbs(path) || clean == ".." || strings.HasPrefix(clean, "../") {
			return nil, fmt.Errorf("--cgroup %q: want [CONTROLLER:]PATH with PATH relative to the container's cgroup and inside it", v)
		}
		for _, ctrl := range strings.Split(ctrls, ",") {
			if _, dup := sub[ctrl]; dup {
				return nil, fmt.Errorf("--cgroup %q: controller %q given twice", v, ctrl)
			}
			sub[ctrl] = clean
		}
	}
	return sub, nil
}

// execProcess builds the process: from --process, or from the container's
// own process with the command and the flags applied, as runc does.
func execProcess(c *cli.Context, base *specs.Process) (*specs.Process, error) {
	if path := c.String("process"); path != "" {
		p, err := readProcessFile(path)
		if err == nil {
			err = applyLabelFlags(c, p)
		}
		return p, err
	}
	if c.NArg() < 2 {
		return nil, fmt.Errorf("no command given (berth exec ID COMMAND [ARGS...], or --process FILE)")
	}
	p := *base
	p.Args = c.Args().Slice()[1:]
	p.Terminal = c.Bool("tty")
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
	if err := applyLabelFlags(c, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

func readProcessFile(path string) (*specs.Process, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(os.Stdin)
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("--process %q: %w", path, err)
	}
	p, err := specconv.ParseProcess(b)
	if err != nil {
		return nil, fmt.Errorf("--process %q: %w", path, err)
	}
	return p, nil
}

// parseUser parses uid[:gid]; names are not looked up (use numbers).
// 4294967295 is refused: to the kernel it means "leave unchanged", which
// would leave the process root.
func parseUser(s string) (uid, gid uint32, err error) {
	us, gs, hasGid := strings.Cut(s, ":")
	u, err := strconv.ParseUint(us, 10, 32)
	if err == nil && u == 1<<32-1 {
		return 0, 0, fmt.Errorf("--user %q: uid 4294967295 is not a valid id", s)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("--user %q: want a numeric uid[:gid]", s)
	}
	if !hasGid {
		return uint32(u), 0, nil
	}
	g, err := strconv.ParseUint(gs, 10, 32)
	if err == nil && g == 1<<32-1 {
		return 0, 0, fmt.Errorf("--user %q: gid 4294967295 is not a valid id", s)
	}
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
		// The spec lets a capability be ambient only when it is permitted
		// and inheritable: --cap makes it permitted, so it becomes ambient
		// too where the process's inheritable set has it (a non-root
		// user keeps it across the execve only then). runc adds it
		// whenever an inheritable set exists and warns when raising fails.
		if slices.Contains(c.Inheritable, name) && !slices.Contains(c.Ambient, name) {
			c.Ambient = append(append([]string{}, c.Ambient...), name)
		}
	}
	p.Capabilities = &c
	return nil
}
