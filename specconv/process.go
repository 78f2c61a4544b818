package specconv

import (
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// checkProcess checks the process section. berth always starts a process, so
// unlike the spec (where process is only needed by start) it is required.
func checkProcess(p *specs.Process) error {
	if p == nil {
		return badField("process", "missing (berth needs a process to run; add \"process\" with args and cwd)")
	}
	checks := []func() error{
		func() error { return checkArgs(p.Args) },
		func() error { return checkCwd(p.Cwd) },
		func() error { return checkEnv(p.Env) },
		func() error { return checkCapabilities(p.Capabilities) },
		func() error { return checkRlimits(p.Rlimits) },
		func() error { return checkOOMScoreAdj(p.OOMScoreAdj) },
		func() error { return checkUser(p.User) },
		func() error { return checkProcessAttrs(p) },
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func checkArgs(args []string) error {
	if len(args) == 0 {
		return badField("process.args", "empty (give the command to run, e.g. [\"sh\"])")
	}
	if args[0] == "" {
		return badValue("process.args[0]", args[0], "empty command")
	}
	return nil
}

// checkCwd requires an absolute cwd: it is resolved inside the container
// root, and a relative one would depend on where init happens to be.
func checkCwd(cwd string) error {
	if cwd == "" {
		return badValue("process.cwd", cwd, "missing (want an absolute path in the container, e.g. \"/\")")
	}
	if !filepath.IsAbs(cwd) {
		return badValue("process.cwd", cwd, "must be an absolute path in the container")
	}
	return nil
}

// checkEnv requires NAME=value entries: execve would pass anything along,
// but a malformed entry is always a mistake in whatever wrote config.json,
// and a NUL byte cannot be passed at all.
func checkEnv(env []string) error {
	for i, kv := range env {
		field := at("process.env", i)
		name, _, ok := strings.Cut(kv, "=")
		switch {
		case !ok:
			return badValue(field, kv, "missing '=' (want NAME=value)")
		case name == "":
			return badValue(field, kv, "empty variable name (want NAME=value)")
		case strings.IndexByte(kv, 0) >= 0:
			return badValue(field, kv, "contains a NUL byte")
		}
	}
	return nil
}

// checkCapabilities checks every name in every set. An unknown name is an
// error rather than something to skip: silently dropping a capability the
// user asked for (or one they misspelt while trying to drop it) is worse than
// refusing to start.
func checkCapabilities(c *specs.LinuxCapabilities) error {
	if c == nil {
		return nil
	}
	sets := []struct {
		name  string
		names []string
	}{
		{"bounding", c.Bounding},
		{"effective", c.Effective},
		{"inheritable", c.Inheritable},
		{"permitted", c.Permitted},
		{"ambient", c.Ambient},
	}
	for _, set := range sets {
		for i, name := range set.names {
			if capabilities[name] {
				continue
			}
			field := at("process.capabilities."+set.name, i)
			if guess := capabilityGuess(name); capabilities[guess] {
				return badValue(field, name, "unknown capability (did you mean %q?)", guess)
			}
			return badValue(field, name, "unknown capability (want a Linux capability name such as \"CAP_KILL\")")
		}
	}
	return nil
}

// capabilityGuess maps a near miss ("kill", "cap_kill") to the name it
// probably meant, for the error message.
func capabilityGuess(name string) string {
	guess := strings.ToUpper(name)
	if !strings.HasPrefix(guess, "CAP_") {
		guess = "CAP_" + guess
	}
	return guess
}

// checkRlimits checks types, duplicates (setrlimit would just apply the
// last, hiding the first) and soft <= hard (setrlimit fails with EINVAL
// otherwise, late and without saying which limit).
func checkRlimits(limits []specs.POSIXRlimit) error {
	seen := make(map[string]int, len(limits))
	for i, l := range limits {
		if !rlimits[l.Type] {
			return badValue(at("process.rlimits", i, "type"), l.Type, "unknown rlimit (want one of %s)", strings.Join(rlimitNames(), ", "))
		}
		if j, dup := seen[l.Type]; dup {
			return badValue(at("process.rlimits", i, "type"), l.Type, "duplicate (already at %s)", at("process.rlimits", j))
		}
		seen[l.Type] = i
		if l.Soft > l.Hard {
			return badValue(at("process.rlimits", i, "soft"), l.Soft, "greater than hard limit %d", l.Hard)
		}
	}
	return nil
}

// checkOOMScoreAdj keeps oomScoreAdj in the range the kernel accepts.
func checkOOMScoreAdj(adj *int) error {
	if adj != nil && (*adj < -1000 || *adj > 1000) {
		return badValue("process.oomScoreAdj", *adj, "out of range (want -1000 to 1000)")
	}
	return nil
}
