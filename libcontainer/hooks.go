package libcontainer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// runHooks runs hooks in order, each with the state on stdin, stopping at the
// first failure. kind names the hook list in errors ("createRuntime").
func runHooks(kind string, hooks []specs.Hook, state *specs.State) error {
	if len(hooks) == 0 {
		return nil
	}
	stdin, err := json.Marshal(state)
	if err != nil {
		return err
	}
	for i, h := range hooks {
		if err := runHook(h, stdin); err != nil {
			return fmt.Errorf("hooks.%s[%d] %q: %w", kind, i, h.Path, err)
		}
	}
	return nil
}

// runHooksWarn runs every hook even when some fail, passing each failure to
// warn: config.md has poststart and poststop failures logged as warnings with
// the remaining hooks and the lifecycle going on as if they had succeeded.
func runHooksWarn(kind string, hooks []specs.Hook, state *specs.State, warn func(error)) {
	stdin, err := json.Marshal(state)
	if err != nil {
		warn(err)
		return
	}
	for i, h := range hooks {
		if err := runHook(h, stdin); err != nil {
			warn(fmt.Errorf("hooks.%s[%d] %q: %w", kind, i, h.Path, err))
		}
	}
}

// runHook runs one hook. Per config.md, args[0] is argv[0] and env replaces
// the runtime's environment entirely.
func runHook(h specs.Hook, stdin []byte) error {
	ctx := context.Background()
	if h.Timeout != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(*h.Timeout)*time.Second)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, h.Path)
	if len(h.Args) > 0 {
		cmd.Args = h.Args
	} else {
		cmd.Args = []string{h.Path}
	}
	cmd.Env = h.Env
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	cmd.Stdin = bytes.NewReader(stdin)
	// On timeout kill the hook's whole process group: a child it left
	// behind would otherwise hold the output pipe and stall us.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("timed out after %ds", *h.Timeout)
	}
	if err != nil {
		var ee *exec.ExitError
		msg := strings.TrimSpace(out.String())
		if len(msg) > 200 {
			msg = msg[:200] + "..."
		}
		if errors.As(err, &ee) && msg != "" {
			return fmt.Errorf("%v: %s", err, msg)
		}
		return err
	}
	return nil
}
