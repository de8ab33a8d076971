package oscillation

import (
	"fmt"
	"math"
	"time"
)

// maxBins bounds Window/Step so that a typo cannot make a constructor
// allocate gigabytes.
const maxBins = 1 << 14

// minBins is the smallest window, in bins, a detector can work with.
const minBins = 8

// Config parameterizes every detector of this package. A zero field means
// its default; [DefaultConfig] spells the defaults out. The defaults are
// this package's own choices (no reference implementation has an
// oscillation detector): a bin of a few feedback intervals, a window
// holding two cycles of the slowest swing a trendline estimator shows
// under RTT jitter.
type Config struct {
	// Step is the width of a resampling bin. Default 250 ms.
	Step time.Duration
	// Window is the span of history analysed, rounded down to whole
	// bins. Default 40 s.
	Window time.Duration
	// MinPeriod and MaxPeriod bound the periods searched for. MinPeriod
	// must be at least 2·Step; MaxPeriod·MinCycles must fit in Window.
	// Defaults 2 s and 20 s.
	MinPeriod, MaxPeriod time.Duration
	// Threshold is the Strength in [0, 1] a candidate needs to count as
	// an oscillation. Default by detector: 0.55 for [Autocorrelation],
	// 0.45 for [Spectral], 0.6 for [Crossing].
	Threshold float64
	// MinCycles is how many periods of data, at least 1, must have been
	// seen (within the window) before an oscillation is reported.
	// Default 2.
	MinCycles float64
	// MinRelAmplitude is the smallest Amplitude, as a fraction of Mean,
	// worth reporting: a 1 % wiggle on a 2 Mbps estimate is not a swing
	// to act on. Default 0.05.
	MinRelAmplitude float64
	// Confirm is how long every other condition must hold, evaluation
	// after evaluation and with a period stable within 15 %, before
	// Detected is set: the guard against a random walk or a one-off
	// drop that looks periodic for an instant. Rounded up to whole bins.
	// Default 2 s.
	Confirm time.Duration
	// Linear analyses the rates themselves. By default the detectors
	// analyse their logarithm, that is relative swings: an estimate
	// that falls by a fixed fraction per cycle (a staircase, the
	// trendline's answer to a periodic delay swing) then becomes a
	// periodic sawtooth around a straight line, which the detrend
	// removes, where on the rates themselves the curved decay would
	// swamp the cycle. Amplitude and Mean are reported in rate units
	// either way.
	Linear bool
}

// Default values of [Config].
const (
	defaultStep            = 250 * time.Millisecond
	defaultWindow          = 40 * time.Second
	defaultMinPeriod       = 2 * time.Second
	defaultMaxPeriod       = 20 * time.Second
	defaultMinCycles       = 2
	defaultMinRelAmplitude = 0.05
	defaultConfirm         = 2 * time.Second
)

// DefaultConfig returns the defaults. Threshold is left at zero because
// its default depends on the detector.
func DefaultConfig() Config {
	return Config{
		Step:            defaultStep,
		Window:          defaultWindow,
		MinPeriod:       defaultMinPeriod,
		MaxPeriod:       defaultMaxPeriod,
		MinCycles:       defaultMinCycles,
		MinRelAmplitude: defaultMinRelAmplitude,
		Confirm:         defaultConfirm,
	}
}

// resolve fills defaults in and validates; threshold is the detector's
// default Threshold.
func (c Config) resolve(threshold float64) (Config, error) {
	def := DefaultConfig()
	if c.Step == 0 {
		c.Step = def.Step
	}
	if c.Window == 0 {
		c.Window = def.Window
	}
	if c.MinPeriod == 0 {
		c.MinPeriod = def.MinPeriod
	}
	if c.MaxPeriod == 0 {
		c.MaxPeriod = def.MaxPeriod
	}
	if c.Threshold == 0 {
		c.Threshold = threshold
	}
	if c.MinCycles == 0 {
		c.MinCycles = def.MinCycles
	}
	if c.MinRelAmplitude == 0 {
		c.MinRelAmplitude = def.MinRelAmplitude
	}
	if c.Confirm == 0 {
		c.Confirm = def.Confirm
	}
	finite := func(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
	switch {
	case c.Step < time.Millisecond:
		return c, fmt.Errorf("oscillation: Config.Step %v must be at least 1ms", c.Step)
	case c.Window < minBins*c.Step || c.Window/c.Step > maxBins:
		return c, fmt.Errorf("oscillation: Config.Window %v must hold between %d and %d steps of %v", c.Window, minBins, maxBins, c.Step)
	case c.MinPeriod < 2*c.Step:
		return c, fmt.Errorf("oscillation: Config.MinPeriod %v must be at least 2·Step (%v)", c.MinPeriod, 2*c.Step)
	case c.MaxPeriod <= c.MinPeriod:
		return c, fmt.Errorf("oscillation: Config.MaxPeriod %v must exceed MinPeriod %v", c.MaxPeriod, c.MinPeriod)
	case !finite(c.Threshold) || c.Threshold < 0 || c.Threshold > 1:
		return c, fmt.Errorf("oscillation: Config.Threshold %v must be in [0, 1]", c.Threshold)
	case !finite(c.MinCycles) || c.MinCycles < 1:
		return c, fmt.Errorf("oscillation: Config.MinCycles %v must be finite and at least 1", c.MinCycles)
	case !finite(c.MinRelAmplitude) || c.MinRelAmplitude < 0:
		return c, fmt.Errorf("oscillation: Config.MinRelAmplitude %v must be finite and non-negative", c.MinRelAmplitude)
	case c.Confirm < 0:
		return c, fmt.Errorf("oscillation: Config.Confirm %v must not be negative", c.Confirm)
	}
	win := (c.Window / c.Step) * c.Step
	if c.MaxPeriod.Seconds()*c.MinCycles > win.Seconds() {
		return c, fmt.Errorf("oscillation: Config.MaxPeriod %v times MinCycles %v exceeds Window %v", c.MaxPeriod, c.MinCycles, win)
	}
	return c, nil
}
