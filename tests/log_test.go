package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/berthrun/berth/internal/testbundle"
)

// TestLogJSONErrorLine: with --log F --log-format json, a failing command
// writes exactly one line to F, {"level":"error","msg":M,"time":T} with the
// keys in runc's order, and M is the very message berth printed on stderr:
// that is the text containerd shows its user.
func TestLogJSONErrorLine(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	badVersion := sh("true")
	badVersion.Version = "2.0.0"
	noBinary := testbundle.Spec("/no/such/binary")
	tests := []struct {
		name string
		args func() []string
		want string // in the message
	}{
		{"state of a missing container", func() []string { return []string{"state", "e2e-nosuch-" + randHex(3)} }, "does not exist"},
		{"config refused at create", func() []string { return []string{"create", "--bundle", e.bundle(badVersion), e.id("log")} }, "ociVersion"},
		{"error from inside the container's init", func() []string { return []string{"run", "--bundle", e.bundle(noBinary), e.id("log")} }, "/no/such/binary"},
		{"exec into a missing container", func() []string { return []string{"exec", "e2e-nosuch-" + randHex(3), "true"} }, "does not exist"},
	}
	shape := regexp.MustCompile(`^\{"level":"error","msg":"(?:[^"\\]|\\.)*","time":"[^"]+"\}\n$`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logFile := filepath.Join(e.dir("log"), "log.json")
			args := tt.args()
			r := e.berth(append([]string{"--log", logFile, "--log-format", "json"}, args...)...)
			if args[0] == "exec" {
				assertExecError(t, r, tt.want) // exec's own failures exit 255
			} else {
				assertError(t, r, tt.want)
			}
			b, err := os.ReadFile(logFile)
			if err != nil {
				t.Fatal(err)
			}
			if !shape.Match(b) {
				t.Fatalf("log file is not one {level,msg,time} error line: %q", b)
			}
			var line struct{ Level, Msg, Time string }
			if err := json.Unmarshal(b, &line); err != nil {
				t.Fatal(err)
			}
			if want := strings.TrimSuffix(strings.TrimPrefix(r.stderr, "berth: "), "\n"); line.Msg != want {
				t.Errorf("log msg %q, want what stderr said: %q", line.Msg, want)
			}
		})
	}
}
