package tests

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berthrun/berth/internal/testbundle"
)

// noFastPath runs berth with the C fast path of state and list turned off:
// the Go code answers, and is the reference the fast path must match.
var noFastPath = runOpts{env: []string{"BERTH_NO_FASTPATH=1"}}

// assertSameAsGo runs args with and without the fast path and requires the
// same stdout, stderr and exit code, byte for byte.
func assertSameAsGo(t *testing.T, e *env, args ...string) result {
	t.Helper()
	fast := e.berth(args...)
	slow := e.berthOpts(noFastPath, args...)
	if fast.stdout != slow.stdout || fast.stderr != slow.stderr || fast.code != slow.code {
		t.Errorf("fast path differs from Go:\nfast: %v\ngo:   %v", fast, slow)
	}
	return fast
}

// fastPathContainers makes one container in each status; the running one
// has a bundle path with a space and annotations that JSON must escape.
func fastPathContainers(t *testing.T, e *env) map[string]string {
	t.Helper()
	plain := e.bundle(testbundle.Spec("sleep", "1000"))
	spaced := filepath.Join(e.dir("bundle"), "with space ☃")
	spec := testbundle.Spec("sleep", "1000")
	spec.Annotations = map[string]string{`say "hi"`: "line one\nline two ünïcode ☃ <&> \\", "empty": ""}
	if err := os.Mkdir(spaced, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := testbundle.New(spaced, spec); err != nil {
		t.Fatal(err)
	}
	exits := e.bundle(testbundle.Spec("true"))
	want := map[string]string{}
	created, running, paused, stopped := e.id("fpc"), e.id("fpr"), e.id("fpp"), e.id("fps")
	e.mustBerth("create", "--bundle", plain, created)
	e.mustBerth("run", "-d", "--bundle", spaced, running)
	e.mustBerth("run", "-d", "--bundle", plain, paused)
	e.mustBerth("pause", paused)
	e.mustBerth("run", "-d", "--bundle", exits, stopped)
	e.waitStatus(stopped, "stopped")
	want[created], want[running], want[paused], want[stopped] = "created", "running", "paused", "stopped"
	return want
}

func TestFastPathParity(t *testing.T) {
	e := newEnv(t)
	// No root directory yet, then an empty one.
	for _, args := range [][]string{{"list"}, {"list", "-q"}, {"list", "-f", "json"}} {
		assertSameAsGo(t, e, args...)
	}
	if err := os.MkdirAll(e.root, 0o711); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"list"}, {"list", "-q"}, {"list", "--format=json"}} {
		assertSameAsGo(t, e, args...)
	}
	want := fastPathContainers(t, e)
	for id, status := range want {
		r := assertSameAsGo(t, e, "state", id)
		var s state
		if err := json.Unmarshal([]byte(r.stdout), &s); err != nil || s.Status != status || (s.Pid == 0) != (status == "stopped") {
			t.Errorf("state %s: %q (%v), want status %s", id, r.stdout, err, status)
		}
	}
	logFile := filepath.Join(e.base, "fast.log")
	for _, args := range [][]string{
		{"list"}, {"list", "-q"}, {"list", "--quiet"}, {"list", "-f", "json"}, {"list", "--format=json"},
		{"list", "--format", "table"}, {"list", "-q", "-f", "json"}, {"list", "-f=json"},
		{"--log-format", "json", "list"}, {"--log", logFile, "--log-format=text", "list", "-q"},
	} {
		assertSameAsGo(t, e, args...)
	}
	// Go creates the --log file even when nothing is logged: so must C.
	os.Remove(logFile)
	e.mustBerth("--log", logFile, "list")
	if _, err := os.Stat(logFile); err != nil {
		t.Errorf("list --log did not create the log file: %v", err)
	}
	r := assertSameAsGo(t, e, "list")
	for id, status := range want {
		if !strings.Contains(r.stdout, id) || !strings.Contains(r.stdout, status) {
			t.Errorf("list lacks %s (%s):\n%s", id, status, r.stdout)
		}
	}
}

func TestFastPathFallsBackToGo(t *testing.T) {
	e := newEnv(t)
	want := fastPathContainers(t, e)
	var some string
	for id := range want {
		some = id
	}
	// Errors and unknown shapes are Go's: same message, same exit code.
	assertError(t, assertSameAsGo(t, e, "state", "no-such-container"), "no-such-container")
	assertError(t, assertSameAsGo(t, e, "list", "-f", "yaml"), "yaml")
	assertError(t, assertSameAsGo(t, e, "state", "../escape"), "escape")
	assertError(t, assertSameAsGo(t, e, "state"), "state")
	assertError(t, assertSameAsGo(t, e, "--log-format", "xml", "list"), "xml")
	assertSameAsGo(t, e, "state", some, "extra")
	// A brief that another schema or another build wrote, is garbage, or
	// is older than its state.json, is not used.
	brief := filepath.Join(e.root, some, "state.brief")
	orig, err := os.ReadFile(brief)
	if err != nil {
		t.Fatal(err)
	}
	for _, spoil := range []func(dir string){
		func(dir string) { os.WriteFile(brief, restamp(t, orig, 2), 0o600) }, // schema hash
		func(dir string) { os.WriteFile(brief, restamp(t, orig, 3), 0o600) }, // build id
		func(dir string) {
			os.WriteFile(filepath.Join(dir, "state.brief"), []byte("berth-brief 1\nid 999\n"), 0o600)
		},
		func(dir string) { rewrite(t, filepath.Join(dir, "state.json")) },
	} {
		spoil(filepath.Join(e.root, some))
		assertSameAsGo(t, e, "state", some)
		assertSameAsGo(t, e, "list", "-f", "json")
		if !startsGoRuntime(t, e, "state", some) || !startsGoRuntime(t, e, "list") {
			t.Errorf("a spoiled brief was used")
		}
	}
}

// restamp changes one word of the brief's header ("berth-brief VERSION
// SCHEMA BUILDID") to another of the same length.
func restamp(t *testing.T, brief []byte, word int) []byte {
	t.Helper()
	head, rest, _ := bytes.Cut(brief, []byte("\n"))
	words := strings.Fields(string(head))
	if len(words) != 4 || words[0] != "berth-brief" {
		t.Fatalf("brief header %q", head)
	}
	w := []byte(words[word])
	w[0] = "01"[b2i(w[0] == '0')]
	words[word] = string(w)
	return append([]byte(strings.Join(words, " ")+"\n"), rest...)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// rewrite replaces path with a copy of itself (a new inode), as a hand
// edit would.
func rewrite(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".new", b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".new", path); err != nil {
		t.Fatal(err)
	}
}

// startsGoRuntime reports whether the command started the Go runtime: with
// GODEBUG=inittrace=1 the runtime reports its own initialisation on stderr.
func startsGoRuntime(t *testing.T, e *env, args ...string) bool {
	t.Helper()
	r := e.berthOpts(runOpts{env: []string{"GODEBUG=inittrace=1"}}, args...)
	if r.code != 0 {
		t.Fatalf("%v", r)
	}
	return strings.Contains(r.stderr, "init runtime")
}

func TestFastPathSkipsGoRuntime(t *testing.T) {
	e := newEnv(t)
	want := fastPathContainers(t, e)
	for id := range want {
		if startsGoRuntime(t, e, "state", id) {
			t.Errorf("state %s started the Go runtime: the fast path did not answer", id)
		}
	}
	for _, args := range [][]string{{"list"}, {"list", "-q"}, {"list", "-f", "json"}} {
		if startsGoRuntime(t, e, args...) {
			t.Errorf("%v started the Go runtime: the fast path did not answer", args)
		}
	}
	// The switch and the flags the fast path leaves alone do reach Go.
	r := e.berthOpts(runOpts{env: []string{"GODEBUG=inittrace=1", "BERTH_NO_FASTPATH=1"}}, "list")
	if r.code != 0 || !strings.Contains(r.stderr, "init runtime") {
		t.Errorf("BERTH_NO_FASTPATH=1 list did not start the Go runtime: %v", r)
	}
	if !startsGoRuntime(t, e, "--debug=true", "list") {
		t.Errorf("--debug=true list did not start the Go runtime")
	}
}
