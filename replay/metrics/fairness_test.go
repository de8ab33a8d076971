package metrics

import (
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

func TestJain(t *testing.T) {
	for _, c := range []struct {
		name string
		x    []bwe.Bitrate
		want float64
	}{
		{"empty", nil, 0},
		{"all zero", []bwe.Bitrate{0, 0, 0}, 1},
		{"one flow", []bwe.Bitrate{7}, 1},
		{"equal shares", []bwe.Bitrate{bwe.Mbps, bwe.Mbps, bwe.Mbps, bwe.Mbps}, 1},
		{"one hog of 4", []bwe.Bitrate{4 * bwe.Mbps, 0, 0, 0}, 0.25},
		{"one hog of 5", []bwe.Bitrate{0, 0, bwe.Mbps, 0, 0}, 0.2},
		{"1 and 2", []bwe.Bitrate{1, 2}, 9.0 / 10},
		{"negative reads as 0", []bwe.Bitrate{-5, 3}, 0.5},
		{"huge rates", []bwe.Bitrate{bwe.MaxBitrate, bwe.MaxBitrate}, 1},
	} {
		if got := Jain(c.x); !near(got, c.want, 1e-12) {
			t.Errorf("%s: Jain(%v) = %v, want %v", c.name, c.x, got, c.want)
		}
	}
}

func TestThroughputRatio(t *testing.T) {
	// 30 s at 100 ms. a: 1 Mbps for 25 s, then 0. b: 0.5 Mbps for 10 s
	// (ratio 2, fair), 0.2 Mbps for 10 s (ratio 5, unfair), 0 for 10 s
	// (starved for 5 s, then both idle).
	a := Series{step, concat(constant(250, bwe.Mbps), constant(50, 0))}
	b := Series{step, concat(constant(100, 500*bwe.Kbps), constant(100, 200*bwe.Kbps), constant(100, 0))}
	want := [3]RatioWindows{
		{Window: time.Second, Windows: 25, Within: 10, Idle: 5, Fraction: 0.4},
		{Window: 5 * time.Second, Windows: 5, Within: 2, Idle: 1, Fraction: 0.4},
		// One whole 20 s window: 20 vs 7 Mbit, ratio 2.86: fair. The
		// remaining 10 s do not fill a window.
		{Window: 20 * time.Second, Windows: 1, Within: 1, Fraction: 1},
	}
	if got := RFC8868Fairness(a, b); got != want {
		t.Errorf("RFC8868Fairness =\n%+v\nwant\n%+v", got, want)
	}
	// The bounds are included: a ratio of exactly 3 is fair, both ways.
	x := Series{step, constant(10, 3*bwe.Mbps)}
	y := Series{step, constant(10, bwe.Mbps)}
	for _, pair := range [][2]Series{{x, y}, {y, x}} {
		r, err := ThroughputRatio(pair[0], pair[1], time.Second)
		if err != nil || r.Within != 1 || r.Windows != 1 {
			t.Errorf("ratio exactly 3: %+v, %v; want 1 of 1 within", r, err)
		}
	}
	// A window not aligned to the step integrates partial samples:
	// 150 ms windows over 0.1 s samples of 1, 3, 1, 3 … Mbps against 2 Mbps.
	alt := Series{step, square(20, 1, bwe.Mbps, 3*bwe.Mbps)}
	two := Series{step, constant(20, 2*bwe.Mbps)}
	if r, err := ThroughputRatio(alt, two, 150*time.Millisecond); err != nil || r.Windows != 13 || r.Within != 13 {
		t.Errorf("unaligned windows: %+v, %v; want 13 of 13", r, err)
	}
	for _, w := range []time.Duration{0, -time.Second, 50 * time.Millisecond} {
		if _, err := ThroughputRatio(a, b, w); err == nil {
			t.Errorf("window %v accepted", w)
		}
	}
}
