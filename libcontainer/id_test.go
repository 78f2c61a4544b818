package libcontainer

import (
	"strings"
	"testing"
)

func TestValidateID(t *testing.T) {
	tests := []struct {
		id      string
		wantErr string
	}{
		{"a", ""},
		{"my-box_1.2", ""},
		{"0abc", ""},
		{strings.Repeat("x", 1024), ""},
		{"", "empty"},
		{strings.Repeat("x", 1025), "1025 bytes long"},
		{"../x", "invalid"},
		{"a/b", "invalid"},
		{".", "invalid"},
		{"..", "invalid"},
		{".hidden", "invalid"},
		{"-flag", "invalid"},
		{"sp ace", "invalid"},
		{"new\nline", "invalid"},
		{"a\x00b", "invalid"},
		{"ünïcode", "invalid"},
	}
	for _, tt := range tests {
		err := ValidateID(tt.id)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("ValidateID(%q) = %v, want nil", tt.id, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("ValidateID(%q) = %v, want error containing %q", tt.id, err, tt.wantErr)
		}
	}
}
