package buildid

import (
	"debug/elf"
	"encoding/hex"
	"os"
	"testing"
)

// The id read from memory is the one in the file's note.
func TestGetMatchesFile(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := f.Section(".note.gnu.build-id")
	if s == nil {
		t.Skip("test binary has no GNU build id")
	}
	d, err := s.Data()
	if err != nil || len(d) < 16 {
		t.Fatalf("note: %v %x", err, d)
	}
	want := hex.EncodeToString(d[16:]) // 12-byte header, "GNU\0"
	if got := Get(); got != want {
		t.Fatalf("Get() = %q, want %q", got, want)
	}
}
