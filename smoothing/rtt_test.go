package smoothing

import (
	"math"
	"testing"
	"time"
)

// TestRTTTrend checks the delay test's means on a grid where they can be
// computed by hand: one sample every 100 ms (one per bucket), 50 ms until
// 10 s, 80 ms from then on; means over 1 s, baseline over the last 10 s.
func TestRTTTrend(t *testing.T) {
	r := newRTTTrend(10*time.Second, time.Second)
	rtt := func(i int) time.Duration {
		if i < 100 {
			return 50 * time.Millisecond
		}
		return 80 * time.Millisecond
	}
	tests := []struct {
		i    int // sample index: at = i·100 ms
		want float64
		ok   bool
	}{
		{0, 0, false},   // the first second is not a full span yet
		{8, 0, false},   // still not
		{9, 0, true},    // buckets 0..9: mean 50, the only span
		{99, 0, true},   // flat
		{100, 3, true},  // one of ten at 80: 53 − 50
		{104, 15, true}, // five of ten
		{109, 30, true}, // all ten: 80 − 50
		{198, 30, true}, // the span ending at bucket 99 is still within 10 s
		{199, 27, true}, // ...and now it is not: lowest is 53
		{209, 0, true},  // every span within 10 s ends at 80
	}
	next := 0
	for _, tt := range tests {
		for ; next <= tt.i; next++ {
			r.add(ms(100*float64(next)), rtt(next))
		}
		got, ok := r.rise(ms(100*float64(tt.i)), time.Second, 10*time.Second)
		if ok != tt.ok || math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("sample %d: rise = %v, %v, want %v, %v", tt.i, got, ok, tt.want, tt.ok)
		}
	}
	// RTT samples stop: once the recent span is empty there is no verdict.
	if got, ok := r.rise(ms(100*209).Add(5*time.Second), time.Second, 10*time.Second); ok {
		t.Errorf("5 s without samples: rise = %v, %v, want no verdict", got, ok)
	}
}
