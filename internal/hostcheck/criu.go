package hostcheck

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"time"
)

// CRIUFacts is what the installed criu says.
type CRIUFacts struct {
	Path    string `json:"path"` // "" when not installed
	Version string `json:"version"`
	Check   bool   `json:"check"` // `criu check` passed
}

// criuTimeout bounds `criu check`, which probes many kernel features.
const criuTimeout = 30 * time.Second

func checkCRIU() Check {
	c := Check{Name: "criu", Berth: "not used: checkpoint and restore are not implemented"}
	f := CRIUFacts{}
	c.Facts = &f
	path, err := exec.LookPath("criu")
	if err != nil {
		c.Host = "not installed"
		return c
	}
	f.Path = path
	if out, err := runCRIU(path, "--version"); err == nil {
		f.Version = strings.TrimPrefix(firstLine(out), "Version: ")
	}
	out, err := runCRIU(path, "check")
	f.Check = err == nil
	c.OK = f.Check
	if f.Check {
		c.Host = "criu " + f.Version + ": criu check passes"
	} else {
		c.Host = "criu " + f.Version + ": criu check fails: " + lastLine(out, err)
	}
	return c
}

func runCRIU(path string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), criuTimeout)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// lastLine is the last line criu printed (its verdict), or the error.
func lastLine(out string, err error) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if last := strings.TrimSpace(lines[len(lines)-1]); last != "" {
		return last
	}
	return err.Error()
}
