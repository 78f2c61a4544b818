package libcontainer

import (
	"encoding/json"
	"fmt"

	"github.com/berthrun/berth/internal/wire"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The hooks that run inside the container (createContainer, startContainer)
// are executed by one runner, in C (executor/chooks.c): by the C init from
// its plan and rootfs program. Go renders them here; the runner only runs
// them. The
// parent's own hooks (prestart, createRuntime, poststart, poststop) stay in
// hooks.go.

// hookMessage renders hooks of kind as a wire.Hooks message, each hook
// named in its errors as the Go runner named it. processEnv: a hook that
// sets no env gets the process's (startContainer, as runc does).
func hookMessage(kind string, hooks []specs.Hook, processEnv bool) []byte {
	w := wire.NewHookWriter(nil)
	for i, h := range hooks {
		var flags, timeout uint32
		if processEnv && h.Env == nil {
			flags |= wire.HookFlagProcessEnv
		}
		if h.Timeout != nil && *h.Timeout > 0 {
			timeout = uint32(*h.Timeout)
		}
		name := fmt.Sprintf("hooks.%s[%d] %q", kind, i, h.Path)
		w.Hook(timeout, flags, h.Path, name)
		for _, a := range h.Args {
			w.Arg(a)
		}
		for _, e := range h.Env {
			w.Env(e)
		}
	}
	return w.Bytes()
}

// createHooks and startHooks are cfg's hooks of those kinds as messages,
// nil when it has none.
func createHooks(spec *specs.Spec) []byte {
	if spec.Hooks == nil || len(spec.Hooks.CreateContainer) == 0 {
		return nil
	}
	return hookMessage("createContainer", spec.Hooks.CreateContainer, false)
}

// hasInitHooks: spec has hooks that run inside the container, which then
// reads their state after hooks-done; nothing is rendered to say so.
func hasInitHooks(spec *specs.Spec) bool {
	h := spec.Hooks
	return h != nil && len(h.CreateContainer)+len(h.StartContainer) > 0
}

func startHooks(spec *specs.Spec) []byte {
	if spec.Hooks == nil || len(spec.Hooks.StartContainer) == 0 {
		return nil
	}
	return hookMessage("startContainer", spec.Hooks.StartContainer, true)
}

// stateJSON is the state a hook reads on stdin, with status.
func stateJSON(st *specs.State, status string) []byte {
	if st == nil {
		return nil
	}
	s := *st
	s.Status = specs.ContainerState(status)
	b, _ := json.Marshal(&s) // a State always marshals
	return b
}

// hookStatePacket is the packet the parent sends after hooks-done when the
// C init runs hooks: the state for each kind, rendered here because the
// init's pid was not known when its plan was sent.
func hookStatePacket(st *specs.State) []byte {
	w := wire.NewHookStateWriter(nil)
	w.Creating(stateJSON(st, Creating))
	w.Created(stateJSON(st, Created))
	return w.Bytes()
}

// withHookState decides whether the C init reads the hooks' state after
// hooks-done (params.CHookState): when its rootfs program runs
// createContainer hooks or its plan startContainer hooks.
func withHookState(plan []byte, params *initParams, spec *specs.Spec) []byte {
	if plan != nil && params.crootfs != nil {
		params.CHookState = params.crootfs.settings.HookState
	}
	return plan
}
