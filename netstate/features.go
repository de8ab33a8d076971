package netstate

import (
	"fmt"
	"math"
	"time"

	"github.com/bwelab/bwe"
)

// NumFeatures is the number of features of one step.
const NumFeatures = 7

// Indices into [Features]. The package documentation defines each one.
const (
	FeatEstimate   = iota // the estimator's estimate, log2(rate / 1 Mbps)
	FeatSent              // the rate of the packets reported, log2(rate / 1 Mbps)
	FeatAcked             // the rate of the packets received, log2(rate / 1 Mbps)
	FeatRTT               // the mean round-trip time, in units of 100 ms
	FeatJitter            // RFC 3550 interarrival jitter, in units of 100 ms
	FeatLoss              // lost ÷ reported packets, a fraction
	FeatDelayTrend        // slope of the one-way delay, in units of 100 ms/s
)

// NormVersion identifies the normalisation that [Normalize] applies. Model
// files record it, and [ReadModel] refuses models made for another one.
const NormVersion = 1

// Normalisation constants of version [NormVersion].
const (
	rateRef     = bwe.Mbps               // rates are log2(rate / rateRef)
	rateLimit   = 8.0                    // rate features lie in [−8, 8]
	timeRef     = 100 * time.Millisecond // RTT and jitter unit
	timeLimit   = 10.0                   // RTT and jitter features lie in [0, 10]
	trendRef    = 100.0                  // ms/s; the delay-trend unit
	trendLimit  = 10.0                   // the delay-trend feature lies in [−10, 10]
	lossLimit   = 1.0                    // the loss feature lies in [0, 1]
	jitterShift = 16.0                   // RFC 3550 §6.4.1: J += (|D| − J)/16
)

// Features are the normalised statistics of one interval, indexed by
// FeatEstimate … FeatDelayTrend. Every value produced by this package lies
// within [FeatureRange] of its index.
type Features [NumFeatures]float64

var (
	featureNames = [NumFeatures]string{"estimate", "sent", "acked", "rtt", "jitter", "loss", "delay_trend"}
	featLo       = [NumFeatures]float64{-rateLimit, -rateLimit, -rateLimit, 0, 0, 0, -trendLimit}
	featHi       = [NumFeatures]float64{rateLimit, rateLimit, rateLimit, timeLimit, timeLimit, lossLimit, trendLimit}
)

// FeatureNames returns the short names of the features, by index:
// estimate, sent, acked, rtt, jitter, loss, delay_trend.
func FeatureNames() [NumFeatures]string { return featureNames }

// FeatureRange returns the closed interval feature i lies in. It panics if
// i is not a feature index.
func FeatureRange(i int) (lo, hi float64) {
	if i < 0 || i >= NumFeatures {
		panic("netstate: FeatureRange index out of range")
	}
	return featLo[i], featHi[i]
}

// Sanitize returns f with every value clamped to its [FeatureRange] and NaN
// replaced by 0. Predictors sanitize what they are given, so arbitrary
// inputs still give a probability.
func (f Features) Sanitize() Features {
	for i := range f {
		f[i] = clampFeature(i, f[i])
	}
	return f
}

// clampFeature limits v to the range of feature i; NaN becomes 0, which
// lies in every range.
func clampFeature(i int, v float64) float64 {
	lo, hi := featLo[i], featHi[i]
	switch {
	case v >= lo && v <= hi:
		return v
	case v < lo:
		return lo
	case v > hi:
		return hi
	}
	return 0
}

// Raw holds the statistics of one interval in their own units, before
// normalisation. The data generator labels windows from Loss and Packets.
type Raw struct {
	// Start and End delimit the interval on the sender's clock (the clock
	// of [bwe.Feedback.Time]); End is Start plus the interval length.
	Start, End bwe.Time
	// Batches is the number of feedback batches added in the interval; an
	// interval with none is empty.
	Batches int
	// Packets is the number of packet results the batches reported, lost
	// ones included; Lost is how many of them were not received.
	Packets, Lost int
	// Estimate is the last positive estimate passed to Add up to the end of
	// the interval (carried forward through intervals without one).
	Estimate bwe.Bitrate
	// Sent is the size of all packets reported, divided by the interval
	// length; Acked the same for the packets received.
	Sent, Acked bwe.Bitrate
	// RTT is the mean of the positive RTTs passed to Add in the interval,
	// or the previous interval's value when there was none.
	RTT time.Duration
	// Jitter is the RFC 3550 interarrival jitter at the end of the
	// interval. It is a running estimate over all received packets so far,
	// not reset between intervals.
	Jitter time.Duration
	// Loss is Lost ÷ Packets, or 0 when Packets is 0 (loss unknown).
	Loss float64
	// DelayTrend is the least-squares slope of the one-way delay (arrival
	// minus send time) against the send time over the interval's received
	// packets, in ms of delay per second. It is 0 with fewer than two
	// received packets or when they share one send time.
	DelayTrend float64
}

// Step returns the [Step] of a series that r describes: its normalised
// features, loss, packet count and end time.
func (r Raw) Step() Step {
	return Step{At: r.End, F: Normalize(r), Loss: r.Loss, Packets: r.Packets}
}

// Normalize maps r to features with the fixed normalisation of version
// [NormVersion] (see the package documentation). It depends on r alone, is
// deterministic and never returns NaN or Inf.
func Normalize(r Raw) Features {
	var f Features
	f[FeatEstimate] = rateFeature(r.Estimate)
	f[FeatSent] = rateFeature(r.Sent)
	f[FeatAcked] = rateFeature(r.Acked)
	f[FeatRTT] = bwe.Millis(r.RTT) / bwe.Millis(timeRef)
	f[FeatJitter] = bwe.Millis(r.Jitter) / bwe.Millis(timeRef)
	f[FeatLoss] = r.Loss
	f[FeatDelayTrend] = r.DelayTrend / trendRef
	return f.Sanitize()
}

// rateFeature is log2(r / 1 Mbps); a rate that is not positive gives the
// lower bound.
func rateFeature(r bwe.Bitrate) float64 {
	if r <= 0 {
		return -rateLimit
	}
	return math.Log2(r.Float() / rateRef.Float())
}

// ExtractorConfig configures an [Extractor]. Zero fields take the defaults
// of [DefaultExtractorConfig].
type ExtractorConfig struct {
	// Interval is the length of one step. Default 1 s (one-second
	// statistics, as the network-state predictors are trained on). It must
	// be at least 1 ms.
	Interval time.Duration
	// MaxEmptyRun is the most consecutive empty intervals (intervals in
	// which no feedback arrived) that Step emits; further empty intervals
	// are skipped, and counted in [ExtractorStats.Skipped], until feedback
	// resumes. It bounds the work a long silence causes. Default 60.
	MaxEmptyRun int
}

// DefaultExtractorConfig returns the defaults: 1 s intervals, at most 60
// empty intervals in a row.
func DefaultExtractorConfig() ExtractorConfig {
	return ExtractorConfig{Interval: time.Second, MaxEmptyRun: 60}
}

func (c ExtractorConfig) withDefaults() ExtractorConfig {
	d := DefaultExtractorConfig()
	if c.Interval == 0 {
		c.Interval = d.Interval
	}
	if c.MaxEmptyRun == 0 {
		c.MaxEmptyRun = d.MaxEmptyRun
	}
	return c
}

func (c ExtractorConfig) validate() error {
	switch {
	case c.Interval < time.Millisecond:
		return fmt.Errorf("netstate: ExtractorConfig.Interval %v is below 1ms", c.Interval)
	case c.MaxEmptyRun < 0:
		return fmt.Errorf("netstate: ExtractorConfig.MaxEmptyRun %d is negative", c.MaxEmptyRun)
	}
	return nil
}

// ExtractorStats counts what an [Extractor] did.
type ExtractorStats struct {
	// Intervals is the number of intervals closed and queued or returned,
	// Empty how many of them had no feedback.
	Intervals, Empty int64
	// Skipped counts empty intervals not emitted because of MaxEmptyRun.
	Skipped int64
	// Dropped counts closed intervals discarded because Step was not called
	// for more than 16 interval-crossing batches.
	Dropped int64
	// Late counts batches whose Time was before the open interval; they
	// are added to the open interval.
	Late int64
	// Duplicates counts received packets skipped by the jitter and trend
	// statistics because their Seq repeated the previous one's.
	Duplicates int64
}

// queueCap is the capacity of the queue of closed intervals waiting for
// Step. One batch that crosses interval boundaries queues at most two
// entries (the interval it closes and a run of empty ones).
const queueCap = 32

// pending is a queued interval, or a run of n empty intervals of which raw
// is the first.
type pending struct {
	raw Raw
	n   int64
}

// accum accumulates the open interval.
type accum struct {
	batches, packets, lost int
	sent, acked            bwe.ByteCount
	rttSum                 time.Duration
	rttN                   int64
	// least-squares fit of one-way delay against send time, on values
	// relative to the first packet (Welford's running form).
	n          int64
	x0, y0     int64
	mx, my     float64
	cxy, m2x   float64
	haveOrigin bool
}

// Extractor turns transport-feedback batches into per-interval features.
//
// Add attributes each batch to the interval containing its Time (sender
// clock); the first batch starts the first interval. Step(now) returns the
// oldest interval that has ended at or before now, one per call: call it
// until it reports false, and hand every returned step to the predictor, so
// that no interval is lost. An interval without feedback is returned too
// (see [Raw]): its rates are 0, its loss 0 with Packets 0, and estimate,
// RTT and jitter carry over.
//
// Extractor is not safe for concurrent use. Add and Step allocate nothing.
type Extractor struct {
	cfg       ExtractorConfig
	iv        int64 // interval in µs
	started   bool
	openStart bwe.Time
	acc       accum
	emptyRun  int // consecutive empty intervals emitted

	estimate bwe.Bitrate
	rtt      time.Duration
	jitterUs float64 // RFC 3550 J, in µs
	haveLast bool
	lastSeq  int64
	lastSend bwe.Time
	lastArr  bwe.Time

	queue        [queueCap]pending
	qHead, qSize int

	stats ExtractorStats
}

// NewExtractor returns an extractor, or an error naming the first invalid
// field of cfg.
func NewExtractor(cfg ExtractorConfig) (*Extractor, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Extractor{cfg: cfg, iv: int64(cfg.Interval / time.Microsecond)}, nil
}

// Config returns the configuration with defaults filled in.
func (e *Extractor) Config() ExtractorConfig { return e.cfg }

// Stats returns the counters.
func (e *Extractor) Stats() ExtractorStats { return e.stats }

// Reset returns the extractor to its state after construction.
func (e *Extractor) Reset() {
	*e = Extractor{cfg: e.cfg, iv: e.iv}
}

func (e *Extractor) openEnd() bwe.Time { return bwe.SatAdd(e.openStart, bwe.Time(e.iv)) }

// Add accumulates one feedback batch, with the estimator's estimate and
// RTT at the time of the batch (a non-positive estimate or RTT means
// unknown and is ignored). See [Extractor] for how batches map to
// intervals, and the package documentation for the statistics.
func (e *Extractor) Add(fb bwe.Feedback, estimate bwe.Bitrate, rtt time.Duration) {
	if !e.started {
		e.started = true
		e.openStart = fb.Time
	}
	switch {
	case fb.Time >= e.openEnd():
		e.roll(fb.Time)
	case fb.Time < e.openStart:
		e.stats.Late++
	}
	a := &e.acc
	a.batches++
	if estimate > 0 {
		e.estimate = estimate
	}
	if rtt > 0 {
		a.rttSum = bwe.SatAdd(a.rttSum, rtt)
		a.rttN++
	}
	for i := range fb.Packets {
		p := &fb.Packets[i]
		size := max(p.Size, 0)
		a.packets++
		a.sent = bwe.SatAdd(a.sent, size)
		if !p.Received {
			a.lost++
			continue
		}
		a.acked = bwe.SatAdd(a.acked, size)
		if e.haveLast && p.Seq == e.lastSeq {
			e.stats.Duplicates++
			continue
		}
		if e.haveLast {
			// RFC 3550 §6.4.1: D = (Rj − Ri) − (Sj − Si), J += (|D| − J)/16.
			d := bwe.SatSub(bwe.SatSub(p.Arrival, e.lastArr), bwe.SatSub(p.SendTime, e.lastSend))
			e.jitterUs += (absFloat(int64(d)) - e.jitterUs) / jitterShift
		}
		e.haveLast, e.lastSeq, e.lastSend, e.lastArr = true, p.Seq, p.SendTime, p.Arrival
		a.addDelay(p.SendTime, p.Arrival)
	}
}

// absFloat returns |v| as a float64 without overflowing at MinInt64.
func absFloat(v int64) float64 {
	f := float64(v)
	if f < 0 {
		return -f
	}
	return f
}

// addDelay adds one received packet to the delay-trend fit.
func (a *accum) addDelay(send, arrival bwe.Time) {
	owd := int64(bwe.SatSub(arrival, send))
	if !a.haveOrigin {
		a.haveOrigin = true
		a.x0, a.y0 = int64(send), owd
	}
	x := float64(bwe.SatSub(int64(send), a.x0))
	y := float64(bwe.SatSub(owd, a.y0))
	a.n++
	dx := x - a.mx
	a.mx += dx / float64(a.n)
	a.my += (y - a.my) / float64(a.n)
	a.cxy += dx * (y - a.my)
	a.m2x += dx * (x - a.mx)
}

// trend returns the fitted slope in ms per second.
func (a *accum) trend() float64 {
	if a.n < 2 || !(a.m2x > 0) {
		return 0
	}
	s := a.cxy / a.m2x * 1000 // µs/µs → ms/s
	if math.IsNaN(s) || math.IsInf(s, 0) {
		return 0
	}
	return s
}

// roll closes the open interval because a batch arrived at t, at or after
// its end, queues it and the empty intervals between it and t, and opens
// the interval containing t.
func (e *Extractor) roll(t bwe.Time) {
	if e.acc.batches == 0 && e.emptyRun >= e.cfg.MaxEmptyRun {
		e.stats.Skipped++
		e.openStart = e.openEnd()
	} else {
		e.push(pending{raw: e.closeOpen(), n: 1})
	}
	k := int64(bwe.SatSub(t, e.openStart)) / e.iv
	if k <= 0 {
		return
	}
	n := min(k, int64(max(e.cfg.MaxEmptyRun-e.emptyRun, 0)))
	if n > 0 {
		e.push(pending{raw: e.emptyRaw(), n: n})
		e.emptyRun += int(n)
		e.stats.Intervals += n
		e.stats.Empty += n
	}
	e.stats.Skipped += k - n
	e.openStart = bwe.SatAdd(e.openStart, bwe.Time(k*e.iv))
}

// emptyRaw is the record of an empty interval starting at the open one.
func (e *Extractor) emptyRaw() Raw {
	return Raw{
		Start:    e.openStart,
		End:      e.openEnd(),
		Estimate: e.estimate,
		RTT:      e.rtt,
		Jitter:   e.jitter(),
	}
}

func (e *Extractor) jitter() time.Duration { return bwe.DurationFromMillis(e.jitterUs / 1000) }

// closeOpen closes the open interval, returns its record and opens the
// next one.
func (e *Extractor) closeOpen() Raw {
	a := &e.acc
	if a.rttN > 0 {
		e.rtt = a.rttSum / time.Duration(a.rttN)
	}
	r := e.emptyRaw()
	r.Batches, r.Packets, r.Lost = a.batches, a.packets, a.lost
	r.Sent = bwe.RateOf(a.sent, e.cfg.Interval)
	r.Acked = bwe.RateOf(a.acked, e.cfg.Interval)
	if a.packets > 0 {
		r.Loss = float64(a.lost) / float64(a.packets)
	}
	r.DelayTrend = a.trend()
	e.stats.Intervals++
	if a.batches == 0 {
		e.emptyRun++
		e.stats.Empty++
	} else {
		e.emptyRun = 0
	}
	*a = accum{}
	e.openStart = r.End
	return r
}

func (e *Extractor) push(p pending) {
	if e.qSize == queueCap {
		e.stats.Dropped += e.queue[e.qHead].n
		e.qHead = (e.qHead + 1) % queueCap
		e.qSize--
	}
	e.queue[(e.qHead+e.qSize)%queueCap] = p
	e.qSize++
}

// pop returns the oldest queued interval.
func (e *Extractor) pop() Raw {
	p := &e.queue[e.qHead]
	r := p.raw
	p.n--
	if p.n > 0 {
		p.raw.Start = p.raw.End
		p.raw.End = bwe.SatAdd(p.raw.End, bwe.Time(e.iv))
	} else {
		e.qHead = (e.qHead + 1) % queueCap
		e.qSize--
	}
	return r
}

// Step returns the oldest interval that ended at or before now and was not
// returned yet: its features, its raw statistics and true; or false when
// there is none. Call it until it returns false. Intervals closed by Add
// (because a batch arrived after their end) are returned first, whatever
// now is.
func (e *Extractor) Step(now bwe.Time) (Features, Raw, bool) {
	if e.qSize > 0 {
		r := e.pop()
		return Normalize(r), r, true
	}
	if !e.started || now < e.openEnd() {
		return Features{}, Raw{}, false
	}
	if e.acc.batches == 0 && e.emptyRun >= e.cfg.MaxEmptyRun {
		k := int64(bwe.SatSub(now, e.openStart)) / e.iv
		e.stats.Skipped += k
		e.openStart = bwe.SatAdd(e.openStart, bwe.Time(k*e.iv))
		return Features{}, Raw{}, false
	}
	r := e.closeOpen()
	return Normalize(r), r, true
}
