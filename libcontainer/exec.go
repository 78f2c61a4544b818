package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"

	"github.com/berthrun/berth/libcontainer/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// ExecOpts are the settings of one exec.
type ExecOpts struct {
	Stdin, Stdout, Stderr *os.File
	PreserveFDs           int
	IgnorePaused          bool
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
		return nil, fmt.Errorf("container %q is %s: exec needs a running container", c.st.ID, status)
	}
	cfg := c.execConfig(proc)
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
	err = cmd.Start()
	sealed.Close()
	if err != nil {
		return nil, fmt.Errorf("start exec: %w", err)
	}
	childEnd.Close()
	pid, err := c.enterExec(cmd, sync, cfg, opts)
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
// the namespaces, and waits until the process has exec'd.
func (c *Container) enterExec(cmd *exec.Cmd, sync *syncSocket, cfg *Config, opts ExecOpts) (int, error) {
	m, err := cgroups.Load(c.st.CgroupPaths)
	if err == nil {
		err = m.AddPid(cmd.Process.Pid)
	}
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return 0, err
	}
	pid, err := bootstrap(cmd, sync, cfg)
	if err != nil {
		return 0, fmt.Errorf("exec: %w", err)
	}
	if err := sync.send(&message{Type: msgConfig, Config: cfg, Init: &initParams{Exec: true, PreserveFDs: opts.PreserveFDs}}); err != nil {
		return pid, fmt.Errorf("exec: %w", err)
	}
	if _, err := sync.expect(msgReady); err != nil {
		return pid, fmt.Errorf("exec: %w", err)
	}
	m2, err := sync.recv()
	switch {
	case errors.Is(err, errPeerGone):
		return pid, nil // exec'd
	case err != nil:
		return pid, fmt.Errorf("exec: %w", err)
	case m2.Type == msgError:
		return pid, errors.New(m2.Msg)
	}
	return pid, fmt.Errorf("exec: unexpected %q message", m2.Type)
}

// Wait waits for the exec'd process and returns its exit code (128+N when
// killed by signal N).
func (p *Process) Wait() (int, error) {
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(p.Pid, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return -1, fmt.Errorf("wait for exec'd process: %w", err)
		}
		break
	}
	if ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return ws.ExitStatus(), nil
}
