package specconv

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// newBundle makes a bundle directory with an empty rootfs directory in it.
func newBundle(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "rootfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// writeConfig writes spec (or raw bytes) as bundle/config.json.
func writeConfig(t *testing.T, bundle string, v any) {
	t.Helper()
	data, ok := v.([]byte)
	if !ok {
		var err error
		if data, err = json.MarshalIndent(v, "", "\t"); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(bundle, configName), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// withNamespace returns ns with the entry of type t replaced by (or, when
// absent, extended with) {t, path}.
func withNamespace(ns []specs.LinuxNamespace, t specs.LinuxNamespaceType, path string) []specs.LinuxNamespace {
	out := make([]specs.LinuxNamespace, 0, len(ns)+1)
	found := false
	for _, n := range ns {
		if n.Type == t {
			n.Path = path
			found = true
		}
		out = append(out, n)
	}
	if !found {
		out = append(out, specs.LinuxNamespace{Type: t, Path: path})
	}
	return out
}

// withoutNamespace returns ns without the entry of type t.
func withoutNamespace(ns []specs.LinuxNamespace, t specs.LinuxNamespaceType) []specs.LinuxNamespace {
	var out []specs.LinuxNamespace
	for _, n := range ns {
		if n.Type != t {
			out = append(out, n)
		}
	}
	return out
}

func intPtr(i int) *int { return &i }
