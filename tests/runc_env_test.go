package tests

import (
	"slices"
	"strings"
	"testing"

	"github.com/berthrun/berth/internal/testbundle"
)

// Where the OCI spec is silent, runc's behaviour is the contract images and
// scripts rely on (issue 22). These tests hold berth to it.

// environOf splits the output of `cat /proc/self/environ`.
func environOf(out string) []string {
	return strings.Split(strings.TrimRight(out, "\x00"), "\x00")
}

// TestEnvDuplicatesAndHome: a name given twice in process.env, or
// overridden by `exec -e`, reaches the process once with the last value
// (getenv returns the first entry, so a duplicate would undo the override);
// an empty HOME is filled in from the container's /etc/passwd, as a missing
// one is. Each way berth makes a process: the C and Go inits for run, and
// the C front, Go front and Go init for exec.
func TestEnvDuplicatesAndHome(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	check := func(what string, r result, want []string) {
		t.Helper()
		if r.code != 0 {
			t.Fatalf("%s: %v", what, r)
		}
		if got := environOf(r.stdout); !slices.Equal(got, want) {
			t.Errorf("%s: environment %q, want %q", what, got, want)
		}
	}
	env := []string{"PATH=/bin", "A=1", "HOME=", "B=2", "A=3"}
	for _, w := range runWays {
		spec := testbundle.Spec("cat", "/proc/self/environ")
		spec.Process.Env = env
		spec.Process.User.UID, spec.Process.User.GID = 65534, 65534
		check("run, "+w.name, e.berthOpts(runOpts{env: w.env}, "run", "--bundle", e.bundle(spec), e.id("env")),
			[]string{"PATH=/bin", "B=2", "A=3", "HOME=/nonexistent"})
	}
	spec := testbundle.Spec("sleep", "1000")
	spec.Process.Env = env
	id := e.id("env-exec")
	e.mustBerth("run", "-d", "--bundle", e.bundle(spec), id)
	for _, w := range execWays {
		check("exec -e, "+w.name, e.berthOpts(runOpts{env: w.env}, "exec", "-e", "B=4", "-e", "HOME=", id, "cat", "/proc/self/environ"),
			[]string{"PATH=/bin", "A=3", "B=4", "HOME=/root"})
		check("exec, "+w.name, e.berthOpts(runOpts{env: w.env}, "exec", "--user", "1000", id, "cat", "/proc/self/environ"),
			[]string{"PATH=/bin", "B=2", "A=3", "HOME=/home/user"})
	}
}
