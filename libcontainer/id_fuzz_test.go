package libcontainer

import (
	"path/filepath"
	"strings"
	"testing"
)

// FuzzValidateID: an id ValidateID accepts names exactly one entry directly
// below the state root, whatever it is; a refused one gets a one-line error.
func FuzzValidateID(f *testing.F) {
	for _, id := range []string{"a", "my-box_1.2", "..", "../x", "a/b", "", ".hidden", "-x", "a\x00b", "ünï", strings.Repeat("x", 1025)} {
		f.Add(id)
	}
	const root = "/run/berth"
	f.Fuzz(func(t *testing.T, id string) {
		err := ValidateID(id)
		if err != nil {
			if msg := err.Error(); msg == "" || strings.ContainsAny(msg, "\n\r") {
				t.Fatalf("error is not one line: %q", msg)
			}
			return
		}
		dir := filepath.Join(root, id)
		switch {
		case len(id) == 0 || len(id) > maxIDLen:
			t.Fatalf("accepted an id of %d bytes", len(id))
		case filepath.Dir(dir) != root || filepath.Base(dir) != id:
			t.Fatalf("id %q names %s, not an entry of %s", id, dir, root)
		case strings.ContainsAny(id, "/\x00") || strings.HasPrefix(id, ".") || strings.HasPrefix(id, "-"):
			t.Fatalf("accepted id %q", id)
		}
	})
}
