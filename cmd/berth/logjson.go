package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"time"
)

// jsonLineHandler writes each record as one JSON object on one line with
// runc's keys in runc's order, {"level":"error","msg":"...","time":"..."},
// then any attributes. containerd's shim reads the last "level":"error"
// line of --log and shows its msg to the user, so the line must be whole
// (one write on an O_APPEND file) and the msg berth's own error.
type jsonLineHandler struct {
	mu    *sync.Mutex
	out   io.Writer
	level slog.Leveler
	attrs []slog.Attr
}

func newJSONLineHandler(out io.Writer, level slog.Leveler) *jsonLineHandler {
	return &jsonLineHandler{mu: &sync.Mutex{}, out: out, level: level}
}

func (h *jsonLineHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level()
}

func (h *jsonLineHandler) Handle(_ context.Context, r slog.Record) error {
	line := []byte(`{"level":`)
	line = appendJSON(line, lowerLevel(nil, slog.Any(slog.LevelKey, r.Level)).Value.String())
	line = append(line, `,"msg":`...)
	line = appendJSON(line, r.Message)
	line = append(line, `,"time":`...)
	line = appendJSON(line, r.Time.Format(time.RFC3339Nano))
	attr := func(a slog.Attr) bool {
		line = append(line, ',')
		line = appendJSON(line, a.Key)
		line = append(line, ':')
		line = appendJSON(line, a.Value.Resolve().Any())
		return true
	}
	for _, a := range h.attrs {
		attr(a)
	}
	r.Attrs(attr)
	line = append(line, "}\n"...)
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := h.out.Write(line)
	return err
}

func (h *jsonLineHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), attrs...)
	return &c
}

// WithGroup is not used by berth; groups are flattened.
func (h *jsonLineHandler) WithGroup(string) slog.Handler { return h }

// appendJSON appends v encoded as JSON; a value that cannot be encoded is
// written as its error text, so a log line is never lost.
func appendJSON(b []byte, v any) []byte {
	enc, err := json.Marshal(v)
	if err != nil {
		enc, _ = json.Marshal(err.Error())
	}
	return append(b, enc...)
}
