package metrics

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// binOf returns the padded-bin position of period P for n samples at step.
func binOf(P time.Duration, n int) float64 {
	N := 1
	for N < n {
		N <<= 1
	}
	return float64(N) * step.Seconds() / P.Seconds()
}

func TestDominantSinusoid(t *testing.T) {
	sp, err := NewSpectrum(SpectrumConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		period time.Duration
		n      int
	}{
		{2500 * time.Millisecond, 600}, {10 * time.Second, 600}, {10 * time.Second, 1200},
		{7300 * time.Millisecond, 1000}, {23 * time.Second, 1200}, {1050 * time.Millisecond, 4096},
		{25 * time.Second, 600}, // 2.4 cycles
	} {
		s := Series{Step: step, Rates: sine(c.n, 1e6, 1e5, c.period, 0.3)}
		p := sp.Dominant(s)
		// Within one bin of the padded transform.
		if d := math.Abs(binOf(p.Period, c.n) - binOf(c.period, c.n)); p.Period == 0 || d > 1 {
			t.Errorf("P=%v n=%d: period %v, off by %.2f bins", c.period, c.n, p.Period, d)
		}
		if p.Strength < 0.99 || p.Strength > 1 {
			t.Errorf("P=%v n=%d: strength %v, want ≥ 0.99", c.period, c.n, p.Strength)
		}
		// Amplitude 100 kbps within 2 % (Parseval on the windowed lobe).
		if !near(p.Amplitude.Float(), 1e5, 2e3) {
			t.Errorf("P=%v n=%d: amplitude %v, want 100 kbps ± 2 kbps", c.period, c.n, p.Amplitude)
		}
	}
}

func TestDominantShapes(t *testing.T) {
	sp, _ := NewSpectrum(SpectrumConfig{})
	// White noise (seeded): no period stands out.
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{600, 1200, 4096} {
		r := make([]bwe.Bitrate, n)
		for i := range r {
			r[i] = bwe.Bitrate(1e6 + 1e5*rng.NormFloat64())
		}
		if p := sp.Dominant(Series{step, r}); p.Strength > 0.1 {
			t.Errorf("white noise n=%d: strength %v, want < 0.1", n, p.Strength)
		}
	}
	// A square wave 0.9 / 1.1 Mbps of period 5 s: the fundamental holds
	// 8/π² ≈ 0.811 of the variance, with amplitude 4/π · 100 kbps.
	p := sp.Dominant(Series{step, square(1200, 25, 900*bwe.Kbps, 1100*bwe.Kbps)})
	if !near(p.Period.Seconds(), 5, 0.05) || !near(p.Strength, 8/(math.Pi*math.Pi), 0.01) || !near(p.Amplitude.Float(), 4e5/math.Pi, 2e3) {
		t.Errorf("square wave: %+v; want period 5 s, strength 0.811, amplitude 127.3 kbps", p)
	}
	// A constant, a pure ramp with linear detrending, and short series:
	// nothing periodic.
	linear, _ := NewSpectrum(SpectrumConfig{Detrend: DetrendLinear})
	for _, c := range []struct {
		name string
		sp   *Spectrum
		s    Series
	}{
		{"constant", sp, Series{step, constant(600, bwe.Mbps)}},
		{"zero", sp, Series{step, constant(600, 0)}},
		{"ramp, linear detrend", linear, Series{step, ramp(600, bwe.Mbps, bwe.Kbps)}},
		{"7 samples", sp, Series{step, sine(7, 1e6, 1e5, 300*time.Millisecond, 0)}},
		{"empty", sp, Series{}},
		// A 59 s period in 60 s: longer than half the series.
		{"one cycle", sp, Series{step, sine(600, 1e6, 1e5, 59*time.Second, 0.3)}},
	} {
		p := c.sp.Dominant(c.s)
		if p.Strength > 1e-3 || p.Amplitude > bwe.Kbps {
			t.Errorf("%s: %+v, want no periodic component", c.name, p)
		}
	}
	// A sinusoid on a steep ramp: linear detrending recovers it.
	r := sine(1200, 0, 1e5, 8*time.Second, 0)
	for i := range r {
		r[i] += bwe.Bitrate(500e3 + 2e3*float64(i))
	}
	p = linear.Dominant(Series{step, r})
	if !near(p.Period.Seconds(), 8, 0.1) || p.Strength < 0.9 {
		t.Errorf("sinusoid on a ramp, linear detrend: %+v; want period 8 s, strength > 0.9", p)
	}
}

func TestSpectrumConfig(t *testing.T) {
	for _, cfg := range []SpectrumConfig{
		{MinPeriod: -1}, {MaxPeriod: -1}, {MinPeriod: 2 * time.Minute}, {MinPeriod: 10 * time.Second, MaxPeriod: 5 * time.Second}, {Detrend: 7},
	} {
		if _, err := NewSpectrum(cfg); err == nil {
			t.Errorf("NewSpectrum accepted %+v", cfg)
		}
	}
	sp, _ := NewSpectrum(SpectrumConfig{})
	if got := sp.Config(); got != DefaultSpectrumConfig() {
		t.Errorf("Config() = %+v, want defaults %+v", got, DefaultSpectrumConfig())
	}
	// A range that excludes the tone finds nothing strong.
	narrow, _ := NewSpectrum(SpectrumConfig{MinPeriod: time.Second, MaxPeriod: 3 * time.Second})
	p := narrow.Dominant(Series{step, sine(1200, 1e6, 1e5, 10*time.Second, 0)})
	if p.Strength > 0.01 {
		t.Errorf("tone outside the period range: %+v, want strength ≈ 0", p)
	}
}

func TestOscillationIndex(t *testing.T) {
	sp, _ := NewSpectrum(SpectrumConfig{})
	// One phase, a sinusoid 1 Mbps ± 100 kbps: I = 2·0.1/1 = 0.2.
	o, err := sp.OscillationIndex(Series{step, sine(1200, 1e6, 1e5, 4*time.Second, 0)}, Series{}, DefaultSettle)
	if err != nil || o.Phases != 1 || o.Analysed != 115*time.Second || !near(o.Index, 0.2, 0.004) || !near(o.Period.Seconds(), 4, 0.05) {
		t.Errorf("sinusoid ±10 %%: %+v, %v; want index 0.2 over one 115 s phase, period 4 s", o, err)
	}
	// Two capacity phases of 60 s, ±10 % then ±30 % around 1 Mbps and
	// 2 Mbps: equal steady parts (55 s), I = (0.2 + 0.3)/2 = 0.25, Max 0.3.
	rate := Series{step, concat(sine(600, 1e6, 1e5, 5*time.Second, 0), sine(600, 2e6, 3e5, 5*time.Second, 0))}
	capacity := Series{time.Second, concat(constant(60, 1200*bwe.Kbps), constant(60, 2500*bwe.Kbps))}
	o, err = sp.OscillationIndex(rate, capacity, DefaultSettle)
	if err != nil || o.Phases != 2 || !near(o.Index, 0.25, 0.005) || !near(o.Max, 0.3, 0.006) {
		t.Errorf("two phases: %+v, %v; want index 0.25, max 0.3", o, err)
	}
	// A steady rate does not oscillate; a phase shorter than settle + 2 s
	// is not analysed.
	o, _ = sp.OscillationIndex(Series{step, constant(600, bwe.Mbps)}, Series{}, DefaultSettle)
	if o.Index != 0 || o.Phases != 1 {
		t.Errorf("steady rate: %+v, want index 0 over one phase", o)
	}
	o, _ = sp.OscillationIndex(Series{step, sine(60, 1e6, 1e5, 2*time.Second, 0)}, Series{}, DefaultSettle)
	if o.Phases != 0 || o.Index != 0 {
		t.Errorf("6 s run: %+v, want nothing analysed", o)
	}
	if _, err := sp.OscillationIndex(rate, capacity, -1); err == nil {
		t.Error("negative settle accepted")
	}
}
