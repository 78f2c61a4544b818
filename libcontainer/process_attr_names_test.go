package libcontainer

import (
	"slices"
	"strings"
	"testing"
)

func TestParseIDList(t *testing.T) {
	tests := []struct {
		in      string
		want    []int
		wantErr string
	}{
		{"0", []int{0}, ""},
		{"0-3,7", []int{0, 1, 2, 3, 7}, ""},
		{"3,1-2,2", []int{1, 2, 3}, ""},
		{"5-5", []int{5}, ""},
		{"", nil, "empty list"},
		{"1,", nil, `"": want a number`},
		{"a", nil, `"a": want a number`},
		{"-1", nil, `"-1": want a number`},
		{"+1", nil, `"+1": want a number`},
		{"4-2", nil, `"4-2": the range goes down`},
		{"0-99999", nil, "too large"},
	}
	for _, tt := range tests {
		got, err := ParseIDList(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseIDList(%q) error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ParseIDList(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}
