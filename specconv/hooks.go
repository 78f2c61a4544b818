package specconv

import (
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// checkHooks checks every hook of every kind. Hooks are executed by path,
// without a PATH search, so the path must be absolute.
func checkHooks(h *specs.Hooks) error {
	if h == nil {
		return nil
	}
	kinds := []struct {
		name  string
		hooks []specs.Hook
	}{
		//lint:ignore SA1019 deprecated, but runtimes must still run prestart hooks
		{"prestart", h.Prestart},
		{"createRuntime", h.CreateRuntime},
		{"createContainer", h.CreateContainer},
		{"startContainer", h.StartContainer},
		{"poststart", h.Poststart},
		{"poststop", h.Poststop},
	}
	for _, kind := range kinds {
		for i, hook := range kind.hooks {
			field := at("hooks."+kind.name, i)
			if !filepath.IsAbs(hook.Path) {
				return badValue(field+".path", hook.Path, "must be an absolute path")
			}
			if hook.Timeout != nil && *hook.Timeout <= 0 {
				return badValue(field+".timeout", *hook.Timeout, "must be a positive number of seconds")
			}
		}
	}
	return nil
}
