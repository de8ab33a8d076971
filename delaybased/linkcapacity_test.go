package delaybased

import (
	"math"
	"testing"

	"github.com/bwelab/bwe"
)

// TestLinkCapacitySequence runs a scripted sequence against values
// computed independently (python3, IEEE doubles) from the formulas of
// libwebrtc link_capacity_estimator.cc: samples rounded to whole kbps,
// est ← (1−α)·est + α·s, dev ← (1−α)·dev + α·(est−s)²/max(est,1) clamped to
// [float32(0.4), 2.5], bounds est ± 3·sqrt(dev·est) truncated to bps.
func TestLinkCapacitySequence(t *testing.T) {
	var l LinkCapacity
	if l.HasEstimate() || l.Estimate() != 0 || l.UpperBound() != bwe.MaxBitrate || l.LowerBound() != 0 {
		t.Fatalf("zero LinkCapacity: has=%v est=%v bounds=[%v, %v], want false, 0, [0, max]",
			l.HasEstimate(), l.Estimate(), l.LowerBound(), l.UpperBound())
	}
	steps := []struct {
		name              string
		do                func(*LinkCapacity)
		est, lower, upper bwe.Bitrate
		dev               float64
		why               string
	}{
		{"OnOveruseDetected(500 kbps)", func(l *LinkCapacity) { l.OnOveruseDetected(500_000) },
			500_000, 457_573, 542_426, 0.4000000059604645,
			"first sample sets the estimate; dev 0.95·0.4 = 0.38 clamps up to float32(0.4)"},
		{"OnOveruseDetected(520.4 kbps)", func(l *LinkCapacity) { l.OnOveruseDetected(520_400) },
			501_000, 457_688, 544_311, 0.4160279497742177,
			"sample rounds to 520 kbps; est 0.95·500 + 0.05·520 = 501"},
		{"OnProbeRate(800 kbps)", func(l *LinkCapacity) { l.OnProbeRate(800_000) },
			650_500, 529_519, 771_480, 2.5,
			"α = 0.5: est 650.5; dev clamps to 2.5"},
		{"OnOveruseDetected(640 kbps)", func(l *LinkCapacity) { l.OnOveruseDetected(640_000) },
			649_975, 531_915, 768_034, 2.3826541886226393,
			"EWMA with α = 0.05"},
		{"Reset, OnOveruseDetected(300 kbps)", func(l *LinkCapacity) { l.Reset(); l.OnOveruseDetected(300_000) },
			300_000, 221_823, 378_176, 2.2635214791915073,
			"Reset drops the estimate but keeps dev: 0.95·2.38265"},
		{"OnOveruseDetected(5 kbps)", func(l *LinkCapacity) { l.OnOveruseDetected(5000) },
			285_250, 205_136, 365_363, 2.5,
			"large error: dev clamps to 2.5"},
	}
	for i, s := range steps {
		s.do(&l)
		if got := l.Estimate(); got != s.est {
			t.Errorf("step %d: %s: Estimate() = %d, want %d (%s)", i, s.name, got, s.est, s.why)
		}
		if got := l.LowerBound(); got != s.lower {
			t.Errorf("step %d: %s: LowerBound() = %d, want %d", i, s.name, got, s.lower)
		}
		if got := l.UpperBound(); got != s.upper {
			t.Errorf("step %d: %s: UpperBound() = %d, want %d", i, s.name, got, s.upper)
		}
		if got := l.Deviation(); got != s.dev {
			t.Errorf("step %d: %s: Deviation() = %v, want %v (%s)", i, s.name, got, s.dev, s.why)
		}
	}
}

// TestLinkCapacityRounding: samples are taken in whole kbps, rounded half
// up (libwebrtc DataRate::kbps() on an int64 count of bps).
func TestLinkCapacityRounding(t *testing.T) {
	for _, c := range []struct {
		sample, want bwe.Bitrate
	}{
		{499, 0}, {500, 1000}, {1499, 1000}, {1500, 2000}, {-3000, 0},
		{bwe.MaxBitrate, bwe.MaxBitrate}, // 9223372036854775 kbps rounds up as a double; ×1000 saturates
	} {
		var l LinkCapacity
		l.OnOveruseDetected(c.sample)
		if got := l.Estimate(); got != c.want {
			t.Errorf("OnOveruseDetected(%d): Estimate() = %d, want %d", c.sample, got, c.want)
		}
	}
}

// TestLinkCapacityBounds: bounds are est ± 3σ with σ = sqrt(dev·est) kbps,
// and the lower bound is floored at 0 (est < 9·dev kbps).
func TestLinkCapacityBounds(t *testing.T) {
	var l LinkCapacity
	l.OnOveruseDetected(1000) // est 1 kbps, dev float32(0.4): σ ≈ 0.632 kbps
	sigma := math.Sqrt(float64(float32(0.4)) * 1)
	if got, want := l.UpperBound(), bwe.Bitrate((1+3*sigma)*1000); got != want {
		t.Errorf("UpperBound() = %d, want %d", got, want)
	}
	if got := l.LowerBound(); got != 0 {
		t.Errorf("LowerBound() = %d, want 0 (1 − 3·0.632 kbps < 0)", got)
	}
	l.Reset()
	if l.HasEstimate() || l.UpperBound() != bwe.MaxBitrate || l.LowerBound() != 0 || l.Estimate() != 0 {
		t.Errorf("after Reset: has=%v est=%v bounds=[%v, %v], want no estimate", l.HasEstimate(), l.Estimate(), l.LowerBound(), l.UpperBound())
	}
}
