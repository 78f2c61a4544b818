package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/berthrun/berth/internal/testbundle"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestHelp(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cases := []struct {
		cmd   string
		flags []string
	}{
		{"", []string{"--root", "--log", "--log-format", "--debug", "--systemd-cgroup", "--rootless", "--version",
			"spec", "create", "start", "run", "state", "list", "kill", "delete"}},
		{"spec", []string{"--bundle", "--rootless"}},
		{"create", []string{"--bundle", "-b", "--pid-file", "--console-socket", "--no-pivot", "--no-new-keyring", "--preserve-fds"}},
		{"start", nil},
		{"run", []string{"--keep", "--bundle", "-b", "--pid-file", "--detach", "-d", "--no-pivot", "--preserve-fds", "--console-socket", "--no-new-keyring"}},
		{"state", nil},
		{"list", []string{"--quiet", "-q", "--format"}},
		{"kill", []string{"--all"}},
		{"delete", []string{"--force"}},
		{"ps", []string{"--format", "-f"}},
		{"pause", nil},
		{"resume", nil},
		{"update", []string{"--resources", "--memory", "--pids-limit", "--cpu-quota", "--cpuset-cpus", "--blkio-weight"}},
		{"events", []string{"--stats", "--interval"}},
		{"exec", []string{"--process", "--cwd", "--env", "--user", "--cap", "--tty", "--detach", "--ignore-paused", "--apparmor"}},
		{"features", nil},
		{"check", nil},
	}
	// Every command the global help lists has its row above: `<command> -h`
	// must work for all of them, as runc's do.
	have := map[string]bool{"help": true}
	for _, tc := range cases {
		have[tc.cmd] = true
	}
	global := e.berthOpts(runOpts{noRoot: true}, "--help").stdout
	_, commands, _ := strings.Cut(global, "COMMANDS:")
	commands, _, _ = strings.Cut(commands, "GLOBAL OPTIONS:")
	listed := regexp.MustCompile(`(?m)^   ([a-z-]+)`).FindAllStringSubmatch(commands, -1)
	if len(listed) < 10 {
		t.Fatalf("global help lists %d commands: %q", len(listed), listed)
	}
	for _, m := range listed {
		if !have[m[1]] {
			t.Errorf("command %q is in the global help but not checked here", m[1])
		}
	}
	for _, tc := range cases {
		name := tc.cmd
		if name == "" {
			name = "global"
		}
		t.Run(name, func(t *testing.T) {
			variants := [][]string{{"--help"}, {"-h"}}
			if tc.cmd != "" {
				variants = [][]string{{tc.cmd, "--help"}, {tc.cmd, "-h"}, {"help", tc.cmd}}
			}
			for _, args := range variants {
				r := e.berthOpts(runOpts{noRoot: true}, args...)
				if r.code != 0 {
					t.Errorf("%v", r)
					continue
				}
				help := r.stdout + r.stderr
				if tc.cmd != "" && !strings.Contains(help, "berth "+tc.cmd) {
					t.Errorf("berth %v: help does not name the command:\n%s", args, help)
				}
				for _, f := range tc.flags {
					if !regexp.MustCompile(`(^|[\s,])` + regexp.QuoteMeta(f) + `\b`).MatchString(help) {
						t.Errorf("berth %v: help does not mention %s:\n%s", args, f, help)
					}
				}
			}
		})
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, flag := range []string{"--version", "-v"} {
		r := e.berthOpts(runOpts{noRoot: true}, flag)
		if r.code != 0 {
			t.Fatalf("%v", r)
		}
		for _, re := range []string{
			`(?m)^berth version \S+$`,
			`(?m)^spec: ` + regexp.QuoteMeta(specs.Version) + `$`,
			`(?m)^libseccomp: \d+\.\d+\.\d+$`,
			`(?m)^commit: \S+$`,
		} {
			if !regexp.MustCompile(re).MatchString(r.stdout) {
				t.Errorf("berth %s: no line matching %s:\n%s", flag, re, r.stdout)
			}
		}
	}
}

func TestSpec(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.dir("spec")
	e.mustBerth("spec", "--bundle", bundle)
	path := filepath.Join(bundle, "config.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var spec specs.Spec
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatalf("berth spec wrote invalid JSON: %v\n%s", err, raw)
	}
	if spec.Version != specs.Version || spec.Root == nil || spec.Root.Path != "rootfs" || spec.Process == nil || spec.Linux == nil {
		t.Fatalf("berth spec: unexpected config %s", raw)
	}
	have := map[specs.LinuxNamespaceType]bool{}
	for _, ns := range spec.Linux.Namespaces {
		have[ns.Type] = true
	}
	for _, ty := range []specs.LinuxNamespaceType{specs.PIDNamespace, specs.NetworkNamespace, specs.IPCNamespace, specs.UTSNamespace, specs.MountNamespace} {
		if !have[ty] {
			t.Errorf("default spec lacks a %s namespace", ty)
		}
	}
	if len(spec.Linux.MaskedPaths) == 0 || len(spec.Linux.ReadonlyPaths) == 0 {
		t.Errorf("default spec has no masked or read-only paths")
	}

	// Refuses to overwrite.
	os.WriteFile(path, append(raw, []byte("\n")...), 0o644)
	assertError(t, e.berth("spec", "--bundle", bundle), "config.json")
	if now, _ := os.ReadFile(path); string(now) != string(raw)+"\n" {
		t.Errorf("a refused spec changed config.json")
	}
	os.WriteFile(path, raw, 0o644)

	// With the rootfs, terminal off and a command, run uses it.
	if err := testbundle.Rootfs(filepath.Join(bundle, "rootfs")); err != nil {
		t.Fatal(err)
	}
	spec.Process.Terminal = false
	spec.Process.Args = []string{"sh", "-c", "echo from-spec; hostname"}
	if err := testbundle.Write(bundle, &spec); err != nil {
		t.Fatal(err)
	}
	r := e.berth("run", "--bundle", bundle, e.id("spec"))
	if r.code != 0 || !strings.HasPrefix(r.stdout, "from-spec\n") {
		t.Errorf("run of the berth spec config: %v", r)
	}

	// Without --bundle, spec writes into the current directory.
	cwd := e.dir("cwd")
	if r := e.berthOpts(runOpts{dir: cwd}, "spec"); r.code != 0 {
		t.Fatalf("%v", r)
	}
	if _, err := os.Stat(filepath.Join(cwd, "config.json")); err != nil {
		t.Errorf("spec without --bundle: %v", err)
	}
	assertError(t, e.berth("spec", "--bundle", filepath.Join(e.base, "missing-dir")), "missing-dir")
}

func TestSpecRootless(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.dir("rootless")
	e.mustBerth("spec", "--rootless", "--bundle", bundle)
	raw, _ := os.ReadFile(filepath.Join(bundle, "config.json"))
	var spec specs.Spec
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	user := false
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type == specs.UserNamespace {
			user = true
		}
		if ns.Type == specs.NetworkNamespace {
			t.Errorf("rootless spec has a network namespace (runc's has none)")
		}
	}
	if !user || len(spec.Linux.UIDMappings) == 0 || len(spec.Linux.GIDMappings) == 0 {
		t.Errorf("rootless spec: want a user namespace with uid and gid mappings:\n%s", raw)
	}
}

// jsonLogLines parses a --log-format json file: every line must be one
// object with level, msg and time.
func jsonLogLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, l := range lines(string(b)) {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Errorf("log line is not a JSON object: %q", l)
			continue
		}
		for _, k := range []string{"level", "msg", "time"} {
			if _, ok := m[k]; !ok {
				t.Errorf("log line has no %q: %q", k, l)
			}
		}
		if ts, ok := m["time"].(string); ok {
			if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
				t.Errorf("log time %q is not RFC 3339: %v", ts, err)
			}
		}
		out = append(out, m)
	}
	return out
}

func TestLogJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	logFile := filepath.Join(e.base, "log.json")
	missing := "e2e-nosuch-" + randHex(3)
	r := e.berth("--log", logFile, "--log-format", "json", "state", missing)
	assertError(t, r, missing)
	entries := jsonLogLines(t, logFile)
	if len(entries) == 0 {
		t.Fatalf("no log line written")
	}
	last := entries[len(entries)-1]
	if last["level"] != "error" {
		t.Errorf("last log line level %v, want \"error\"", last["level"])
	}
	if msg, _ := last["msg"].(string); !strings.Contains(msg, missing) {
		t.Errorf("error msg %q does not name the container", msg)
	}

	// A failed create logs its error the same way.
	b := e.bundle(sh("true"))
	spec := sh("true")
	spec.Version = "2.0.0"
	testbundle.Write(b, spec)
	r = e.berth("--log", logFile, "--log-format", "json", "create", "--bundle", b, e.id("logjson"))
	assertError(t, r, "ociVersion")
	entries = jsonLogLines(t, logFile)
	last = entries[len(entries)-1]
	if msg, _ := last["msg"].(string); last["level"] != "error" || !strings.Contains(msg, "ociVersion") {
		t.Errorf("last log line %v, want the ociVersion error", last)
	}

	// A warning (failing poststart hook) is logged with level "warning".
	spec = sh("sleep 1000")
	spec.Hooks = &specs.Hooks{Poststart: []specs.Hook{{Path: "/bin/false"}}}
	id := e.id("logwarn")
	e.mustBerth("--log", logFile, "--log-format", "json", "run", "-d", "--bundle", e.bundle(spec), id)
	found := false
	for _, m := range jsonLogLines(t, logFile) {
		if m["level"] == "warning" {
			found = true
		}
	}
	if !found {
		t.Errorf("no \"warning\" line in the log for a failing poststart hook")
	}
	e.mustBerth("delete", "--force", id)
}

func TestLogText(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	logFile := filepath.Join(e.base, "log.txt")
	missing := "e2e-nosuch-" + randHex(3)
	assertError(t, e.berth("--log", logFile, "state", missing), missing)
	b, _ := os.ReadFile(logFile)
	if !strings.Contains(string(b), "level=error") || !strings.Contains(string(b), missing) {
		t.Errorf("text log: %q", b)
	}
	assertError(t, e.berth("--log", filepath.Join(e.base, "no", "such", "dir", "log"), "list"), "log")
}

// TestDefaultRootFlag: --root is honoured (nothing lands in /run/berth).
func TestRootFlag(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.id("rootflag")
	e.mustBerth("create", "--bundle", e.bundle(sh("true")), id)
	if _, err := os.Stat(filepath.Join(e.root, id, "state.json")); err != nil {
		t.Errorf("no state.json in --root: %v", err)
	}
	if _, err := os.Stat(filepath.Join("/run/berth", id)); err == nil {
		t.Errorf("state written to /run/berth despite --root")
	}
	other := e.dir("other-root")
	r := e.berthOpts(runOpts{noRoot: true}, "--root", other, "state", id)
	assertError(t, r, id)
	e.mustBerth("delete", id)
}
