package specconv

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// processDoc names a process file (`berth exec --process`) in errors about
// the document as a whole.
const processDoc = "process"

// ParseProcess decodes and validates a runtime-spec Process, the JSON that
// `berth exec --process` reads. It applies the checks config.json's process
// gets (args, cwd, env, capabilities, rlimits, oomScoreAdj), and its errors
// name the field as it appears in that file: "args", not "process.args".
// A terminal is allowed: whether one can be given is the caller's business.
func ParseProcess(b []byte) (*specs.Process, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, badField(processDoc, "empty (want a runtime-spec Process JSON object with args and cwd)")
	}
	p := new(specs.Process)
	if err := json.Unmarshal(b, p); err != nil {
		return nil, describeJSONError(processDoc, b, err)
	}
	if err := checkProcess(p); err != nil {
		return nil, relativeToProcess(err)
	}
	return p, nil
}

// relativeToProcess renames a config.json field error (process.cwd) to the
// field of a process file (cwd).
func relativeToProcess(err error) error {
	var fe *fieldError
	if !errors.As(err, &fe) {
		return err
	}
	if field, ok := strings.CutPrefix(fe.field, "process."); ok {
		return &fieldError{field: field, value: fe.value, msg: fe.msg}
	}
	return err
}
