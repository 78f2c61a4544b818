package specconv

import (
	"os"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestHooksAreChecked: every hook Hooks lists is one checkHooks looks at.
func TestHooksAreChecked(t *testing.T) {
	bad := []specs.Hook{{Path: "relative"}}
	set := map[string]func(*specs.Hooks){
		//lint:ignore SA1019 deprecated, but still run
		"prestart":        func(h *specs.Hooks) { h.Prestart = bad },
		"createRuntime":   func(h *specs.Hooks) { h.CreateRuntime = bad },
		"createContainer": func(h *specs.Hooks) { h.CreateContainer = bad },
		"startContainer":  func(h *specs.Hooks) { h.StartContainer = bad },
		"poststart":       func(h *specs.Hooks) { h.Poststart = bad },
		"poststop":        func(h *specs.Hooks) { h.Poststop = bad },
	}
	names := Hooks()
	if len(names) != len(set) {
		t.Errorf("Hooks() = %v, want the %d hooks of the spec", names, len(set))
	}
	for _, name := range names {
		h := &specs.Hooks{}
		set[name](h)
		err := checkHooks(h)
		if err == nil || !strings.Contains(err.Error(), "hooks."+name+"[0].path") {
			t.Errorf("%s: checkHooks = %v, want an error on hooks.%s[0].path", name, err, name)
		}
	}
}

// TestNamespacesOfHost: every listed namespace is known and on this kernel.
func TestNamespacesOfHost(t *testing.T) {
	got := Namespaces()
	if len(got) < 6 {
		t.Fatalf("Namespaces() = %v: a kernel for containers has at least pid, net, mnt, ipc, uts, user", got)
	}
	for _, n := range got {
		tp := specs.LinuxNamespaceType(n)
		if !knownNamespace(tp) {
			t.Errorf("%s: listed but not a known type", n)
		}
		if _, err := os.Stat("/proc/self/ns/" + nsFileName(tp)); err != nil {
			t.Errorf("%s: listed but the host lacks it: %v", n, err)
		}
	}
}
