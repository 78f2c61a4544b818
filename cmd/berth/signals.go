package main

import (
	"os"
	"os/signal"
)

// caughtSignals is every signal caught for forwarding to a foreground
// container, as runc does from before the container exists: signals that
// arrive while it is being created wait in the channel and go to its
// process once it runs.
type caughtSignals struct {
	C     chan os.Signal
	ready chan struct{}
}

// catchSignals starts catching every signal in the background. os/signal
// enables each of the ~65 signals with a round trip to its mask thread,
// ~2 ms on the development VM (docs/performance.md): creating the container
// hides that time.
func catchSignals() *caughtSignals {
	s := &caughtSignals{C: make(chan os.Signal, 32), ready: make(chan struct{})}
	go func() {
		signal.Notify(s.C)
		close(s.ready)
	}()
	return s
}

// wait returns once every signal is caught.
func (s *caughtSignals) wait() { <-s.ready }

// stop restores the default handling.
func (s *caughtSignals) stop() {
	s.wait()
	signal.Stop(s.C)
}
