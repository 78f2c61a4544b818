package libcontainer

import (
	"slices"
	"testing"
)

func TestProcessEnv(t *testing.T) {
	for _, c := range []struct {
		name    string
		in, out []string
	}{
		{"empty", nil, []string{}},
		{"unique kept in order", []string{"A=1", "B=2"}, []string{"A=1", "B=2"}},
		{"last value, last place", []string{"A=1", "B=2", "A=3"}, []string{"B=2", "A=3"}},
		{"exec -e overrides", []string{"PATH=/bin", "TERM=xterm", "PATH=/usr/bin"}, []string{"TERM=xterm", "PATH=/usr/bin"}},
		{"empty HOME dropped", []string{"HOME=", "A=1"}, []string{"A=1"}},
		{"empty HOME overrides set one", []string{"HOME=/root", "HOME="}, []string{}},
		{"set HOME overrides empty one", []string{"HOME=", "HOME=/x"}, []string{"HOME=/x"}},
		{"empty value of other names kept", []string{"A="}, []string{"A="}},
		{"value with =", []string{"A=b=c", "A=d=e"}, []string{"A=d=e"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := processEnv(c.in); !slices.Equal(got, c.out) {
				t.Errorf("processEnv(%q) = %q, want %q", c.in, got, c.out)
			}
		})
	}
}
