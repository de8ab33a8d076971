package smoothing

import (
	"fmt"
	"time"

	"github.com/bwelab/bwe"
)

// HysteresisConfig configures a [Hysteresis]. Zero fields take the defaults
// of [DefaultHysteresisConfig].
type HysteresisConfig struct {
	// Band is the half-width of the dead band around the output, as a
	// fraction of the output: estimates within [out·(1−Band),
	// out·(1+Band)] leave the output alone. In (0, 1); default 0.1, ±10 %
	// (this package's choice: about one step of a video bitrate ladder).
	Band float64
	// Hold is how long the estimate must stay outside the band, on the
	// same side, before the output moves to it. Default 1 s.
	Hold time.Duration
	// DeepDrop is the fractional fall below the output that is followed
	// at once, without Hold: an estimate below out·(1−DeepDrop) is taken
	// as a real congestion. In [Band, 1); default 0.25 (below 75 % of the
	// output).
	DeepDrop float64
}

// DefaultHysteresisConfig returns the defaults: ±10 % band, 1 s hold, drops
// deeper than 25 % followed at once.
func DefaultHysteresisConfig() HysteresisConfig {
	return HysteresisConfig{Band: 0.1, Hold: time.Second, DeepDrop: 0.25}
}

func (c HysteresisConfig) withDefaults() HysteresisConfig {
	d := DefaultHysteresisConfig()
	if c.Band == 0 {
		c.Band = d.Band
	}
	if c.Hold == 0 {
		c.Hold = d.Hold
	}
	if c.DeepDrop == 0 {
		c.DeepDrop = d.DeepDrop
	}
	return c
}

func (c HysteresisConfig) validate() error {
	const typ = "HysteresisConfig"
	switch {
	case !(c.Band > 0 && c.Band < 1):
		return fmt.Errorf("smoothing: %s.Band %v is not in (0, 1)", typ, c.Band)
	case !(c.DeepDrop > 0 && c.DeepDrop < 1):
		return fmt.Errorf("smoothing: %s.DeepDrop %v is not in (0, 1)", typ, c.DeepDrop)
	case c.DeepDrop < c.Band:
		return fmt.Errorf("smoothing: %s.DeepDrop %v is below Band %v", typ, c.DeepDrop, c.Band)
	}
	return checkDuration(typ, "Hold", c.Hold)
}

// Hysteresis holds its output until the estimate has left a band around it
// for a while: the output moves only when the estimate stays outside
// [out·(1−Band), out·(1+Band)] on the same side for Hold, and then jumps to
// the estimate of that moment. A fall below out·(1−DeepDrop) is followed at
// once. The output is therefore always one of the estimates seen, and an
// encoder behind it changes its target seldom and by visible steps.
//
// Leaving the band is timed from the first estimate outside it; an
// estimate back inside, or outside on the other side, restarts the timer.
// An instant earlier than the last counts as the last.
//
// Not safe for concurrent use.
type Hysteresis struct {
	cfg HysteresisConfig

	clk     monotone
	out     bwe.Bitrate
	outside int8 // 0 inside the band, +1 above it, −1 below it
	since   bwe.Time
}

// NewHysteresis returns a Hysteresis, or an error naming the invalid field
// of cfg.
func NewHysteresis(cfg HysteresisConfig) (*Hysteresis, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Hysteresis{cfg: cfg}, nil
}

// Smooth consumes an estimate (a negative one counts as 0) and returns the
// held rate. The first call returns the estimate itself.
func (h *Hysteresis) Smooth(at bwe.Time, estimate bwe.Bitrate, _ bwe.Signals) bwe.Bitrate {
	x := max(estimate, 0)
	first := !h.clk.init
	_, at = h.clk.step(at)
	if first {
		h.out, h.outside = x, 0
		return x
	}
	side := int8(0)
	switch {
	case x < h.out.Scale(1-h.cfg.DeepDrop):
		h.out, h.outside = x, 0
		return x
	case x < h.out.Scale(1-h.cfg.Band):
		side = -1
	case x > h.out.Scale(1+h.cfg.Band):
		side = +1
	}
	if side == 0 {
		h.outside = 0
		return h.out
	}
	if side != h.outside {
		h.outside, h.since = side, at
	}
	if at.Sub(h.since) >= h.cfg.Hold {
		h.out, h.outside = x, 0
	}
	return h.out
}

// Reset forgets the history.
func (h *Hysteresis) Reset() { *h = Hysteresis{cfg: h.cfg} }
