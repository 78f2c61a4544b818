package main

import (
	"math"
	"sort"
)

// stats summarises a set of samples. Times are in seconds, sizes in bytes.
type stats struct {
	N      int     `json:"n"`
	Mean   float64 `json:"mean"`
	Median float64 `json:"median"`
	P95    float64 `json:"p95"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// summarise computes the stats of samples; an empty set gives all zeros.
func summarise(samples []float64) stats {
	if len(samples) == 0 {
		return stats{}
	}
	s := append([]float64(nil), samples...)
	sort.Float64s(s)
	sum := 0.0
	for _, v := range s {
		sum += v
	}
	n := len(s)
	median := s[n/2]
	if n%2 == 0 {
		median = (s[n/2-1] + s[n/2]) / 2
	}
	return stats{N: n, Mean: sum / float64(n), Median: median, P95: percentile(s, 95), Min: s[0], Max: s[n-1]}
}

// percentile is the nearest-rank percentile of sorted: the smallest sample
// that at least p% of the samples do not exceed.
func percentile(sorted []float64, p float64) float64 {
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}
