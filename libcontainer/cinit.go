package libcontainer

import (
	"errors"
	"fmt"
	"strings"

	"github.com/berthrun/berth/internal/wire"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The C init (libcontainer/executor/cinit.c) sets up the container's process
// from a plan the parent resolves here: credentials, capabilities, rlimits,
// the compiled seccomp filter (a notify listener included), argv, env, cwd,
// the LSM labels, the terminal, the attributes the kernel keeps across
// execve (cinit_attrs.go) and the startContainer hooks (executor/chooks.c).
// With it no Go runtime waits in a created container (its init is a few
// hundred KiB of C) and `exec` starts no Go runtime inside the container at
// all.
// It is the only init: docs/design-c-init.md has the design.

// The plan's records (wire.Plan*) are declared in internal/wire/schema.go.

// checkProcess refuses, before anything is made, a process that no init
// could set up: what specconv checks in config.json and process files,
// again for every caller of the library; a capability berth itself lacks
// (capset would refuse it in the container, where the error could not say
// why); and a seccomp profile that does not compile (the plan carries the
// compiled program). Capabilities are only berth's to judge when the
// process stays in berth's user namespace: in a user namespace of the
// container's, its root holds every capability there.
func checkProcess(cfg *Config) error {
	spec := cfg.Spec
	proc := spec.Process
	if proc == nil || len(proc.Args) == 0 {
		return errors.New("process.args: empty (give the command to run, e.g. [\"sh\"])")
	}
	if hasNUL(proc) {
		return errors.New("process: a NUL byte in args, env or cwd")
	}
	for i, l := range proc.Rlimits {
		if _, ok := rlimitNumbers[l.Type]; !ok {
			return fmt.Errorf("process.rlimits[%d].type %q: unknown rlimit", i, l.Type)
		}
	}
	if !hasNamespace(cfg, specs.UserNamespace) {
		if field, name := unheldCapability(proc.Capabilities); name != "" {
			return fmt.Errorf("process.capabilities.%s: %s: berth itself does not hold it on this host, so no container can get it; remove it from the config", field, name)
		}
	}
	if s := spec.Linux.Seccomp; s != nil {
		if _, err := compileSeccompOnce(s); err != nil {
			return err
		}
	}
	return nil
}

func hasNUL(proc *specs.Process) bool {
	for _, s := range append(append([]string{proc.Cwd}, proc.Args...), proc.Env...) {
		if strings.IndexByte(s, 0) >= 0 {
			return true
		}
	}
	return false
}

// cinitPlan encodes the plan for cfg's process, which checkProcess
// accepted (a seccomp profile that does not compile was refused there). A
// notifying filter carries SECCOMP_FILTER_FLAG_NEW_LISTENER in its flags:
// the C init hands its listener to the parent.
func cinitPlan(cfg *Config, mode uint32, p *initParams) ([]byte, error) {
	spec := cfg.Spec
	proc := spec.Process
	w := &wire.PlanWriter{}
	w.Mode(mode)
	if s := spec.Linux.Seccomp; s != nil {
		prog, err := compileSeccompOnce(s)
		if err != nil {
			return nil, err
		}
		w.Seccomp(prog.Raw())
	}
	for _, a := range proc.Args {
		w.Arg(a)
	}
	for _, e := range processEnv(proc.Env) {
		w.Env(e)
	}
	w.Cwd(proc.Cwd)
	if proc.ApparmorProfile != "" {
		w.Apparmor(proc.ApparmorProfile)
	}
	writeUser(w, proc.User)
	if c := proc.Capabilities; c != nil {
		perm, inh := maskOf(c.Permitted), maskOf(c.Inheritable)
		w.Caps(uint64(maskOf(c.Bounding)), uint64(maskOf(c.Effective)),
			uint64(perm), uint64(inh), uint64(maskOf(c.Ambient)&perm&inh))
	}
	if proc.NoNewPrivileges {
		w.NNP()
	}
	for i, l := range proc.Rlimits {
		w.Rlimit(uint32(rlimitNumbers[l.Type]), uint32(i), l.Soft, l.Hard, l.Type)
	}
	w.Preserve(uint32(p.PreserveFDs))
	writeProcAttrs(w, spec, p, mode == wire.PlanExec, cfg.NewNamespace(specs.MountNamespace))
	if mode != wire.PlanExec {
		writeInitOnly(w, cfg, p)
	}
	return w.Bytes(), nil
}

func writeUser(w *wire.PlanWriter, u specs.User) {
	umask := uint32(0o022)
	if u.Umask != nil {
		umask = *u.Umask
	}
	w.User(u.UID, u.GID, umask)
	if len(u.AdditionalGids) > 0 {
		w.Groups(u.AdditionalGids...)
	}
}

// writeInitOnly adds what only the container's init does (setupEnvironment
// in init.go): exec.fifo, the oom score, the session keyring.
func writeInitOnly(w *wire.PlanWriter, cfg *Config, p *initParams) {
	if p.FifoFd > 0 {
		w.Fifo(uint32(p.FifoFd))
	}
	if adj := cfg.Spec.Process.OOMScoreAdj; adj != nil && !cfg.OOMScoreAdjEarly {
		w.OOM(int32(*adj))
	}
	if !cfg.NoNewKeyring {
		w.Keyring("_ses." + cfg.ID)
	}
	if hooks := startHooks(cfg.Spec); hooks != nil {
		w.StartHooks(hooks)
	}
}
