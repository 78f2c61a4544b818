package specconv

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berthrun/berth/libcontainer"
)

// realPath resolves symlinks in a test directory (TMPDIR may be a link), so
// that expected paths compare equal to what Load returns.
func realPath(t *testing.T, p string) string {
	t.Helper()
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name    string
		setup   func(t *testing.T) string // returns the bundle argument
		wantErr []string
	}{
		{
			name:    "missing bundle",
			setup:   func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope") },
			wantErr: []string{`bundle "`, `/nope": no such directory`},
		},
		{
			name: "bundle is a file",
			setup: func(t *testing.T) string {
				f := filepath.Join(t.TempDir(), "file")
				if err := os.WriteFile(f, nil, 0o644); err != nil {
					t.Fatal(err)
				}
				return f
			},
			wantErr: []string{`/file": not a directory`},
		},
		{
			name:    "missing config.json",
			setup:   func(t *testing.T) string { return newBundle(t) },
			wantErr: []string{"config.json: open ", "/config.json: no such file or directory", `create one with "berth spec"`},
		},
		{
			name: "empty config.json",
			setup: func(t *testing.T) string {
				b := newBundle(t)
				writeConfig(t, b, []byte(" \n"))
				return b
			},
			wantErr: []string{"config.json: empty file"},
		},
		{
			name: "syntax error",
			setup: func(t *testing.T) string {
				b := newBundle(t)
				writeConfig(t, b, []byte("{\n  \"ociVersion\": \"1.3.0\",\n  x\n}\n"))
				return b
			},
			wantErr: []string{"config.json: invalid JSON at line 3, column 3: invalid character 'x'"},
		},
		{
			name: "truncated file",
			setup: func(t *testing.T) string {
				b := newBundle(t)
				writeConfig(t, b, []byte("{\n\t\"ociVersion\": \"1.3.0\",\n\t\"process\": {"))
				return b
			},
			wantErr: []string{"config.json: invalid JSON at line 3, ", "unexpected end of JSON input"},
		},
		{
			name: "wrong type names the field",
			setup: func(t *testing.T) string {
				b := newBundle(t)
				writeConfig(t, b, []byte("{\n\t\"ociVersion\": \"1.3.0\",\n\t\"process\": {\n\t\t\"terminal\": \"yes\"\n\t}\n}\n"))
				return b
			},
			wantErr: []string{"config.json: process.terminal at line 4, column 19: got a JSON string, want true or false"},
		},
		{
			name: "negative uid",
			setup: func(t *testing.T) string {
				b := newBundle(t)
				writeConfig(t, b, []byte(`{"process": {"user": {"uid": -1}}}`))
				return b
			},
			wantErr: []string{"config.json: process.user.uid at line 1, column ", "got a JSON number -1, want a non-negative integer (uint32)"},
		},
		{
			name: "array at top level",
			setup: func(t *testing.T) string {
				b := newBundle(t)
				writeConfig(t, b, []byte(`[]`))
				return b
			},
			wantErr: []string{"config.json: top level at line 1, column 1: got a JSON array, want an object"},
		},
		{
			name: "invalid spec",
			setup: func(t *testing.T) string {
				b := newBundle(t)
				s := Example()
				s.Version = "2.0.0"
				writeConfig(t, b, s)
				return b
			},
			wantErr: []string{`ociVersion "2.0.0": unsupported major version 2`},
		},
		{
			name: "dangling rootfs symlink",
			setup: func(t *testing.T) string {
				b := t.TempDir()
				if err := os.Symlink(filepath.Join(b, "gone"), filepath.Join(b, "rootfs")); err != nil {
					t.Fatal(err)
				}
				writeConfig(t, b, Example())
				return b
			},
			wantErr: []string{`root.path "rootfs": no such directory`},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Load(tc.setup(t), "test", Options{})
			if err == nil {
				t.Fatalf("Load: no error, got config %+v", cfg)
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Load error\n got: %v\nwant: ...%s...", err, want)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("Load error spans lines: %q", err)
			}
		})
	}
}

func TestLoadConfig(t *testing.T) {
	bundle := newBundle(t)
	spec := Example()
	spec.Linux.CgroupsPath = "/berth/test"
	spec.Linux.Namespaces = withNamespace(spec.Linux.Namespaces, specs.NetworkNamespace, "/proc/self/ns/net")
	writeConfig(t, bundle, spec)

	opts := Options{NoPivot: true, NoNewKeyring: true, Rootless: true}
	cfg, err := Load(bundle, "mybox", opts)
	if err != nil {
		t.Fatal(err)
	}
	want := &libcontainer.Config{
		ID:          "mybox",
		Bundle:      bundle,
		Rootfs:      realPath(t, filepath.Join(bundle, "rootfs")),
		CgroupsPath: "/berth/test",
		Namespaces: []libcontainer.Namespace{
			{Type: specs.PIDNamespace},
			{Type: specs.NetworkNamespace, Path: "/proc/self/ns/net"},
			{Type: specs.IPCNamespace},
			{Type: specs.UTSNamespace},
			{Type: specs.MountNamespace},
			{Type: specs.CgroupNamespace},
		},
		NoPivot:      true,
		NoNewKeyring: true,
		Rootless:     true,
	}
	got := *cfg
	got.Spec = nil
	if !reflect.DeepEqual(&got, want) {
		t.Errorf("Load config\n got: %+v\nwant: %+v", &got, want)
	}
	if cfg.Spec == nil || cfg.Spec.Process == nil || cfg.Spec.Linux == nil {
		t.Fatalf("Load: Spec, Spec.Process or Spec.Linux is nil: %+v", cfg.Spec)
	}
	if !reflect.DeepEqual(cfg.Spec, spec) {
		t.Errorf("Load: Spec differs from the config.json written")
	}
	if !cfg.NewNamespace(specs.PIDNamespace) || cfg.NewNamespace(specs.NetworkNamespace) {
		t.Errorf("Load: pid should be new and network joined: %+v", cfg.Namespaces)
	}
}

func TestLoadSystemdOption(t *testing.T) {
	bundle := newBundle(t)
	spec := Example()
	spec.Linux.CgroupsPath = "system.slice:berth:mybox"
	writeConfig(t, bundle, spec)
	cfg, err := Load(bundle, "mybox", Options{SystemdCgroup: true})
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.SystemdCgroup || cfg.CgroupsPath != "system.slice:berth:mybox" {
		t.Errorf("Load: SystemdCgroup %v, CgroupsPath %q", cfg.SystemdCgroup, cfg.CgroupsPath)
	}
	if _, err := Load(bundle, "mybox", Options{}); err != nil {
		t.Errorf("Load without --systemd-cgroup: a:b:c is a plain path and should be accepted: %v", err)
	}
}

func TestLoadRelativeBundle(t *testing.T) {
	bundle := newBundle(t)
	writeConfig(t, bundle, Example())
	t.Chdir(filepath.Dir(bundle))

	cfg, err := Load(filepath.Base(bundle), "mybox", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Bundle != bundle {
		t.Errorf("Bundle = %q, want %q", cfg.Bundle, bundle)
	}
	if want := realPath(t, filepath.Join(bundle, "rootfs")); cfg.Rootfs != want {
		t.Errorf("Rootfs = %q, want %q", cfg.Rootfs, want)
	}
}

func TestLoadAbsoluteRootOutsideBundle(t *testing.T) {
	bundle := newBundle(t)
	elsewhere := t.TempDir()
	spec := Example()
	spec.Root.Path = elsewhere
	writeConfig(t, bundle, spec)

	cfg, err := Load(bundle, "mybox", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := realPath(t, elsewhere); cfg.Rootfs != want {
		t.Errorf("Rootfs = %q, want %q", cfg.Rootfs, want)
	}
}

// TestLoadSymlinkedRootfs checks that Rootfs is the symlink's target, not the
// link: later steps must not follow a link that could be swapped.
func TestLoadSymlinkedRootfs(t *testing.T) {
	bundle := t.TempDir()
	target := filepath.Join(t.TempDir(), "real-rootfs")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(bundle, "rootfs")); err != nil {
		t.Fatal(err)
	}
	writeConfig(t, bundle, Example())

	cfg, err := Load(bundle, "mybox", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := realPath(t, target); cfg.Rootfs != want {
		t.Errorf("Rootfs = %q, want %q", cfg.Rootfs, want)
	}
}

// TestLoadSymlinkToFileRootfs checks that a rootfs symlink to a file is
// refused as not a directory.
func TestLoadSymlinkToFileRootfs(t *testing.T) {
	bundle := t.TempDir()
	file := filepath.Join(bundle, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(file, filepath.Join(bundle, "rootfs")); err != nil {
		t.Fatal(err)
	}
	writeConfig(t, bundle, Example())
	_, err := Load(bundle, "mybox", Options{})
	if err == nil || !strings.Contains(err.Error(), `root.path "rootfs": not a directory`) {
		t.Fatalf("Load: got %v, want root.path not a directory", err)
	}
}

func TestPosition(t *testing.T) {
	data := []byte("ab\ncde\n\nf")
	cases := []struct {
		offset    int64
		line, col int
	}{
		{0, 1, 1},  // before anything: clamp to the first byte
		{1, 1, 1},  // 'a'
		{2, 1, 2},  // 'b'
		{4, 2, 1},  // 'c'
		{6, 2, 3},  // 'e'
		{8, 3, 1},  // the empty line
		{9, 4, 1},  // 'f'
		{10, 4, 2}, // past the end
		{99, 4, 2}, // far past the end
	}
	for _, tc := range cases {
		line, col := position(data, tc.offset)
		if line != tc.line || col != tc.col {
			t.Errorf("position(%d) = %d:%d, want %d:%d", tc.offset, line, col, tc.line, tc.col)
		}
	}
}
