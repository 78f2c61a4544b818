package main

import (
	"strconv"
	"strings"
	"testing"
)

// FuzzParseSignal: parseSignal never panics, accepts only signals 1-64,
// reads its own numeric output back to the same signal, and refuses with
// one line quoting the input.
func FuzzParseSignal(f *testing.F) {
	for _, s := range []string{"9", "KILL", "sigterm", "RTMIN+3", "SIGRTMAX-2", "RTMIN+31", "0", "65", "-1", "SIGRTMIN-1", "RTMAX+", "SIG", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sig, err := parseSignal(s)
		if err != nil {
			msg := err.Error()
			if strings.ContainsAny(msg, "\n\r") || !strings.Contains(msg, strconv.Quote(s)) {
				t.Fatalf("error %q is not one line quoting the input", msg)
			}
			return
		}
		if sig < 1 || sig > 64 {
			t.Fatalf("parseSignal(%q) = %d, outside 1-64", s, int(sig))
		}
		if again, err := parseSignal(strconv.Itoa(int(sig))); err != nil || again != sig {
			t.Fatalf("parseSignal(%q) = %d but its number gives %d, %v", s, int(sig), int(again), err)
		}
	})
}
