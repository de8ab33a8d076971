package metrics

import (
	"fmt"
	"math"
	"time"

	"github.com/bwelab/bwe"
)

// ConvergenceConfig sets the convergence criterion. The zero value of each
// field means its default.
type ConvergenceConfig struct {
	// Band is the half-width of the band around the steady value, as a
	// fraction of it: a sample x is in the band when |x − S| ≤ Band·S.
	// Default 0.10 (the evaluation notes, "Metrics" item 5: ±10 %, this
	// project's choice, as RFC 8868 leaves "stable" undefined).
	Band float64
	// Hold is how long the rate must stay in the band. Default 5 s
	// (evaluation notes, item 5, ours).
	Hold time.Duration
	// Tail is the span at the end of the phase whose median is the
	// phase's own steady value ([ConvergenceSelf]). Default 5 s (ours: the
	// same span as Hold, so a phase that converged holds its steady value
	// over its tail).
	Tail time.Duration
}

// DefaultConvergenceConfig returns the defaults spelled out.
func DefaultConvergenceConfig() ConvergenceConfig {
	return ConvergenceConfig{Band: 0.10, Hold: 5 * time.Second, Tail: 5 * time.Second}
}

// resolve applies defaults and rejects impossible values.
func (c ConvergenceConfig) resolve() (ConvergenceConfig, error) {
	d := DefaultConvergenceConfig()
	switch {
	case math.IsNaN(c.Band) || math.IsInf(c.Band, 0) || c.Band < 0:
		return c, fmt.Errorf("metrics: ConvergenceConfig.Band %v is not a finite non-negative fraction", c.Band)
	case c.Hold < 0:
		return c, fmt.Errorf("metrics: ConvergenceConfig.Hold %v is negative", c.Hold)
	case c.Tail < 0:
		return c, fmt.Errorf("metrics: ConvergenceConfig.Tail %v is negative", c.Tail)
	}
	if c.Band == 0 {
		c.Band = d.Band
	}
	if c.Hold == 0 {
		c.Hold = d.Hold
	}
	if c.Tail == 0 {
		c.Tail = d.Tail
	}
	return c, nil
}

// Convergence is the outcome of a convergence measurement over one phase.
type Convergence struct {
	// Time is the time from the phase's origin to the first sample of the
	// first stretch of samples that all lie in the band and last at least
	// Hold; 0 when Converged is false.
	Time time.Duration
	// Converged reports whether such a stretch exists within the phase.
	Converged bool
	// Steady is the steady value the band was centred on.
	Steady bwe.Bitrate
}

// ConvergenceTo measures how long the rate of phase takes to settle on the
// given steady value (a capacity, a fair share): the time from the phase's
// origin until the rate enters the band [S·(1−Band), S·(1+Band)] and stays
// in it for at least Hold (see [ConvergenceConfig]). A stretch counts when
// ⌈Hold/Step⌉ consecutive samples lie in the band, so its samples cover at
// least Hold. With S = 0 only zero samples are in the band; a negative S
// reads as 0.
//
// phase holds the samples from an event (a start, a capacity change, a flow
// joining) up to the next event or the end of the run; cut it with
// [Series.Window]. A phase too short to hold the band for Hold has not
// converged. Only an invalid cfg is an error.
func ConvergenceTo(phase Series, steady bwe.Bitrate, cfg ConvergenceConfig) (Convergence, error) {
	cfg, err := cfg.resolve()
	if err != nil {
		return Convergence{}, err
	}
	return settle(phase, max(steady, 0), cfg), nil
}

// ConvergenceSelf is [ConvergenceTo] against the phase's own steady value:
// the median (nearest rank, the ⌈m/2⌉-th smallest) of its last m =
// ⌈Tail/Step⌉ samples, or of all of them if the phase is shorter. It suits
// phases whose target is not known in advance (competing flows, a capacity
// trace). Only an invalid cfg is an error.
func ConvergenceSelf(phase Series, cfg ConvergenceConfig) (Convergence, error) {
	cfg, err := cfg.resolve()
	if err != nil {
		return Convergence{}, err
	}
	n := phase.Len()
	if n == 0 {
		return Convergence{}, nil
	}
	m := int(min(ceilDiv(cfg.Tail, phase.Step), int64(n)))
	return settle(phase, median(phase, n-m, n), cfg), nil
}

// settle finds the first stretch of in-band samples lasting Hold.
func settle(s Series, steady bwe.Bitrate, cfg ConvergenceConfig) Convergence {
	c := Convergence{Steady: steady}
	n := s.Len()
	if n == 0 {
		return c
	}
	need := max(ceilDiv(cfg.Hold, s.Step), 1)
	sv := steady.Float()
	tol := cfg.Band * sv
	run, first := int64(0), 0
	for i := range n {
		if math.Abs(s.at(i).Float()-sv) > tol {
			run = 0
			continue
		}
		if run == 0 {
			first = i
		}
		run++
		if run >= need {
			c.Time = mulSat(first, s.Step)
			c.Converged = true
			return c
		}
	}
	return c
}

// median returns the nearest-rank median (the ⌈m/2⌉-th smallest) of
// samples [i0, i1), i1 > i0, without allocating: a bisection on the value,
// at most 64 passes over the samples.
func median(s Series, i0, i1 int) bwe.Bitrate {
	m := i1 - i0
	rank := (m + 1) / 2
	lo, hi := s.at(i0), s.at(i0)
	for i := i0 + 1; i < i1; i++ {
		lo, hi = min(lo, s.at(i)), max(hi, s.at(i))
	}
	// Invariant: the answer lies in [lo, hi].
	for lo < hi {
		mid := lo + (hi-lo)/2
		k := 0
		for i := i0; i < i1; i++ {
			if s.at(i) <= mid {
				k++
			}
		}
		if k >= rank {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}
