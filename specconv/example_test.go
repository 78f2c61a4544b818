package specconv

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestExampleValidates(t *testing.T) {
	if err := Validate(Example(), newBundle(t), Options{}); err != nil {
		t.Fatalf("Example does not validate: %v", err)
	}
}

// TestExampleRoundTrip writes Example as `berth spec` would and loads it
// back, as `berth run` would.
func TestExampleRoundTrip(t *testing.T) {
	bundle := newBundle(t)
	writeConfig(t, bundle, Example())
	cfg, err := Load(bundle, "mybox", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg.Spec, Example()) {
		t.Error("Example changed on the way through JSON")
	}
}

func TestExampleContents(t *testing.T) {
	s := Example()
	if s.Version != specs.Version {
		t.Errorf("ociVersion = %q, want %q", s.Version, specs.Version)
	}
	if !reflect.DeepEqual(s.Process.Args, []string{"sh"}) || !s.Process.Terminal {
		t.Errorf("process: args %q terminal %v, want [sh] and true", s.Process.Args, s.Process.Terminal)
	}
	wantCaps := []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}
	for name, set := range map[string][]string{
		"bounding": s.Process.Capabilities.Bounding, "effective": s.Process.Capabilities.Effective,
		"permitted": s.Process.Capabilities.Permitted,
	} {
		if !reflect.DeepEqual(set, wantCaps) {
			t.Errorf("capabilities.%s = %q, want %q", name, set, wantCaps)
		}
	}
	if want := []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}}; !reflect.DeepEqual(s.Process.Rlimits, want) {
		t.Errorf("rlimits = %+v, want %+v", s.Process.Rlimits, want)
	}
	var dests []string
	for _, m := range s.Mounts {
		dests = append(dests, m.Destination)
	}
	if want := []string{"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"}; !reflect.DeepEqual(dests, want) {
		t.Errorf("mount destinations = %q, want %q", dests, want)
	}
	var types []specs.LinuxNamespaceType
	for _, ns := range s.Linux.Namespaces {
		types = append(types, ns.Type)
	}
	want := []specs.LinuxNamespaceType{"pid", "network", "ipc", "uts", "mount", "cgroup"}
	if !reflect.DeepEqual(types, want) {
		t.Errorf("namespaces = %q, want %q", types, want)
	}
	for _, p := range []string{"/proc/kcore", "/proc/keys", "/sys/firmware"} {
		if !contains(s.Linux.MaskedPaths, p) {
			t.Errorf("maskedPaths lacks %s", p)
		}
	}
	for _, p := range []string{"/proc/sys", "/proc/sysrq-trigger"} {
		if !contains(s.Linux.ReadonlyPaths, p) {
			t.Errorf("readonlyPaths lacks %s", p)
		}
	}
}

// TestExampleIndependent checks that each call returns fresh data: `berth
// spec --rootless` edits what it gets.
func TestExampleIndependent(t *testing.T) {
	a := Example()
	a.Process.Capabilities.Bounding[0] = "CAP_SYS_ADMIN"
	a.Mounts[0].Destination = "/changed"
	ToRootless(a)
	b := Example()
	if b.Process.Capabilities.Bounding[0] != "CAP_AUDIT_WRITE" || b.Process.Capabilities.Effective[0] != "CAP_AUDIT_WRITE" {
		t.Error("editing one Example's capabilities changed another's")
	}
	if b.Mounts[0].Destination != "/proc" || b.Linux.UIDMappings != nil {
		t.Error("editing one Example changed another")
	}
	if a.Process.Capabilities.Effective[0] != "CAP_AUDIT_WRITE" {
		t.Error("capability sets of one Example share storage")
	}
}

func TestToRootlessValidates(t *testing.T) {
	s := Example()
	ToRootless(s)
	if err := Validate(s, newBundle(t), Options{Rootless: true}); err != nil {
		t.Fatalf("rootless Example does not validate: %v", err)
	}
}

func TestToRootlessContents(t *testing.T) {
	s := Example()
	ToRootless(s)

	ns, err := checkNamespaces(s.Linux.Namespaces)
	if err != nil {
		t.Fatal(err)
	}
	if ns.has(specs.NetworkNamespace) {
		t.Error("rootless spec has a network namespace")
	}
	if user, _, ok := ns.lookup(specs.UserNamespace); !ok || user.Path != "" {
		t.Errorf("rootless spec lacks a new user namespace: %+v", s.Linux.Namespaces)
	}
	wantUID := []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(os.Geteuid()), Size: 1}}
	wantGID := []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(os.Getegid()), Size: 1}}
	if !reflect.DeepEqual(s.Linux.UIDMappings, wantUID) || !reflect.DeepEqual(s.Linux.GIDMappings, wantGID) {
		t.Errorf("mappings = %+v / %+v, want %+v / %+v", s.Linux.UIDMappings, s.Linux.GIDMappings, wantUID, wantGID)
	}
	if s.Linux.Resources != nil {
		t.Errorf("rootless spec keeps linux.resources: %+v", s.Linux.Resources)
	}
	for _, m := range s.Mounts {
		if filepath.Clean(m.Destination) == "/sys" {
			if m.Source != "/sys" || !contains(m.Options, "rbind") || !contains(m.Options, "ro") {
				t.Errorf("/sys mount = %+v, want a read-only rbind of /sys", m)
			}
		}
		for _, o := range m.Options {
			if strings.HasPrefix(o, "gid=") || strings.HasPrefix(o, "uid=") {
				t.Errorf("mount %s keeps option %s", m.Destination, o)
			}
		}
	}
	if len(s.Mounts) != len(Example().Mounts) {
		t.Errorf("rootless spec has %d mounts, want %d", len(s.Mounts), len(Example().Mounts))
	}
}

// TestToRootlessIdempotent checks that applying it twice gives one user
// namespace, not two.
func TestToRootlessIdempotent(t *testing.T) {
	once := Example()
	ToRootless(once)
	twice := Example()
	ToRootless(twice)
	ToRootless(twice)
	if !reflect.DeepEqual(once, twice) {
		t.Error("ToRootless applied twice differs from once")
	}
}

func TestToRootlessWithoutLinux(t *testing.T) {
	s := &specs.Spec{}
	ToRootless(s)
	if s.Linux == nil || len(s.Linux.Namespaces) != 1 || s.Linux.Namespaces[0].Type != specs.UserNamespace {
		t.Errorf("ToRootless on an empty spec: %+v", s.Linux)
	}
}

// TestExampleJSONFieldNames pins the JSON that `berth spec` writes to the
// spec's names (a typo in a struct literal would not show in Go).
func TestExampleJSONFieldNames(t *testing.T) {
	data, err := json.Marshal(Example())
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"ociVersion":"` + specs.Version + `"`, `"terminal":true`, `"noNewPrivileges":true`, `"readonly":true`, `"maskedPaths"`, `"readonlyPaths"`} {
		if !strings.Contains(string(data), key) {
			t.Errorf("Example JSON lacks %s", key)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
