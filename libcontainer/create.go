package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/berthrun/berth/internal/wire"

	"github.com/berthrun/berth/internal/trace"
	"github.com/berthrun/berth/libcontainer/cgroups"
	ocgroups "github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// CreateOpts are the per-invocation settings of create and run.
type CreateOpts struct {
	// Stdin, Stdout, Stderr become the container process's stdio.
	Stdin, Stdout, Stderr *os.File
	// PreserveFDs passes fds 3..3+N-1 of the caller to the process.
	PreserveFDs int
	// ConsoleSocket receives the pty master when process.terminal is true.
	ConsoleSocket string
	// Console, when set instead, is an already connected socket that
	// receives the master (run's own terminal proxy).
	Console *os.File
	// NotifySocket is the caller's NOTIFY_SOCKET, if any: the container
	// gets its own socket and start relays its READY=1 there.
	NotifySocket string
	// Foreground is run's mode: no exec.fifo; Start signals the init over the
	// sync socket and Wait returns its exit status.
	Foreground bool
}

// initProcess is the parent's handle on the init while it is being created.
type initProcess struct {
	sync   *syncSocket
	pid    int
	sealed *os.File // the sealed copy of berth the init runs
	exe    string   // its identity (fileID), for state.json
}

// Create builds the container up to "created": its init waits for Start.
// On any failure everything it made is removed again.
// PrewarmCreate starts, in the background, the host reads a create will
// need (the cgroup mount table), so that they overlap with parsing the
// config instead of lengthening the create.
func PrewarmCreate() {
	go cgroups.Prewarm()
}

func (rt *Runtime) Create(cfg *Config, opts CreateOpts) (_ *Container, retErr error) {
	if err := ValidateID(cfg.ID); err != nil {
		return nil, err
	}
	if err := checkProcess(cfg); err != nil {
		return nil, err
	}
	if err := checkRootfs(cfg); err != nil {
		return nil, err
	}
	// Resource errors are config errors: report them before touching anything.
	res, err := cgroups.Resources(cfg.Spec.Linux.Resources)
	if err != nil {
		return nil, err
	}
	if cfg.idMaps, err = planIDMaps(cfg); err != nil {
		return nil, err
	}
	for _, w := range append(cgroups.Ignored(cfg.Spec.Linux.Resources), IgnoredLabels(cfg.Spec)...) {
		rt.warn("%s", w)
	}
	trace.Point("create:config")
	lock, err := rt.store().create(cfg.ID)
	if err != nil {
		return nil, err
	}
	trace.Point("create:state-dir")
	c := &Container{rt: rt, lock: lock, st: &savedState{
		ID: cfg.ID, Created: time.Now().UTC(), Config: cfg,
	}}
	defer func() {
		if retErr != nil {
			c.destroy()
			c.Unlock()
		}
	}()
	if opts.NotifySocket != "" {
		if err := c.setupNotify(opts.NotifySocket); err != nil {
			return nil, err
		}
	}
	lowPids := holdLowPidsLimit(res)
	newCgroup := func() (*cgroups.Manager, error) {
		return cgroups.New(cfg.ID, cfg.CgroupsPath, cfg.SystemdCgroup, cfg.Rootless, cgroups.WithResources(res))
	}
	if err := c.startInit(opts, newCgroup); err != nil {
		return nil, err
	}
	if lowPids != nil {
		if err := c.setPidsLimit(lowPids); err != nil {
			return nil, err
		}
	}
	if !opts.Foreground {
		c.init.sync.close()
		c.init = nil
	}
	trace.Point("create:done")
	return c, nil
}

// startInit starts `berth init`, places it in the cgroup, hands it the
// namespaces to make, and drives it through the create-time sync points.
func (c *Container) startInit(opts CreateOpts, newCgroup func() (*cgroups.Manager, error)) error {
	cfg := c.st.Config
	params := &initParams{PreserveFDs: opts.PreserveFDs}
	// The cgroup's paths are worked out and saved in state.json, then the
	// cgroup made and limited, while this goroutine starts the init's
	// binary: two cores do both at once. The save comes before the cgroup
	// exists, so that a delete after a crash finds it; the init joins it
	// before it may fork. Until prepared is read, only that goroutine
	// writes to c.st.
	var cg *cgroups.Manager
	prepared := make(chan error, 1)
	go func() {
		var err error
		if cg, err = newCgroup(); err == nil {
			err = checkCgroupUnused(cfg, cg)
		}
		// The paths are only recorded for a cgroup berth may use: what
		// is recorded, a failed create's cleanup kills and removes, and a
		// cgroup refused above is somebody else's.
		if err == nil {
			c.st.CgroupPaths = cg.Paths()
			if err = c.rt.store().save(c.st); err == nil {
				err = cg.Prepare()
			}
		}
		prepared <- err
	}()
	cmd, plan, err := c.spawnInit(opts, params)
	applyErr := <-prepared
	if err != nil {
		return err
	}
	c.st.InitExe = c.init.exe
	trace.Point("create:state-saved")
	trace.Point("create:init-started")
	// The nsenter stage waits for the bootstrap, so placing it in the cgroup
	// now means the init is forked inside it and never runs outside.
	if applyErr == nil {
		applyErr = cg.Join(cmd.Process.Pid)
		c.st.CgroupPaths = cg.Paths() // the systemd driver knows them now
	}
	if applyErr != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return applyErr
	}
	trace.Point("create:cgroup")
	if params.crootfs != nil {
		plan = params.crootfs.withProgram(plan, cgroups.MountPaths(c.st.CgroupPaths))
	}
	pid, hostSrc, err := bootstrap(cmd, c.init.sync, cfg, plan)
	if err != nil {
		return err
	}
	params.HostSrc = hostSrc
	trace.Point("create:namespaces")
	return c.finishCreate(pid, params)
}

// checkCgroupUnused refuses a cgroup that already has processes or is
// frozen (cgroups.CheckUnused), naming the field that chose it.
func checkCgroupUnused(cfg *Config, cg *cgroups.Manager) error {
	err := cg.CheckUnused()
	if err == nil {
		return nil
	}
	if cfg.CgroupsPath == "" {
		return fmt.Errorf("cgroup %q (no linux.cgroupsPath: the container id): %w", cfg.ID, err)
	}
	return fmt.Errorf("linux.cgroupsPath %q: %w", cfg.CgroupsPath, err)
}

// spawnInit makes exec.fifo (create) and the sync socket, works out the C
// init's plan and starts the nsenter stage, which waits for its bootstrap.
func (c *Container) spawnInit(opts CreateOpts, params *initParams) (*exec.Cmd, []byte, error) {
	if !opts.Foreground {
		if err := c.makeFifo(); err != nil {
			return nil, nil, err
		}
	}
	parentEnd, childEnd, err := newSyncPair()
	if err != nil {
		return nil, nil, err
	}
	defer childEnd.Close()
	c.init = &initProcess{sync: &syncSocket{f: parentEnd}}
	cmd, err := c.initCommand(opts, childEnd, params)
	if err != nil {
		parentEnd.Close()
		return nil, nil, err
	}
	mode := wire.PlanCreate
	if opts.Foreground {
		mode = wire.PlanRun
	}
	plan, err := cinitPlan(c.st.Config, mode, params)
	if err != nil {
		parentEnd.Close()
		c.init.sealed.Close()
		return nil, nil, err
	}
	// The C init's root is built by the C program (crootfs.c).
	params.crootfs = rootfsInC(c.st.Config)
	plan = withHookState(plan, params, c.st.Config.Spec)
	cmd, c.init.sealed, err = c.rt.startSealed(cmd, c.init.sealed, opts.PreserveFDs)
	initExe := fileID(c.init.sealed)
	c.init.sealed.Close()
	if err != nil {
		parentEnd.Close()
		return nil, nil, fmt.Errorf("start init: %w", err)
	}
	c.init.exe = initExe
	return cmd, plan, nil
}

// bootstrap hands the nsenter stage (already in the container's cgroup) its
// namespaces and returns the host pid of the process it forked into them.
// A plan, when there is one, follows the bootstrap for the C init.
func bootstrap(cmd *exec.Cmd, sync *syncSocket, cfg *Config, plan []byte) (int, []int, error) {
	err := sync.sendRaw(bootstrapMessage(cfg, plan))
	if err == nil && plan != nil {
		err = sync.sendRaw(plan)
	}
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return 0, nil, fmt.Errorf("send bootstrap: %w", err)
	}
	m, err := sync.expect(wire.SyncPID)
	waitErr := cmd.Wait()
	if err != nil {
		return 0, nil, fmt.Errorf("namespaces: %w", initError(err, waitErr))
	}
	trace.Report("stage0", m.Trace)
	return m.Pid, m.HostSrc, nil
}

// initError prefers the init's own message over "socket closed".
func initError(err, waitErr error) error {
	if errors.Is(err, errPeerGone) && waitErr != nil {
		return fmt.Errorf("init exited early: %v", waitErr)
	}
	return err
}

// finishCreate records the init, configures what the host side owns, runs the
// create-time hooks at their sync point and waits for the init to be ready.
func (c *Container) finishCreate(pid int, params *initParams) error {
	c.init.pid = pid
	start, _, err := processStartTime(pid)
	if err != nil {
		return fmt.Errorf("init pid %d: %w", pid, err)
	}
	c.st.InitPid, c.st.InitStartTime = pid, start
	if err := c.rt.store().save(c.st); err != nil {
		return err
	}
	trace.Point("create:pid-saved")
	if err := c.setupNetwork(pid); err != nil {
		return err
	}
	trace.Point("create:network")
	params.CgroupPaths = cgroups.MountPaths(c.st.CgroupPaths)
	params.HookState = c.st.hookState(Creating)
	params.Trace = trace.Enabled()
	sync := c.init.sync
	if _, err := sync.expect(wire.SyncHooks); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	trace.Point("create:rootfs")
	if err := c.runCreateHooks(); err != nil {
		return err // destroy kills the init, which is waiting for us
	}
	trace.Point("create:hooks")
	if err := sync.send(&message{Type: wire.SyncHooksDone}); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	if params.CHookState {
		if err := sync.sendRaw(hookStatePacket(c.st.hookState(Creating))); err != nil {
			return fmt.Errorf("init: %w", err)
		}
	}
	ready, err := c.expectReady(sync, pid, Creating)
	if err != nil {
		return fmt.Errorf("init: %w", err)
	}
	trace.Report("init", ready.Trace)
	trace.Point("create:ready")
	return nil
}

// runCreateHooks runs prestart (deprecated, same point) then createRuntime
// hooks, in the runtime namespace, after the namespaces exist.
func (c *Container) runCreateHooks() error {
	hooks := c.st.Config.Spec.Hooks
	if hooks == nil {
		return nil
	}
	state := c.st.hookState(Creating)
	if err := runHooks("prestart", hooks.Prestart, state); err != nil {
		return err
	}
	return runHooks("createRuntime", hooks.CreateRuntime, state)
}

// initCommand builds `berth init`: fds 3.. are the preserved fds, then the
// sync socket, then (for create) an O_PATH handle of exec.fifo.
func (c *Container) initCommand(opts CreateOpts, childEnd *os.File, params *initParams) (*exec.Cmd, error) {
	cmd, sealed, err := c.rt.initCmd(opts.Stdin, opts.Stdout, opts.Stderr, childEnd, opts.PreserveFDs)
	if err != nil {
		return nil, err
	}
	c.init.sealed = sealed
	cmd.Dir = c.st.Config.Bundle
	if c.st.Config.Spec.Process.Terminal {
		sock, err := consoleConn(opts.ConsoleSocket, opts.Console)
		if err != nil {
			return nil, err
		}
		params.ConsoleFd = 3 + len(cmd.ExtraFiles)
		params.ConsoleProxied = opts.Console != nil
		cmd.ExtraFiles = append(cmd.ExtraFiles, sock)
	}
	if !opts.Foreground {
		fifo, err := os.OpenFile(c.fifoPath(), unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("open exec.fifo: %w", err)
		}
		params.FifoFd = 3 + len(cmd.ExtraFiles)
		cmd.ExtraFiles = append(cmd.ExtraFiles, fifo)
	}
	return cmd, nil
}

// makeFifo creates exec.fifo writable by the container's root, which in a
// user namespace is some other host uid: chmod because mkfifo obeys the
// umask, chown so the init can open it for writing.
func (c *Container) makeFifo() error {
	path := c.fifoPath()
	if err := unix.Mkfifo(path, 0o622); err != nil {
		return fmt.Errorf("create exec.fifo: %w", err)
	}
	if err := os.Chmod(path, 0o622); err != nil {
		return fmt.Errorf("create exec.fifo: %w", err)
	}
	uid, gid := hostRoot(c.st.Config.Spec.Linux)
	if err := os.Chown(path, uid, gid); err != nil {
		return fmt.Errorf("create exec.fifo: %w", err)
	}
	return nil
}

// hostRoot is the host uid and gid that the container's root maps to.
func hostRoot(linux *specs.Linux) (uid, gid int) {
	return hostID(linux.UIDMappings), hostID(linux.GIDMappings)
}

func hostID(ms []specs.LinuxIDMapping) int {
	for _, m := range ms {
		if m.ContainerID == 0 {
			return int(m.HostID)
		}
	}
	return 0
}

// setupTasks is more than the tasks the init has in its cgroup while it is
// set up: the nsenter stages, the Go rootfs helper, createContainer hooks.
const setupTasks = 16

// holdLowPidsLimit takes a pids limit too low for the setup out of res and
// returns it, to be set once the init is ready (setPidsLimit): with
// pids.limit 0 (pids.max 1) the init could not even clone. runc sets every
// limit after its init is ready; berth sets them before the init joins, so
// that they overlap with its start, and holds back only this one.
func holdLowPidsLimit(res *ocgroups.Resources) *int64 {
	if res.PidsLimit == nil || *res.PidsLimit < 0 || *res.PidsLimit >= setupTasks {
		return nil
	}
	limit := *res.PidsLimit
	res.PidsLimit = nil
	return &limit
}

// setPidsLimit applies a pids limit to the container's cgroup.
func (c *Container) setPidsLimit(limit *int64) error {
	res, err := cgroups.Resources(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: limit}})
	if err != nil {
		return err
	}
	res.SkipDevices = true
	m, err := c.cgroup()
	if err != nil {
		return err
	}
	return m.Set(res)
}
