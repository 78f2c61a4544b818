package specconv

import (
	"context"
	"log/slog"

	"github.com/berthrun/berth/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// logUnknownSyscalls says, at debug level, which syscall names of the
// profile this libseccomp does not know: the filter skips them, as runc
// does, so a profile written for a newer kernel still loads.
func logUnknownSyscalls(s *specs.LinuxSeccomp) {
	if !slog.Default().Enabled(context.Background(), slog.LevelDebug) {
		return // resolving every name costs more than the line is worth
	}
	for _, name := range seccomp.UnknownSyscalls(s) {
		slog.Debug(name + ": unknown seccomp syscall ignored")
	}
}
