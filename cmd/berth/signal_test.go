package main

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseSignal(t *testing.T) {
	tests := []struct {
		in   string
		want unix.Signal
		ok   bool
	}{
		{"9", unix.SIGKILL, true},
		{"KILL", unix.SIGKILL, true},
		{"SIGKILL", unix.SIGKILL, true},
		{"kill", unix.SIGKILL, true},
		{"sigterm", unix.SIGTERM, true},
		{"TERM", unix.SIGTERM, true},
		{"HUP", unix.SIGHUP, true},
		{"USR1", unix.SIGUSR1, true},
		{"SIGRTMIN", 34, true},
		{"RTMIN+3", 37, true},
		{"SIGRTMAX", 64, true},
		{"RTMAX-2", 62, true},
		{"64", 64, true},
		{"0", 0, false},
		{"65", 0, false},
		{"-1", 0, false},
		{"", 0, false},
		{"NOPE", 0, false},
		{"SIGRTMIN+31", 0, false},
		{"RTMIN-1", 0, false},
		{"RTMAX+1", 0, false},
	}
	for _, tt := range tests {
		got, err := parseSignal(tt.in)
		if tt.ok && (err != nil || got != tt.want) {
			t.Errorf("parseSignal(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
		if !tt.ok && err == nil {
			t.Errorf("parseSignal(%q) = %v, want an error", tt.in, got)
		}
	}
}
