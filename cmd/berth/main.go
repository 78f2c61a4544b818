// Command berth is an OCI container runtime with runc's command line.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"

	_ "github.com/berthrun/berth/internal/warmjson"
	"github.com/berthrun/berth/libcontainer"
	// The C executor: its constructors run before the Go runtime starts
	// (the container's init, the fast paths).
	_ "github.com/berthrun/berth/libcontainer/executor"
	"github.com/berthrun/berth/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"
)

// version and commit are set at build time with -ldflags -X.
var (
	version = "0.1.0-dev"
	commit  = "unknown"
)

func main() {
	limitGC()
	// The container's init is this binary too; it skips the CLI entirely.
	if len(os.Args) > 1 && os.Args[1] == "init" {
		libcontainer.InitMain()
	}
	os.Exit(run(os.Args))
}

// limitGC turns the garbage collector off below a small heap bound. A berth
// command lives milliseconds and allocates a few MiB (mostly decoding the
// config once): collecting that costs GC worker threads and stop-the-world
// phases for nothing. The bound keeps long-lived ones (run in the
// foreground, events) collecting once they reach it. The container's init
// turns collection off altogether (libcontainer.InitMain).
func limitGC() {
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(gcHeapBound)
}

// gcHeapBound is the heap size at which the collector starts working.
const gcHeapBound = 16 << 20

func run(args []string) int {
	app := newApp()
	if err := app.Run(args); err != nil {
		var ec exitCode
		if errors.As(err, &ec) {
			return int(ec)
		}
		reportError(err)
		var fs failedWith
		if errors.As(err, &fs) {
			return fs.code
		}
		return 1
	}
	return 0
}

// failedWith is an error reported as usual but with exit status code
// instead of 1 (exec's 255).
type failedWith struct {
	err  error
	code int
}

func (f failedWith) Error() string { return f.err.Error() }
func (f failedWith) Unwrap() error { return f.err }

// exitCode is returned by commands whose exit status is not 0/1 (run).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func newApp() *cli.App {
	cli.VersionPrinter = func(c *cli.Context) {
		fmt.Printf("berth version %s\ncommit: %s\nspec: %s\ngo: %s\nlibseccomp: %s\n",
			version, commit, specs.Version, runtime.Version(), seccomp.LibraryVersion())
	}
	return &cli.App{
		Name:                 "berth",
		Usage:                "run OCI containers (a drop-in for runc)",
		Version:              version,
		EnableBashCompletion: false,
		Flags:                globalFlags(),
		Before:               setupLogging,
		ExitErrHandler:       func(*cli.Context, error) {},
		Commands: []*cli.Command{
			specCommand, createCommand, startCommand, runCommand, stateCommand,
			listCommand, killCommand, deleteCommand, psCommand,
			pauseCommand, resumeCommand, updateCommand, eventsCommand, execCommand, featuresCommand,
			checkCommand,
		},
	}
}

// rootIsXDG records that the default --root came from XDG_RUNTIME_DIR
// (defaultRoot), which prepareDefaultRoot then makes.
var rootIsXDG bool

func globalFlags() []cli.Flag {
	var root string
	root, rootIsXDG = defaultRoot()
	return []cli.Flag{
		&cli.StringFlag{Name: "root", Value: root, Usage: "directory for container state"},
		&cli.StringFlag{Name: "log", Usage: "log file (default: stderr)"},
		&cli.StringFlag{Name: "log-format", Value: "text", Usage: "log format: text or json"},
		&cli.BoolFlag{Name: "debug", Usage: "log debug messages"},
		&cli.BoolFlag{Name: "systemd-cgroup", Usage: "use the systemd cgroup driver (cgroupsPath is slice:prefix:name)"},
		&cli.StringFlag{Name: "rootless", Value: "auto", Usage: "rootless mode: auto, true or false"},
	}
}

// runtimeFor returns the libcontainer runtime of the global --root.
func runtimeFor(c *cli.Context) *libcontainer.Runtime {
	return &libcontainer.Runtime{Root: c.String("root"), Warn: logWarning}
}

// idArg returns the single container id argument, validated.
func idArg(c *cli.Context) (string, error) {
	if c.NArg() != 1 {
		return "", fmt.Errorf("%s: expects exactly one argument, the container id (got %d); see berth %s --help", c.Command.Name, c.NArg(), c.Command.Name)
	}
	id := c.Args().First()
	if err := libcontainer.ValidateID(id); err != nil {
		return "", err
	}
	return id, nil
}
