package metrics

import (
	"math"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

func TestSwings(t *testing.T) {
	const (
		lo = 1000 * bwe.Kbps
		hi = 1100 * bwe.Kbps
	)
	for _, c := range []struct {
		name  string
		rates []bwe.Bitrate
		want  int
	}{
		// A square wave 0.8 / 1.2 Mbps, 1 s each level, 20 s: 20 levels,
		// 19 changes of level, each crossing both watermarks.
		{"square 0.8/1.2", square(200, 10, 800*bwe.Kbps, 1200*bwe.Kbps), 19},
		// Between the watermarks nothing happens: low, 1.05, low, 1.05 …
		{"inside the hysteresis", square(200, 10, 800*bwe.Kbps, 1050*bwe.Kbps), 0},
		// Touching the watermarks counts (≤ low, ≥ high).
		{"touching", []bwe.Bitrate{lo, hi, lo, hi}, 3},
		// Entering a state is not a swing; a detour through the middle is
		// still one swing.
		{"detour", []bwe.Bitrate{1050 * bwe.Kbps, hi, 1050 * bwe.Kbps, 1050 * bwe.Kbps, lo}, 1},
		{"empty", nil, 0},
	} {
		got, err := Swings(Series{Step: step, Rates: c.rates}, lo, hi)
		if err != nil || got != c.want {
			t.Errorf("%s: Swings = %d, %v; want %d", c.name, got, err, c.want)
		}
	}
	if _, err := Swings(Series{}, hi, lo); err == nil {
		t.Error("Swings accepted low > high")
	}
	if _, err := Swings(Series{}, lo, lo); err == nil {
		t.Error("Swings accepted low == high")
	}
}

func TestRFC8868Swings(t *testing.T) {
	s := Series{Step: time.Second, Rates: []bwe.Bitrate{
		400 * bwe.Kbps, 1500 * bwe.Kbps, 400 * bwe.Kbps, 3 * bwe.Mbps, 400 * bwe.Kbps}}
	want := [3]WatermarkSwings{
		{500 * bwe.Kbps, bwe.Mbps, 4},
		{bwe.Mbps, 2 * bwe.Mbps, 2},
		{2 * bwe.Mbps, 4 * bwe.Mbps, 0},
	}
	if got := RFC8868Swings(s); got != want {
		t.Errorf("RFC8868Swings = %+v, want %+v", got, want)
	}
}

func TestWindowedCV(t *testing.T) {
	// Alternating 0.9 / 1.1 Mbps every sample: every 10-sample window holds
	// five of each, σ = 0.1 Mbps, μ = 1 Mbps, CV = 0.1. Then 0.8 / 1.2
	// Mbps: CV = 0.2. The capacity changes between the two halves, so the
	// 9 windows that straddle the change are not measured: 41 + 41.
	rates := concat(square(50, 1, 900*bwe.Kbps, 1100*bwe.Kbps), square(50, 1, 800*bwe.Kbps, 1200*bwe.Kbps))
	capacity := Series{Step: time.Second, Rates: concat(constant(5, bwe.Mbps), constant(5, 2*bwe.Mbps))}
	got, err := WindowedCV(Series{step, rates}, capacity, time.Second)
	if err != nil || got.Windows != 82 || !near(got.Mean, 0.15, 1e-12) || !near(got.Max, 0.2, 1e-12) {
		t.Errorf("WindowedCV = %+v, %v; want 82 windows, mean 0.15, max 0.2", got, err)
	}
	// Without capacity, every window counts: 91, some straddling.
	got, err = WindowedCV(Series{step, rates}, Series{}, time.Second)
	if err != nil || got.Windows != 91 || got.Max < 0.2 {
		t.Errorf("WindowedCV without capacity = %+v, %v; want 91 windows", got, err)
	}
	// Constant rate and all-zero rate: CV 0.
	for _, r := range []bwe.Bitrate{0, 3 * bwe.Mbps} {
		got, err = WindowedCV(Series{step, constant(200, r)}, Series{}, 10*time.Second)
		if err != nil || got.Windows != 101 || got.Mean != 0 || got.Max != 0 {
			t.Errorf("WindowedCV(constant %v) = %+v, %v", r, got, err)
		}
	}
	// Many slides of large values: the periodic recomputation keeps the
	// sliding sums exact enough that a constant stays at CV 0.
	big := Series{step, concat(constant(5000, 9e15), constant(5000, 9e15+1))}
	got, _ = WindowedCV(big, Series{}, time.Second)
	if got.Max > 1e-9 {
		t.Errorf("WindowedCV drifted: max %v", got.Max)
	}
	// Capacity shorter than the rate: windows past its end are not measured.
	got, _ = WindowedCV(Series{step, constant(100, bwe.Mbps)}, Series{step, constant(50, bwe.Mbps)}, time.Second)
	if got.Windows != 41 {
		t.Errorf("WindowedCV with a short capacity measured %d windows, want 41", got.Windows)
	}
	for _, w := range []time.Duration{0, -time.Second, 150 * time.Millisecond} {
		if _, err := WindowedCV(Series{step, rates}, Series{}, w); err == nil {
			t.Errorf("WindowedCV accepted window %v", w)
		}
	}
}

func TestCountReversals(t *testing.T) {
	for _, c := range []struct {
		name      string
		rates     []bwe.Bitrate
		threshold float64
		want      int
		perMinute float64
	}{
		// 60 samples of 1 s alternating 100 / 120: the first rise sets
		// the direction, each of the other 58 moves (20 % of 100 and
		// 16.7 % of 120, both > 10 %) reverses: 58 in one minute.
		{"zigzag 20 %", square(60, 1, 100, 120), 0.10, 58, 58},
		// The same zigzag with a 20 % threshold: the rise 100 → 120 is
		// 20 % of 100 and the fall 16.7 % of 120, neither more than 20 %:
		// no move counts.
		{"zigzag under threshold", square(60, 1, 100, 120), 0.20, 0, 0},
		// Noise of ±4 % around a rise and a fall of 50 %: two moves.
		{"noisy peak", []bwe.Bitrate{100, 104, 100, 150, 145, 150, 146, 100, 104, 100, 150}, 0.10, 2, 120.0 / 11},
		{"monotone", ramp(60, 100, 10), 0.01, 0, 0},
		{"empty", nil, 0.1, 0, 0},
	} {
		got, err := CountReversals(Series{Step: time.Second, Rates: c.rates}, c.threshold)
		if err != nil || got.Count != c.want || !near(got.PerMinute, c.perMinute, 1e-12) {
			t.Errorf("%s: CountReversals = %+v, %v; want %d (%v/min)", c.name, got, err, c.want, c.perMinute)
		}
	}
	for _, th := range []float64{-0.1, math.NaN(), math.Inf(1)} {
		if _, err := CountReversals(Series{}, th); err == nil {
			t.Errorf("CountReversals accepted threshold %v", th)
		}
	}
}
