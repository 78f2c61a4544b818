package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"

	"github.com/berthrun/berth/internal/wire"

	"github.com/berthrun/berth/internal/trace"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// ExecOpts are the settings of one exec.
type ExecOpts struct {
	Stdin, Stdout, Stderr *os.File
	PreserveFDs           int
	IgnorePaused          bool
	// ConsoleSocket or Console receive the pty master when the process
	// has a terminal (see CreateOpts).
	ConsoleSocket string
	Console       *os.File
	// Cgroup places the process in sub-cgroups of the container's: a path
	// per controller, "" for every controller (exec --cgroup).
	Cgroup map[string]string
}

// Process is a process exec'd into a container, a child of the caller.
type Process struct {
	Pid int
}

// nsFiles names each namespace type's file under /proc/<pid>/ns.
var nsFiles = map[specs.LinuxNamespaceType]string{
	specs.UserNamespace: "user", specs.PIDNamespace: "pid", specs.MountNamespace: "mnt",
	specs.NetworkNamespace: "net", specs.IPCNamespace: "ipc", specs.UTSNamespace: "uts",
	specs.CgroupNamespace: "cgroup", specs.TimeNamespace: "time",
}

// Exec starts proc inside the running container: it joins every namespace
// of the container's init (user first) and its cgroup, then applies the
// process settings the way the init did, seccomp included.
func (c *Container) Exec(proc *specs.Process, opts ExecOpts) (*Process, error) {
	switch status := c.Status(); {
	case status == Running, status == Created:
	case status == Paused && opts.IgnorePaused:
	default:
		if status == Paused {
			// runc's words, which scripts match.
			return nil, fmt.Errorf("container %q is paused: cannot exec in a paused container (use --ignore-paused to override)", c.st.ID)
		}
		return nil, fmt.Errorf("container %q is %s: exec needs a running container", c.st.ID, status)
	}
	cfg := c.execConfig(proc)
	if err := checkProcess(cfg); err != nil {
		return nil, err
	}
	trace.Point(wire.PointExecStatus)
	parentEnd, childEnd, err := newSyncPair()
	if err != nil {
		return nil, err
	}
	defer childEnd.Close()
	sync := &syncSocket{f: parentEnd}
	defer sync.close()
	cmd, sealed, err := c.rt.initCmd(opts.Stdin, opts.Stdout, opts.Stderr, childEnd, opts.PreserveFDs)
	if err != nil {
		return nil, err
	}
	params := &initParams{Exec: true, PreserveFDs: opts.PreserveFDs}
	if proc.Terminal {
		sock, err := consoleConn(opts.ConsoleSocket, opts.Console)
		if err != nil {
			sealed.Close()
			return nil, err
		}
		if sock != opts.Console {
			defer sock.Close()
		}
		params.ConsoleFd = 3 + len(cmd.ExtraFiles)
		params.ConsoleProxied = opts.Console != nil
		cmd.ExtraFiles = append(cmd.ExtraFiles, sock)
	}
	trace.Point(wire.PointExecSealed)
	cmd, sealed, err = c.rt.startSealed(cmd, sealed, opts.PreserveFDs)
	sealed.Close()
	if err != nil {
		return nil, fmt.Errorf("start exec: %w", err)
	}
	childEnd.Close()
	trace.Point(wire.PointExecStarted)
	plan, err := cinitPlan(cfg, wire.PlanExec, params)
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, err
	}
	pid, err := c.enterExec(cmd, sync, cfg, params, plan, opts.Cgroup)
	if err != nil {
		if pid > 0 {
			unix.Kill(pid, unix.SIGKILL)
			unix.Wait4(pid, nil, 0, nil)
		}
		return nil, err
	}
	return &Process{Pid: pid}, nil
}

// execConfig is the container's config with every namespace joined through
// the init and the exec's process.
func (c *Container) execConfig(proc *specs.Process) *Config {
	cfg := *c.st.Config
	spec := *cfg.Spec
	spec.Process = proc
	spec.Hooks = nil
	cfg.Spec = &spec
	cfg.Namespaces = nil
	for _, ns := range c.st.Config.Namespaces {
		path := "/proc/" + strconv.Itoa(c.st.InitPid) + "/ns/" + nsFiles[ns.Type]
		cfg.Namespaces = append(cfg.Namespaces, Namespace{Type: ns.Type, Path: path})
	}
	return &cfg
}

// enterExec places the nsenter stage in the container's cgroup, hands it
// the namespaces, and waits until the process has exec'd. With a plan the C
// init sets the process up.
func (c *Container) enterExec(cmd *exec.Cmd, sync *syncSocket, cfg *Config, params *initParams, plan []byte, sub map[string]string) (int, error) {
	if err := setInitialCPUAffinity(cmd.Process.Pid, cfg.Spec.Process); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return 0, err
	}
	m, err := c.cgroup()
	if err == nil {
		err = m.AddPidSub(cmd.Process.Pid, sub)
	}
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return 0, err
	}
	trace.Point(wire.PointExecCgroup)
	pid, _, err := bootstrap(cmd, sync, cfg, plan)
	if err != nil {
		return 0, fmt.Errorf("exec: %w", err)
	}
	trace.Point(wire.PointExecNamespaces)
	ready, err := c.expectReady(sync, pid, c.Status())
	if err != nil {
		return pid, fmt.Errorf("exec: %w", err)
	}
	trace.Report("init", ready.Trace)
	trace.Point(wire.PointExecReady)
	m2, err := sync.recv()
	switch {
	case errors.Is(err, errPeerGone):
		trace.Point(wire.PointExecExec)
		return pid, nil // exec'd
	case err != nil:
		return pid, fmt.Errorf("exec: %w", err)
	case m2.Type == wire.SyncError:
		return pid, errors.New(m2.Msg)
	}
	return pid, fmt.Errorf("exec: unexpected %q message", m2.Type)
}

// Wait waits for the exec'd process and returns its exit code (128+N when
// killed by signal N).
func (p *Process) Wait() (int, error) {
	code, err := reapUntil(p.Pid)
	if err != nil {
		return -1, fmt.Errorf("wait for exec'd process: %w", err)
	}
	return code, nil
}
