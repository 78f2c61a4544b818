package main

import (
	"bytes"
	"log/slog"
	"regexp"
	"testing"
)

func TestJSONLineHandler(t *testing.T) {
	ts := `"time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)"`
	tests := []struct {
		name string
		log  func(*slog.Logger)
		want string // a regexp of the whole output
	}{
		{"error", func(l *slog.Logger) { l.Error(`create x: "quoted"` + "\n") },
			`^\{"level":"error","msg":"create x: \\"quoted\\"\\n",` + ts + `\}\n$`},
		{"warning is spelled out", func(l *slog.Logger) { l.Warn("hook failed") },
			`^\{"level":"warning","msg":"hook failed",` + ts + `\}\n$`},
		{"attributes follow time", func(l *slog.Logger) { l.With("id", "c1").Info("started", "pid", 42) },
			`^\{"level":"info","msg":"started",` + ts + `,"id":"c1","pid":42\}\n$`},
		{"below the level: nothing", func(l *slog.Logger) { l.Debug("noise") }, `^$`},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		tt.log(slog.New(newJSONLineHandler(&buf, slog.LevelInfo)))
		if !regexp.MustCompile(tt.want).Match(buf.Bytes()) {
			t.Errorf("%s: wrote %q, want /%s/", tt.name, buf.String(), tt.want)
		}
	}
}
