package ctest

import (
	"encoding/json"
	"math/rand"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berthrun/berth/internal/trace"
)

// goMs is what cmd/berth's handlers print for a duration of ns: trace.ms
// (rounded to the microsecond), as encoding/json writes a float64 or as
// slog's text handler does (strconv 'g').
func goMs(ns int64, asJSON bool) string {
	ms := float64(time.Duration(ns).Round(time.Microsecond)) / float64(time.Millisecond)
	if asJSON {
		b, _ := json.Marshal(ms)
		return string(b)
	}
	return strconv.FormatFloat(ms, 'g', -1, 64)
}

// C must print every phase_ms as Go does: the lines of both go to the
// same log file and are parsed by the same tools.
func TestTraceMsMatchesGo(t *testing.T) {
	cases := []int64{0, 1, 499, 500, 999, 1000, 1499, 1500, 10_000, 123_456, 999_999, 1_000_000,
		17_350_000, 100_000_000, 999_999_499, 1_000_000_000, 123_456_789_012, 999_999_999_999,
		1_000_000_000_000, 1_234_567_500_000, 86_400_000_000_000}
	r := rand.New(rand.NewSource(21))
	for i := 0; i < 2000; i++ {
		cases = append(cases, r.Int63n(int64(1)<<uint(r.Intn(50)+1)))
	}
	for _, ns := range cases {
		for _, asJSON := range []bool{false, true} {
			if got, want := TraceMs(ns, asJSON), goMs(ns, asJSON); got != want {
				t.Errorf("%d ns (json %v): C prints %q, Go %q", ns, asJSON, got, want)
			}
		}
	}
}

var textLine = regexp.MustCompile(`^time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d) level=debug msg=trace point=(\S+) phase_ms=(\S+) total_ms=(\S+)( side=\S+)?\n$`)

func TestTraceLine(t *testing.T) {
	for _, side := range []string{"", "init"} {
		line := TraceLine(false, "start:exec", 1_500_000, 17_350_000, side)
		m := textLine.FindStringSubmatch(line)
		wantSide := ""
		if side != "" {
			wantSide = " side=" + side
		}
		if m == nil || m[2] != "start:exec" || m[3] != "1.5" || m[4] != "17.35" || m[5] != wantSide {
			t.Errorf("text line %q", line)
		}
		var got map[string]any
		line = TraceLine(true, "start:exec", 1_500_000, 17_350_000, side)
		if err := json.Unmarshal([]byte(line), &got); err != nil || !strings.HasSuffix(line, "}\n") {
			t.Fatalf("json line %q: %v", line, err)
		}
		keys := []string{"level", "msg", "time", "point", "phase_ms", "total_ms"}
		if side != "" {
			keys = append(keys, "side")
		}
		// runc's order (level, msg, time), then the attributes in order.
		for i, k := range keys {
			if at := strings.Index(line, `"`+k+`":`); at < 0 || i > 0 && at < strings.Index(line, `"`+keys[i-1]+`":`) {
				t.Errorf("json line %q: key %s missing or out of order", line, k)
			}
		}
		if _, err := time.Parse(time.RFC3339Nano, got["time"].(string)); err != nil {
			t.Errorf("json line %q: time: %v", line, err)
		}
		if got["level"] != "debug" || got["msg"] != "trace" || got["point"] != "start:exec" || got["phase_ms"] != 1.5 ||
			got["total_ms"] != 17.35 || (side != "" && got["side"] != side) {
			t.Errorf("json line %q", line)
		}
	}
}

// The spans berth init hands to the parent decode as the Go init's do
// (trace.Span), in order, with phases that add up to the totals; the
// second call has nothing left to send.
func TestTraceCollect(t *testing.T) {
	names := []string{"stage0:bootstrap", "stage0:namespaces", "stage0:cloned"}
	first, second := TraceCollect(names)
	var spans []trace.Span
	if err := json.Unmarshal([]byte(first), &spans); err != nil {
		t.Fatalf("spans %q: %v", first, err)
	}
	var got []string
	var sum time.Duration
	for _, s := range spans {
		got = append(got, s.Point)
		sum += s.Phase
		if s.Phase < 0 || s.Total != sum {
			t.Errorf("span %+v: phase negative or total %v is not the phases' sum %v", s, s.Total, sum)
		}
	}
	if !slices.Equal(got, names) || second != "" {
		t.Errorf("spans %v then %q, want %v then nothing", got, second, names)
	}
	if none, _ := TraceCollect(nil); none != "" {
		t.Errorf("no points rendered %q, want nothing", none)
	}
}

func TestTraceChildEnv(t *testing.T) {
	for _, tt := range []struct {
		env     map[string]string
		logging bool
		want    []string
	}{
		{nil, false, nil},
		{nil, true, []string{"_BERTH_TRACE=1"}},
		{map[string]string{"BERTH_TEST_CRASH_AT": "stage0:cloned"}, false, []string{"BERTH_TEST_CRASH_AT=stage0:cloned"}},
		{map[string]string{"BERTH_TEST_CRASH_AT": "init:pivot", "BERTH_TRACE": "1"}, true,
			[]string{"_BERTH_TRACE=1", "BERTH_TEST_CRASH_AT=init:pivot"}},
		{map[string]string{"BERTH_TEST_CRASH_AT": ""}, false, nil},
	} {
		if got := TraceChildEnv(tt.env, tt.logging); !slices.Equal(got, tt.want) {
			t.Errorf("env %v logging %v: child env %q, want %q", tt.env, tt.logging, got, tt.want)
		}
	}
}
