package main

import "testing"

func TestSummarise(t *testing.T) {
	seq := func(n int) []float64 {
		s := make([]float64, n)
		for i := range s {
			s[i] = float64(n - i) // descending: summarise must sort
		}
		return s
	}
	for _, tc := range []struct {
		name    string
		samples []float64
		want    stats
	}{
		{"empty", nil, stats{}},
		{"one", []float64{0.5}, stats{N: 1, Mean: 0.5, Median: 0.5, P95: 0.5, Min: 0.5, Max: 0.5}},
		{"even count averages the middle pair", []float64{4, 1, 3, 2}, stats{N: 4, Mean: 2.5, Median: 2.5, P95: 4, Min: 1, Max: 4}},
		{"odd count", []float64{3, 1, 2}, stats{N: 3, Mean: 2, Median: 2, P95: 3, Min: 1, Max: 3}},
		{"twenty: p95 is the 19th", seq(20), stats{N: 20, Mean: 10.5, Median: 10.5, P95: 19, Min: 1, Max: 20}},
		{"hundred: p95 is the 95th", seq(100), stats{N: 100, Mean: 50.5, Median: 50.5, P95: 95, Min: 1, Max: 100}},
		{"one outlier lands in p95 of 10", []float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 9}, stats{N: 10, Mean: 1.8, Median: 1, P95: 9, Min: 1, Max: 9}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := summarise(tc.samples); got != tc.want {
				t.Errorf("summarise(%v) = %+v, want %+v", tc.samples, got, tc.want)
			}
		})
	}
}

func TestSummariseKeepsInput(t *testing.T) {
	in := []float64{3, 1, 2}
	summarise(in)
	if in[0] != 3 || in[1] != 1 || in[2] != 2 {
		t.Errorf("summarise reordered its input: %v", in)
	}
}
