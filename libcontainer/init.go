package libcontainer

import (
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
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

// InitMain is `berth init`: the entry the container's init is started
// by. The C constructor (executor/nsexec.c) takes every such process over
// before the Go runtime starts and never returns into Go when berth
// started it, so reaching here means it did not: fail in one line.
func InitMain() {
	fmt.Fprintln(os.Stderr, "berth init: not started by berth (the C init runs only with the sync socket berth passes in _BERTH_INITPIPE)")
	os.Exit(1)
}

func hasNamespace(cfg *Config, t specs.LinuxNamespaceType) bool {
	_, ok := cfg.Namespace(t)
	return ok
}
