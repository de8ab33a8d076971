package trendline

import (
	"math"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// Values computed by hand from the Mann–Kendall formulas in mannKendall's
// comment (S, tie-corrected variance, continuity-corrected Z).
func TestMannKendall(t *testing.T) {
	cases := []struct {
		name string
		ys   []float64
		want float64
	}{
		// S = 10, var = 5·4·15/18 = 50/3, Z = 9/√(50/3).
		{"rising5", []float64{1, 2, 3, 4, 5}, 9 / math.Sqrt(50.0/3)},
		{"falling5", []float64{5, 4, 3, 2, 1}, -9 / math.Sqrt(50.0/3)},
		// S = 2, one tie pair: var = (3·2·11 − 2·1·9)/18 = 8/3, Z = 1/√(8/3).
		{"tie", []float64{1, 1, 2}, 1 / math.Sqrt(8.0/3)},
		// All tied: var = 0.
		{"flat", []float64{3, 3, 3, 3}, 0},
		// S = +1−1+1... : y = 1,3,2: pairs (1,3)+ (1,2)+ (3,2)− → S = 1 → Z = 0.
		{"zigzag", []float64{1, 3, 2}, 0},
		// 10 strictly rising points: S = 45, var = 10·9·25/18 = 125, Z = 44/√125 ≈ 3.94.
		{"rising10", []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 44 / math.Sqrt(125)},
		// A step in the middle of 10 points with tiny alternating noise: only
		// the 25 straddling pairs are ordered by the step; within each side
		// the noise gives S = 0 and no ties, so Z = 24/√125 ≈ 2.15 < 3.
		{"step10", []float64{0, 0.1, 0, 0.1, 0.05, 80, 80.1, 80, 80.1, 80.05}, 0},
	}
	for _, c := range cases {
		got := mannKendall(c.ys)
		want := c.want
		if c.name == "step10" {
			// Computed rather than hand-entered: see the comment above.
			if got >= 3 || got <= 0 {
				t.Errorf("%s: mannKendall = %.4f, want in (0, 3): a step is not a consistent trend", c.name, got)
			}
			continue
		}
		if math.Abs(got-want) > 1e-12 {
			t.Errorf("%s: mannKendall(%v) = %.6f, want %.6f", c.name, c.ys, got, want)
		}
	}
}

// flow feeds a Robust detector group deltas 20 ms apart on both clocks, the
// arrival delta shifted by extra(i) ms, and records the detections.
type flow struct {
	r       *Robust
	arrival bwe.Time
	dets    []bwe.Detection
}

func newFlow(t *testing.T, cfg RobustConfig) *flow {
	t.Helper()
	r, err := NewRobust(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &flow{r: r, arrival: 1_000_000}
}

func (f *flow) feed(n int, extraMs func(i int) float64) {
	for i := range n {
		ad := 20*time.Millisecond + bwe.DurationFromMillis(extraMs(i))
		f.arrival = f.arrival.Add(ad)
		f.dets = append(f.dets, f.r.Update(bwe.GroupDelta{
			SendDelta: 20 * time.Millisecond, ArrivalDelta: ad, Arrival: f.arrival,
		}))
	}
}

func (f *flow) firstFrom(from int, u bwe.Usage) int {
	for i := from; i < len(f.dets); i++ {
		if f.dets[i].Usage == u {
			return i
		}
	}
	return -1
}

func flat(int) float64 { return 0 }

// A one-off jump of the path delay is not queue build-up; a steady 5 %
// growth is, and a drain is underuse.
func TestRobustStepRampDrain(t *testing.T) {
	w := 1000.0 // default window in ms
	t.Run("flat", func(t *testing.T) {
		f := newFlow(t, RobustConfig{})
		f.feed(200, flat)
		for i, d := range f.dets {
			if d.Usage != bwe.Normal || d.Modified != 0 {
				t.Fatalf("step %d: Update = %+v, want normal with zero growth", i, d)
			}
		}
		if d := f.dets[199]; d.Threshold != 1*w {
			t.Errorf("flat path: threshold %v, want MaxSlope·window = %v (no consistent trend)", d.Threshold, w)
		}
	})
	t.Run("step", func(t *testing.T) {
		f := newFlow(t, RobustConfig{})
		f.feed(100, flat)
		f.feed(1, func(int) float64 { return 80 })
		f.feed(200, flat)
		if i := f.firstFrom(0, bwe.Overusing); i >= 0 {
			t.Errorf("step %d: Overusing after a single 80 ms step of the path delay, want never (%+v)", i, f.dets[i])
		}
	})
	t.Run("ramp", func(t *testing.T) {
		f := newFlow(t, RobustConfig{})
		f.feed(100, flat)
		f.feed(100, func(int) float64 { return 1 }) // +1 ms per 20 ms: slope 0.05
		i := f.firstFrom(100, bwe.Overusing)
		if i < 0 || i > 100+35 {
			t.Fatalf("ramp of slope 0.05: first Overusing at step %d, want within 35 deltas (700 ms) of its start at 100", i)
		}
		d := f.dets[i]
		if math.Abs(d.Trend-0.05) > 0.03 || d.Threshold != 0.02*w {
			t.Errorf("step %d: Update = %+v, want trend ≈ 0.05 and threshold MinSlope·window = %v", i, d, 0.02*w)
		}
		t.Logf("ramp detected %d deltas (%d ms) after it started: %+v", i-100, (i-100)*20, d)
	})
	t.Run("drain", func(t *testing.T) {
		// A drain right after growth: the window holds a peak, and the
		// trend test needs 40 of its 45 pairs ordered downward, so
		// underuse comes once the fall spans about 8 of the 10 buckets:
		// within 45 deltas (900 ms).
		f := newFlow(t, RobustConfig{})
		f.feed(100, func(int) float64 { return 2 })
		f.feed(100, func(int) float64 { return -3 })
		i := f.firstFrom(100, bwe.Underusing)
		if i < 0 || i > 100+45 {
			t.Errorf("drain of slope −0.15 after growth: first Underusing at step %d, want within 45 deltas of 100", i)
		}
		t.Logf("drain detected %d deltas (%d ms) after it started", i-100, (i-100)*20)
	})
}

func TestRobustReset(t *testing.T) {
	f := newFlow(t, RobustConfig{})
	f.feed(100, func(i int) float64 { return float64(i % 3) })
	f.r.Reset()
	g := newFlow(t, RobustConfig{})
	f.arrival, f.dets = g.arrival, nil
	ramp := func(i int) float64 { return 1 + float64(i%5) }
	f.feed(150, ramp)
	g.feed(150, ramp)
	for i := range f.dets {
		if f.dets[i] != g.dets[i] {
			t.Fatalf("step %d after Reset: %+v, fresh: %+v", i, f.dets[i], g.dets[i])
		}
	}
}

// After the arrival clock jumps back by more than a window, the envelope
// restarts on the new clock and still finds a later queue.
func TestRobustClockJumpBack(t *testing.T) {
	f := newFlow(t, RobustConfig{})
	f.feed(100, flat)
	f.arrival = f.arrival.Add(-time.Hour)
	f.feed(50, flat)
	if i := f.firstFrom(0, bwe.Overusing); i >= 0 {
		t.Fatalf("step %d: Overusing on a flat path around a clock jump", i)
	}
	f.feed(100, func(int) float64 { return 1 })
	if i := f.firstFrom(150, bwe.Overusing); i < 0 || i > 150+35 {
		t.Errorf("ramp after the clock jump: first Overusing at step %d, want within 35 deltas of 150", i)
	}
}
