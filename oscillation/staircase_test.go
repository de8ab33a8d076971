package oscillation

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// staircaseSeries is the trendline's answer to a periodic delay swing,
// AIMD-like: along each period the estimate climbs linearly by climb (an
// absolute rate, the additive increase), at the end of it it is cut by
// the fraction cut. Starting from 4 Mbps it falls a step per cycle,
// geometrically, towards the level where the cut equals the climb
// (climb·(1−cut)/cut), and keeps its sawtooth there. Multiplicative noise
// of sigma; sampled like the quality series.
func staircaseSeries(rng *rand.Rand, period time.Duration, cut, climb, sigma float64, length time.Duration) ([]bwe.Time, []bwe.Bitrate) {
	at := sampler{rng: rng}.times(nil, length)
	v := make([]bwe.Bitrate, len(at))
	start := 4e6
	next := period
	for i, t := range at {
		d := time.Duration(t) * time.Microsecond
		for d >= next {
			start = (start + climb) * (1 - cut)
			next += period
		}
		frac := float64(d-(next-period)) / float64(period)
		v[i] = clampRate((start + climb*frac) * (1 + sigma*rng.NormFloat64()))
	}
	return at, v
}

// The staircase is what a periodic delay swing does to the plain
// estimate (docs/oscillation.md): its cycle rides on a geometric decay
// towards a level. In the default log domain the decay is close to a line
// over a short window, which the detrend removes, and acf and spectral
// find the cycle; on the rates themselves (Linear) the curved decay
// swamps it. The test asserts detection with the short window the
// composed pipeline uses (12 s, periods 1–6 s: a swing is acted on one
// window after it starts) and reports the default 40 s window, over
// which the decay is curved even in the log domain, and the linear
// domain, with -v.
func TestStaircase(t *testing.T) {
	short := Config{Window: 12 * time.Second, MinPeriod: time.Second, MaxPeriod: 6 * time.Second}
	configs := []struct {
		name   string
		cfg    Config
		assert bool
	}{
		{"12 s window", short, true},
		{"12 s window, linear", Config{Window: short.Window, MinPeriod: short.MinPeriod, MaxPeriod: short.MaxPeriod, Linear: true}, false},
		{"40 s window", Config{}, false},
	}
	periods := []time.Duration{2 * time.Second, 3 * time.Second, 4 * time.Second, 6 * time.Second}
	for _, c := range configs {
		for _, name := range []string{"acf", "spectral", "crossing"} {
			rng := rand.New(rand.NewPCG(5, 0x57a1))
			det, err := NewByName(name, c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			n, hit := 0, 0
			for _, p := range periods {
				// Cuts from the AIMD backoff (15 %, libwebrtc
				// aimd_rate_control.cc kDefaultBackoffFactor 0.85) up;
				// climbs of 100–300 kbps per cycle.
				for _, cut := range []float64{0.15, 0.25, 0.35} {
					for rep := range 4 {
						climb := 1e5 * float64(1+rep%3)
						window := c.cfg.Window
						if window == 0 {
							window = DefaultConfig().Window
						}
						at, v := staircaseSeries(rng, p, cut, climb, 0.02, window+3*p)
						det.Reset()
						var o bwe.Oscillation
						for i := range at {
							o = det.Add(at[i], v[i])
						}
						n++
						if o.Detected && math.Abs(o.Period.Seconds()-p.Seconds()) <= 0.1*p.Seconds() {
							hit++
						} else if c.assert && name == "acf" {
							t.Logf("%s, %s: %v staircase, cut %.0f %%, climb %v: %+v", name, c.name, p, 100*cut, bwe.BitrateFromFloat(climb), o)
						}
					}
				}
			}
			rate := float64(hit) / float64(n)
			t.Logf("%-9s %-20s detected %d of %d staircases (%.1f %%)", name, c.name, hit, n, 100*rate)
			if c.assert && name == "acf" && rate < 0.95 {
				t.Errorf("%s, %s: detected %.1f %% of staircases with the period within 10 %%, want ≥ 95 %%", name, c.name, 100*rate)
			}
		}
	}
}
