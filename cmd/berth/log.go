package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/berthrun/berth/internal/trace"
	"github.com/urfave/cli/v2"
)

// logger writes runc-compatible log lines: level in lower case ("warning",
// not "WARN"), msg and time, as text or one JSON object per line.
var logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{ReplaceAttr: lowerLevel}))

// logToFile is true when --log names a file: errors then go there as well as
// to stderr, where containerd reads the last "level":"error" line.
var logToFile bool

func setupLogging(c *cli.Context) error {
	var out io.Writer = os.Stderr
	if path := c.String("log"); path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_SYNC, 0o644)
		if err != nil {
			return fmt.Errorf("--log %q: %w", path, err)
		}
		out, logToFile = f, true
	}
	level := slog.LevelInfo
	if c.Bool("debug") {
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: lowerLevel}
	switch c.String("log-format") {
	case "text":
		logger = slog.New(slog.NewTextHandler(out, opts))
	case "json":
		logger = slog.New(newJSONLineHandler(out, level))
	default:
		return fmt.Errorf("--log-format %q: must be text or json", c.String("log-format"))
	}
	slog.SetDefault(logger) // for the packages' own debug lines
	trace.Setup(logger, c.Bool("debug"))
	if err := checkRootlessFlag(c); err != nil {
		return err
	}
	return prepareDefaultRoot(c)
}

func lowerLevel(groups []string, a slog.Attr) slog.Attr {
	if a.Key == slog.LevelKey && len(groups) == 0 {
		lvl := strings.ToLower(a.Value.String())
		if lvl == "warn" {
			lvl = "warning"
		}
		return slog.String(slog.LevelKey, lvl)
	}
	return a
}

// reportError prints the one error line on stderr and logs it.
func reportError(err error) {
	fmt.Fprintf(os.Stderr, "berth: %v\n", err)
	if logToFile {
		logger.Error(err.Error())
	}
}

func logWarning(msg string) {
	if logToFile {
		logger.Warn(msg)
	}
	fmt.Fprintf(os.Stderr, "berth: warning: %s\n", msg)
}
