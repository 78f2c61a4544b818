package wire

import (
	"strings"
	"testing"

	"github.com/berthrun/berth/internal/tlv"
)

// The generated files carry the hash of the schema they came from; `make
// lint` compares the whole files, this catches the same in `go test`.
func TestGeneratedHashIsCurrent(t *testing.T) {
	if got := Hash(); got != SchemaHash {
		t.Fatalf("schema hash %s, generated files have %s: run go generate ./internal/wire", got, SchemaHash)
	}
}

func TestCheck(t *testing.T) {
	good := &tlv.Writer{}
	good.U32(PlanMode, PlanExec)
	good.Str(PlanArg, "true")
	good.Rec(PlanRlimit, tlv.Data{}.U32(7, 0).U64(1, 2).Str("RLIMIT_NOFILE"))
	good.U32(PlanGroups, 1, 2, 3)
	good.Rec(PlanNNP, nil)
	bind := &tlv.Writer{}
	bind.Rec(RfBind, tlv.Data{}.U64(1, 2, 3).Str("/dst", "/src").U32(0))
	for _, tt := range []struct {
		name string
		m    *Message
		b    []byte
		want string
	}{
		{"plan", &Plan, good.B, ""},
		{"bind", &Rootfs, bind.B, ""},
		{"empty", &Plan, nil, ""},
		{"truncated", &Plan, good.B[:5], "truncated"},
		{"overrun", &Plan, good.B[:10], "overruns"},
		{"unknown tag", &Rootfs, []byte{99, 0, 0, 0, 0, 0, 0, 0}, "unknown record 99"},
		{"short", &Plan, []byte{1, 0, 0, 0, 2, 0, 0, 0, 1, 0}, "short mode"},
		{"left over", &Plan, []byte{1, 0, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0, 0}, "left over"},
		{"unterminated", &Plan, []byte{2, 0, 0, 0, 2, 0, 0, 0, 'a', 'b'}, "unterminated arg"},
		{"not u32s", &Plan, []byte{6, 0, 0, 0, 2, 0, 0, 0, 1, 0}, "not a u32 list"},
		{"bind without slot", &Rootfs, bind.B[:len(bind.B)-4], "overruns"},
	} {
		err := Check(tt.m, tt.b)
		if (err == nil) != (tt.want == "") || err != nil && !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Check = %v, want %q", tt.name, err, tt.want)
		}
	}
}
