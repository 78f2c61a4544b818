package libcontainer

import (
	"errors"
	"fmt"
	"github.com/berthrun/berth/internal/wire"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/berthrun/berth/internal/trace"
	"github.com/berthrun/berth/internal/userns"
	"github.com/berthrun/berth/libcontainer/rootfs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// initParams are the per-container facts the init needs beside the Config.
type initParams struct {
	FifoFd      int               `json:"fifoFd,omitempty"`
	PreserveFDs int               `json:"preserveFds,omitempty"`
	CgroupPaths map[string]string `json:"cgroupPaths,omitempty"`
	HookState   *specs.State      `json:"hookState,omitempty"`
	// Exec marks an exec'd process: it joined every namespace of the
	// container and only needs its process settings.
	Exec bool `json:"exec,omitempty"`
	// ConsoleFd is the inherited --console-socket connection (terminal: true).
	ConsoleFd int `json:"consoleFd,omitempty"`
	// ConsoleProxied: the pty master goes to berth's own terminal proxy
	// (run or exec -t without --console-socket), which relays output
	// byte for byte, so the pty must not turn \n into \r\n (runc clears
	// ONLCR there too). A console socket's owner keeps the kernel default.
	ConsoleProxied bool `json:"consoleProxied,omitempty"`
	// Trace asks the init to collect its phases for the parent's trace.
	Trace bool `json:"trace,omitempty"`
	// HostSrc are the fds, in the init, of the bind sources nsenter opened
	// from the host side, by slot (rootfs.HostSources).
	HostSrc []int `json:"hostSrc,omitempty"`
	// CHookState, the parent's note (never sent): the C init runs hooks
	// (createContainer from its rootfs program, startContainer from its
	// plan) and reads their state in a packet after hooks-done.
	CHookState bool `json:"-"`
	// crootfs, the parent's note (never sent): the C init's pid 1 builds
	// the root from a program (crootfs.c); no Go runs in the container.
	crootfs *crootfsJob
}

// InitMain is `berth init`: the container's pid 1 after nsenter made its
// namespaces. It never returns: it execs the container process or exits 1
// after reporting why to the parent.
func InitMain() {
	// Credentials, capabilities, no_new_privs and seccomp are per thread:
	// do all of it, and the final execve, on this one thread.
	runtime.LockOSThread()
	// No garbage collection at all: the init allocates a few MiB to set up
	// and nothing while it waits, and a collection after the seccomp filter
	// is in place may want a new thread the filter forbids (the runtime then
	// aborts: TestSeccompNoThreadsWhileCreated).
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(math.MaxInt64)
	fd, err := strconv.Atoi(os.Getenv("_BERTH_INITPIPE"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "berth init: not started by berth (no _BERTH_INITPIPE)")
		os.Exit(1)
	}
	os.Unsetenv("_BERTH_INITPIPE")
	os.Unsetenv("GODEBUG") // initGodebug: read by the runtime already, not for hooks

	sync := &syncSocket{f: os.NewFile(uintptr(fd), "sync")}
	err = runInit(sync)
	if errors.Is(err, errPeerGone) {
		os.Exit(1) // the parent gave up on us and reports why itself
	}
	// runInit only returns on failure. Until "ready" the parent reports the
	// error; after it, the parent may be gone and stderr is the only way.
	if sync.send(&message{Type: wire.SyncError, Msg: err.Error()}) != nil {
		fmt.Fprintf(os.Stderr, "berth init: %v\n", err)
	}
	os.Exit(1)
}

func runInit(sync *syncSocket) error {
	m, err := sync.expect(wire.SyncConfig)
	if err != nil {
		return err
	}
	cfg, p := m.Config, m.Init
	trace.Collect(p.Trace)
	trace.Point("init:config")
	spec := cfg.Spec
	// Compile the seccomp filter now, before rlimits could starve it.
	filter, err := compileSeccomp(spec.Linux.Seccomp, sync)
	if err != nil {
		return err
	}
	trace.Point("init:seccomp-compile")
	if p.Exec {
		return runExec(sync, spec, filter, p)
	}
	// exec.fifo is reopened through this host /proc/self/fd handle: the
	// container may have no /proc of its own.
	fdDir, err := unix.Open("/proc/self/fd", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return wire.Failed(wire.StepOpen, err, "/proc/self/fd")
	}
	path, err := buildRootfs(sync, newRootfsJob(cfg, p), func() error { return setupProcessEnv(cfg) })
	if err != nil {
		return err
	}
	for _, fd := range p.HostSrc { // attached where they belong; not for the waiting init
		unix.Close(fd)
	}
	ownMounts := cfg.NewNamespace(specs.MountNamespace)
	if spec.Process.Terminal {
		if err := setupConsole(p, spec.Process, ownMounts); err != nil {
			return err
		}
	}
	if err := applyProcessAttrs(spec, false); err != nil {
		return err
	}
	if err := becomeProcess(spec.Process, filter, p.PreserveFDs); err != nil {
		return err
	}
	trace.Point(wire.PointInitProcess)
	if err := sync.send(&message{Type: wire.SyncReady, Trace: trace.Collected()}); err != nil {
		return err
	}
	closeProcHandle()
	closeProcfsFds(fdDir)
	fifo, err := waitForStart(sync, fdDir, p.FifoFd)
	if err != nil {
		return err
	}
	if hooks := startHooks(spec); hooks != nil {
		if err := startContainerHooks(spec.Process, filter, hooks, p.HookState); err != nil {
			return err
		}
	}
	// Tell start that the process is about to run. The fifo (create) or the
	// sync socket (run) is close-on-exec: start sees it close at the execve,
	// and only then runs the poststart hooks.
	if fifo >= 0 {
		if _, err := unix.Write(fifo, []byte("0")); err != nil {
			return wire.Failed(wire.StepFifoWrite, err)
		}
	}
	return execProcess(spec.Process, filter, path)
}

func enterRoot(plan *rootfs.Plan, ownMounts bool) error {
	if !ownMounts {
		if err := unix.Chroot(plan.Root); err != nil {
			return fmt.Errorf("chroot %s: %w", plan.Root, err)
		}
		return unix.Chdir("/")
	}
	return rootfs.Enter(plan)
}

func rootfsPlan(cfg *Config, p *initParams) *rootfs.Plan {
	spec := cfg.Spec
	plan := &rootfs.Plan{
		Root:          cfg.Rootfs,
		Mounts:        spec.Mounts,
		Devices:       spec.Linux.Devices,
		Propagation:   spec.Linux.RootfsPropagation,
		Readonly:      spec.Root.Readonly,
		MaskedPaths:   spec.Linux.MaskedPaths,
		ReadonlyPaths: spec.Linux.ReadonlyPaths,
		NoPivot:       cfg.NoPivot,
		InUserNS:      hasNamespace(cfg, specs.UserNamespace),
		BindDevices:   hasNamespace(cfg, specs.UserNamespace) || userns.Running(),
		Rootless:      cfg.Rootless,
		CgroupNS:      cfg.NewNamespace(specs.CgroupNamespace),
		CgroupPaths:   p.CgroupPaths,
	}
	if len(p.HostSrc) > 0 {
		plan.HostFds = map[int]int{}
		for k, src := range rootfs.HostSources(plan, cfg.Bundle) {
			if k < len(p.HostSrc) {
				plan.HostFds[src.Index] = p.HostSrc[k]
			}
		}
	}
	return plan
}

func hasNamespace(cfg *Config, t specs.LinuxNamespaceType) bool {
	_, ok := cfg.Namespace(t)
	return ok
}

// setupProcessEnv applies the Go init's process settings that come before
// the root is finished (buildRootfs): rlimits, oom score, session keyring.
// The C init's pid 1 does the same from its plan (cinit.go).
func setupProcessEnv(cfg *Config) error {
	spec := cfg.Spec
	if err := setRlimits(spec.Process.Rlimits); err != nil {
		return err
	}
	if adj := spec.Process.OOMScoreAdj; adj != nil && !cfg.OOMScoreAdjEarly {
		if err := procWrite("self/oom_score_adj", strconv.Itoa(*adj)); err != nil {
			return wire.Failed(wire.StepOOM, err, strconv.Itoa(*adj))
		}
	}
	if !cfg.NoNewKeyring {
		// A private session keyring keeps the container out of the host's
		// keys; kernels without keyrings just do not have one.
		if _, err := unix.KeyctlJoinSessionKeyring("_ses." + cfg.ID); err != nil && err != unix.ENOSYS {
			return wire.Failed(wire.StepKeyring, err)
		}
	}
	return nil
}

func writeSysctl(key, value string) error {
	if err := procWrite("sys/"+strings.ReplaceAll(key, ".", "/"), value); err != nil {
		return fmt.Errorf("linux.sysctl[%q]: %w", key, err)
	}
	return nil
}

// waitForStart blocks until `berth start`. create opens exec.fifo for
// writing, which blocks until start opens it for reading, and returns the
// open fifo; run waits for the start message on the sync socket and keeps
// the socket for a later error.
func waitForStart(sync *syncSocket, fdDir, fifoFd int) (int, error) {
	if fifoFd == 0 {
		defer unix.Close(fdDir)
		_, err := sync.expect(wire.SyncStart)
		return -1, err
	}
	// The parent of create is gone: later errors go to stderr.
	sync.close()
	fd, err := reopenFifo(fifoFd, fdDir)
	if err != nil {
		return -1, err
	}
	unix.Close(fifoFd)
	return fd, nil
}

// reopenFifo opens exec.fifo for writing, which blocks until start opens
// it for reading; reopen_fifo in cinit.c is its twin. The host
// /proc/self/fd handle is closed before the wait whenever the container's
// own /proc can reopen the fifo: nothing of the host's procfs stays in the
// waiting init. The opened file must be the fifo.
func reopenFifo(fifoFd, fdDir int) (int, error) {
	var want, got unix.Stat_t
	if err := unix.Fstat(fifoFd, &want); err != nil {
		return -1, wire.Failed(wire.StepFifoStat, err)
	}
	same := func(a, b *unix.Stat_t) bool { return a.Dev == b.Dev && a.Ino == b.Ino }
	name := strconv.Itoa(fifoFd)
	path := "/proc/self/fd/" + name
	var sf unix.Statfs_t
	var fd int
	var err error
	if unix.Statfs("/proc/self/fd", &sf) == nil && sf.Type == unix.PROC_SUPER_MAGIC &&
		unix.Stat(path, &got) == nil && same(&got, &want) {
		unix.Close(fdDir)
		fd, err = unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	} else {
		fd, err = unix.Openat(fdDir, name, unix.O_WRONLY|unix.O_CLOEXEC, 0)
		unix.Close(fdDir)
	}
	if err != nil {
		return -1, wire.Failed(wire.StepFifoOpen, err)
	}
	if err := unix.Fstat(fd, &got); err != nil || !same(&got, &want) {
		unix.Close(fd)
		return -1, wire.Failed(wire.StepFifoNotFifo, nil, name)
	}
	return fd, nil
}
