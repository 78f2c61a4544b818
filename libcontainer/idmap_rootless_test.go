package libcontainer

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestSubIDRanges(t *testing.T) {
	f := filepath.Join(t.TempDir(), "subuid")
	content := "other:1000:10\nme:200000:1000\n1234:201000:500\nme:300000:10\nme:bad:1\n"
	if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := subIDRanges(f, "me", 1234)
	if err != nil {
		t.Fatal(err)
	}
	// By name and by uid, merged where they touch.
	want := []idRange{{200000, 1500}, {300000, 10}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("ranges %v, want %v", got, want)
	}
	for _, c := range []struct {
		start, size uint64
		ok          bool
	}{{200000, 1500, true}, {200500, 1000, true}, {200000, 1501, false}, {300005, 5, true}, {300005, 6, false}, {1000, 1, false}} {
		if covered(got, c.start, c.size) != c.ok {
			t.Errorf("covered(%d, %d) = %v, want %v", c.start, c.size, !c.ok, c.ok)
		}
	}
	if d := describeRanges(got); d != "200000-201499, 300000-300009" {
		t.Errorf("describeRanges: %q", d)
	}
}

func TestCheckSubIDs(t *testing.T) {
	f := filepath.Join(t.TempDir(), "subuid")
	uid := os.Geteuid()
	if err := os.WriteFile(f, []byte(strings.Join([]string{strconv.Itoa(uid) + ":100000:65536", ""}, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	ok := []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(uid), Size: 1}, {ContainerID: 1, HostID: 100000, Size: 65536}}
	if err := checkSubIDs(ok, uid, f, "linux.uidMappings", "uid"); err != nil {
		t.Errorf("own id plus the granted range: %v", err)
	}
	bad := []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(uid), Size: 1}, {ContainerID: 1, HostID: 100000, Size: 65537}}
	err := checkSubIDs(bad, uid, f, "linux.uidMappings", "uid")
	if err == nil || !strings.HasPrefix(err.Error(), "linux.uidMappings[1]: host uids 100000-165536 ") || !strings.Contains(err.Error(), "grants 100000-165535") {
		t.Errorf("one id past the range: %v", err)
	}
	if !selfMap(ok[:1], uid) || selfMap(ok, uid) || selfMap([]specs.LinuxIDMapping{{HostID: uint32(uid), Size: 2}}, uid) {
		t.Error("selfMap: only one entry of exactly the own id")
	}
}
