package ratecontrol

import (
	"fmt"
	"math"
	"time"

	"github.com/bwelab/bwe"
)

// Rung is one step of a bitrate ladder: the least bitrate at which the
// encoder is worth running at Width×Height.
type Rung struct {
	// Bitrate is the least target at which this rung is used.
	Bitrate bwe.Bitrate
	// Width and Height are the picture size of the rung, in pixels. The
	// controller only reports them back; 0 means unknown.
	Width, Height int
}

// Config configures a [Controller]. The zero value of each field takes
// the default of [DefaultConfig]; Min, Max, Rungs, Smoother and Headroom
// have no default beyond their zero value.
type Config struct {
	// Min is the bottom of the ladder: the target never goes below it,
	// whatever the estimate says (Min wins over every other rule). 0 means
	// no lower bound.
	Min bwe.Bitrate
	// Max is the top of the ladder. The target stays at or below Max
	// unless the beyond-the-top rule (BeyondAfter, BeyondMargin,
	// BeyondFactor) is in force. 0 means no upper bound, and then there
	// is no going beyond.
	Max bwe.Bitrate
	// Rungs is an optional ladder, in strictly ascending Bitrate, each
	// within [Min, Max] for the bounds that are set. The controller
	// reports on which rung the target is (see [State]). The slice is
	// copied by [New].
	Rungs []Rung
	// RungMargin is the share by which the target must exceed the next
	// rung's Bitrate before a switch up is considered: the target must
	// stay ≥ Bitrate × (1 + RungMargin). Default 0.1: a 10 % hysteresis
	// band, so that a target hovering at a rung's boundary does not flip
	// the resolution at every swing.
	RungMargin float64
	// RungHold is how long the target must stay above the next rung's
	// threshold before the rung switches up. Default 2 s: one keyframe
	// interval of a typical live push, since a resolution switch costs a
	// keyframe. Switches down are immediate.
	RungHold time.Duration

	// Smoother, when set, turns the estimate into the rate the target
	// follows; nil follows the raw estimate. The controller drives it
	// (Smooth on every Update, Reset on Reset): it must not be shared.
	// It sees the raw estimate and its signals, Loss made finite and put
	// in [0, 1].
	Smoother bwe.Smoother

	// Smoothness in [0, 1] is the preference between sharpness (0: the
	// target follows its input at once) and smoothness (1: slow, sparse
	// increases). It scales three things, each only for increases:
	//
	//	up-ramp time constant   τ  = Smoothness × MaxRampTime
	//	dead band               d  = Smoothness × MaxDeadBand (of the target)
	//	least increase interval Δ  = Smoothness × MaxIncreaseInterval
	//
	// The zero value means the default 0.25; set Sharp for 0. Default
	// 0.25: τ = 1 s, d = 1.25 %, Δ = 250 ms. Decreases are immediate,
	// so a slower climb only ever costs bitrate; at 0.25 a step up is 63 %
	// followed after 1 s and 95 % after 3 s, about the pace of libwebrtc's
	// own multiplicative increase (aimd_rate_control.cc: up to 8 % per
	// second), while the encoder is reconfigured at most four times a
	// second instead of once per feedback (20–100 ms).
	Smoothness float64
	// Sharp asks for Smoothness 0: no ramp, no dead band, no least
	// interval; the target is the (smoothed, bounded) estimate. It is an
	// error to set both Sharp and a non-zero Smoothness.
	Sharp bool
	// MaxRampTime is the up-ramp time constant at Smoothness 1. Default
	// 4 s: 95 % of a step after 12 s, about the slowest climb a live push
	// accepts after a dip.
	MaxRampTime time.Duration
	// MaxDeadBand is the dead band for increases at Smoothness 1, as a
	// share of the target: a higher input that exceeds the target by less
	// than Smoothness × MaxDeadBand × target starts no increase. Default
	// 0.05.
	MaxDeadBand float64
	// MaxIncreaseInterval is the least time between two increases of the
	// target at Smoothness 1. Default 1 s.
	MaxIncreaseInterval time.Duration

	// LossThreshold is the loss fraction at or above which the estimate's
	// signals count as real congestion. Default 0.10 (libwebrtc
	// send_side_bandwidth_estimation.cc: kDefaultHighLossThreshold = 0.1,
	// the loss above which the loss-based estimate falls). A value above 1
	// never triggers: only Signals.Congested then counts.
	LossThreshold float64
	// CongestionHold is how long increases stay blocked after the last
	// update that signalled real congestion. Default 1 s (libwebrtc
	// send_side_bandwidth_estimation.cc: kBweIncreaseInterval = 1000 ms,
	// the span of the sliding minimum that loss-based increases start
	// from, so that a decrease weighs on increases for a second).
	CongestionHold time.Duration

	// BeyondMargin is the margin the estimate must keep above the ladder
	// top for the target to go beyond it, and that the target then keeps
	// below the estimate: beyond is considered while estimate ≥ Max × (1 +
	// BeyondMargin), and the target then stays ≤ estimate ÷ (1 +
	// BeyondMargin). Default 0.2, so the target sits at most at 83 % of
	// the estimate, below where one delay-based back-off puts the estimate
	// (libwebrtc aimd_rate_control.cc: kDefaultBackoffFactor = 0.85). The
	// zero value means the default; use a tiny positive value for "no
	// margin".
	BeyondMargin float64
	// BeyondAfter is how long the estimate must stay continuously ≥ Max ×
	// (1 + BeyondMargin), with no congestion, before the target may exceed
	// Max. Default 5 s: longer than the period of the swings RTT jitter
	// causes in a delay-based estimate (a few seconds), so that the top of
	// a swing does not count.
	BeyondAfter time.Duration
	// BeyondFactor bounds going beyond: the target never exceeds Max ×
	// BeyondFactor. 1 means never beyond Max. Default 1.5: past about 1.5×
	// the top rung's bitrate the top resolution gains little quality per
	// bit, and a ladder designer would add a rung there.
	BeyondFactor float64

	// Headroom is the share of the estimate kept out of the encoder's
	// reach (for FEC, audio, retransmissions): the controller works on
	// estimate × (1 − Headroom), both for the smoothed and the raw
	// estimate. In [0, 1). Default 0.
	Headroom float64

	// Protect acts on a network-state prediction (Signals.LossRisk). The
	// zero value never protects.
	Protect Protection
}

// Protection is the controller's answer to a predicted lossy period:
// while the predicted risk is at or above Threshold (and for Linger
// after), Reserve of the target goes to redundancy: Update returns
// (1 − Reserve) × the target for the encoder's media (never below Min), and
// [Controller.Protection] reports Reserve, for the sender's FEC. A sender
// that protects before the loss arrives repairs it instead of
// retransmitting it a round trip later.
type Protection struct {
	// Threshold is the risk, in (0, 1], at or above which protection
	// starts. 0: never protect.
	Threshold float64
	// Reserve is the share of the target given to redundancy while
	// protecting, in (0, 0.5]. Default 0.2: one parity packet per four
	// media packets, which repairs one loss in five packets.
	Reserve float64
	// Linger is how long protection lasts after the risk falls below
	// Threshold. Default 5 s: the horizon the predictors are trained on
	// (netstate.WindowConfig.Horizon, 5 s).
	Linger time.Duration
	// HoldIncreases keeps the target from rising while protecting.
	HoldIncreases bool
}

// DefaultConfig returns the defaults: no ladder bounds, no rungs, no
// smoother, Smoothness 0.25 and the values documented on [Config].
func DefaultConfig() Config {
	return Config{
		RungMargin:          0.1,
		RungHold:            2 * time.Second,
		Smoothness:          0.25,
		MaxRampTime:         4 * time.Second,
		MaxDeadBand:         0.05,
		MaxIncreaseInterval: time.Second,
		LossThreshold:       0.10,
		CongestionHold:      time.Second,
		BeyondMargin:        0.2,
		BeyondAfter:         5 * time.Second,
		BeyondFactor:        1.5,
	}
}

// withDefaults fills zero fields with their defaults. Smoothness is left
// at 0 when Sharp is set.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.RungMargin == 0 {
		c.RungMargin = d.RungMargin
	}
	if c.RungHold == 0 {
		c.RungHold = d.RungHold
	}
	if c.Smoothness == 0 && !c.Sharp {
		c.Smoothness = d.Smoothness
	}
	if c.MaxRampTime == 0 {
		c.MaxRampTime = d.MaxRampTime
	}
	if c.MaxDeadBand == 0 {
		c.MaxDeadBand = d.MaxDeadBand
	}
	if c.MaxIncreaseInterval == 0 {
		c.MaxIncreaseInterval = d.MaxIncreaseInterval
	}
	if c.LossThreshold == 0 {
		c.LossThreshold = d.LossThreshold
	}
	if c.CongestionHold == 0 {
		c.CongestionHold = d.CongestionHold
	}
	if c.BeyondMargin == 0 {
		c.BeyondMargin = d.BeyondMargin
	}
	if c.BeyondAfter == 0 {
		c.BeyondAfter = d.BeyondAfter
	}
	if c.Protect.Threshold > 0 {
		if c.Protect.Reserve == 0 {
			c.Protect.Reserve = 0.2
		}
		if c.Protect.Linger == 0 {
			c.Protect.Linger = 5 * time.Second
		}
	}
	if c.BeyondFactor == 0 {
		c.BeyondFactor = d.BeyondFactor
	}
	return c
}

// finite reports whether f is neither NaN nor infinite.
func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// validate checks a configuration whose defaults are filled in.
func (c Config) validate() error {
	switch {
	case c.Min < 0:
		return fmt.Errorf("ratecontrol: Config.Min %v is negative", c.Min)
	case c.Max < 0:
		return fmt.Errorf("ratecontrol: Config.Max %v is negative", c.Max)
	case c.Max > 0 && c.Min > c.Max:
		return fmt.Errorf("ratecontrol: Config.Min %v is above Config.Max %v", c.Min, c.Max)
	}
	for i, r := range c.Rungs {
		switch {
		case r.Bitrate <= 0:
			return fmt.Errorf("ratecontrol: Config.Rungs[%d].Bitrate %v is not positive", i, r.Bitrate)
		case r.Width < 0 || r.Height < 0:
			return fmt.Errorf("ratecontrol: Config.Rungs[%d] size %dx%d is negative", i, r.Width, r.Height)
		case i > 0 && r.Bitrate <= c.Rungs[i-1].Bitrate:
			return fmt.Errorf("ratecontrol: Config.Rungs[%d].Bitrate %v is not above Config.Rungs[%d].Bitrate %v", i, r.Bitrate, i-1, c.Rungs[i-1].Bitrate)
		case r.Bitrate < c.Min:
			return fmt.Errorf("ratecontrol: Config.Rungs[%d].Bitrate %v is below Config.Min %v", i, r.Bitrate, c.Min)
		case c.Max > 0 && r.Bitrate > c.Max:
			return fmt.Errorf("ratecontrol: Config.Rungs[%d].Bitrate %v is above Config.Max %v", i, r.Bitrate, c.Max)
		}
	}
	switch {
	case !(c.RungMargin >= 0) || !finite(c.RungMargin):
		return fmt.Errorf("ratecontrol: Config.RungMargin %v is not a finite non-negative share", c.RungMargin)
	case c.RungHold < 0:
		return fmt.Errorf("ratecontrol: Config.RungHold %v is negative", c.RungHold)
	case c.Sharp && c.Smoothness != 0:
		return fmt.Errorf("ratecontrol: Config.Sharp is set with Config.Smoothness %v", c.Smoothness)
	case !(c.Smoothness >= 0 && c.Smoothness <= 1):
		return fmt.Errorf("ratecontrol: Config.Smoothness %v is not in [0, 1]", c.Smoothness)
	case c.MaxRampTime < 0:
		return fmt.Errorf("ratecontrol: Config.MaxRampTime %v is negative", c.MaxRampTime)
	case !(c.MaxDeadBand > 0 && c.MaxDeadBand <= 1):
		return fmt.Errorf("ratecontrol: Config.MaxDeadBand %v is not in (0, 1]", c.MaxDeadBand)
	case c.MaxIncreaseInterval < 0:
		return fmt.Errorf("ratecontrol: Config.MaxIncreaseInterval %v is negative", c.MaxIncreaseInterval)
	case !(c.LossThreshold > 0) || math.IsInf(c.LossThreshold, 0):
		return fmt.Errorf("ratecontrol: Config.LossThreshold %v is not a finite positive fraction", c.LossThreshold)
	case c.CongestionHold < 0:
		return fmt.Errorf("ratecontrol: Config.CongestionHold %v is negative", c.CongestionHold)
	case !(c.BeyondMargin > 0) || !finite(c.BeyondMargin):
		return fmt.Errorf("ratecontrol: Config.BeyondMargin %v is not a finite positive share", c.BeyondMargin)
	case c.BeyondAfter < 0:
		return fmt.Errorf("ratecontrol: Config.BeyondAfter %v is negative", c.BeyondAfter)
	case math.IsNaN(c.BeyondFactor):
		return fmt.Errorf("ratecontrol: Config.BeyondFactor %v is not a number", c.BeyondFactor)
	case c.BeyondFactor < 1:
		return fmt.Errorf("ratecontrol: Config.BeyondFactor %v is below 1", c.BeyondFactor)
	case math.IsInf(c.BeyondFactor, 0):
		return fmt.Errorf("ratecontrol: Config.BeyondFactor %v is not finite", c.BeyondFactor)
	case !(c.Headroom >= 0 && c.Headroom < 1):
		return fmt.Errorf("ratecontrol: Config.Headroom %v is not in [0, 1)", c.Headroom)
	case !(c.Protect.Threshold >= 0 && c.Protect.Threshold <= 1):
		return fmt.Errorf("ratecontrol: Config.Protect.Threshold %v is not in [0, 1]", c.Protect.Threshold)
	case !(c.Protect.Reserve >= 0 && c.Protect.Reserve <= 0.5):
		return fmt.Errorf("ratecontrol: Config.Protect.Reserve %v is not in [0, 0.5]", c.Protect.Reserve)
	case c.Protect.Linger < 0:
		return fmt.Errorf("ratecontrol: Config.Protect.Linger %v is negative", c.Protect.Linger)
	}
	return nil
}
