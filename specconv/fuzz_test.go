package specconv

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to Load as config.json. Whatever the input,
// Load must not panic, must fail with one non-empty line, and what it
// accepts must carry the guarantees libcontainer relies on.
func FuzzLoad(f *testing.F) {
	example, err := json.Marshal(Example())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example, false)
	f.Add([]byte(`{"ociVersion":"1.0.0","root":{"path":"rootfs"},"process":{"args":["sh"],"cwd":"/"},"linux":{}}`), true)
	f.Add([]byte(`{"ociVersion":"1.0.0","linux":{"cgroupsPath":"system.slice:berth:x"}}`), true)
	bundle := f.TempDir()
	if err := os.Mkdir(filepath.Join(bundle, "rootfs"), 0o755); err != nil {
		f.Fatal(err)
	}
	config := filepath.Join(bundle, configName)
	f.Fuzz(func(t *testing.T, data []byte, systemd bool) {
		if err := os.WriteFile(config, data, 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(bundle, "fuzz", Options{SystemdCgroup: systemd})
		if err != nil {
			checkErrorLine(t, err)
			return
		}
		switch {
		case cfg.Spec.Process == nil || cfg.Spec.Linux == nil:
			t.Fatal("accepted a config without process or linux")
		case !filepath.IsAbs(cfg.Rootfs) || !filepath.IsAbs(cfg.Bundle):
			t.Fatalf("accepted with relative paths: bundle %q rootfs %q", cfg.Bundle, cfg.Rootfs)
		case len(cfg.Namespaces) != len(cfg.Spec.Linux.Namespaces):
			t.Fatalf("%d namespaces from %d in the spec", len(cfg.Namespaces), len(cfg.Spec.Linux.Namespaces))
		case len(cfg.Spec.Process.Args) == 0 || !filepath.IsAbs(cfg.Spec.Process.Cwd):
			t.Fatalf("accepted process args %q cwd %q", cfg.Spec.Process.Args, cfg.Spec.Process.Cwd)
		}
	})
}

// FuzzParseProcess feeds arbitrary bytes to ParseProcess (berth exec
// --process): no panic, one-line errors, and an accepted process has what
// exec needs.
func FuzzParseProcess(f *testing.F) {
	example, err := json.Marshal(Example().Process)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	f.Add([]byte(`{"args":["sh"],"cwd":"/"}`))
	f.Add([]byte(`{"args":[""],"cwd":"rel","env":["X"],"rlimits":[{"type":"RLIMIT_NOFILE","soft":2,"hard":1}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseProcess(data)
		if err != nil {
			checkErrorLine(t, err)
			if strings.HasPrefix(err.Error(), "process.") {
				t.Fatalf("error names the config.json field, not the process file's: %v", err)
			}
			return
		}
		if len(p.Args) == 0 || p.Args[0] == "" || !filepath.IsAbs(p.Cwd) {
			t.Fatalf("accepted process args %q cwd %q", p.Args, p.Cwd)
		}
	})
}

// checkErrorLine fails unless err prints as exactly one non-empty line: the
// CLI prints it after "berth: " and containerd shows the last line.
func checkErrorLine(t *testing.T, err error) {
	t.Helper()
	msg := err.Error()
	if strings.TrimSpace(msg) == "" || strings.ContainsAny(msg, "\n\r") {
		t.Fatalf("error is not one line: %q", msg)
	}
}
