package lossbased

import (
	"fmt"
	"time"

	"github.com/bwelab/bwe"
)

// ClassicConfig configures a [Classic] estimator. Zero fields take the
// defaults of [DefaultClassicConfig].
type ClassicConfig struct {
	// Min and Max bound the estimate. Defaults 5 kbps (libwebrtc
	// congestion_controller::GetMinBitrate) and 1 Gbps (libwebrtc
	// send_side_bandwidth_estimation.cc kDefaultMaxBitrate).
	Min, Max bwe.Bitrate
	// LowLoss is the loss fraction at or below which the estimate grows.
	// Default 0.02 (libwebrtc kDefaultLowLossThreshold).
	LowLoss float64
	// HighLoss is the loss fraction above which the estimate falls.
	// Default 0.10 (libwebrtc kDefaultHighLossThreshold).
	HighLoss float64
	// IncreaseFactor multiplies the smallest estimate of the last
	// IncreaseWindow when loss is low. Default 1.08 (libwebrtc
	// UpdateEstimate, "increase by 8 %").
	IncreaseFactor float64
	// IncreaseOffset is added to every increase so that low rates do not
	// get stuck. Default 1000 bps (libwebrtc UpdateEstimate).
	IncreaseOffset bwe.Bitrate
	// IncreaseWindow is the span of the sliding minimum that increases
	// start from. Default 1 s (libwebrtc kBweIncreaseInterval).
	IncreaseWindow time.Duration
	// DecreaseInterval, plus the RTT, is the least time between two
	// decreases. Default 300 ms (libwebrtc kBweDecreaseInterval).
	DecreaseInterval time.Duration
	// StartPhase is how long after the first loss measurement the estimate
	// follows the delay-based estimate up while no loss has been seen.
	// Default 2 s (libwebrtc kStartPhase).
	StartPhase time.Duration
	// MinPackets is the least number of packets a loss measurement is
	// computed from. Default 20 (libwebrtc kLimitNumPackets).
	MinPackets int
	// LossInterval is how often packet counts from feedback are turned
	// into a loss measurement. Default 1 s (libwebrtc
	// goog_cc_network_control.cc kLossUpdateInterval, used when loss is
	// taken from transport feedback alone).
	LossInterval time.Duration
	// MaxReportAge is how long a loss measurement may drive increases and
	// decreases. Default 6 s (libwebrtc: 1.2 × kMaxRtcpFeedbackInterval of
	// 5 s).
	MaxReportAge time.Duration
}

// DefaultClassicConfig returns libwebrtc's values.
func DefaultClassicConfig() ClassicConfig {
	return ClassicConfig{
		Min:              5 * bwe.Kbps,
		Max:              bwe.Gbps,
		LowLoss:          0.02,
		HighLoss:         0.10,
		IncreaseFactor:   1.08,
		IncreaseOffset:   1000,
		IncreaseWindow:   time.Second,
		DecreaseInterval: 300 * time.Millisecond,
		StartPhase:       2 * time.Second,
		MinPackets:       20,
		LossInterval:     time.Second,
		MaxReportAge:     6 * time.Second,
	}
}

func (c ClassicConfig) withDefaults() ClassicConfig {
	d := DefaultClassicConfig()
	if c.Min == 0 {
		c.Min = d.Min
	}
	if c.Max == 0 {
		c.Max = d.Max
	}
	if c.LowLoss == 0 {
		c.LowLoss = d.LowLoss
	}
	if c.HighLoss == 0 {
		c.HighLoss = d.HighLoss
	}
	if c.IncreaseFactor == 0 {
		c.IncreaseFactor = d.IncreaseFactor
	}
	if c.IncreaseOffset == 0 {
		c.IncreaseOffset = d.IncreaseOffset
	}
	if c.IncreaseWindow == 0 {
		c.IncreaseWindow = d.IncreaseWindow
	}
	if c.DecreaseInterval == 0 {
		c.DecreaseInterval = d.DecreaseInterval
	}
	if c.StartPhase == 0 {
		c.StartPhase = d.StartPhase
	}
	if c.MinPackets == 0 {
		c.MinPackets = d.MinPackets
	}
	if c.LossInterval == 0 {
		c.LossInterval = d.LossInterval
	}
	if c.MaxReportAge == 0 {
		c.MaxReportAge = d.MaxReportAge
	}
	return c
}

func (c ClassicConfig) validate() error {
	switch {
	case c.Min < 0:
		return fmt.Errorf("lossbased: ClassicConfig.Min %v is negative", c.Min)
	case c.Max < c.Min:
		return fmt.Errorf("lossbased: ClassicConfig.Max %v is below Min %v", c.Max, c.Min)
	case !(c.LowLoss > 0 && c.LowLoss <= 1):
		return fmt.Errorf("lossbased: ClassicConfig.LowLoss %v is not in (0, 1]", c.LowLoss)
	case !(c.HighLoss >= c.LowLoss && c.HighLoss <= 1):
		return fmt.Errorf("lossbased: ClassicConfig.HighLoss %v is not in [LowLoss, 1]", c.HighLoss)
	case !(c.IncreaseFactor >= 1 && c.IncreaseFactor <= 10):
		return fmt.Errorf("lossbased: ClassicConfig.IncreaseFactor %v is not in [1, 10]", c.IncreaseFactor)
	case c.IncreaseOffset < 0:
		return fmt.Errorf("lossbased: ClassicConfig.IncreaseOffset %v is negative", c.IncreaseOffset)
	case c.IncreaseWindow < 0:
		return fmt.Errorf("lossbased: ClassicConfig.IncreaseWindow %v is negative", c.IncreaseWindow)
	case c.DecreaseInterval < 0:
		return fmt.Errorf("lossbased: ClassicConfig.DecreaseInterval %v is negative", c.DecreaseInterval)
	case c.StartPhase < 0:
		return fmt.Errorf("lossbased: ClassicConfig.StartPhase %v is negative", c.StartPhase)
	case c.MinPackets < 1:
		return fmt.Errorf("lossbased: ClassicConfig.MinPackets %d is below 1", c.MinPackets)
	case c.LossInterval < 0:
		return fmt.Errorf("lossbased: ClassicConfig.LossInterval %v is negative", c.LossInterval)
	case c.MaxReportAge < 0:
		return fmt.Errorf("lossbased: ClassicConfig.MaxReportAge %v is negative", c.MaxReportAge)
	}
	return nil
}

// historyCap is the capacity of the sliding-minimum history. Entries are
// pushed once per Update and expire after IncreaseWindow; when updates
// come faster than historyCap per window, the oldest entry is dropped
// early, which can only make the minimum larger by a sliver of the window.
const historyCap = 256

// rateAt is one entry of the sliding-minimum history.
type rateAt struct {
	at   bwe.Time
	rate bwe.Bitrate
}

// Classic is the loss rule of libwebrtc's SendSideBandwidthEstimation, as
// in draft-ietf-rmcat-gcc-02 §6 with libwebrtc's refinements: loss is
// counted from feedback over LossInterval (at least MinPackets packets)
// and quantised to 1/256 as an RTCP fraction-lost field is; then
//
//   - loss ≤ 2 %: the estimate becomes 1.08 × the smallest estimate of the
//     last second, plus 1 kbps;
//   - 2 % < loss ≤ 10 %: the estimate holds;
//   - loss > 10 %: the estimate is multiplied by 1 − loss/2, at most once
//     per measurement and once per 300 ms + RTT.
//
// During the first 2 s after the first measurement, while no loss has been
// seen, the estimate follows the delay-based estimate up (libwebrtc's
// start phase, which lets start-up probes take effect). The estimate is
// always capped by the delay-based estimate and kept within [Min, Max].
//
// The rule cannot tell random loss from congestion. On a link that loses
// 10 % of packets at random, measurements scatter around 10 %: each one
// above it cuts the estimate and none is low enough to grow it, so the
// estimate sinks towards Min. [Likelihood] exists for such links.
type Classic struct {
	cfg      ClassicConfig
	min, max bwe.Bitrate

	target     bwe.Bitrate
	delayLimit bwe.Bitrate // 0: none

	batchLost, batchExpected int64 // counted since the last LossInterval
	nextLoss                 bwe.Time
	started                  bool     // a batch has been counted
	lost, expected           int64    // not yet enough for a measurement
	fractionQ8               int64    // the last measurement, in 1/256
	reported                 bool     // a loss measurement exists
	counting                 bool     // counts have been passed on once
	firstReport              bwe.Time // when counts were first passed on
	lastReport               bwe.Time
	decreasedSince           bool // decreased since the last measurement
	lastDecrease             bwe.Time
	decreased                bool // a decrease has happened
	lastChange               State

	history       [historyCap]rateAt
	hHead, hCount int
}

var _ Estimator = (*Classic)(nil)

// NewClassic returns a classic estimator, starting at its Min until
// SetEstimate gives it a start rate.
func NewClassic(cfg ClassicConfig) (*Classic, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c := &Classic{cfg: cfg, min: cfg.Min, max: cfg.Max}
	c.target = cfg.Min
	return c, nil
}

// Config returns the configuration in use, defaults filled in.
func (c *Classic) Config() ClassicConfig { return c.cfg }

// Estimate returns the current estimate.
func (c *Classic) Estimate() bwe.Bitrate { return c.target }

// SetLimits implements [Estimator].
func (c *Classic) SetLimits(lo, hi bwe.Bitrate) {
	c.min = max(lo, 0)
	c.max = max(hi, 0)
	if c.max == 0 {
		c.max = c.cfg.Max
	}
	c.max = max(c.max, c.min)
	c.target = c.bound(c.target)
}

// SetEstimate implements [Estimator]: as libwebrtc's SetSendBitrate, it
// drops the delay-based cap until the next Update and restarts the
// sliding minimum, so the new value is used at once and not capped.
func (c *Classic) SetEstimate(at bwe.Time, r bwe.Bitrate) {
	c.delayLimit = 0
	c.target = c.bound(r)
	c.hCount = 0
}

// Reset implements [Estimator]: it forgets loss measurements and the
// history, and returns to Min (libwebrtc OnRouteChange).
func (c *Classic) Reset() {
	*c = Classic{cfg: c.cfg, min: c.min, max: c.max, target: c.min}
}

// Update implements [Estimator].
func (c *Classic) Update(in Input) Result {
	c.delayLimit = max(in.DelayBased, 0)
	c.count(in)
	c.updateEstimate(in.Time, max(in.RTT, 0))
	return c.result()
}

// count adds the batch to the loss counters and passes them on every
// LossInterval, the first time at the first batch, as
// GoogCcNetworkController does when loss is taken from transport feedback.
func (c *Classic) count(in Input) {
	for i := range in.Packets {
		c.batchExpected++
		if !in.Packets[i].Received {
			c.batchLost++
		}
	}
	if c.started && !in.Time.After(c.nextLoss) {
		return
	}
	c.started = true
	c.nextLoss = in.Time.Add(c.cfg.LossInterval)
	c.measure(in.Time, c.batchLost, c.batchExpected)
	c.batchLost, c.batchExpected = 0, 0
}

// measure accumulates counts until they cover MinPackets packets, then
// turns them into a loss fraction (libwebrtc UpdatePacketsLost).
func (c *Classic) measure(at bwe.Time, lost, expected int64) {
	if !c.counting {
		c.counting, c.firstReport = true, at
	}
	if expected <= 0 {
		return
	}
	c.lost += lost
	c.expected += expected
	if c.expected < int64(c.cfg.MinPackets) {
		return
	}
	c.fractionQ8 = min((c.lost<<8)/c.expected, 255)
	c.lost, c.expected = 0, 0
	c.decreasedSince = false
	c.reported = true
	c.lastReport = at
}

// updateEstimate applies the rule (libwebrtc UpdateEstimate).
func (c *Classic) updateEstimate(at bwe.Time, rtt time.Duration) {
	if c.fractionQ8 == 0 && c.inStartPhase(at) && c.delayLimit > 0 && c.delayLimit != c.target {
		c.hCount = 0
		c.setTarget(c.delayLimit)
		c.push(at, c.target)
		return
	}
	c.updateHistory(at)
	if !c.reported {
		c.setTarget(c.target)
		return
	}
	if at.Sub(c.lastReport) > c.cfg.MaxReportAge {
		c.setTarget(c.target)
		return
	}
	loss := float64(c.fractionQ8) / 256
	switch {
	case loss <= c.cfg.LowLoss:
		floor := c.history[c.hHead].rate
		next := bwe.BitrateFromFloat(float64(floor)*c.cfg.IncreaseFactor + 0.5)
		c.lastChange = Increasing
		c.setTarget(bwe.SatAdd(next, c.cfg.IncreaseOffset))
	case loss <= c.cfg.HighLoss:
		c.setTarget(c.target)
	case !c.decreasedSince && (!c.decreased || at.Sub(c.lastDecrease) >= c.cfg.DecreaseInterval+rtt):
		c.lastDecrease, c.decreased, c.decreasedSince = at, true, true
		c.lastChange = Decreasing
		// ×(512 − q8)/512 = ×(1 − loss/2), truncated as libwebrtc's
		// DataRate::bps(double) does.
		c.setTarget(bwe.BitrateFromFloat(float64(c.target) * float64(512-c.fractionQ8) / 512))
	default:
		c.setTarget(c.target)
	}
}

func (c *Classic) inStartPhase(at bwe.Time) bool {
	return !c.counting || at.Sub(c.firstReport) < c.cfg.StartPhase
}

// updateHistory keeps the sliding minimum of the estimate over
// IncreaseWindow (libwebrtc UpdateMinHistory, which keeps entries for the
// window less 1 ms so that a sub-ms jitter in update times cannot delay an
// increase by a whole window).
func (c *Classic) updateHistory(at bwe.Time) {
	for c.hCount > 0 && at.Sub(c.history[c.hHead].at)+time.Millisecond > c.cfg.IncreaseWindow {
		c.hHead = (c.hHead + 1) % historyCap
		c.hCount--
	}
	for c.hCount > 0 && c.target <= c.history[(c.hHead+c.hCount-1)%historyCap].rate {
		c.hCount--
	}
	c.push(at, c.target)
}

func (c *Classic) push(at bwe.Time, r bwe.Bitrate) {
	if c.hCount == historyCap {
		c.hHead = (c.hHead + 1) % historyCap
		c.hCount--
	}
	if c.hCount == 0 {
		c.hHead = 0
	}
	c.history[(c.hHead+c.hCount)%historyCap] = rateAt{at, r}
	c.hCount++
}

// setTarget caps r by the delay-based estimate and bounds it (libwebrtc
// UpdateTargetBitrate).
func (c *Classic) setTarget(r bwe.Bitrate) {
	if c.delayLimit > 0 {
		r = min(r, c.delayLimit)
	}
	c.target = c.bound(r)
}

func (c *Classic) bound(r bwe.Bitrate) bwe.Bitrate {
	return max(min(r, c.max), c.min)
}

func (c *Classic) result() Result {
	r := Result{Estimate: c.target, Ready: c.reported, Loss: float64(c.fractionQ8) / 256}
	limited := c.reported && (c.delayLimit == 0 || c.target < c.delayLimit) && c.target < c.max
	if limited && c.lastChange != DelayBasedEstimate {
		r.State = c.lastChange
	}
	return r
}
