package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// hyperfineResult is the part of hyperfine's --export-json output the bench
// reads: every run's wall time, in seconds.
type hyperfineResult struct {
	Results []struct {
		Command string    `json:"command"`
		Times   []float64 `json:"times"`
	} `json:"results"`
}

// hyperfine times each command line (no shell in between) with the job's
// warm-up and run counts and returns their run times, in order.
func hyperfine(ctx context.Context, j *job, name string, argvs ...[]string) ([][]float64, error) {
	out := filepath.Join(j.Scratch, name+".hyperfine.json")
	errFile := filepath.Join(j.Scratch, name+".hyperfine.err")
	args := []string{"-N", "--style", "none", "--warmup", fmt.Sprint(j.Params.Warmup),
		"--runs", fmt.Sprint(j.Params.Runs), "--export-json", out}
	for _, argv := range argvs {
		args = append(args, shellJoin(argv))
	}
	stderr, err := os.Create(errFile)
	if err != nil {
		return nil, err
	}
	defer stderr.Close()
	cmd := exec.CommandContext(ctx, "hyperfine", args...)
	cmd.Env = append(os.Environ(), tagVar+"="+j.Tag)
	cmd.Stderr = stderr
	if err := cmd.Run(); err != nil {
		b, _ := os.ReadFile(errFile)
		return nil, fmt.Errorf("%s %s: hyperfine: %v: %s", j.Runtime.Name, name, err, strings.TrimSpace(string(b)))
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	var res hyperfineResult
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, fmt.Errorf("%s: %w", out, err)
	}
	if len(res.Results) != len(argvs) {
		return nil, fmt.Errorf("%s: %d results for %d commands", out, len(res.Results), len(argvs))
	}
	times := make([][]float64, len(argvs))
	for i, r := range res.Results {
		times[i] = r.Times
	}
	return times, nil
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_./=:,+@%-]+$`)

// shellJoin makes one command line of argv that hyperfine splits back into
// the same words (it follows POSIX shell quoting even without a shell).
func shellJoin(argv []string) string {
	words := make([]string, len(argv))
	for i, a := range argv {
		if shellSafe.MatchString(a) {
			words[i] = a
		} else {
			words[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(words, " ")
}
