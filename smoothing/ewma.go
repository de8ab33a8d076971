package smoothing

import (
	"time"

	"github.com/bwelab/bwe"
)

// EWMAConfig configures an [EWMA]. Zero fields take the defaults of
// [DefaultEWMAConfig].
type EWMAConfig struct {
	// TimeConstant is τ, the time the output needs to cover 1 − 1/e ≈
	// 63.2 % of a step. Default 1 s (this package's choice: a fraction of
	// the 2–20 s swings it is meant to damp, short enough to follow a
	// ramp-up).
	TimeConstant time.Duration
}

// DefaultEWMAConfig returns the defaults: τ = 1 s.
func DefaultEWMAConfig() EWMAConfig { return EWMAConfig{TimeConstant: time.Second} }

func (c EWMAConfig) withDefaults() EWMAConfig {
	if c.TimeConstant == 0 {
		c.TimeConstant = DefaultEWMAConfig().TimeConstant
	}
	return c
}

func (c EWMAConfig) validate() error {
	return checkDuration("EWMAConfig", "TimeConstant", c.TimeConstant)
}

// EWMA is a first-order low-pass filter on irregular samples: each estimate
// x arriving Δt after the previous one moves the output y by
//
//	y ← y + α·(x − y),   α = 1 − exp(−Δt/τ)
//
// so that the response to a step depends on elapsed time, not on how many
// estimates arrived. A Δt of zero (or an instant earlier than the last,
// which counts as Δt = 0) leaves the output unchanged.
//
// Not safe for concurrent use.
type EWMA struct {
	tau time.Duration
	clk monotone
	y   float64
	out bwe.Bitrate
}

// NewEWMA returns an EWMA, or an error naming the invalid field of cfg.
func NewEWMA(cfg EWMAConfig) (*EWMA, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &EWMA{tau: cfg.TimeConstant}, nil
}

// Smooth consumes an estimate (a negative one counts as 0) and returns the
// filtered rate. The first call returns the estimate itself.
func (e *EWMA) Smooth(at bwe.Time, estimate bwe.Bitrate, _ bwe.Signals) bwe.Bitrate {
	x := max(estimate, 0)
	first := !e.clk.init
	dt, _ := e.clk.step(at)
	if first {
		e.out, e.y = x, x.Float()
		return x
	}
	e.out, e.y = blend(e.out, e.y, x, alpha(dt, e.tau))
	return e.out
}

// Reset forgets the history.
func (e *EWMA) Reset() { *e = EWMA{tau: e.tau} }
