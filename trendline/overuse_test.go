package trendline

import (
	"math"
	"testing"

	"github.com/bwelab/bwe"
)

// A scripted timeline through the shared state machine and threshold
// (libwebrtc TrendlineEstimator::Detect and UpdateThreshold). Thresholds
// after each step were computed by hand from
// thr += k·(|m| − thr)·min(Δt, 100), clamped to [6, 600].
func TestOveruseDetectorScript(t *testing.T) {
	c, err := ThresholdConfig{}.resolve("")
	if err != nil {
		t.Fatal(err)
	}
	det := newOveruseDetector(c)
	steps := []struct {
		what      string
		trend, m  float64
		tsDelta   float64
		now       int64
		want      bwe.Usage
		wantCmp   float64 // threshold m is compared with
		wantAfter float64 // threshold after the update
	}{
		{"first excursion: timer = ts/2 = 2, one sample", 0.2, 20, 4, 0, bwe.Normal, 12.5, 12.5},
		{"timer 6 ms: not yet 10", 0.1, 20, 4, 5, bwe.Normal, 12.5, 12.82625},
		{"timer 10 ms: must exceed 10", 0.05, 20, 4, 10, bwe.Normal, 12.82625, 13.138308125},
		{"timer 14 ms but the trend fell", 0.04, 20, 4, 15, bwe.Normal, 13.138308125, 13.4367917215625},
		{"trend level again: overuse", 0.04, 20, 4, 20, bwe.Overusing, 13.4367917215625, 13.722291281674531},
		{"below −thr: underuse at once", -0.04, -20, 4, 25, bwe.Underusing, 13.722291281674531, 13.995371610921689},
		{"inside the band: normal at once", 0, 0, 4, 30, bwe.Normal, 13.995371610921689, 11.26627414679196},
		{"spike beyond thr+15: threshold kept", 1, 100, 4, 35, bwe.Normal, 11.26627414679196, 11.26627414679196},
		{"second spike sample: timer only 6 ms", 1, 100, 4, 40, bwe.Normal, 11.26627414679196, 11.26627414679196},
		{"1 s gap: dt capped at 100 ms, floor 6", 0, 0, 4, 1040, bwe.Normal, 11.26627414679196, 6},
	}
	for i, s := range steps {
		u, cmp := det.detect(s.trend, s.m, s.tsDelta, s.now)
		if u != s.want || cmp != s.wantCmp || math.Abs(det.threshold-s.wantAfter) > 1e-12 {
			t.Errorf("step %d (%s): detect(%v, %v, %v, %d) = %v against %v, threshold after %v; want %v against %v, after %v",
				i, s.what, s.trend, s.m, s.tsDelta, s.now, u, cmp, det.threshold, s.want, s.wantCmp, s.wantAfter)
		}
	}
}

// The threshold climbs to its maximum and falls to its minimum and stays
// there exactly: thr + k·(|m| − thr)·Δt clamped to [Min, Max]
// (libwebrtc SafeClamp(threshold_, 6.f, 600.f)).
func TestThresholdClampsExactly(t *testing.T) {
	c, err := ThresholdConfig{}.resolve("")
	if err != nil {
		t.Fatal(err)
	}
	det := newOveruseDetector(c)
	now := int64(0)
	// |m| just within thr + MaxAdaptOffset: the threshold rises by
	// 0.0087 × 14.9 × 100 ≈ 13 ms per 100 ms step.
	for step := range 100 {
		now += 100
		det.adapt(det.threshold+14.9, now)
		if det.threshold > c.Max {
			t.Fatalf("rising, step %d: threshold %v above %v", step, det.threshold, c.Max)
		}
	}
	if det.threshold != c.Max {
		t.Errorf("after 100 rising steps: threshold %v, want exactly %v", det.threshold, c.Max)
	}
	// m = 0: 0.039 × thr × 100 > thr, so one step takes it below zero,
	// and the clamp to the minimum.
	now += 100
	det.adapt(0, now)
	if det.threshold != c.Min {
		t.Errorf("after a step at m = 0: threshold %v, want exactly %v", det.threshold, c.Min)
	}
}
