package main

import (
	"os"
	"strings"
	"testing"
)

func TestParseStatus(t *testing.T) {
	for _, tc := range []struct {
		name    string
		status  string
		want    procMemory
		wantErr string
	}{
		{
			name:   "process",
			status: "Name:\tsleep\nVmPeak:\t    1200 kB\nVmRSS:\t     900 kB\nRssAnon:\t     100 kB\nRssFile:\t     800 kB\n",
			want:   procMemory{RSS: 900 * 1024, Anon: 100 * 1024},
		},
		{name: "zombie has neither", status: "Name:\ttrue\nState:\tZ (zombie)\n", wantErr: "no VmRSS"},
		{name: "only one", status: "VmRSS:\t 1 kB\n", wantErr: "no VmRSS"},
		{name: "unit other than kB", status: "VmRSS:\t 1 MB\nRssAnon:\t 1 kB\n", wantErr: "unexpected"},
		{name: "not a number", status: "VmRSS:\t x kB\nRssAnon:\t 1 kB\n", wantErr: "invalid syntax"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStatus("status", strings.NewReader(tc.status))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestReadProcMemorySelf(t *testing.T) {
	m, err := readProcMemory(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if m.Anon == 0 || m.Anon > m.RSS {
		t.Errorf("own RSS %d, anon %d: want 0 < anon <= RSS", m.RSS, m.Anon)
	}
}
