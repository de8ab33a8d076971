package sendside

import (
	"fmt"
	"math"
	"time"

	"github.com/bwelab/bwe"
)

// ALRConfig configures an [ALRDetector]. Zero fields take the defaults of
// [DefaultALRConfig].
type ALRConfig struct {
	// Usage is the fraction of the estimate that a sender must keep using
	// not to be application-limited: the budget refills at Usage × the
	// estimate. Default 0.65 (libwebrtc alr_detector.h
	// kDefaultAlrBandwidthUsagePercent = 65).
	Usage float64
	// Start is the budget level (unused budget over its capacity) above
	// which the application-limited region starts. Default 0.80 (libwebrtc
	// kDefaultAlrStartBudgetLevelPercent = 80).
	Start float64
	// Stop is the budget level below which the region ends. Default 0.50
	// (libwebrtc kDefaultAlrStopBudgetLevelPercent = 50).
	Stop float64
	// Window is how much unused budget may build up, as time at the budget
	// rate. Default 500 ms (libwebrtc interval_budget.cc kWindowMs).
	Window time.Duration
}

// DefaultALRConfig returns libwebrtc's values.
func DefaultALRConfig() ALRConfig {
	return ALRConfig{Usage: 0.65, Start: 0.80, Stop: 0.50, Window: 500 * time.Millisecond}
}

func (c ALRConfig) withDefaults() ALRConfig {
	d := DefaultALRConfig()
	if c.Usage == 0 {
		c.Usage = d.Usage
	}
	if c.Start == 0 {
		c.Start = d.Start
	}
	if c.Stop == 0 {
		c.Stop = d.Stop
	}
	if c.Window == 0 {
		c.Window = d.Window
	}
	return c
}

func (c ALRConfig) validate() error {
	switch {
	case !(c.Usage > 0 && c.Usage <= 10):
		return fmt.Errorf("sendside: ALRConfig.Usage %v is not in (0, 10]", c.Usage)
	case !(c.Start > -1 && c.Start <= 1):
		return fmt.Errorf("sendside: ALRConfig.Start %v is not in (-1, 1]", c.Start)
	case !(c.Stop >= -1 && c.Stop <= c.Start):
		return fmt.Errorf("sendside: ALRConfig.Stop %v is not in [-1, Start]", c.Stop)
	case c.Window <= 0:
		return fmt.Errorf("sendside: ALRConfig.Window %v is not positive", c.Window)
	}
	return nil
}

// ALRDetector tells when the sender is application-limited: when it sends
// clearly less than the estimate because it has nothing more to send. In
// that application-limited region (ALR) the feedback says nothing about
// rates above what is sent, so the estimate must not be trusted to grow,
// and probing is the way to learn more.
//
// It is libwebrtc's AlrDetector over an IntervalBudget: a budget that
// refills at Usage × the estimate and drains by the bytes sent, bounded by
// ±Window worth of refill; the region starts when the unused budget
// exceeds Start of its capacity and ends when it falls below Stop. Unlike
// libwebrtc it keeps time in microseconds and the budget in fractional
// bytes, so that pacing in sub-millisecond steps refills exactly.
//
// Not safe for concurrent use; allocates nothing.
type ALRDetector struct {
	cfg       ALRConfig
	rate      float64 // budget refill rate, bytes per second
	capacity  float64 // bytes
	remaining float64 // bytes, in [−capacity, capacity]
	last      bwe.Time
	started   bool // a packet has been sent
	inALR     bool
	since     bwe.Time // start of the current region

	// The last send gap and its length in seconds: packets are often
	// sent at a steady pace.
	lastDt  time.Duration
	lastDtS float64
}

// NewALRDetector returns a detector configured by cfg. It is not in the
// region until the sender has been seen leaving budget unused.
func NewALRDetector(cfg ALRConfig) (*ALRDetector, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &ALRDetector{cfg: cfg}, nil
}

// SetEstimate sets the estimate the sender is compared with.
func (d *ALRDetector) SetEstimate(r bwe.Bitrate) {
	d.rate = max(r.Float(), 0) * d.cfg.Usage / 8
	d.capacity = d.rate * d.cfg.Window.Seconds()
	d.remaining = min(max(d.remaining, -d.capacity), d.capacity)
}

// OnSent accounts one packet of size bytes sent at at. Packets should come
// in send order; one sent before the previous one adds no budget. It
// returns whether the sender is application-limited afterwards.
func (d *ALRDetector) OnSent(at bwe.Time, size bwe.ByteCount) bool {
	if !d.started {
		// The first packet only starts the clock: how long it took to
		// send is unknown.
		d.started, d.last = true, at
		return d.inALR
	}
	dt := max(at.Sub(d.last), 0)
	d.last = max(d.last, at)
	if dt != d.lastDt {
		d.lastDt, d.lastDtS = dt, dt.Seconds()
	}
	d.remaining = d.drain(d.remaining, size, d.lastDtS)
	switch {
	case !d.inALR && above(d.remaining, d.capacity, d.cfg.Start):
		d.inALR, d.since = true, at
	case d.inALR && below(d.remaining, d.capacity, d.cfg.Stop):
		d.inALR = false
	}
	return d.inALR
}

// onSentRun is OnSent for the packets of pkts in order, up to the first
// one after which the sender enters or leaves the region, included. It
// returns how many packets it accounted. The budget is kept in a local
// while it runs.
func (d *ALRDetector) onSentRun(pkts []bwe.PacketResult) int {
	if len(pkts) == 0 {
		return 0
	}
	if !d.started {
		d.OnSent(pkts[0].SendTime, pkts[0].Size)
		return 1
	}
	remaining, last, lastDt, lastDtS := d.remaining, d.last, d.lastDt, d.lastDtS
	n := len(pkts)
	for i := range pkts {
		p := &pkts[i]
		at := p.SendTime
		dt := max(at.Sub(last), 0)
		last = max(last, at)
		if dt != lastDt {
			lastDt, lastDtS = dt, dt.Seconds()
		}
		remaining = d.drain(remaining, p.Size, lastDtS)
		if !d.inALR && above(remaining, d.capacity, d.cfg.Start) {
			d.inALR, d.since = true, at
			n = i + 1
			break
		}
		if d.inALR && below(remaining, d.capacity, d.cfg.Stop) {
			d.inALR = false
			n = i + 1
			break
		}
	}
	d.remaining, d.last, d.lastDt, d.lastDtS = remaining, last, lastDt, lastDtS
	return n
}

// drain returns the budget remaining after a packet of size bytes and
// dtS seconds of refill.
func (d *ALRDetector) drain(remaining float64, size bwe.ByteCount, dtS float64) float64 {
	remaining = atLeast(remaining-float64(max(size, 0)), -d.capacity)
	return atMost(remaining+d.rate*dtS, d.capacity)
}

// atLeast returns max(x, lo). It tests x < lo first, with a branch: a
// sender that keeps its budget exhausted (or unused) keeps the result at
// the bound, and the branch, once predicted, spares the next packet from
// waiting for x. If x < lo, max(x, lo) is lo; otherwise the built-in max
// decides (NaN, signed zeros).
func atLeast(x, lo float64) float64 {
	if x < lo {
		return lo
	}
	return max(x, lo)
}

// atMost returns min(x, hi), as atLeast does max.
func atMost(x, hi float64) float64 {
	if x > hi {
		return hi
	}
	return min(x, hi)
}

// above reports whether level(remaining, capacity) > x. A budget at or
// below zero has a level at or below zero (the quotient of a non-positive
// number by a positive one), which cannot exceed a non-negative x: no
// need to divide.
func above(remaining, capacity, x float64) bool {
	if remaining <= 0 && x >= 0 {
		return false
	}
	return level(remaining, capacity) > x
}

// below reports whether level(remaining, capacity) < x; as above, a
// non-negative budget cannot be below a non-positive x.
func below(remaining, capacity, x float64) bool {
	if remaining >= 0 && x <= 0 {
		return false
	}
	return level(remaining, capacity) < x
}

// Level is the unused budget as a fraction of its capacity, in [−1, 1];
// 0 while the estimate is 0.
func (d *ALRDetector) Level() float64 { return level(d.remaining, d.capacity) }

func level(remaining, capacity float64) float64 {
	if capacity <= 0 || math.IsInf(capacity, 0) {
		return 0
	}
	return remaining / capacity
}

// InALR reports whether the sender is application-limited, and since when.
func (d *ALRDetector) InALR() (since bwe.Time, ok bool) { return d.since, d.inALR }

// Reset forgets the sending history, keeping the estimate.
func (d *ALRDetector) Reset() {
	d.remaining, d.started, d.inALR, d.since, d.last = 0, false, false, 0, 0
}
