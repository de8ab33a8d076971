package smoothing

import (
	"math"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// feed returns a function that makes one Smooth call on sm per invocation,
// 50 ms apart, with a swinging estimate, a swinging RTT, the oscillation
// detected and, every 97th call, a congestion signal (so that every path of
// OscillationAware runs).
func feed(sm bwe.Smoother) func() {
	i := 0
	return func() {
		at := bwe.Time(int64(i) * 50_000)
		ph := 2 * math.Pi * float64(i) / 80
		x := bwe.Bitrate(1.5e6 + 5e5*math.Sin(ph))
		s := bwe.Signals{
			RTT:         time.Duration(60+40*math.Sin(ph)) * time.Millisecond,
			Oscillation: bwe.Oscillation{Detected: true, Period: period},
			Congested:   i%97 == 0,
		}
		sm.Smooth(at, x, s)
		i++
	}
}

// TestNoAllocs checks that Smooth allocates nothing after warm-up, for
// every smoother, OscillationAware with a Base and a detector included.
func TestNoAllocs(t *testing.T) {
	smoothers := map[string]bwe.Smoother{}
	for _, name := range Names() {
		sm, err := NewByName(name)
		if err != nil {
			t.Fatal(err)
		}
		smoothers[name] = sm
	}
	base, _ := NewPercentile(PercentileConfig{})
	withBase, err := NewOscillationAware(OscillationAwareConfig{Base: base, Detector: &detectAfter{}})
	if err != nil {
		t.Fatal(err)
	}
	smoothers["oscillation+base+detector"] = withBase
	for name, sm := range smoothers {
		f := feed(sm)
		for range 3000 { // fill every ring
			f()
		}
		if n := testing.AllocsPerRun(2000, f); n != 0 {
			t.Errorf("%s: Smooth allocates %v times per call, want 0", name, n)
		}
	}
}
