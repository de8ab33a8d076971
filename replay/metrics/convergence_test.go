package metrics

import (
	"math"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// ramp returns n samples rising linearly from a by d per sample.
func ramp(n int, a, d bwe.Bitrate) []bwe.Bitrate {
	out := make([]bwe.Bitrate, n)
	for i := range out {
		out[i] = a + bwe.Bitrate(i)*d
	}
	return out
}

func TestConvergence(t *testing.T) {
	cfg := ConvergenceConfig{} // defaults: ±10 %, hold 5 s, tail 5 s
	for _, c := range []struct {
		name     string
		rates    []bwe.Bitrate
		ref      bwe.Bitrate // 0: use the phase's own steady value
		want     time.Duration
		ok       bool
		steady   bwe.Bitrate
		selfOnly bool
	}{
		// Step response: a linear ramp 0.5 → 1 Mbps over 10 s (5 kbps per
		// 100 ms), then flat for 20 s. It enters the ±10 % band at exactly
		// 0.9 Mbps, sample 80: 8 s (the band's edge is inside).
		{name: "ramp to capacity", rates: concat(ramp(100, 500*bwe.Kbps, 5*bwe.Kbps), constant(200, bwe.Mbps)),
			ref: bwe.Mbps, want: 8 * time.Second, ok: true, steady: bwe.Mbps},
		{name: "ramp, own steady value", rates: concat(ramp(100, 500*bwe.Kbps, 5*bwe.Kbps), constant(200, bwe.Mbps)),
			want: 8 * time.Second, ok: true, steady: bwe.Mbps, selfOnly: true},
		// Overshoot to 1.2 Mbps for 3 s, then 1.05 Mbps: 3 s.
		{name: "overshoot", rates: concat(constant(30, 1200*bwe.Kbps), constant(100, 1050*bwe.Kbps)),
			ref: bwe.Mbps, want: 3 * time.Second, ok: true, steady: bwe.Mbps},
		// In band for 4.9 s, one sample out, then in band for 5 s: the
		// first stretch is too short, the second counts (from 5 s).
		{name: "broken stretch", rates: concat(constant(49, bwe.Mbps), constant(1, 800*bwe.Kbps), constant(50, bwe.Mbps)),
			ref: bwe.Mbps, want: 5 * time.Second, ok: true, steady: bwe.Mbps},
		// Exactly 5 s in band at the end of the phase: converged.
		{name: "just long enough", rates: concat(constant(10, 0), constant(50, bwe.Mbps)),
			ref: bwe.Mbps, want: time.Second, ok: true, steady: bwe.Mbps},
		// 4.9 s in band: not converged.
		{name: "phase too short", rates: concat(constant(10, 0), constant(49, bwe.Mbps)),
			ref: bwe.Mbps, steady: bwe.Mbps},
		// Swinging ±20 % never settles on 1 Mbps.
		{name: "oscillating", rates: square(300, 10, 800*bwe.Kbps, 1200*bwe.Kbps), ref: bwe.Mbps, steady: bwe.Mbps},
		// Steady value 0: only zeros are in band.
		{name: "zero reference", rates: concat(constant(10, 5), constant(50, 0)), ref: 0, want: time.Second, ok: true, selfOnly: true},
	} {
		s := Series{Step: step, Rates: c.rates}
		var got Convergence
		var err error
		if c.selfOnly {
			got, err = ConvergenceSelf(s, cfg)
		} else {
			got, err = ConvergenceTo(s, c.ref, cfg)
		}
		want := Convergence{Time: c.want, Converged: c.ok, Steady: c.steady}
		if err != nil || got != want {
			t.Errorf("%s: got %+v, %v; want %+v", c.name, got, err, want)
		}
	}
}

func TestConvergenceSelfMedian(t *testing.T) {
	// Tail of 1 s = 10 samples: 1..10 → nearest-rank median 5 (the 5th).
	s := Series{Step: step, Rates: concat(constant(50, 0), []bwe.Bitrate{10, 9, 8, 7, 6, 5, 4, 3, 2, 1})}
	got, err := ConvergenceSelf(s, ConvergenceConfig{Tail: time.Second, Hold: 100 * time.Millisecond, Band: 0.2})
	if err != nil || got.Steady != 5 {
		t.Errorf("ConvergenceSelf steady = %+v, %v; want median 5", got, err)
	}
	// Band ±20 % of 5 = [4, 6]: first in-band sample is 6 at index 54.
	if !got.Converged || got.Time != 5400*time.Millisecond {
		t.Errorf("ConvergenceSelf = %+v, want converged at 5.4s", got)
	}
}

func TestConvergenceConfigErrors(t *testing.T) {
	s := Series{Step: step, Rates: constant(10, 1)}
	for _, cfg := range []ConvergenceConfig{
		{Band: -0.1}, {Band: math.NaN()}, {Band: math.Inf(1)}, {Hold: -1}, {Tail: -1},
	} {
		if _, err := ConvergenceTo(s, 1, cfg); err == nil {
			t.Errorf("ConvergenceTo accepted %+v", cfg)
		}
		if _, err := ConvergenceSelf(s, cfg); err == nil {
			t.Errorf("ConvergenceSelf accepted %+v", cfg)
		}
	}
	if got, err := ConvergenceSelf(Series{}, ConvergenceConfig{}); err != nil || got != (Convergence{}) {
		t.Errorf("ConvergenceSelf(empty) = %+v, %v", got, err)
	}
}
