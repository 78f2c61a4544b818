package tests

import "testing"

// TestRootlessFlagValues: --rootless takes what runc takes (auto in any
// case, and strconv.ParseBool's spellings); anything else fails in one
// line naming the flag, before any container is touched.
func TestRootlessFlagValues(t *testing.T) {
	e := newEnv(t)
	for _, v := range []string{"auto", "AUTO", "true", "1", "T", "False", "0", "f"} {
		if r := e.berth("--rootless", v, "features"); r.code != 0 {
			t.Errorf("--rootless %s: %v", v, r)
		}
	}
	for _, v := range []string{"yes", "2", "tRUE"} {
		assertError(t, e.berth("--rootless", v, "features"), `--rootless "`+v+`"`, "auto, true or false")
	}
}
