package libcontainer

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestDecodeState(t *testing.T) {
	good, err := json.Marshal(testState("box"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, id, json string
		wantErr        string // "" for none
	}{
		{"as saved", "box", string(good), ""},
		{"not json", "box", "{", `container "box": corrupt state.json: unexpected end of JSON input`},
		{"wrong type", "box", `{"initPid":"1"}`, `corrupt state.json: json: cannot unmarshal string into Go struct field savedState.initPid of type int`},
		{"other id", "box", strings.Replace(string(good), `"id":"box"`, `"id":"../other"`, 1), `id "../other" does not match its directory`},
		{"negative pid", "box", strings.Replace(string(good), `"initPid":42`, `"initPid":-1`, 1), `initPid -1 is negative`},
		{"no config", "box", `{"id":"box"}`, `no config`},
		{"null spec", "box", `{"id":"box","config":{"spec":null}}`, `no config`},
		{"no process", "box", `{"id":"box","config":{"spec":{"linux":{}}}}`, `config has no process or no linux section`},
		{"no linux", "box", `{"id":"box","config":{"spec":{"process":{}}}}`, `config has no process or no linux section`},
		{"relative cgroup", "box", strings.Replace(string(good), `"/sys/fs/cgroup/memory/box"`, `"memory/box"`, 1), `cgroupPaths["memory"] "memory/box" is not a clean absolute path`},
		{"cgroup with dotdot", "box", strings.Replace(string(good), `"/sys/fs/cgroup/memory/box"`, `"/sys/fs/cgroup/memory/../../.."`, 1), `is not a clean absolute path`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := decodeState(tt.id, []byte(tt.json))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("decodeState: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("decodeState: %v, want error containing %q", err, tt.wantErr)
			case tt.wantErr == "" && st.ID != tt.id:
				t.Fatalf("decoded id %q", st.ID)
			}
		})
	}
}

// FuzzDecodeState feeds arbitrary state.json bytes to the loader and uses
// what it accepts the way state, list and delete do: no panic, one-line
// errors naming the container, and a stable re-encoding.
func FuzzDecodeState(f *testing.F) {
	good, err := json.Marshal(testState("box"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add("box", good)
	f.Add("box", []byte(`{"id":"box","initPid":1,"config":{"spec":{"process":{},"linux":{}}}}`))
	f.Add("x", []byte(`{"id":"x","cgroupPaths":{"":"/sys/fs/cgroup/x"},"config":{"spec":{"process":null}}}`))
	rt := &Runtime{Root: "/nonexistent-berth-fuzz-root"}
	f.Fuzz(func(t *testing.T, id string, data []byte) {
		if ValidateID(id) != nil {
			return // load is only ever called with a valid id
		}
		st, err := decodeState(id, data)
		if err != nil {
			msg := err.Error()
			if strings.ContainsAny(msg, "\n\r") || !strings.Contains(msg, `"`+id+`"`) {
				t.Fatalf("error is not one line naming the container: %q", msg)
			}
			return
		}
		c := &Container{rt: rt, st: st}
		_ = c.State()
		_ = st.hookState(Running)
		_, _ = c.Config().Namespace(specs.PIDNamespace)
		again, err := json.Marshal(st)
		if err != nil {
			t.Fatalf("accepted state does not encode: %v", err)
		}
		st2, err := decodeState(id, again)
		if err != nil {
			t.Fatalf("re-encoded state does not decode: %v", err)
		}
		if third, _ := json.Marshal(st2); !bytes.Equal(third, again) {
			t.Fatalf("re-encoding is not stable:\n%s\n%s", again, third)
		}
	})
}
