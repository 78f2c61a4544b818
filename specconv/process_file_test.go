package specconv

import (
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestParseProcess(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		want    *specs.Process // checked when not nil
		wantErr string         // the whole error line; "" for none
	}{
		{name: "minimal", json: `{"args":["sh"],"cwd":"/"}`,
			want: &specs.Process{Args: []string{"sh"}, Cwd: "/"}},
		{name: "full", json: `{"terminal":true,"user":{"uid":1,"gid":2,"additionalGids":[3]},"args":["ls","-l"],
			"env":["A=b","EMPTY="],"cwd":"/tmp","capabilities":{"bounding":["CAP_KILL"]},
			"rlimits":[{"type":"RLIMIT_NOFILE","soft":10,"hard":20}],"noNewPrivileges":true,"oomScoreAdj":5}`,
			want: &specs.Process{Terminal: true, User: specs.User{UID: 1, GID: 2, AdditionalGids: []uint32{3}},
				Args: []string{"ls", "-l"}, Env: []string{"A=b", "EMPTY="}, Cwd: "/tmp",
				Capabilities:    &specs.LinuxCapabilities{Bounding: []string{"CAP_KILL"}},
				Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 10, Hard: 20}},
				NoNewPrivileges: true, OOMScoreAdj: intPtr(5)}},
		{name: "unknown fields are ignored", json: `{"args":["sh"],"cwd":"/","future":1}`},
		{name: "empty input", json: " \n", wantErr: `process: empty (want a runtime-spec Process JSON object with args and cwd)`},
		{name: "null", json: `null`, wantErr: `args: empty (give the command to run, e.g. ["sh"])`},
		{name: "truncated", json: `{"args":["sh"],`, wantErr: `process: invalid JSON at line 1, column 15: unexpected end of JSON input`},
		{name: "trailing garbage", json: `{"args":["sh"],"cwd":"/"} x`, wantErr: `process: invalid JSON at line 1, column 27: invalid character 'x' after top-level value`},
		{name: "array at top", json: `[]`, wantErr: `process: top level at line 1, column 1: got a JSON array, want an object`},
		{name: "args not a list", json: `{"args":"sh","cwd":"/"}`, wantErr: `process: args at line 1, column 12: got a JSON string, want an array`},
		{name: "uid negative", json: `{"args":["sh"],"cwd":"/","user":{"uid":-1}}`, wantErr: `process: user.uid at line 1, column 41: got a JSON number -1, want a non-negative integer (uint32)`},
		{name: "no args", json: `{"cwd":"/"}`, wantErr: `args: empty (give the command to run, e.g. ["sh"])`},
		{name: "empty command", json: `{"args":[""],"cwd":"/"}`, wantErr: `args[0] "": empty command`},
		{name: "no cwd", json: `{"args":["sh"]}`, wantErr: `cwd "": missing (want an absolute path in the container, e.g. "/")`},
		{name: "relative cwd", json: `{"args":["sh"],"cwd":"tmp"}`, wantErr: `cwd "tmp": must be an absolute path in the container`},
		{name: "env without equals", json: `{"args":["sh"],"cwd":"/","env":["A"]}`, wantErr: `env[0] "A": missing '=' (want NAME=value)`},
		{name: "unknown capability", json: `{"args":["sh"],"cwd":"/","capabilities":{"ambient":["kill"]}}`,
			wantErr: `capabilities.ambient[0] "kill": unknown capability (did you mean "CAP_KILL"?)`},
		{name: "unknown rlimit", json: `{"args":["sh"],"cwd":"/","rlimits":[{"type":"RLIMIT_X","soft":1,"hard":1}]}`,
			wantErr: `rlimits[0].type "RLIMIT_X": unknown rlimit`},
		{name: "oomScoreAdj out of range", json: `{"args":["sh"],"cwd":"/","oomScoreAdj":1001}`,
			wantErr: `oomScoreAdj 1001: out of range (want -1000 to 1000)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseProcess([]byte(tt.json))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("ParseProcess: %v", err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("ParseProcess succeeded, want error %q", tt.wantErr)
			case tt.wantErr != "" && !hasPrefixLine(err.Error(), tt.wantErr):
				t.Fatalf("error %q, want %q", err, tt.wantErr)
			}
			if tt.want != nil && !reflect.DeepEqual(p, tt.want) {
				t.Errorf("got %+v, want %+v", p, tt.want)
			}
		})
	}
}

// hasPrefixLine reports whether got is one line starting with want (the
// rest of some messages lists every accepted value).
func hasPrefixLine(got, want string) bool {
	return strings.HasPrefix(got, want) && !strings.Contains(got, "\n")
}
