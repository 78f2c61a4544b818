package warmjson

import (
	"encoding/json"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestSkeletonIsASpec: the skeleton must decode as a spec, or the warm-up
// silently does nothing. Each listed field must be present in it.
func TestSkeletonIsASpec(t *testing.T) {
	<-Done
	var s specs.Spec
	dec := json.NewDecoder(strings.NewReader(skeleton))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("skeleton does not decode as specs.Spec: %v", err)
	}
	for name, ok := range map[string]bool{
		"process.user":           s.Process != nil && len(s.Process.User.AdditionalGids) == 1,
		"process.capabilities":   s.Process != nil && s.Process.Capabilities != nil,
		"process.rlimits":        s.Process != nil && len(s.Process.Rlimits) == 1,
		"mounts":                 len(s.Mounts) == 1,
		"hooks.prestart":         s.Hooks != nil && len(s.Hooks.Prestart) == 1,
		"linux.namespaces":       s.Linux != nil && len(s.Linux.Namespaces) == 1,
		"linux.resources.memory": s.Linux != nil && s.Linux.Resources != nil && s.Linux.Resources.Memory != nil,
		"linux.seccomp.syscalls": s.Linux != nil && s.Linux.Seccomp != nil && len(s.Linux.Seccomp.Syscalls) == 1,
	} {
		if !ok {
			t.Errorf("the skeleton has no %s", name)
		}
	}
}
