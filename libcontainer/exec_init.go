package libcontainer

import (
	"github.com/berthrun/berth/internal/wire"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// runExec is the container side of `berth exec`: nsenter has joined every
// namespace of the container (setns into its mount namespace also moved us
// to its root), so only the process settings remain.
func runExec(sync *syncSocket, spec *specs.Spec, filter *seccompFilter, p *initParams) error {
	proc := spec.Process
	if err := setRlimits(proc.Rlimits); err != nil {
		return err
	}
	path, err := lookPath(proc.Args[0], proc.Env)
	if err != nil {
		return err
	}
	if proc.Terminal {
		if err := setupConsole(p, proc, false); err != nil {
			return err
		}
	}
	if err := applyProcessAttrs(spec, true); err != nil {
		return err
	}
	if err := becomeProcess(proc, filter, p.PreserveFDs); err != nil {
		return err
	}
	if err := sync.send(&message{Type: wire.SyncReady}); err != nil {
		return err
	}
	// The socket is close-on-exec: the parent sees it close at the execve.
	return execProcess(proc, filter, path)
}
