package delaybased

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"time"

	"github.com/bwelab/bwe"
)

// RateState is the state of the AIMD controller (libwebrtc RateControlState).
// The zero value is Hold.
type RateState uint8

const (
	// Hold keeps the rate: after a decrease, so that the queue built up by
	// the overuse can drain, and while the detector reports underuse.
	Hold RateState = iota
	// Increase raises the rate, multiplicatively while the link capacity is
	// unknown and additively near it.
	Increase
	// Decrease is entered on overuse. It is transient: the controller backs
	// off once and returns to Hold within the same update.
	Decrease
)

// String returns "hold", "increase" or "decrease".
func (s RateState) String() string {
	switch s {
	case Hold:
		return "hold"
	case Increase:
		return "increase"
	case Decrease:
		return "decrease"
	}
	return "ratestate(" + strconv.Itoa(int(s)) + ")"
}

// Constants of the AIMD controller, from libwebrtc
// modules/remote_bitrate_estimator/aimd_rate_control.cc unless noted.
const (
	// initializationTime: without a start rate, SetEstimate or overuse, the
	// controller adopts the measured throughput once this long has passed
	// since the first throughput sample. libwebrtc: kInitializationTime = 5 s.
	initializationTime = 5 * time.Second
	// extraBackoff is subtracted from β·throughput on a decrease when the
	// result exceeds it. libwebrtc: DataRate::KilobitsPerSec(5).
	extraBackoff = 5 * bwe.Kbps
	// increaseLimitOffset and increaseLimitFactor bound an increase to
	// 1.5·throughput + 10 kbps. libwebrtc: ChangeBitrate, kRcIncrease.
	increaseLimitFactor = 1.5
	increaseLimitOffset = 10 * bwe.Kbps
	// multiplicativeBase: 8 % per second of multiplicative increase, with
	// the step floored at minMultiplicativeStep. libwebrtc:
	// MultiplicativeRateIncrease alpha = 1.08, floor DataRate::BitsPerSec(1000).
	multiplicativeBase    = 1.08
	minMultiplicativeStep = 1000 * bwe.BitPerSecond
	// frameInterval (1 s / 30 in whole µs) and nearMaxPacketSize describe
	// the assumed media for the additive (near-max) increase rate.
	// libwebrtc: GetNearMaxIncreaseRateBpsPerSecond kFrameInterval,
	// kPacketSize = 1200 B.
	frameIntervalMicros = 1_000_000 / 30
	nearMaxPacketSize   = 1200
	// detectorDelay approximates the overuse detector's reaction time.
	// libwebrtc: response_time = rtt + 100 ms, doubled.
	detectorDelay = 100 * time.Millisecond
	// minNearMaxIncreaseRate, in bits per second per second. libwebrtc:
	// kMinIncreaseRateBpsPerSecond = 4000.
	minNearMaxIncreaseRate = 4000
	// Expected period between backoffs. libwebrtc:
	// GetExpectedBandwidthPeriod kMinPeriod = 2 s, kDefaultPeriod = 3 s,
	// kMaxPeriod = 50 s.
	minExpectedPeriod     = 2 * time.Second
	defaultExpectedPeriod = 3 * time.Second
	maxExpectedPeriod     = 50 * time.Second
	// Limits of the interval after which an overuse may cause a further
	// decrease. libwebrtc: TimeToReduceFurther clamps the RTT to
	// [10 ms, 200 ms].
	minReductionInterval = 10 * time.Millisecond
	maxReductionInterval = 200 * time.Millisecond
)

// AIMDConfig configures an [AIMD] controller. A zero field takes the default
// given in its comment; [DefaultAIMDConfig] spells them out. The boolean
// fields are named so that false is libwebrtc's default.
type AIMDConfig struct {
	// MinBitrate is the floor of the estimate. Default 5 kbps (libwebrtc
	// congestion_controller kCongestionControllerMinBitrate = 5 kbps).
	MinBitrate bwe.Bitrate
	// MaxBitrate is the ceiling of the estimate and its value before
	// anything sets it. Default 30 Mbps (libwebrtc aimd_rate_control.cc
	// max_configured_bitrate_ = 30000 kbps). libwebrtc uses this value only
	// as the initial rate and lets SetEstimate, SetStartBitrate and
	// increases go above it; this port never does.
	MaxBitrate bwe.Bitrate
	// Beta is the multiplicative backoff factor: on overuse the rate drops
	// to Beta·throughput (minus 5 kbps, see NoExtraBackoff). Must lie in
	// (0, 1). Default 0.85 (libwebrtc kDefaultBackoffFactor; field trial
	// WebRTC-BweBackOffFactor).
	Beta float64
	// InitialRTT is the round-trip time assumed until SetRTT is called.
	// Default 200 ms (libwebrtc kDefaultRtt).
	InitialRTT time.Duration
	// NoExtraBackoff disables the extra 5 kbps that libwebrtc subtracts on
	// each decrease (when Beta·throughput exceeds 5 kbps). Default false:
	// subtract, as libwebrtc does unconditionally since the field trial was
	// made permanent.
	NoExtraBackoff bool
	// NoIncreaseInALR freezes increases while the sender is
	// application-limited (see [AIMD.SetInALR]): the feedback cannot tell
	// whether a higher rate would fit. Default false (libwebrtc field trial
	// WebRTC-DontIncreaseDelayBasedBweInAlr, off by default).
	NoIncreaseInALR bool
	// NetworkEstimateUnbounded stops the upper bound of a network estimate
	// (see [AIMD.SetNetworkEstimate]) from limiting the rate. Default false:
	// bounded (libwebrtc field trial WebRTC-Bwe-EstimateBoundedIncrease,
	// enabled by default).
	NetworkEstimateUnbounded bool
	// NoCurrentUpperBound makes the network estimate's upper bound apply
	// as is. Default false: the bound is max(upper, current estimate), so a
	// low network estimate blocks increases but never lowers the rate by
	// itself (libwebrtc WebRTC-Bwe-EstimateBoundedIncrease c_upper:true).
	NoCurrentUpperBound bool
}

// DefaultAIMDConfig returns the libwebrtc defaults.
func DefaultAIMDConfig() AIMDConfig {
	return AIMDConfig{
		MinBitrate: 5 * bwe.Kbps,
		MaxBitrate: 30 * bwe.Mbps,
		Beta:       0.85,
		InitialRTT: 200 * time.Millisecond,
	}
}

func (c AIMDConfig) withDefaults() (AIMDConfig, error) {
	d := DefaultAIMDConfig()
	switch {
	case c.MinBitrate < 0:
		return c, fmt.Errorf("delaybased: AIMDConfig.MinBitrate %d bps is negative", int64(c.MinBitrate))
	case c.MaxBitrate < 0:
		return c, fmt.Errorf("delaybased: AIMDConfig.MaxBitrate %d bps is negative", int64(c.MaxBitrate))
	case c.Beta != 0 && !(c.Beta > 0 && c.Beta < 1): // also rejects NaN
		return c, fmt.Errorf("delaybased: AIMDConfig.Beta %v is outside (0, 1)", c.Beta)
	case c.InitialRTT < 0:
		return c, fmt.Errorf("delaybased: AIMDConfig.InitialRTT %v is negative", c.InitialRTT)
	}
	if c.MinBitrate == 0 {
		c.MinBitrate = d.MinBitrate
	}
	if c.MaxBitrate == 0 {
		c.MaxBitrate = d.MaxBitrate
	}
	if c.Beta == 0 {
		c.Beta = d.Beta
	}
	if c.InitialRTT == 0 {
		c.InitialRTT = d.InitialRTT
	}
	if c.MinBitrate > c.MaxBitrate {
		return c, errors.New("delaybased: AIMDConfig.MinBitrate " + c.MinBitrate.String() +
			" exceeds AIMDConfig.MaxBitrate " + c.MaxBitrate.String())
	}
	return c, nil
}

// AIMD is the additive-increase / multiplicative-decrease rate controller
// that turns the delay detector's usage signal and the acknowledged
// throughput into the delay-based estimate. It is libwebrtc's
// AimdRateControl (modules/remote_bitrate_estimator/aimd_rate_control.cc)
// as the send-side DelayBasedBwe uses it, with the same integer and
// floating-point rounding, so that scripted inputs give the same bit rates
// as libwebrtc.
//
// The usage signal drives the state (see [RateState]):
//
//	normal      Hold → Increase (the increase clock restarts); Increase stays
//	overusing   Decrease: back off once, then Hold, within the same update
//	underusing  Hold
//
// In Increase, the rate grows by max(rate·(1.08^min(Δt,1 s) − 1), 1 kbps)
// while the link capacity is unknown, and by NearMaxIncreaseRate·Δt once a
// decrease has produced a [LinkCapacity] estimate that the throughput stays
// within; it never grows past 1.5·throughput + 10 kbps. In Decrease, the
// rate drops to Beta·throughput − 5 kbps; if that is not below the current
// rate, Beta·link capacity is tried instead, and the rate never goes up.
//
// The estimate always lies within [MinBitrate, MaxBitrate]. Differences
// from libwebrtc, all for inputs it does not expect: rates above
// MaxBitrate are clamped (libwebrtc never clamps to its max), negative
// throughputs and rates count as 0, a negative RTT counts as 0, and an
// additive increase over a negative interval (time going backwards) is 0.
//
// Times are instants on the sender's clock ([bwe.Time]); rates are bits per
// second. Not safe for concurrent use.
type AIMD struct {
	cfg AIMDConfig

	current          bwe.Bitrate
	latestThroughput bwe.Bitrate
	link             LinkCapacity
	state            RateState

	lastChange    bwe.Time
	hasLastChange bool
	firstThr      bwe.Time
	hasFirstThr   bool
	initialized   bool

	lastDecrease    bwe.Bitrate
	hasLastDecrease bool

	rttMicros int64
	inALR     bool
	lower     bwe.Bitrate // network estimate lower bound, 0 = none
	upper     bwe.Bitrate // network estimate upper bound, 0 = none

	// The last power taken by multiplicativeIncrease and its exponent:
	// feedback often comes at a steady interval.
	powExp, pow float64
	powValid    bool
}

// NewAIMD returns a controller in Hold whose estimate is cfg.MaxBitrate and
// not yet valid. It rejects negative rates and RTTs, a Beta outside (0, 1)
// and a MinBitrate above MaxBitrate.
func NewAIMD(cfg AIMDConfig) (*AIMD, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	a := &AIMD{cfg: cfg}
	a.current = cfg.MaxBitrate
	a.latestThroughput = a.current
	a.SetRTT(cfg.InitialRTT)
	return a, nil
}

// Config returns the configuration in use, defaults filled in.
func (a *AIMD) Config() AIMDConfig { return a.cfg }

// Update feeds one detector verdict taken at time at, with the acknowledged
// throughput if one is known (hasThroughput false reuses the last one), and
// returns the new estimate (libwebrtc AimdRateControl::Update). Until the
// estimate is valid only an overuse changes it, except that the throughput
// is adopted as the estimate once more than 5 s have passed since the first
// throughput sample.
func (a *AIMD) Update(at bwe.Time, usage bwe.Usage, throughput bwe.Bitrate, hasThroughput bool) bwe.Bitrate {
	throughput = max(throughput, 0)
	if !a.initialized {
		if !a.hasFirstThr {
			if hasThroughput {
				a.firstThr, a.hasFirstThr = at, true
			}
		} else if at.Sub(a.firstThr) > initializationTime && hasThroughput {
			a.current = throughput
			a.initialized = true
		}
	}
	a.changeBitrate(at, usage, throughput, hasThroughput)
	return a.current
}

func (a *AIMD) changeBitrate(at bwe.Time, usage bwe.Usage, input bwe.Bitrate, hasInput bool) {
	thr := a.latestThroughput
	if hasInput {
		thr = input
		a.latestThroughput = input
	}
	// An overuse acts even before the first estimate: acting on it is what
	// makes the estimate valid.
	if !a.initialized && usage != bwe.Overusing {
		return
	}
	a.changeState(at, usage)

	next, hasNext := bwe.Bitrate(0), false
	switch a.state {
	case Increase:
		if thr > a.link.UpperBound() {
			a.link.Reset()
		}
		limit := addRate(thr.Scale(increaseLimitFactor), increaseLimitOffset)
		if a.inALR && a.cfg.NoIncreaseInALR {
			limit = a.current
		}
		if a.current < limit {
			var step bwe.Bitrate
			if a.link.HasEstimate() {
				step = a.additiveIncrease(at)
			} else {
				step = a.multiplicativeIncrease(at)
			}
			next, hasNext = min(addRate(a.current, step), limit), true
		}
		a.lastChange, a.hasLastChange = at, true

	case Decrease:
		dec := thr.Scale(a.cfg.Beta)
		if !a.cfg.NoExtraBackoff && dec > extraBackoff {
			dec -= extraBackoff
		}
		if dec > a.current && a.link.HasEstimate() {
			dec = a.link.Estimate().Scale(a.cfg.Beta)
		}
		if dec < a.current {
			next, hasNext = dec, true
		}
		if a.initialized && thr < a.current {
			a.lastDecrease, a.hasLastDecrease = 0, true
			if hasNext {
				a.lastDecrease = a.current - next
			}
		}
		if thr < a.link.LowerBound() {
			a.link.Reset()
		}
		a.initialized = true
		a.link.OnOveruseDetected(thr)
		a.state = Hold
		a.lastChange, a.hasLastChange = at, true
	}
	if !hasNext {
		next = a.current
	}
	a.current = a.clamp(next)
}

// changeState applies the usage signal to the state (libwebrtc
// AimdRateControl::ChangeState). An unknown usage value changes nothing.
func (a *AIMD) changeState(at bwe.Time, usage bwe.Usage) {
	switch usage {
	case bwe.Normal:
		if a.state == Hold {
			a.lastChange, a.hasLastChange = at, true
			a.state = Increase
		}
	case bwe.Overusing:
		a.state = Decrease
	case bwe.Underusing:
		a.state = Hold
	}
}

// clamp applies the network estimate and the configured limits to a
// candidate rate (libwebrtc AimdRateControl::ClampBitrate, plus the
// MaxBitrate ceiling).
func (a *AIMD) clamp(r bwe.Bitrate) bwe.Bitrate {
	if !a.cfg.NetworkEstimateUnbounded && a.upper > 0 {
		ub := a.upper
		if !a.cfg.NoCurrentUpperBound {
			ub = max(ub, a.current)
		}
		r = min(r, ub)
	}
	if a.lower > 0 && r < a.current {
		r = min(a.current, max(r, a.lower.Scale(a.cfg.Beta)))
	}
	return r.Clamp(a.cfg.MinBitrate, a.cfg.MaxBitrate)
}

// multiplicativeIncrease returns max(current·(1.08^min(Δt, 1 s) − 1), 1 kbps)
// with Δt in seconds since the last change (libwebrtc
// MultiplicativeRateIncrease; the product is rounded as DataRate*double).
func (a *AIMD) multiplicativeIncrease(at bwe.Time) bwe.Bitrate {
	alpha := multiplicativeBase
	if a.hasLastChange {
		x := min(seconds(at.Sub(a.lastChange)), 1)
		if !a.powValid || math.Float64bits(x) != math.Float64bits(a.powExp) {
			a.powExp, a.pow, a.powValid = x, math.Pow(multiplicativeBase, x), true
		}
		alpha = a.pow
	}
	return max(a.current.Scale(alpha-1), minMultiplicativeStep)
}

// additiveIncrease returns NearMaxIncreaseRate·Δt, truncated to whole bits
// per second (libwebrtc AdditiveRateIncrease). A negative Δt gives 0.
func (a *AIMD) additiveIncrease(at bwe.Time) bwe.Bitrate {
	if !a.hasLastChange {
		return 0
	}
	dt := seconds(at.Sub(a.lastChange))
	if dt <= 0 {
		return 0
	}
	return bwe.BitrateFromFloat(a.nearMaxRate() * dt)
}

// seconds converts d to seconds the way libwebrtc's TimeDelta::seconds<double>
// does: whole microseconds multiplied by the double nearest to 1e-6.
// (Multiplying rather than dividing can differ in the last bit, which
// matters where the result is truncated.)
func seconds(d time.Duration) float64 {
	return float64(d/time.Microsecond) * (1.0 / 1e6)
}

// SetEstimate sets the estimate directly, e.g. from a probe result, subject
// to the network estimate and the configured limits, and makes it valid
// (libwebrtc AimdRateControl::SetEstimate). It bypasses the ALR rule and the
// throughput limit of increases. The state is unchanged.
func (a *AIMD) SetEstimate(at bwe.Time, r bwe.Bitrate) {
	a.initialized = true
	a.current = a.clamp(max(r, 0))
	a.lastChange, a.hasLastChange = at, true
}

// SetStartBitrate sets the initial estimate and makes it valid (libwebrtc
// AimdRateControl::SetStartBitrate). The rate is clamped to [MinBitrate,
// MaxBitrate]; libwebrtc takes it as is. It also becomes the throughput
// assumed until one is measured.
func (a *AIMD) SetStartBitrate(r bwe.Bitrate) {
	a.current = r.Clamp(a.cfg.MinBitrate, a.cfg.MaxBitrate)
	a.latestThroughput = a.current
	a.initialized = true
}

// SetRTT sets the round-trip time, used by the additive increase rate and
// by TimeToReduceFurther (libwebrtc AimdRateControl::SetRtt). It is kept in
// whole microseconds, like libwebrtc's TimeDelta; a negative RTT counts as 0.
func (a *AIMD) SetRTT(rtt time.Duration) {
	a.rttMicros = max(int64(rtt/time.Microsecond), 0)
}

// RTT returns the round-trip time in use.
func (a *AIMD) RTT() time.Duration { return time.Duration(a.rttMicros) * time.Microsecond }

// SetInALR tells the controller whether the sender is application-limited
// (libwebrtc SetInApplicationLimitedRegion). It matters only with
// NoIncreaseInALR.
func (a *AIMD) SetInALR(inALR bool) { a.inALR = inALR }

// SetNetworkEstimate sets the bounds of an external network-state estimate
// of the link capacity (libwebrtc SetNetworkStateEstimate with
// link_capacity_lower and link_capacity_upper); 0 or a negative value means
// "no bound" for either. The upper bound caps the estimate (unless
// NetworkEstimateUnbounded), and a decrease never goes below Beta·lower.
// The bounds hold until replaced.
func (a *AIMD) SetNetworkEstimate(lower, upper bwe.Bitrate) {
	a.lower = max(lower, 0)
	a.upper = max(upper, 0)
}

// Estimate returns the current estimate (libwebrtc LatestEstimate). Before
// the estimate is valid it is MaxBitrate.
func (a *AIMD) Estimate() bwe.Bitrate { return a.current }

// Valid reports whether the estimate has been initialised: by
// SetStartBitrate, SetEstimate, an overuse, or 5 s of throughput samples
// (libwebrtc ValidEstimate).
func (a *AIMD) Valid() bool { return a.initialized }

// State returns the controller state.
func (a *AIMD) State() RateState { return a.state }

// TimeToReduceFurther reports whether an overuse seen at time at should
// cause another decrease: true once the estimate has been unchanged for
// clamp(RTT, 10 ms, 200 ms), or, with a valid estimate, when the throughput
// is below half of it (libwebrtc AimdRateControl::TimeToReduceFurther).
func (a *AIMD) TimeToReduceFurther(at bwe.Time, throughput bwe.Bitrate) bool {
	interval := min(max(a.RTT(), minReductionInterval), maxReductionInterval)
	if !a.hasLastChange || at.Sub(a.lastChange) >= interval {
		return true
	}
	if a.initialized {
		return throughput < a.current.Scale(0.5)
	}
	return false
}

// InitialTimeToReduceFurther is TimeToReduceFurther for an overuse seen
// before any throughput has been measured (libwebrtc
// InitialTimeToReduceFurther). As in libwebrtc it probes with a throughput
// of estimate/2 − 1 bps, which is always below half the estimate, so it
// reports exactly whether the estimate is valid.
func (a *AIMD) InitialTimeToReduceFurther(at bwe.Time) bool {
	return a.initialized && a.TimeToReduceFurther(at, a.current/2-1)
}

// NearMaxIncreaseRate returns the additive increase rate, in bits per
// second gained per second: one average packet per response time, where a
// frame is the estimate over 1/30 s split into packets of at most 1200 B,
// and the response time is 2·(RTT + 100 ms); at least 4000 bps/s (libwebrtc
// GetNearMaxIncreaseRateBpsPerSecond, with its integer rounding).
func (a *AIMD) NearMaxIncreaseRate() bwe.Bitrate {
	return bwe.Bitrate(a.nearMaxRate())
}

// nearMaxRate is NearMaxIncreaseRate as the float64 libwebrtc computes
// with. Its value is always a whole number.
func (a *AIMD) nearMaxRate() float64 {
	// frame = current · 33333 µs, rounded to whole bytes as DataRate*TimeDelta
	// rounds. 128-bit arithmetic: the product exceeds int64 above ~276 Tbps.
	hi, lo := bits.Mul64(uint64(max(a.current, 0)), frameIntervalMicros)
	lo, carry := bits.Add64(lo, 4_000_000, 0)
	frame, _ := bits.Div64(hi+carry, lo, 8_000_000)
	packets := math.Ceil(float64(frame) / nearMaxPacketSize)
	if packets == 0 {
		return minNearMaxIncreaseRate
	}
	avg := bwe.ByteCount(math.Round(float64(frame) / packets))
	// rttMicros ≤ MaxInt64/1000, so the response time cannot overflow.
	respMicros := 2 * (a.rttMicros + int64(detectorDelay/time.Microsecond))
	resp := time.Duration(min(respMicros, math.MaxInt64/int64(time.Microsecond))) * time.Microsecond
	rate := bwe.RateOf(avg, resp)
	return max(minNearMaxIncreaseRate, float64(rate))
}

// ExpectedPeriod returns the expected time between two backoffs in steady
// state: the size of the last decrease divided by NearMaxIncreaseRate,
// truncated to whole microseconds and clamped to [2 s, 50 s]; 3 s before
// the first decrease below the throughput (libwebrtc
// GetExpectedBandwidthPeriod). libwebrtc reports it to the encoder as the
// bandwidth-estimate period.
func (a *AIMD) ExpectedPeriod() time.Duration {
	if !a.hasLastDecrease {
		return defaultExpectedPeriod
	}
	us := float64(a.lastDecrease) / a.nearMaxRate() * 1e6
	switch {
	case !(us >= float64(minExpectedPeriod/time.Microsecond)): // also NaN
		return minExpectedPeriod
	case us >= float64(maxExpectedPeriod/time.Microsecond):
		return maxExpectedPeriod
	}
	return time.Duration(int64(us)) * time.Microsecond
}

// LastDecrease returns the size of the last decrease below the throughput
// that the expected period is computed from, and whether there was one.
func (a *AIMD) LastDecrease() (bwe.Bitrate, bool) { return a.lastDecrease, a.hasLastDecrease }

// LinkCapacity returns a copy of the controller's link-capacity tracker,
// for plots and tests: a value, so that callers cannot change the
// controller through it.
func (a *AIMD) LinkCapacity() LinkCapacity { return a.link }

// addRate returns a+b for non-negative rates, saturating at
// [bwe.MaxBitrate].
func addRate(a, b bwe.Bitrate) bwe.Bitrate {
	if b > 0 && a > bwe.MaxBitrate-b {
		return bwe.MaxBitrate
	}
	return a + b
}
