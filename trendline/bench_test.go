package trendline

import (
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// deltaSource makes an endless stream of group deltas 5 ms apart with a
// repeating jitter pattern, without allocating: arrival times only move
// forward, as in a live session.
type deltaSource struct {
	spacing time.Duration
	arrival bwe.Time
	i       int
}

var jitterPattern = [16]time.Duration{0, 3, 1, 7, 2, 0, 5, 9, 1, 4, 0, 6, 2, 8, 3, 1}

func (s *deltaSource) next() bwe.GroupDelta {
	j := jitterPattern[s.i&15] * time.Millisecond
	prev := jitterPattern[(s.i-1)&15] * time.Millisecond
	s.i++
	ad := s.spacing + j - prev
	s.arrival = s.arrival.Add(ad)
	return bwe.GroupDelta{SendDelta: s.spacing, ArrivalDelta: ad, SizeDelta: 120, Arrival: s.arrival}
}

func newDetectors(tb testing.TB) map[string]bwe.DelayDetector {
	tb.Helper()
	m := map[string]bwe.DelayDetector{}
	for _, d := range detectors(tb) {
		m[d.name] = d.det
	}
	return m
}

// Update allocates nothing once the detector has warmed up.
func TestUpdateAllocatesNothing(t *testing.T) {
	for name, det := range newDetectors(t) {
		src := &deltaSource{spacing: 5 * time.Millisecond, arrival: 1_000_000}
		for range 5000 {
			det.Update(src.next())
		}
		if n := testing.AllocsPerRun(2000, func() { det.Update(src.next()) }); n != 0 {
			t.Errorf("%s: %v allocations per Update, want 0", name, n)
		}
	}
}

func benchUpdate(b *testing.B, det bwe.DelayDetector, spacing time.Duration) {
	src := &deltaSource{spacing: spacing, arrival: 1_000_000}
	for range 5000 {
		det.Update(src.next())
	}
	b.ReportAllocs()
	for b.Loop() {
		det.Update(src.next())
	}
}

func BenchmarkEstimatorUpdate(b *testing.B) {
	benchUpdate(b, newDetectors(b)["Estimator"], 5*time.Millisecond)
}

func BenchmarkKalmanUpdate(b *testing.B) {
	benchUpdate(b, newDetectors(b)["Kalman"], 5*time.Millisecond)
}

// BenchmarkRobustUpdate runs at one group per 5 ms (20 per 100 ms bucket);
// the "EveryUpdateClosesBucket" case spaces groups 100 ms apart, so that
// every Update pays for a refit and the trend test: the worst case.
func BenchmarkRobustUpdate(b *testing.B) {
	b.Run("5ms", func(b *testing.B) {
		benchUpdate(b, newDetectors(b)["Robust"], 5*time.Millisecond)
	})
	b.Run("EveryUpdateClosesBucket", func(b *testing.B) {
		benchUpdate(b, newDetectors(b)["Robust"], 100*time.Millisecond)
	})
}

// BenchmarkEstimatorUpdateBatch gives the trendline batches of 5 deltas
// (a 50 ms feedback interval at one group per 10 ms), through UpdateBatch
// and through Update one at a time; ns/op is per delta.
func BenchmarkEstimatorUpdateBatch(b *testing.B) {
	for _, batched := range []bool{true, false} {
		b.Run(map[bool]string{true: "UpdateBatch", false: "Update"}[batched], func(b *testing.B) {
			e, err := New(DefaultConfig())
			if err != nil {
				b.Fatal(err)
			}
			src := &deltaSource{spacing: 10 * time.Millisecond, arrival: 1_000_000}
			ds := make([]bwe.GroupDelta, 5)
			out := make([]bwe.Detection, 5)
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if n%len(ds) == 0 {
					for i := range ds {
						ds[i] = src.next()
					}
					if batched {
						e.UpdateBatch(ds, out)
					}
				}
				if !batched {
					out[n%len(ds)] = e.Update(ds[n%len(ds)])
				}
				n++
			}
		})
	}
}
