package main

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// parseSignal accepts what runc's kill does: a number ("9"), a name with or
// without the SIG prefix, in any case ("KILL", "SIGKILL", "kill"), and
// real-time signals as RTMIN+N / RTMAX-N.
func parseSignal(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return 0, fmt.Errorf("signal %q: out of range 1-64", s)
		}
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	if sig, ok := realtimeSignal(name); ok {
		return sig, nil
	}
	return 0, fmt.Errorf("signal %q: unknown signal name", s)
}

// realtimeSignal parses SIGRTMIN, SIGRTMIN+N, SIGRTMAX and SIGRTMAX-N
// (glibc's SIGRTMIN is 34, SIGRTMAX 64).
func realtimeSignal(name string) (unix.Signal, bool) {
	const rtmin, rtmax = 34, 64
	base, off, sign := 0, "", 1
	switch {
	case strings.HasPrefix(name, "SIGRTMIN"):
		base, off = rtmin, strings.TrimPrefix(name, "SIGRTMIN")
	case strings.HasPrefix(name, "SIGRTMAX"):
		base, off, sign = rtmax, strings.TrimPrefix(name, "SIGRTMAX"), -1
	default:
		return 0, false
	}
	if off == "" {
		return unix.Signal(base), true
	}
	if (sign == 1 && off[0] != '+') || (sign == -1 && off[0] != '-') {
		return 0, false
	}
	n, err := strconv.Atoi(off[1:])
	if err != nil || n < 0 {
		return 0, false
	}
	sig := base + sign*n
	if sig < rtmin || sig > rtmax {
		return 0, false
	}
	return unix.Signal(sig), true
}
