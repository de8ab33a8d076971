package netstate

import (
	"fmt"
	"math"
)

// ThresholdConfig configures a [Threshold] predictor. Zero fields take the
// defaults of [DefaultThresholdConfig]. Trend and Jitter may be +Inf to
// ignore that feature.
type ThresholdConfig struct {
	// Lookback is the number of most recent steps looked at. Default 3.
	// At most 256.
	Lookback int
	// Loss is the loss fraction at which loss alone gives probability 1/2.
	// Default 0.02, the lossy-window threshold of [DefaultWindowConfig]
	// (and the 2 % loss below which libwebrtc
	// send_side_bandwidth_estimation.cc kDefaultLowLossThreshold = 0.02
	// lets the estimate grow).
	Loss float64
	// Trend is the delay-trend feature (100 ms/s units) at which a growing
	// delay alone gives probability 1/2. Default 0.5 (50 ms of queuing
	// delay added per second).
	Trend float64
	// Jitter is the jitter feature (100 ms units) at which jitter alone
	// gives probability 1/2. Default 0.5 (50 ms).
	Jitter float64
}

// DefaultThresholdConfig returns the defaults: 3 steps, 2 % loss, 50 ms/s
// delay trend, 50 ms jitter.
func DefaultThresholdConfig() ThresholdConfig {
	return ThresholdConfig{Lookback: 3, Loss: 0.02, Trend: 0.5, Jitter: 0.5}
}

func (c ThresholdConfig) withDefaults() ThresholdConfig {
	d := DefaultThresholdConfig()
	if c.Lookback == 0 {
		c.Lookback = d.Lookback
	}
	if c.Loss == 0 {
		c.Loss = d.Loss
	}
	if c.Trend == 0 {
		c.Trend = d.Trend
	}
	if c.Jitter == 0 {
		c.Jitter = d.Jitter
	}
	return c
}

func (c ThresholdConfig) validate() error {
	switch {
	case c.Lookback < 1 || c.Lookback > maxSteps:
		return fmt.Errorf("netstate: ThresholdConfig.Lookback %d is not in [1, %d]", c.Lookback, maxSteps)
	case !(c.Loss > 0 && c.Loss <= 1):
		return fmt.Errorf("netstate: ThresholdConfig.Loss %v is not in (0, 1]", c.Loss)
	case !(c.Trend > 0):
		return fmt.Errorf("netstate: ThresholdConfig.Trend %v is not positive", c.Trend)
	case !(c.Jitter > 0):
		return fmt.Errorf("netstate: ThresholdConfig.Jitter %v is not positive", c.Jitter)
	}
	return nil
}

// Threshold is a fixed heuristic: over the last Lookback steps it takes
// the largest of loss/Loss, max(trend, 0)/Trend and jitter/Jitter as a
// score s ≥ 0 and predicts
//
//	Lossy = s / (1 + s)
//
// so that each quantity at its configured level gives 1/2, and the
// probability rises towards 1 beyond it. It needs no training; it is the
// baseline the learned predictors must beat. Ready once Lookback steps have
// been observed.
type Threshold struct {
	cfg  ThresholdConfig
	hist history
}

// NewThreshold returns a threshold predictor, or an error naming the first
// invalid field of cfg.
func NewThreshold(cfg ThresholdConfig) (*Threshold, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Threshold{cfg: cfg, hist: newHistory(cfg.Lookback)}, nil
}

// Config returns the configuration with defaults filled in.
func (p *Threshold) Config() ThresholdConfig { return p.cfg }

// Steps returns the window length, Lookback.
func (p *Threshold) Steps() int { return p.cfg.Lookback }

// Observe implements [Predictor].
func (p *Threshold) Observe(f Features) Prediction {
	p.hist.push(f)
	return Prediction{Lossy: p.score(p.hist.window()), Ready: p.hist.full()}
}

// Reset implements [Predictor].
func (p *Threshold) Reset() { p.hist.reset() }

// Predict returns what Observe would return after Reset and one Observe
// per step of x. Only the last Lookback steps matter. It does not change
// the observed history.
func (p *Threshold) Predict(x []Features) Prediction {
	return Prediction{Lossy: p.score(lastSteps(x, p.cfg.Lookback)), Ready: len(x) >= p.cfg.Lookback}
}

func (p *Threshold) score(x []Features) float64 {
	s := 0.0
	for i := range x {
		f := &x[i]
		s = max(s,
			clampFeature(FeatLoss, f[FeatLoss])/p.cfg.Loss,
			max(clampFeature(FeatDelayTrend, f[FeatDelayTrend]), 0)/p.cfg.Trend,
			clampFeature(FeatJitter, f[FeatJitter])/p.cfg.Jitter)
	}
	if math.IsInf(s, 1) {
		return 1
	}
	return s / (1 + s)
}
