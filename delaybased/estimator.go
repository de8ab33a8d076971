package delaybased

import (
	"fmt"
	"slices"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/trendline"
)

// Config configures an [Estimator]. Zero fields take the defaults of
// [DefaultConfig].
type Config struct {
	// Detector turns group deltas into a usage signal. The estimator owns
	// it (do not share one between estimators) and resets it on a stream
	// timeout. Default: libwebrtc's trendline ([trendline.New] with
	// [trendline.DefaultConfig]).
	Detector bwe.DelayDetector
	// Groups configures arrival-group accumulation.
	Groups GroupConfig
	// AIMD configures the rate controller.
	AIMD AIMDConfig
	// Throughput configures the acknowledged-throughput estimator.
	Throughput ThroughputConfig
	// StreamTimeout is the feedback gap after which grouping and detector
	// start over. Default 2 s (libwebrtc delay_based_bwe.cc kStreamTimeOut).
	StreamTimeout time.Duration
}

// DefaultConfig returns the libwebrtc-equivalent configuration. Its
// Detector is nil, which [New] replaces with a fresh trendline.
func DefaultConfig() Config {
	return Config{
		Groups:        DefaultGroupConfig(),
		AIMD:          DefaultAIMDConfig(),
		Throughput:    DefaultThroughputConfig(),
		StreamTimeout: 2 * time.Second,
	}
}

// Result is the outcome of one feedback batch: the estimate and the signals
// behind it, for control and for plots.
type Result struct {
	// Target is the delay-based estimate after this feedback, or 0 while
	// the estimator has no valid estimate yet (see Valid).
	Target bwe.Bitrate
	// Valid reports whether the rate controller has been initialised (by a
	// probe, an overuse, a start rate or 5 s of throughput).
	Valid bool
	// Updated reports whether this feedback produced a new estimate (which
	// may equal the previous one): libwebrtc's Result.updated.
	Updated bool
	// Probe reports that Target was taken from a probe result.
	Probe bool
	// RecoveredFromOveruse reports that the detector went from underusing
	// to normal during this feedback (libwebrtc's historic name).
	RecoveredFromOveruse bool
	// Detection is the detector's latest output: usage, trend, modified
	// trend and threshold.
	Detection bwe.Detection
	// State is the rate controller's state after this feedback.
	State RateState
	// Acked is the acknowledged throughput, valid when AckedValid.
	Acked      bwe.Bitrate
	AckedValid bool
	// Deltas is the number of group deltas this feedback produced.
	Deltas int
}

// Stats counts what the estimator consumed and skipped.
type Stats struct {
	Feedbacks      int64 // batches passed to Update
	EmptyFeedbacks int64 // batches with no received packet
	Packets        int64 // packet results seen
	Lost           int64 // packet results not received
	Deltas         int64 // group deltas fed to the detector
	Reordered      int64 // packets skipped as sent before their group
	NegativeDeltas int64 // group deltas skipped for a negative arrival delta
	GroupResets    int64 // grouping restarts (reordering or receiver clock jump)
	StreamResets   int64 // restarts after a feedback gap of StreamTimeout
}

// Estimator is the delay-based bandwidth estimator: arrival-group
// accumulation, a pluggable delay detector, AIMD rate control and an
// acknowledged-throughput estimator, composed as libwebrtc's DelayBasedBwe
// (goog_cc/delay_based_bwe.cc) composes them.
//
// Not safe for concurrent use. Update allocates nothing once its buffers
// (received-packet indices, sorting, group deltas) have grown to the
// largest feedback batch seen.
type Estimator struct {
	cfg        Config
	detector   bwe.DelayDetector
	groups     *InterArrival
	aimd       *AIMD
	throughput *Throughput

	lastFeedback bwe.Time
	seen         bool
	detection    bwe.Detection
	sorted       []bwe.PacketResult
	idx          []int32       // indices of a batch's received packets
	batch        batchDetector // the detector, if it takes batches
	deltas       []bwe.GroupDelta
	dets         []bwe.Detection
	stats        Stats
}

// New returns an estimator configured by cfg.
func New(cfg Config) (*Estimator, error) {
	d := DefaultConfig()
	if cfg.StreamTimeout == 0 {
		cfg.StreamTimeout = d.StreamTimeout
	}
	if cfg.StreamTimeout < 0 {
		return nil, fmt.Errorf("delaybased: Config.StreamTimeout %v is negative", cfg.StreamTimeout)
	}
	e := &Estimator{cfg: cfg, detector: cfg.Detector}
	if e.detector == nil {
		t, err := trendline.New(trendline.DefaultConfig())
		if err != nil {
			return nil, fmt.Errorf("delaybased: default detector: %w", err)
		}
		e.detector = t
	}
	e.batch, _ = e.detector.(batchDetector)
	var err error
	if e.groups, err = NewInterArrival(cfg.Groups); err != nil {
		return nil, err
	}
	if e.aimd, err = NewAIMD(cfg.AIMD); err != nil {
		return nil, err
	}
	if e.throughput, err = NewThroughput(cfg.Throughput); err != nil {
		return nil, err
	}
	return e, nil
}

// SetRTT gives the rate controller the current round-trip time, which sets
// its additive-increase rate and how often it may back off again.
func (e *Estimator) SetRTT(rtt time.Duration) { e.aimd.SetRTT(rtt) }

// SetStartBitrate sets the estimate to start from, before any feedback.
func (e *Estimator) SetStartBitrate(r bwe.Bitrate) { e.aimd.SetStartBitrate(r) }

// SetEstimate forces the estimate to r at time at (a probe result, or an
// external reset).
func (e *Estimator) SetEstimate(at bwe.Time, r bwe.Bitrate) { e.aimd.SetEstimate(at, r) }

// ExpectedPeriod is the expected time between two backoffs of the AIMD
// sawtooth (libwebrtc GetExpectedBwePeriod): the last decrease divided by
// the additive increase rate, clamped to [2 s, 50 s], 3 s before the first
// decrease.
func (e *Estimator) ExpectedPeriod() time.Duration { return e.aimd.ExpectedPeriod() }

// Estimate returns the current estimate and whether it is valid.
func (e *Estimator) Estimate() (bwe.Bitrate, bool) {
	if !e.aimd.Valid() {
		return 0, false
	}
	return e.aimd.Estimate(), true
}

// Stats returns the counters of what was consumed and skipped.
func (e *Estimator) Stats() Stats {
	s := e.stats
	s.Reordered = e.groups.skippedReordered
	s.NegativeDeltas = e.groups.skippedNegative
	s.GroupResets = e.groups.resets
	return s
}

// Update consumes one feedback batch. probe is a probe-cluster estimate
// completed by this batch, or 0 if there is none; inALR reports that the
// sender is application limited. It returns the estimate and its signals.
func (e *Estimator) Update(fb bwe.Feedback, probe bwe.Bitrate, inALR bool) (res Result) {
	e.stats.Feedbacks++
	e.stats.Packets += int64(len(fb.Packets))

	// Received packets in arrival order (libwebrtc SortedByReceiveTime),
	// as indices into packets. The common batch has its received packets
	// already in order: the batch is then used as is, through the indices
	// of its received packets; otherwise they are copied and sorted.
	packets := fb.Packets
	idx := e.receivedIndices(packets)
	received := len(idx)
	if !inArrivalOrder(packets, idx) {
		e.sorted = e.sorted[:0]
		for _, i := range idx {
			e.sorted = append(e.sorted, packets[i])
		}
		slices.SortFunc(e.sorted, byArrival)
		packets = e.sorted
		for k := range idx {
			idx[k] = int32(k)
		}
	}
	e.stats.Lost += int64(len(fb.Packets) - received)
	if received == 0 {
		e.stats.EmptyFeedbacks++
		res.Acked, res.AckedValid = e.throughput.Bitrate()
		e.result(&res)
		return res
	}

	e.throughput.updateIndexed(packets, idx)

	if !e.seen || fb.Time.Sub(e.lastFeedback) > e.cfg.StreamTimeout {
		if e.seen {
			e.stats.StreamResets++
		}
		e.groups.Reset()
		e.detector.Reset()
		e.detection = bwe.Detection{}
	}
	e.seen = true
	e.lastFeedback = fb.Time

	if e.batch != nil {
		e.detectBatch(e.batch, packets, idx, fb.Time, &res)
	} else {
		for _, i := range idx {
			p := &packets[i]
			if !e.groups.add(p.SendTime, p.Arrival, fb.Time, p.Size) {
				continue
			}
			// Passed field by field, for the reason given in
			// InterArrival.add.
			d := &e.groups.delta
			e.detected(&res, e.detector.Update(bwe.GroupDelta{
				SendDelta:    d.SendDelta,
				ArrivalDelta: d.ArrivalDelta,
				SizeDelta:    d.SizeDelta,
				Arrival:      d.Arrival,
				SendTime:     d.SendTime,
			}))
		}
	}
	e.stats.Deltas += int64(res.Deltas)

	e.aimd.SetInALR(inALR)
	acked, ackedOK := e.throughput.Bitrate()
	res.Acked, res.AckedValid = acked, ackedOK
	at := fb.Time
	switch {
	case e.detection.Usage == bwe.Overusing:
		// Only the decrease path may act while overusing.
		res.RecoveredFromOveruse = false
		if ackedOK && e.aimd.TimeToReduceFurther(at, acked) {
			e.aimd.Update(at, bwe.Overusing, acked, true)
			res.Updated = e.aimd.Valid()
		} else if !ackedOK && e.aimd.InitialTimeToReduceFurther(at) {
			// Overuse before any throughput measurement: halve
			// (libwebrtc delay_based_bwe.cc, "50% every 200 ms").
			e.aimd.SetEstimate(at, e.aimd.Estimate()/2)
			res.Updated = true
		}
	case probe > 0:
		e.aimd.SetEstimate(at, probe)
		res.Updated, res.Probe = true, true
		res.RecoveredFromOveruse = false
	default:
		e.aimd.Update(at, e.detection.Usage, acked, ackedOK)
		res.Updated = e.aimd.Valid()
	}
	e.result(&res)
	return res
}

// detected makes det the latest detection.
func (e *Estimator) detected(res *Result, det bwe.Detection) {
	prev := e.detection.Usage
	e.detection = det
	res.Deltas++
	if prev == bwe.Underusing && det.Usage == bwe.Normal {
		res.RecoveredFromOveruse = true
	}
}

// batchDetector is a detector that takes several deltas at once, as if
// given them one by one ([trendline.Estimator.UpdateBatch]).
type batchDetector interface {
	UpdateBatch(ds []bwe.GroupDelta, out []bwe.Detection)
}

// detectBatch groups the packets packets[idx] and gives the detector
// their deltas at once. Grouping does not depend on the detector, so this
// is the same as giving it each delta as the grouping produces it.
func (e *Estimator) detectBatch(b batchDetector, packets []bwe.PacketResult, idx []int32, fbTime bwe.Time, res *Result) {
	// At most one delta per packet.
	if cap(e.deltas) < len(idx) {
		e.deltas = make([]bwe.GroupDelta, len(idx))
		e.dets = make([]bwe.Detection, len(idx))
	}
	deltas := e.deltas[:len(idx)]
	n := 0
	for _, i := range idx {
		p := &packets[i]
		if !e.groups.add(p.SendTime, p.Arrival, fbTime, p.Size) {
			continue
		}
		// Copied field by field, for the reason given in
		// InterArrival.add.
		d, s := &deltas[n], &e.groups.delta
		d.SendDelta = s.SendDelta
		d.ArrivalDelta = s.ArrivalDelta
		d.SizeDelta = s.SizeDelta
		d.Arrival = s.Arrival
		d.SendTime = s.SendTime
		n++
	}
	if n == 0 {
		return
	}
	dets := e.dets[:n]
	b.UpdateBatch(deltas[:n], dets)
	for i := range dets {
		e.detected(res, dets[i])
	}
}

// result fills in the estimate and the signals common to every return
// path; the caller has set Acked.
func (e *Estimator) result(r *Result) {
	r.Valid = e.aimd.Valid()
	if r.Valid {
		r.Target = e.aimd.Estimate()
	}
	r.Detection = e.detection
	r.State = e.aimd.State()
}

// receivedIndices returns the indices of the received packets, in batch
// order, in a buffer reused by the next call.
func (e *Estimator) receivedIndices(packets []bwe.PacketResult) []int32 {
	if cap(e.idx) < len(packets) {
		e.idx = make([]int32, len(packets))
	}
	idx := e.idx[:len(packets)]
	// Without a branch on Received, which random loss makes
	// unpredictable: every index is written, and kept if received.
	n := 0
	for i := range packets {
		idx[n] = int32(i)
		if packets[i].Received {
			n++
		}
	}
	return idx[:n]
}

// inArrivalOrder reports whether packets[idx] are already in [byArrival]
// order, so that sorting them would keep them in that order: in
// non-decreasing order if every packet of the batch is in idx, in
// strictly increasing order otherwise (sorting need not keep equal keys
// in place).
func inArrivalOrder(packets []bwe.PacketResult, idx []int32) bool {
	ties := false
	for k := 1; k < len(idx); k++ {
		switch c := compareArrival(&packets[idx[k-1]], &packets[idx[k]]); {
		case c > 0:
			return false
		case c == 0:
			ties = true
		}
	}
	return !ties || len(idx) == len(packets)
}

// byArrival orders packets by arrival, then send time, then sequence
// number, as libwebrtc's PacketResult::ReceiveTimeOrder does.
func byArrival(a, b bwe.PacketResult) int { return compareArrival(&a, &b) }

// compareArrival is byArrival on pointers.
func compareArrival(a, b *bwe.PacketResult) int {
	switch {
	case a.Arrival != b.Arrival:
		if a.Arrival < b.Arrival {
			return -1
		}
		return 1
	case a.SendTime != b.SendTime:
		if a.SendTime < b.SendTime {
			return -1
		}
		return 1
	case a.Seq != b.Seq:
		if a.Seq < b.Seq {
			return -1
		}
		return 1
	}
	return 0
}
