package smoothing

import (
	"time"

	"github.com/bwelab/bwe"
)

// AsymmetricConfig configures an [Asymmetric]. Zero fields take the
// defaults of [DefaultAsymmetricConfig].
type AsymmetricConfig struct {
	// Down is the time constant applied when the estimate is below the
	// output. Default 0: a decrease is followed at once (a real
	// congestion must be followed without delay).
	Down time.Duration
	// Up is the time constant applied when the estimate is above the
	// output. Default 2 s (this package's choice: a rise that lasts less
	// than a couple of seconds is mostly not passed on). A zero Up means
	// the default; for no smoothing upward use [Identity].
	Up time.Duration
}

// DefaultAsymmetricConfig returns the defaults: Down 0 (at once), Up 2 s.
func DefaultAsymmetricConfig() AsymmetricConfig {
	return AsymmetricConfig{Down: 0, Up: 2 * time.Second}
}

func (c AsymmetricConfig) withDefaults() AsymmetricConfig {
	if c.Up == 0 {
		c.Up = DefaultAsymmetricConfig().Up
	}
	return c
}

func (c AsymmetricConfig) validate() error {
	if err := checkDuration("AsymmetricConfig", "Down", c.Down); err != nil {
		return err
	}
	return checkDuration("AsymmetricConfig", "Up", c.Up)
}

// Asymmetric is an [EWMA] with one time constant for decreases and another
// for increases: by default it follows a fall at once and climbs with a
// 2 s time constant, the classic "fast down, slow up" shape of rate
// controllers. The time constant is chosen per sample by comparing the
// estimate with the current (unrounded) output.
//
// Not safe for concurrent use.
type Asymmetric struct {
	down, up time.Duration
	clk      monotone
	y        float64
	out      bwe.Bitrate
}

// NewAsymmetric returns an Asymmetric, or an error naming the invalid field
// of cfg.
func NewAsymmetric(cfg AsymmetricConfig) (*Asymmetric, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Asymmetric{down: cfg.Down, up: cfg.Up}, nil
}

// Smooth consumes an estimate (a negative one counts as 0) and returns the
// filtered rate. The first call returns the estimate itself.
func (a *Asymmetric) Smooth(at bwe.Time, estimate bwe.Bitrate, _ bwe.Signals) bwe.Bitrate {
	x := max(estimate, 0)
	first := !a.clk.init
	dt, _ := a.clk.step(at)
	if first {
		a.out, a.y = x, x.Float()
		return x
	}
	tau := a.up
	if x.Float() < a.y {
		tau = a.down
	}
	a.out, a.y = blend(a.out, a.y, x, alpha(dt, tau))
	return a.out
}

// Reset forgets the history.
func (a *Asymmetric) Reset() { *a = Asymmetric{down: a.down, up: a.up} }
