package trendline

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// fixture reproduces libwebrtc trendline_estimator_unittest.cc's
// TrendlineEstimatorTest: 25 packets sent 20 ms apart from 123456789 ms,
// received from 987654321 ms at recvStepMs apart, both through
// PacketTimeGenerator's int64(initial + step·n) truncation.
type fixture struct {
	send, recv [25]int64 // ms
	sizes      [25]bwe.ByteCount
	est        *Estimator
	count      int
	dets       [25]bwe.Detection // detection after delta #n
}

func newFixture(t *testing.T, recvStepMs float64, size bwe.ByteCount) *fixture {
	t.Helper()
	est, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{est: est, count: 1}
	for n := range f.send {
		f.send[n] = int64(123456789 + 20.0*float64(n))
		f.recv[n] = int64(987654321 + recvStepMs*float64(n))
		f.sizes[n] = size
	}
	return f
}

func (f *fixture) delta(n int) bwe.GroupDelta {
	return bwe.GroupDelta{
		SendDelta:    time.Duration(f.send[n]-f.send[n-1]) * time.Millisecond,
		ArrivalDelta: time.Duration(f.recv[n]-f.recv[n-1]) * time.Millisecond,
		SizeDelta:    0,
		Arrival:      bwe.Time(f.recv[n] * 1000),
		SendTime:     bwe.Time(f.send[n] * 1000),
	}
}

// runUntilStateChange mirrors RunTestUntilStateChange: it feeds deltas from
// the current count and stops, without advancing count, at the first delta
// whose usage differs from the usage on entry. A second call therefore feeds
// that delta again, as the libwebrtc fixture does.
func (f *fixture) runUntilStateChange(initial bwe.Usage) bwe.Usage {
	state := initial
	for ; f.count < len(f.send); f.count++ {
		det := f.est.Update(f.delta(f.count))
		f.dets[f.count] = det
		state = det.Usage
		if state != initial {
			return state
		}
	}
	return state
}

// libwebrtc trendline_estimator_unittest: Normal, Overusing, Underusing,
// IncludesSmallPacketsByDefault.
func TestEstimatorLibwebrtcFixture(t *testing.T) {
	cases := []struct {
		name      string
		stepMs    float64
		size      bwe.ByteCount
		want      bwe.Usage
		wantFlip  int // delta at which the state changes, 0 for never
		twoPhases bool
	}{
		{"Normal", 20, 1200, bwe.Normal, 0, false},
		{"Overusing", 1.1 * 20, 1200, bwe.Overusing, 24, true},
		{"Underusing", 0.85 * 20, 1200, bwe.Underusing, 20, true},
		{"IncludesSmallPacketsByDefault", 1.1 * 20, 100, bwe.Overusing, 24, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.stepMs, tc.size)
			got := f.runUntilStateChange(bwe.Normal)
			if got != tc.want {
				t.Fatalf("first run: state %v, want %v", got, tc.want)
			}
			flip := 0
			if tc.want != bwe.Normal {
				flip = f.count
			}
			if flip != tc.wantFlip {
				t.Errorf("state changed at delta #%d, want #%d", flip, tc.wantFlip)
			}
			if tc.twoPhases {
				if got := f.runUntilStateChange(got); got != tc.want {
					t.Errorf("second run: state %v, want %v", got, tc.want)
				}
			}
			if f.count != 25 {
				t.Errorf("processed up to count %d, want 25 (all packets)", f.count)
			}
		})
	}
}

// Tight regression points derived from a line-by-line re-implementation of
// libwebrtc's TrendlineEstimator on the unit-test fixture (reference §3.1);
// libwebrtc itself does not assert them.
func TestEstimatorDerivedFlipPoints(t *testing.T) {
	const tol = 0.01
	near := func(a, b float64) bool { return math.Abs(a-b) <= tol }

	t.Run("Normal", func(t *testing.T) {
		f := newFixture(t, 20, 1200)
		f.runUntilStateChange(bwe.Normal)
		for n := 1; n <= 24; n++ {
			if d := f.dets[n]; d.Trend != 0 || d.Usage != bwe.Normal {
				t.Errorf("delta #%d: Update = %+v, want trend 0 and normal", n, d)
			}
		}
		if thr := f.dets[20].Threshold; thr != 6 {
			t.Errorf("delta #20: threshold %v, want 6 (floor reached after two updates)", thr)
		}
	})

	t.Run("Overusing", func(t *testing.T) {
		f := newFixture(t, 22, 1200)
		f.runUntilStateChange(bwe.Normal)
		for n := 1; n < 20; n++ {
			if d := f.dets[n]; d.Trend != 0 {
				t.Errorf("delta #%d: trend %v, want 0 before the window fills", n, d.Trend)
			}
		}
		if thr := f.dets[20].Threshold; thr != 6 {
			t.Errorf("delta #20: threshold %v, want 6", thr)
		}
		wantM := map[int]float64{20: 4.73, 21: 5.23, 22: 5.73, 23: 6.23, 24: 6.73}
		for n := 20; n <= 24; n++ {
			if d := f.dets[n]; !near(d.Modified, wantM[n]) {
				t.Errorf("delta #%d: m = %.4f, want %.2f±%.2f", n, d.Modified, wantM[n], tol)
			}
			wantU := bwe.Normal
			if n == 24 {
				wantU = bwe.Overusing
			}
			if u := f.dets[n].Usage; u != wantU {
				t.Errorf("delta #%d: usage %v, want %v", n, u, wantU)
			}
		}
		if d := f.dets[24]; !near(d.Trend, 0.0700) {
			t.Errorf("delta #24: trend %.5f, want 0.0700±%.2f", d.Trend, tol)
		}
		t.Logf("m #20..#24 = %.4f %.4f %.4f %.4f %.4f, trend #24 = %.5f",
			f.dets[20].Modified, f.dets[21].Modified, f.dets[22].Modified,
			f.dets[23].Modified, f.dets[24].Modified, f.dets[24].Trend)
	})

	t.Run("Underusing", func(t *testing.T) {
		f := newFixture(t, 17, 1200)
		f.runUntilStateChange(bwe.Normal)
		if f.count != 20 {
			t.Errorf("state changed at delta #%d, want #20", f.count)
		}
		if d := f.dets[20]; !near(d.Modified, -9.18) || d.Usage != bwe.Underusing {
			t.Errorf("delta #20: m = %.4f usage %v, want -9.18±%.2f underusing", d.Modified, d.Usage, tol)
		}
		t.Logf("m #20 = %.4f", f.dets[20].Modified)
	})
}

func TestEstimatorFirstDeltaIsNormal(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	// A huge first delta: n < 2, so Normal and the threshold untouched.
	d := e.Update(bwe.GroupDelta{SendDelta: 20 * time.Millisecond, ArrivalDelta: time.Second, Arrival: 1000})
	if d.Usage != bwe.Normal || d.Threshold != 12.5 {
		t.Errorf("first Update = %+v, want normal with threshold 12.5", d)
	}
}

// Reset must give the same outputs as a fresh estimator.
func TestEstimatorReset(t *testing.T) {
	f := newFixture(t, 22, 1200)
	f.runUntilStateChange(bwe.Normal)
	f.est.Reset()
	g := newFixture(t, 22, 1200)
	for n := 1; n < 25; n++ {
		a, b := f.est.Update(f.delta(n)), g.est.Update(g.delta(n))
		if a != b {
			t.Fatalf("delta #%d after Reset: %+v, fresh: %+v", n, a, b)
		}
	}
}

func TestRoundMillis(t *testing.T) {
	cases := []struct {
		us   bwe.Time
		want int64
	}{
		{0, 0}, {499, 0}, {500, 1}, {1499, 1}, {1500, 2},
		{-499, 0}, {-500, 0}, {-501, -1}, {-1500, -1}, {-1501, -2},
		{bwe.MaxTime, math.MaxInt64/1000 + 1}, {bwe.MinTime, math.MinInt64/1000 - 1},
	}
	for _, c := range cases {
		if got := roundMillis(c.us); got != c.want {
			t.Errorf("roundMillis(%d) = %d, want %d", c.us, got, c.want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	nan := math.NaN()
	cases := []struct {
		name  string
		build func() error
		field string
	}{
		{"window", func() error { _, err := New(Config{WindowSize: 1}); return err }, "WindowSize"},
		{"negwindow", func() error { _, err := New(Config{WindowSize: -5}); return err }, "WindowSize"},
		{"smoothing", func() error { _, err := New(Config{SmoothingCoef: 1}); return err }, "SmoothingCoef"},
		{"smoothingNaN", func() error { _, err := New(Config{SmoothingCoef: nan}); return err }, "SmoothingCoef"},
		{"gain", func() error { _, err := New(Config{ThresholdGain: math.Inf(1)}); return err }, "ThresholdGain"},
		{"mindeltas", func() error { _, err := New(Config{MinNumDeltas: -1}); return err }, "MinNumDeltas"},
		{"countermax", func() error { _, err := New(Config{DeltaCounterMax: -1}); return err }, "DeltaCounterMax"},
		{"thrmin", func() error {
			_, err := New(Config{Threshold: ThresholdConfig{Min: 700}})
			return err
		}, "Threshold.Max"},
		{"thrinit", func() error {
			_, err := New(Config{Threshold: ThresholdConfig{Initial: 1}})
			return err
		}, "Threshold.Initial"},
		{"kup", func() error { _, err := New(Config{Threshold: ThresholdConfig{KUp: nan}}); return err }, "Threshold.KUp"},
		{"overtime", func() error {
			_, err := New(Config{Threshold: ThresholdConfig{OverusingTime: -time.Millisecond}})
			return err
		}, "Threshold.OverusingTime"},
		{"kalmanAlpha", func() error { _, err := NewKalman(KalmanConfig{NoiseAlpha: 1}); return err }, "NoiseAlpha"},
		{"kalmanVar", func() error { _, err := NewKalman(KalmanConfig{SlopeVariance: -1}); return err }, "SlopeVariance"},
		{"kalmanHist", func() error { _, err := NewKalman(KalmanConfig{FramePeriodHistory: -1}); return err }, "FramePeriodHistory"},
		{"kalmanNoise", func() error {
			_, err := NewKalman(KalmanConfig{InitialNoiseVariance: 0.5})
			return err
		}, "InitialNoiseVariance"},
		{"kalmanThr", func() error {
			_, err := NewKalman(KalmanConfig{Threshold: ThresholdConfig{KDown: -1}})
			return err
		}, "Threshold.KDown"},
		{"robustBucket", func() error { _, err := NewRobust(RobustConfig{BucketWidth: time.Microsecond}); return err }, "BucketWidth"},
		{"robustBuckets", func() error { _, err := NewRobust(RobustConfig{Buckets: 2}); return err }, "Buckets"},
		{"robustMin", func() error { _, err := NewRobust(RobustConfig{Buckets: 10, MinBuckets: 11}); return err }, "MinBuckets"},
		{"robustZ", func() error { _, err := NewRobust(RobustConfig{Z: nan}); return err }, "Z"},
		{"robustMaxSlope", func() error {
			_, err := NewRobust(RobustConfig{MinSlope: 0.5, MaxSlope: 0.1})
			return err
		}, "MaxSlope"},
		{"robustTau", func() error {
			_, err := NewRobust(RobustConfig{NoiseTimeConstant: -time.Second})
			return err
		}, "NoiseTimeConstant"},
	}
	for _, c := range cases {
		err := c.build()
		if err == nil {
			t.Errorf("%s: no error, want one naming %s", c.name, c.field)
			continue
		}
		if !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: error %q does not name %s", c.name, err, c.field)
		}
	}
	// The zero configs are valid.
	if _, err := New(Config{}); err != nil {
		t.Error(err)
	}
	if _, err := NewKalman(KalmanConfig{}); err != nil {
		t.Error(err)
	}
	if _, err := NewRobust(RobustConfig{}); err != nil {
		t.Error(err)
	}
}
