package metrics

import (
	"math"
	"slices"
	"testing"
	"time"
)

func TestPercentileOneToHundred(t *testing.T) {
	x := make([]time.Duration, 100)
	for i := range x {
		x[i] = time.Duration(i+1) * time.Millisecond
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{
		{0, 1}, {-1, 1}, {math.NaN(), 1}, {0.001, 1}, {0.01, 1}, {0.07, 7}, {0.5, 50},
		{0.501, 51}, {0.95, 95}, {0.99, 99}, {0.991, 100}, {1, 100}, {2, 100},
	} {
		if got := Percentile(x, c.p); got != c.want*time.Millisecond {
			t.Errorf("Percentile(1..100 ms, %v) = %v, want %v", c.p, got, c.want*time.Millisecond)
		}
	}
	q := DelayQuantiles(x)
	if q != (Quantiles{50 * time.Millisecond, 95 * time.Millisecond, 99 * time.Millisecond}) {
		t.Errorf("DelayQuantiles(1..100 ms) = %+v", q)
	}
	if got := Percentile([]time.Duration(nil), 0.5); got != 0 {
		t.Errorf("Percentile(empty) = %v", got)
	}
	// Ten values: p95 is the 10th (⌈9.5⌉), p50 the 5th.
	if got := Percentile([]int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.95); got != 10 {
		t.Errorf("Percentile(1..10, 0.95) = %v, want 10", got)
	}
	if got := Percentile([]int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.5); got != 5 {
		t.Errorf("Percentile(1..10, 0.5) = %v, want 5", got)
	}
}

func TestQueuingDelays(t *testing.T) {
	owd := []time.Duration{80, 50, 70, 50, 130}
	q, base := QueuingDelays(nil, owd)
	if base != 50 || !slices.Equal(q, []time.Duration{30, 0, 20, 0, 80}) {
		t.Errorf("QueuingDelays = %v, base %v; want [30 0 20 0 80], 50", q, base)
	}
	q, base = QueuingDelays(q, nil)
	if len(q) != 0 || base != 0 {
		t.Errorf("QueuingDelays(empty) = %v, %v", q, base)
	}
	q, _ = QueuingDelays(nil, []time.Duration{math.MinInt64, math.MaxInt64})
	if q[1] < 0 {
		t.Errorf("QueuingDelays wrapped: %v", q)
	}
}
