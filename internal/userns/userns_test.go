package userns

import "testing"

func TestInitialMap(t *testing.T) {
	for in, want := range map[string]bool{
		"         0          0 4294967295\n": true,
		"         0       1001          1\n": false,
		"0 1001 1\n1 100000 65536\n":         false,
		"":                                   false,
		"0 0 4294967294\n":                   false,
	} {
		if got := initialMap([]byte(in)); got != want {
			t.Errorf("initialMap(%q) = %v, want %v", in, got, want)
		}
	}
}
