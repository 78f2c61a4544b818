package tests

import (
	"strconv"
	"strings"
	"testing"

	"github.com/berthrun/berth/internal/testbundle"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// twinLine is a failed command's one error line with the container id
// taken out (each way runs its own container), and its exit code.
func twinLine(t *testing.T, r result, id string) string {
	t.Helper()
	line := strings.TrimSuffix(r.stderr, "\n")
	if r.code == 0 || line == "" || strings.Contains(line, "\n") {
		t.Errorf("want one error line and a failure:\n%v", r)
	}
	return strings.ReplaceAll(line, id, "<id>") + " (exit " + strconv.Itoa(r.code) + ")"
}

// sameLines requires every way's line to be the first's, byte for byte.
func sameLines(t *testing.T, what string, names []string, got []string) {
	t.Helper()
	for i := 1; i < len(got); i++ {
		if got[i] != got[0] {
			t.Errorf("%s: the twins say different things:\n  %s: %s\n  %s: %s", what, names[0], got[0], names[i], got[i])
		}
	}
}

// TestErrorTwinsSayTheSame (issue 21): the failures whose text differed
// between the C and the Go twin (args[0] not executable, a bad cwd, the
// rootfs builders' errors) are now one record rendered by one formatter:
// exec by the C front and by Go must print byte-identical lines; the C
// init and the C rootfs builder (the only ones now) print them in one line.
func TestErrorTwinsSayTheSame(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	badCwd := func(cwd string) *specs.Spec {
		s := sh("true")
		s.Process.Cwd = cwd
		return s
	}
	for _, tt := range []struct {
		name string
		spec *specs.Spec
		want string
	}{
		{"args[0] not executable", testbundle.Spec("/etc/passwd"),
			`process.args[0] "/etc/passwd": stat /etc/passwd: permission denied`},
		{"args[0] missing", testbundle.Spec("/no/such/binary"),
			`process.args[0] "/no/such/binary": stat /no/such/binary: no such file or directory`},
		{"args[0] not in PATH", testbundle.Spec("no-such-binary"),
			`process.args[0] "no-such-binary": executable file not found in $PATH`},
		// The root's builder makes the cwd first: its mkdir fails.
		{"cwd not a directory", badCwd("/etc/passwd"),
			`process.cwd "/etc/passwd": mkdir /etc/passwd: not a directory`},
	} {
		var names, got []string
		for _, w := range runWays {
			id := e.id("twin")
			r := e.berthOpts(runOpts{env: w.env}, "run", "--bundle", e.bundle(tt.spec), id)
			assertError(t, r, tt.want)
			names, got = append(names, w.name), append(got, twinLine(t, r, id))
		}
		sameLines(t, "run: "+tt.name, names, got)
	}

	id := e.startSleeper()
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"args[0] not executable", []string{"/etc/passwd"}, `process.args[0] "/etc/passwd": stat /etc/passwd: permission denied`},
		{"args[0] missing", []string{"/no/such/binary"}, `process.args[0] "/no/such/binary": stat /no/such/binary: no such file or directory`},
		{"cwd not a directory", []string{"--cwd", "/etc/passwd", "true"}, `process.cwd "/etc/passwd": chdir /etc/passwd: not a directory`},
		{"cwd missing", []string{"--cwd", "/no/such/dir", "true"}, `process.cwd "/no/such/dir": chdir /no/such/dir: no such file or directory`},
	} {
		var names, got []string
		for _, w := range execWays {
			args := append([]string{"exec"}, tt.args...)
			if args[1] == "--cwd" {
				args = append(args[:3], append([]string{id}, args[3:]...)...)
			} else {
				args = append([]string{"exec", id}, tt.args...)
			}
			r := e.berthOpts(runOpts{env: w.env}, args...)
			assertExecError(t, r, tt.want)
			names, got = append(names, w.name), append(got, twinLine(t, r, id))
		}
		sameLines(t, "exec: "+tt.name, names, got)
	}

	for _, tt := range []struct {
		name   string
		modify func(s *specs.Spec)
	}{
		{"bind source missing", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/x", Type: "bind", Source: "/no/such/dir-twin", Options: []string{"bind"}})
		}},
		{"unknown sysctl", func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"net.ipv4.no_such_thing": "1"} }},
		{"bad tmpfs option", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/x", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=bogus"}})
		}},
		{"bind a directory onto a file", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/etc/passwd", Type: "bind", Source: "/tmp", Options: []string{"bind"}})
		}},
		{"mount over a second procfs", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt/p2", Type: "proc", Source: "proc"},
				specs.Mount{Destination: "/mnt/p2/sys", Type: "tmpfs", Source: "tmpfs"})
		}},
		{"proc on a file", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/etc/passwd", Type: "proc", Source: "proc"})
		}},
		{"mount under a file", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/etc/passwd/x", Type: "tmpfs", Source: "tmpfs"})
		}},
	} {
		spec := sh("echo should-not-run")
		tt.modify(spec)
		var names, got []string
		for _, w := range []callerWay{{"C rootfs", cRootfs}} {
			id := e.id("twinrf")
			r := e.berthOpts(runOpts{env: w.env}, "run", "--bundle", e.bundle(spec), id)
			if w.name == "C rootfs" && !traceShowsC(r.stderr) {
				t.Errorf("%s: the C builder did not run:\n%s", tt.name, r.stderr)
			}
			names, got = append(names, w.name), append(got, twinLine(t, withoutTrace(r), id))
		}
		sameLines(t, "rootfs: "+tt.name, names, got)
	}
}
