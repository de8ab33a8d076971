package sendside

import (
	"fmt"
	"math"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/delaybased"
	"github.com/bwelab/bwe/lossbased"
	"github.com/bwelab/bwe/netstate"
	"github.com/bwelab/bwe/probe"
)

// SendSource says where the estimator learns what was sent, for the
// application-limited detector and the sent-rate cap.
type SendSource uint8

const (
	// SendsFromFeedback takes sends from the packets that feedback
	// reports (each packet's send time and size, once): nothing else to
	// call, at the price of seeing sends one feedback round late.
	SendsFromFeedback SendSource = iota
	// SendsFromOnSent takes sends only from [Estimator.OnSent], which the
	// driver calls for every packet it sends.
	SendsFromOnSent
)

// Config configures an [Estimator]. Zero fields take the defaults of
// [DefaultConfig]; the parts (detector, loss estimator) are owned by the
// estimator built from the config and must not be shared.
type Config struct {
	// Min and Max bound the target. Defaults 5 kbps (libwebrtc
	// congestion_controller::GetMinBitrate) and 1 Gbps (libwebrtc
	// send_side_bandwidth_estimation.cc kDefaultMaxBitrate).
	Min, Max bwe.Bitrate
	// Start is the target before any feedback. Default 300 kbps
	// (libwebrtc call/call.cc kDefaultStartBitrateBps).
	Start bwe.Bitrate

	// Delay configures the delay-based estimator, including its detector
	// (any bwe.DelayDetector; default libwebrtc's trendline).
	Delay delaybased.Config
	// Loss is the loss-based estimator. Default: [lossbased.Likelihood]
	// with libwebrtc's LossBasedBweV2 defaults.
	Loss lossbased.Estimator

	// ProbeEstimator configures how probe clusters are turned into rates.
	ProbeEstimator probe.Config
	// Probing configures the probe controller, which schedules clusters.
	Probing probe.ControllerConfig
	// NoProbing turns the probe controller off: no cluster is ever
	// scheduled. Probe packets that feedback reports are still measured.
	NoProbing bool

	// ALR configures the application-limited-region detector.
	ALR ALRConfig
	// Sends says where sends are learnt from. Default SendsFromFeedback.
	Sends SendSource

	// SentRateCap bounds the target to this factor times the rate
	// actually sent over SentRateWindow, but never below Start: when the
	// application sends less than the estimate, feedback cannot confirm
	// more, and the estimate must not run away. Default 2 (libwebrtc
	// bounds probes by 2 × the allocated maximum, probe_controller.cc
	// max_total_allocated_bitrate; AIMD bounds increases by 1.5 × acked +
	// 10 kbps). Negative: no cap.
	SentRateCap float64
	// SentRateWindow is the window of the sent rate. Default 1 s.
	SentRateWindow time.Duration

	// FeedbackTimeout is how long without feedback (after a packet has
	// been sent, when sends are known) before the target backs off.
	// Default 1 s: five times the slowest usual TWCC feedback interval
	// (libwebrtc remote_estimator_proxy.cc: 250 ms at most).
	FeedbackTimeout time.Duration
	// TimeoutBackoff multiplies the target every TimeoutInterval while
	// feedback is missing. Default 0.8, every 1 s (libwebrtc
	// send_side_bandwidth_estimation.cc RttBasedBackoff: fraction 0.8,
	// interval 1 s, as WebRTC-Bwe-MaxRttLimit sets them).
	TimeoutBackoff  float64
	TimeoutInterval time.Duration

	// RTTWindow is the number of per-feedback RTTs averaged into the RTT.
	// Default 32 (libwebrtc goog_cc_network_control.cc
	// kMaxFeedbackRttWindow).
	RTTWindow int

	// Oscillation, if set, watches the target for periodic oscillation
	// (package oscillation): it is given the target after every feedback
	// batch, and its state is reported in Result.Signals and handed to
	// the rate controller. Nil: no detector.
	Oscillation bwe.OscillationDetector
	// Rate, if set, is the encoder's rate controller (package
	// ratecontrol): it turns the target and its signals into
	// Result.Encoder, the rate the encoder should produce, decoupled from
	// the target. It is updated on every Update and Process call. Nil:
	// the encoder target is the target.
	Rate bwe.RateController
	// Predictor, if set, predicts lossy periods (package netstate): it
	// observes one vector of network features per second of feedback,
	// and its probability that the next seconds are lossy is reported in
	// Result.NetState and handed to the rate controller as
	// Signals.LossRisk, which a ratecontrol.Controller with Protect set
	// acts on. The estimator owns it (and resets it). Nil: no prediction.
	Predictor netstate.Predictor
}

// DefaultConfig returns the libwebrtc-equivalent configuration. Its
// Delay.Detector and Loss are nil, which [New] replaces with fresh
// defaults.
func DefaultConfig() Config {
	return Config{
		Min:             5 * bwe.Kbps,
		Max:             bwe.Gbps,
		Start:           300 * bwe.Kbps,
		Delay:           delaybased.DefaultConfig(),
		ProbeEstimator:  probe.DefaultConfig(),
		Probing:         probe.DefaultControllerConfig(),
		ALR:             DefaultALRConfig(),
		SentRateCap:     2,
		SentRateWindow:  time.Second,
		FeedbackTimeout: time.Second,
		TimeoutBackoff:  0.8,
		TimeoutInterval: time.Second,
		RTTWindow:       32,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Min == 0 {
		c.Min = d.Min
	}
	if c.Max == 0 {
		c.Max = d.Max
	}
	if c.Start == 0 {
		c.Start = min(max(d.Start, c.Min), c.Max)
	}
	if c.SentRateCap == 0 {
		c.SentRateCap = d.SentRateCap
	}
	if c.SentRateWindow == 0 {
		c.SentRateWindow = d.SentRateWindow
	}
	if c.FeedbackTimeout == 0 {
		c.FeedbackTimeout = d.FeedbackTimeout
	}
	if c.TimeoutBackoff == 0 {
		c.TimeoutBackoff = d.TimeoutBackoff
	}
	if c.TimeoutInterval == 0 {
		c.TimeoutInterval = d.TimeoutInterval
	}
	if c.RTTWindow == 0 {
		c.RTTWindow = d.RTTWindow
	}
	return c
}

func (c Config) validate() error {
	switch {
	case c.Min < 0:
		return fmt.Errorf("sendside: Config.Min %v is negative", c.Min)
	case c.Max < c.Min:
		return fmt.Errorf("sendside: Config.Max %v is below Min %v", c.Max, c.Min)
	case c.Start < c.Min || c.Start > c.Max:
		return fmt.Errorf("sendside: Config.Start %v is outside [Min %v, Max %v]", c.Start, c.Min, c.Max)
	case c.Sends > SendsFromOnSent:
		return fmt.Errorf("sendside: Config.Sends %d is not a SendSource", c.Sends)
	case math.IsNaN(c.SentRateCap) || (c.SentRateCap > 0 && c.SentRateCap < 1):
		return fmt.Errorf("sendside: Config.SentRateCap %v is below 1", c.SentRateCap)
	case c.SentRateWindow < 0:
		return fmt.Errorf("sendside: Config.SentRateWindow %v is negative", c.SentRateWindow)
	case c.FeedbackTimeout < 0:
		return fmt.Errorf("sendside: Config.FeedbackTimeout %v is negative", c.FeedbackTimeout)
	case !(c.TimeoutBackoff > 0 && c.TimeoutBackoff <= 1):
		return fmt.Errorf("sendside: Config.TimeoutBackoff %v is not in (0, 1]", c.TimeoutBackoff)
	case c.TimeoutInterval <= 0:
		return fmt.Errorf("sendside: Config.TimeoutInterval %v is not positive", c.TimeoutInterval)
	case c.RTTWindow < 1 || c.RTTWindow > 1024:
		return fmt.Errorf("sendside: Config.RTTWindow %d is not in [1, 1024]", c.RTTWindow)
	}
	return nil
}
