package smoothing

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/bwelab/bwe"
)

// OscillationAwareConfig configures an [OscillationAware]. Zero fields take
// the defaults of [DefaultOscillationAwareConfig]; a nil Detector or Base is
// a choice, not a default to fill in.
type OscillationAwareConfig struct {
	// Detector, when non-nil, is run on the raw estimate at every call and
	// its verdict replaces [bwe.Signals.Oscillation]. The smoother owns it
	// from then on: Reset resets it. Default nil: read the verdict from
	// the signals.
	Detector bwe.OscillationDetector
	// Base is the smoother used while no oscillation is held. It sees
	// every estimate. Default nil: the raw estimate passes through.
	Base bwe.Smoother
	// Quantile is the quantile of the raw estimate, over the last Cycles
	// periods, that is output while an oscillation is held. In [0, 1];
	// default 0.75, the upper part of the cycle (0.5 gives the median,
	// close to the mean of the cycle). Zero means the default.
	Quantile float64
	// Cycles is how many detected periods the quantile window spans.
	// Default 2.
	Cycles float64
	// MaxSamples bounds the ring of raw estimates the quantile is taken
	// from. Default 1024 (2 cycles of a 20 s swing hold 400–2000
	// estimates at one per 20–100 ms: at the slowest swings and fastest
	// feedback the window is the last 1024 estimates, still over 20 s).
	MaxSamples int
	// LossThreshold is the loss fraction at and above which the hold is
	// dropped. Default 0.1 (libwebrtc send_side_bandwidth_estimation.cc:
	// kDefaultHighLossThreshold = 0.1f, above which the classic loss-based
	// rule decreases the estimate).
	LossThreshold float64
	// RTTWindow is how far back the delay test looks for its baseline,
	// the lowest mean RTT over one period (see [OscillationAware]). It
	// is lengthened to the averaging span when that is longer. At least
	// 100 ms; default 10 s.
	RTTWindow time.Duration
	// RTTRise is how far the recent mean RTT must exceed the baseline for
	// the rise to count as a growing queue. Default 30 ms (this package's
	// choice: a per-period mean of a periodic ±40 ms jitter moves by a
	// few ms only, while a queue that keeps growing adds tens of ms within
	// a period on the sub-150 ms paths this smoother targets).
	RTTRise time.Duration
	// MaxPeriod caps the span the delay test averages the RTT over,
	// max(Period, 1 s), and sizes its ring. Default 20 s, the longest
	// swing period this smoother is meant for.
	MaxPeriod time.Duration
	// Rearm is how long after a let-go the hold stays off, however sure
	// the detector is. Default 0: one detected period, at least 1 s.
	Rearm time.Duration
	// Ratchet keeps the hold's level from falling while the hold lasts:
	// the output is then max(estimate, the highest upper quantile since
	// the hold began). Without it the level follows the upper quantile
	// of the last Cycles periods, which tracks an estimate that swings
	// around a level but also one that falls a step per cycle (the
	// trendline's staircase under a periodic delay swing), and so
	// follows the staircase down a cycle late. Default false.
	Ratchet bool
	// Linger keeps a hold this long after the detector last reported the
	// oscillation (let-go signals still end it at once). The hold
	// changes what the estimator sees, and with it the shape of the
	// estimate's swings, which the detector may stop recognising for a
	// while although the delay swing that drives them goes on.
	// Default 0: the hold ends with the detection.
	Linger time.Duration
}

// DefaultOscillationAwareConfig returns the defaults. Rearm stays 0, which
// means one detected period, at least 1 s.
func DefaultOscillationAwareConfig() OscillationAwareConfig {
	return OscillationAwareConfig{
		Quantile:      0.75,
		Cycles:        2,
		MaxSamples:    1024,
		LossThreshold: 0.1,
		RTTWindow:     10 * time.Second,
		RTTRise:       30 * time.Millisecond,
		MaxPeriod:     20 * time.Second,
	}
}

func (c OscillationAwareConfig) withDefaults() OscillationAwareConfig {
	d := DefaultOscillationAwareConfig()
	if c.Quantile == 0 {
		c.Quantile = d.Quantile
	}
	if c.Cycles == 0 {
		c.Cycles = d.Cycles
	}
	if c.MaxSamples == 0 {
		c.MaxSamples = d.MaxSamples
	}
	if c.LossThreshold == 0 {
		c.LossThreshold = d.LossThreshold
	}
	if c.RTTWindow == 0 {
		c.RTTWindow = d.RTTWindow
	}
	if c.RTTRise == 0 {
		c.RTTRise = d.RTTRise
	}
	if c.MaxPeriod == 0 {
		c.MaxPeriod = d.MaxPeriod
	}
	return c
}

// maxRTTSpan bounds RTTWindow and MaxPeriod (one hour), which size a ring.
const maxRTTSpan = time.Hour

func (c OscillationAwareConfig) validate() error {
	const typ = "OscillationAwareConfig"
	if err := checkQuantile(typ, "Quantile", c.Quantile); err != nil {
		return err
	}
	switch {
	case !(c.Cycles > 0 && c.Cycles <= 1000):
		return fmt.Errorf("smoothing: %s.Cycles %v is not in (0, 1000]", typ, c.Cycles)
	case !(c.LossThreshold > 0 && c.LossThreshold <= 1):
		return fmt.Errorf("smoothing: %s.LossThreshold %v is not in (0, 1]", typ, c.LossThreshold)
	case c.RTTWindow < 0:
		return fmt.Errorf("smoothing: %s.RTTWindow %v is negative", typ, c.RTTWindow)
	case c.RTTWindow < rttBucket:
		return fmt.Errorf("smoothing: %s.RTTWindow %v is shorter than %v", typ, c.RTTWindow, rttBucket)
	case c.RTTWindow > maxRTTSpan:
		return fmt.Errorf("smoothing: %s.RTTWindow %v exceeds %v", typ, c.RTTWindow, maxRTTSpan)
	case c.MaxPeriod < 0:
		return fmt.Errorf("smoothing: %s.MaxPeriod %v is negative", typ, c.MaxPeriod)

	case c.MaxPeriod > maxRTTSpan:
		return fmt.Errorf("smoothing: %s.MaxPeriod %v exceeds %v", typ, c.MaxPeriod, maxRTTSpan)
	}
	if err := checkSamples(typ, c.MaxSamples); err != nil {
		return err
	}
	if err := checkDuration(typ, "RTTRise", c.RTTRise); err != nil {
		return err
	}
	if err := checkDuration(typ, "Linger", c.Linger); err != nil {
		return err
	}
	return checkDuration(typ, "Rearm", c.Rearm)
}

// LetGoReason says why an [OscillationAware] last dropped its hold.
type LetGoReason uint8

const (
	// LetGoNone: no let-go since construction or Reset.
	LetGoNone LetGoReason = iota
	// LetGoCongested: [bwe.Signals.Congested] was set.
	LetGoCongested
	// LetGoLoss: [bwe.Signals.Loss] reached LossThreshold.
	LetGoLoss
	// LetGoDelay: the mean RTT rose by more than RTTRise (a growing
	// queue).
	LetGoDelay
)

// String returns "none", "congested", "loss" or "delay".
func (r LetGoReason) String() string {
	switch r {
	case LetGoNone:
		return "none"
	case LetGoCongested:
		return "congested"
	case LetGoLoss:
		return "loss"
	case LetGoDelay:
		return "delay"
	}
	return "letgo(" + strconv.Itoa(int(r)) + ")"
}

// OscillationState is what an [OscillationAware] did at its last call.
type OscillationState struct {
	// Holding reports that the output followed the upper part of a
	// detected oscillation rather than the estimate.
	Holding bool
	// Reason is why the hold was last dropped (LetGoNone if never).
	Reason LetGoReason
	// Oscillation is the verdict the last call acted on.
	Oscillation bwe.Oscillation
	// Output is the rate the last call returned.
	Output bwe.Bitrate
}

// OscillationAware smooths an estimate that swings periodically for no
// reason the network corroborates: see the package documentation for the
// model and the argument. In short, while an oscillation is detected and
// neither [bwe.Signals.Congested], nor loss at or above LossThreshold, nor
// a sustained rise of the RTT says the congestion is real, it outputs
//
//	max(estimate, level), level = Q_Quantile(estimates of the last Cycles·Period)
//
// and otherwise Base's output (the estimate itself if Base is nil). On a
// corroborated congestion it returns the estimate at that very call, resets
// Base, and keeps the hold off for Rearm.
//
// Two options make the hold outlast the shape that started it. With
// Ratchet the level never falls while the hold lasts (it is the highest
// such quantile since the hold began): an estimate that falls a step per
// cycle is then held at its level rather than followed down a cycle late.
// With Linger the hold survives that long after the detector last saw the
// oscillation: holding changes what the estimator measures, and the shape
// of its swings with it, while the cause (a periodic delay swing) goes on.
// Either way only a corroborated congestion, or the end of the linger,
// ends a hold.
//
// An instant earlier than the last counts as the last (Δt = 0); the
// detector, if any, sees that instant too.
//
// Not safe for concurrent use.
type OscillationAware struct {
	cfg OscillationAwareConfig

	clk   monotone
	times []bwe.Time // ring of raw estimates
	vals  []bwe.Bitrate
	head  int // index of the newest estimate
	n     int
	work  []bwe.Bitrate // scratch for the quantile selection
	rtt   rttTrend

	state      OscillationState
	level      bwe.Bitrate   // the hold's level: the highest upper quantile since the hold began
	detectedAt bwe.Time      // the last call that saw an oscillation detected
	period     time.Duration // last non-zero detected period
	disarmed   bool          // a let-go happened and the hold is not rearmed yet
	rearmAt    bwe.Time      // when a disarmed hold may resume
}

// NewOscillationAware returns an OscillationAware, or an error naming the
// invalid field of cfg.
func NewOscillationAware(cfg OscillationAwareConfig) (*OscillationAware, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &OscillationAware{
		cfg:   cfg,
		times: make([]bwe.Time, cfg.MaxSamples),
		vals:  make([]bwe.Bitrate, cfg.MaxSamples),
		work:  make([]bwe.Bitrate, cfg.MaxSamples),
		rtt:   newRTTTrend(max(cfg.RTTWindow, cfg.MaxPeriod, time.Second), max(cfg.MaxPeriod, time.Second)),
	}, nil
}

// State returns what the last call did.
func (o *OscillationAware) State() OscillationState { return o.state }

// Smooth consumes an estimate (a negative one counts as 0) with its signals
// and returns the rate to act on. The first call returns the estimate
// itself (or Base's first output, which is the same for the smoothers of
// this package).
func (o *OscillationAware) Smooth(at bwe.Time, estimate bwe.Bitrate, s bwe.Signals) bwe.Bitrate {
	x := max(estimate, 0)
	_, at = o.clk.step(at)
	o.push(at, x)

	osc := s.Oscillation
	if o.cfg.Detector != nil {
		osc = o.cfg.Detector.Add(at, x)
	}
	if osc.Period > 0 {
		o.period = osc.Period
	}
	if s.RTT > 0 {
		o.rtt.add(at, s.RTT)
	}

	reason := LetGoNone
	switch {
	case s.Congested:
		reason = LetGoCongested
	case s.Loss >= o.cfg.LossThreshold:
		reason = LetGoLoss
	case o.delayRise(at):
		reason = LetGoDelay
	}

	if reason != LetGoNone && o.cfg.Base != nil {
		o.cfg.Base.Reset()
	}
	out := x
	if o.cfg.Base != nil {
		out = o.cfg.Base.Smooth(at, x, s)
	}

	holding := false
	switch {
	case reason != LetGoNone:
		// The estimates before a corroborated congestion say nothing
		// about what the path carries now: the next hold takes its
		// level from those after it.
		o.n = 1
		o.state.Reason = reason
		o.disarmed = true
		o.rearmAt = at.Add(o.rearm())
		out = x
	case o.holds(at, osc):
		if osc.Detected {
			o.detectedAt = at
		}
		o.disarmed = false
		holding = true
		up := o.upper(at, o.period)
		if !o.state.Holding || !o.cfg.Ratchet {
			o.level = up
		}
		o.level = max(o.level, up)
		out = max(x, o.level)
	}
	o.state.Holding = holding
	o.state.Oscillation = osc
	o.state.Output = out
	return out
}

// holds reports whether the output follows the hold at this call, when
// nothing lets go: an oscillation is detected, or a hold in progress is
// within Linger of the last detection; and the hold is armed.
func (o *OscillationAware) holds(at bwe.Time, osc bwe.Oscillation) bool {
	seen := osc.Detected && osc.Period > 0
	lingering := o.state.Holding && at.Sub(o.detectedAt) < o.cfg.Linger
	return (seen || lingering) && (!o.disarmed || at >= o.rearmAt)
}

// rearm returns how long the hold stays off after a let-go.
func (o *OscillationAware) rearm() time.Duration {
	if o.cfg.Rearm > 0 {
		return o.cfg.Rearm
	}
	return max(o.period, time.Second)
}

// delayRise reports a sustained rise of the mean RTT: the mean over the
// last max(Period, 1 s) exceeds the lowest such mean of the last RTTWindow
// by more than RTTRise.
func (o *OscillationAware) delayRise(at bwe.Time) bool {
	span := min(max(o.period, time.Second), max(o.cfg.MaxPeriod, time.Second))
	rise, ok := o.rtt.rise(at, span, max(o.cfg.RTTWindow, span))
	return ok && rise > bwe.Millis(o.cfg.RTTRise)
}

// push adds a raw estimate to the ring, overwriting the oldest when full.
func (o *OscillationAware) push(at bwe.Time, x bwe.Bitrate) {
	o.head++
	if o.head == len(o.vals) {
		o.head = 0
	}
	o.times[o.head], o.vals[o.head] = at, x
	o.n = min(o.n+1, len(o.vals))
}

// upper returns the Quantile of the raw estimates of the last
// Cycles·period (at least the newest one), never above their maximum.
func (o *OscillationAware) upper(at bwe.Time, period time.Duration) bwe.Bitrate {
	w := durationOf(o.cfg.Cycles * float64(period))
	m := 0
	i := o.head
	for m < o.n && at.Sub(o.times[i]) < w {
		o.work[m] = o.vals[i]
		m++
		if i--; i < 0 {
			i = len(o.vals) - 1
		}
	}
	if m == 0 { // a window shorter than a microsecond: the newest only
		return o.vals[o.head]
	}
	v := o.work[:m]
	k, f := rank(m, o.cfg.Quantile)
	a := selectKth(v, k)
	if f == 0 || k+1 >= m {
		return a
	}
	b := v[k+1]
	for _, y := range v[k+2:] {
		b = min(b, y)
	}
	return interpolate(a, b, f)
}

// durationOf converts float nanoseconds to a duration, saturating.
func durationOf(ns float64) time.Duration {
	if ns >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(ns)
}

// selectKth reorders v so that v[k] is its k-th smallest element (from 0),
// everything before it no larger and everything after it no smaller, and
// returns v[k]. Quickselect with a median-of-three pivot and three-way
// partitioning, so that the long runs of equal rates a square-wave swing
// produces cost linear time. Deterministic.
func selectKth(v []bwe.Bitrate, k int) bwe.Bitrate {
	lo, hi := 0, len(v)-1
	for lo < hi {
		a, b, c := v[lo], v[lo+(hi-lo)/2], v[hi]
		p := max(min(a, b), min(max(a, b), c))
		lt, i, gt := lo, lo, hi
		for i <= gt {
			switch {
			case v[i] < p:
				v[lt], v[i] = v[i], v[lt]
				lt++
				i++
			case v[i] > p:
				v[i], v[gt] = v[gt], v[i]
				gt--
			default:
				i++
			}
		}
		switch {
		case k < lt:
			hi = lt - 1
		case k > gt:
			lo = gt + 1
		default:
			return v[k]
		}
	}
	return v[k]
}

// Reset forgets the history, and resets the Detector and Base.
func (o *OscillationAware) Reset() {
	o.clk = monotone{}
	o.head, o.n = 0, 0
	o.rtt.reset()
	o.state = OscillationState{}
	o.period, o.level, o.detectedAt = 0, 0, 0
	o.disarmed, o.rearmAt = false, 0
	if o.cfg.Detector != nil {
		o.cfg.Detector.Reset()
	}
	if o.cfg.Base != nil {
		o.cfg.Base.Reset()
	}
}

// rttBucket is the width of the RTT buckets of the delay test: the grid
// its averaging spans are rounded up to.
const rttBucket = 100 * time.Millisecond

// rttTrend keeps the RTT samples of the last few seconds as per-bucket sums
// and counts in a ring indexed by ⌊t / rttBucket⌋, so that the mean RTT
// over any span of whole buckets costs one pass over the ring.
type rttTrend struct {
	idx   []int64 // bucket index each slot holds
	sum   []float64
	cnt   []int64
	first int64 // bucket of the first sample since reset
	has   bool
}

// newRTTTrend sizes the ring for baselines over window of means over span.
func newRTTTrend(window, span time.Duration) rttTrend {
	n := buckets(window) + buckets(span) + 1
	return rttTrend{idx: make([]int64, n), sum: make([]float64, n), cnt: make([]int64, n)}
}

// buckets returns how many buckets cover d, rounded up.
func buckets(d time.Duration) int { return int((d + rttBucket - 1) / rttBucket) }

// bucketOf returns ⌊at / rttBucket⌋.
func bucketOf(at bwe.Time) int64 {
	const w = int64(rttBucket / time.Microsecond)
	b := int64(at) / w
	if int64(at)%w < 0 {
		b--
	}
	return b
}

// slot returns the ring slot of bucket b.
func (r *rttTrend) slot(b int64) int {
	s := b % int64(len(r.idx))
	if s < 0 {
		s += int64(len(r.idx))
	}
	return int(s)
}

func (r *rttTrend) add(at bwe.Time, rtt time.Duration) {
	b := bucketOf(at)
	if !r.has {
		r.has, r.first = true, b
	}
	s := r.slot(b)
	if r.idx[s] != b || r.cnt[s] == 0 {
		r.idx[s], r.sum[s], r.cnt[s] = b, 0, 0
	}
	r.sum[s] += bwe.Millis(rtt)
	r.cnt[s]++
}

// rise returns, in ms, the mean RTT over the span ending at at minus the
// lowest mean over such a span ending within the last window. Only spans
// that start at or after the first sample count; ok is false when the
// recent span has no sample or is not such a span.
func (r *rttTrend) rise(at bwe.Time, span, window time.Duration) (float64, bool) {
	if !r.has {
		return 0, false
	}
	cur := bucketOf(at)
	k := int64(max(buckets(span), 1))
	wb := int64(max(buckets(window), 1))
	if cur-k+1 < r.first {
		return 0, false
	}
	lowest, recent, seen := math.Inf(1), 0.0, false
	var sum float64
	var cnt int64
	start := max(cur-wb-k+2, r.first)
	n := len(r.idx)
	in, out := r.slot(start), r.slot(start-k)
	for j := start; j <= cur; j++ {
		if r.idx[in] == j {
			sum += r.sum[in]
			cnt += r.cnt[in]
		}
		if j-k >= start && r.idx[out] == j-k {
			sum -= r.sum[out]
			cnt -= r.cnt[out]
		}
		if in++; in == n {
			in = 0
		}
		if out++; out == n {
			out = 0
		}
		if j-k+1 < start || cnt <= 0 { // a partial span
			continue
		}
		m := sum / float64(cnt)
		lowest = min(lowest, m)
		if j == cur {
			recent, seen = m, true
		}
	}
	if !seen {
		return 0, false
	}
	return recent - lowest, true
}

func (r *rttTrend) reset() {
	clear(r.cnt)
	clear(r.sum)
	r.has = false
}
