package sendside

import (
	"fmt"
	"strconv"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/delaybased"
	"github.com/bwelab/bwe/lossbased"
	"github.com/bwelab/bwe/netstate"
	"github.com/bwelab/bwe/probe"
)

// Limit names what set the target of a [Result].
type Limit uint8

const (
	// LimitStart: no feedback yet; the target is the start rate.
	LimitStart Limit = iota
	// LimitDelay: the delay-based estimate.
	LimitDelay
	// LimitLoss: the loss-based estimate, below the delay-based one.
	LimitLoss
	// LimitSentRate: the cap at SentRateCap × the rate actually sent.
	LimitSentRate
	// LimitTimeout: the backoff for missing feedback.
	LimitTimeout
	// LimitMin and LimitMax: the configured bounds.
	LimitMin
	LimitMax
)

// String returns the limit's name: "start", "delay", "loss", "sent-rate",
// "timeout", "min" or "max".
func (l Limit) String() string {
	switch l {
	case LimitStart:
		return "start"
	case LimitDelay:
		return "delay"
	case LimitLoss:
		return "loss"
	case LimitSentRate:
		return "sent-rate"
	case LimitTimeout:
		return "timeout"
	case LimitMin:
		return "min"
	case LimitMax:
		return "max"
	}
	return "limit(" + strconv.Itoa(int(l)) + ")"
}

// Result is the estimator's answer to one call: the target and every
// signal behind it.
type Result struct {
	// Time is the time of the call (the feedback time for Update).
	Time bwe.Time
	// Target is the send-side estimate: what the sender may send. Always
	// within [Min, Max].
	Target bwe.Bitrate
	// Limit says what set Target.
	Limit Limit
	// Feedback reports that this result comes from a feedback batch
	// (Update) rather than from Process or OnSent.
	Feedback bool

	// Delay is the delay-based estimator's result for this batch: its
	// estimate, the detector's usage, trend and threshold, the rate
	// controller state and the acknowledged throughput.
	Delay delaybased.Result
	// Loss is the loss-based estimator's result for this batch.
	Loss lossbased.Result
	// Probe is the probe result this batch completed, or 0.
	Probe bwe.Bitrate
	// RTT is the round-trip time in use: the mean of the last RTTWindow
	// per-feedback maxima of feedback time − send time.
	RTT time.Duration
	// Sent is the rate actually sent over SentRateWindow, if known.
	Sent      bwe.Bitrate
	SentValid bool
	// Cap is the sent-rate cap in force, or 0 if none.
	Cap bwe.Bitrate
	// InALR reports that the sender is application-limited.
	InALR bool
	// TimedOut reports that this call backed the target off because
	// feedback is missing.
	TimedOut bool
	// Probes are the probe clusters to send now. The slice is reused by
	// the next call: copy what must outlive it.
	Probes []probe.Request

	// Signals are the congestion signals behind Target, as the rate
	// controller saw them: the detector's usage, the loss the loss-based
	// estimator acted on, the RTT, whether the estimator holds the
	// congestion for real (a loss-based decrease or a feedback timeout),
	// and the oscillation detector's state.
	Signals bwe.Signals
	// Encoder is the encoder target: the rate controller's output when
	// Config.Rate is set, otherwise Target. It may differ from Target in
	// both directions (a rate controller may hold through a swing of the
	// estimate); the pacer must carry at least max(Target, Encoder).
	Encoder bwe.Bitrate
	// NetState is the network-state predictor's last prediction
	// (Config.Predictor), the zero value without one.
	NetState netstate.Prediction
	// Protection is the share of the rate controller's target it
	// reserves for redundancy against a predicted lossy period (a
	// ratecontrol.Controller with Protect set), 0 otherwise: Encoder is
	// then the media share, and the sender should add FEC of about
	// Encoder × Protection / (1 − Protection).
	Protection float64
}

// Stats counts what the estimator consumed and skipped.
type Stats struct {
	Feedbacks      int64 // batches passed to Update
	EmptyFeedbacks int64 // batches with no packet
	ProbePackets   int64 // received packets of a known probe cluster
	UnknownProbes  int64 // probe packets of a cluster this estimator did not schedule
	Timeouts       int64 // backoffs for missing feedback
	ProbesIssued   int64 // probe clusters scheduled
}

// issuedCap is how many scheduled clusters are remembered for matching
// probe packets in feedback to their cluster's size.
const issuedCap = 32

// Estimator is the full send-side bandwidth estimator: the delay-based
// estimate, capped by the loss-based estimate, raised by probe results,
// bounded by what is actually sent and by [Min, Max], and backed off when
// feedback stops. It is GoogCcNetworkController's estimate path
// (goog_cc_network_control.cc) with every part pluggable.
//
// Drive it with Update for every feedback batch and Process periodically
// (every 25–100 ms); with [SendsFromOnSent], also OnSent for every packet
// sent. Every call returns a [Result] whose Probes the pacer should send.
//
// Not safe for concurrent use. Calls allocate nothing once the delay-based
// estimator's buffers have grown to the largest batch.
type Estimator struct {
	cfg    Config
	delay  *delaybased.Estimator
	loss   lossbased.Estimator
	probes *probe.Estimator
	ctrl   *probe.Controller // nil without probing
	alr    *ALRDetector
	sent   sentRate

	min, max bwe.Bitrate
	target   bwe.Bitrate
	limit    Limit
	started  bool

	hasFeedback  bool
	lastFeedback bwe.Time
	startedAt    bwe.Time
	pendingSend  bool // a packet was sent (OnSent) since the last feedback
	firstPending bwe.Time
	lastBackoff  bwe.Time
	backedOff    bool // a backoff happened since the last feedback
	lastSeq      int64
	seqSeen      bool
	lastAcked    bwe.Bitrate
	inALR        bool
	rttMs        []int64
	nRTT         int
	rttSlot      int   // next slot of rttMs: nRTT mod len(rttMs)
	rttSum       int64 // Σ rttMs (wrapping, as a fresh sum would)
	rtt          time.Duration
	issued       [issuedCap]probe.Cluster
	nIssued      int
	out          []probe.Request
	lastDelay    delaybased.Result
	lastLoss     lossbased.Result
	osc          bwe.Oscillation
	ns           *netState                         // the network-state predictor, if configured
	protector    interface{ Protection() float64 } // cfg.Rate, if it reserves for redundancy
	encoder      bwe.Bitrate
	partsAt      bwe.Time // latest time given to the detector and rate controller
	stats        Stats
}

// New returns an estimator configured by cfg.
func New(cfg Config) (*Estimator, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Delay.AIMD.MinBitrate == 0 {
		cfg.Delay.AIMD.MinBitrate = cfg.Min
	}
	if cfg.Delay.AIMD.MaxBitrate == 0 {
		cfg.Delay.AIMD.MaxBitrate = cfg.Max
	}
	e := &Estimator{cfg: cfg, min: cfg.Min, max: cfg.Max, target: cfg.Start, encoder: cfg.Start, rttMs: make([]int64, cfg.RTTWindow)}
	var err error
	if e.delay, err = delaybased.New(cfg.Delay); err != nil {
		return nil, fmt.Errorf("sendside: %w", err)
	}
	e.delay.SetStartBitrate(cfg.Start)
	e.loss = cfg.Loss
	if e.loss == nil {
		if e.loss, err = lossbased.NewLikelihood(lossbased.DefaultLikelihoodConfig()); err != nil {
			return nil, fmt.Errorf("sendside: default loss estimator: %w", err)
		}
	}
	e.loss.SetLimits(cfg.Min, cfg.Max)
	if e.probes, err = probe.NewEstimator(cfg.ProbeEstimator); err != nil {
		return nil, fmt.Errorf("sendside: %w", err)
	}
	if !cfg.NoProbing {
		if e.ctrl, err = probe.NewController(cfg.Probing); err != nil {
			return nil, fmt.Errorf("sendside: %w", err)
		}
	}
	if e.alr, err = NewALRDetector(cfg.ALR); err != nil {
		return nil, err
	}
	e.alr.SetEstimate(cfg.Start)
	e.sent = newSentRate(cfg.SentRateWindow)
	e.out = make([]probe.Request, 0, 8)
	if cfg.Predictor != nil {
		if e.ns, err = newNetState(cfg.Predictor); err != nil {
			return nil, err
		}
	}
	e.protector, _ = cfg.Rate.(interface{ Protection() float64 })
	return e, nil
}

// Config returns the configuration in use, defaults filled in.
func (e *Estimator) Config() Config { return e.cfg }

// Target returns the current target.
func (e *Estimator) Target() bwe.Bitrate { return e.target }

// Stats returns the counters of what was consumed and skipped.
func (e *Estimator) Stats() Stats { return e.stats }

// DelayStats returns the delay-based estimator's counters.
func (e *Estimator) DelayStats() delaybased.Stats { return e.delay.Stats() }

// start begins the session at the first call: the loss-based estimator
// starts from the start rate, and the probe controller sends its initial
// probes.
func (e *Estimator) start(at bwe.Time) {
	if e.started {
		return
	}
	e.started, e.startedAt = true, at
	e.loss.SetEstimate(at, e.cfg.Start)
	if e.ctrl != nil {
		e.schedule(e.ctrl.SetBitrates(at, e.min, e.cfg.Start, e.max))
	}
}

// schedule adds probe requests to the output and remembers their
// clusters for matching feedback.
func (e *Estimator) schedule(reqs []probe.Request) {
	for _, r := range reqs {
		e.out = append(e.out, r)
		e.issued[e.nIssued%issuedCap] = r.Cluster()
		e.nIssued++
		e.stats.ProbesIssued++
	}
}

// cluster returns the scheduled cluster with the given id.
func (e *Estimator) cluster(id int32) (probe.Cluster, bool) {
	n := min(e.nIssued, issuedCap)
	for k := range n {
		if c := e.issued[k]; c.ID == id {
			return c, true
		}
	}
	return probe.Cluster{}, false
}

// SetLimits changes the bounds of the target at at, as when the
// application's bitrate range changes. A raised maximum is probed once the
// initial probing is over (libwebrtc ProbeController::SetBitrates). Max
// below min is raised to min; a zero or negative min means 0.
func (e *Estimator) SetLimits(at bwe.Time, lo, hi bwe.Bitrate) (res Result) {
	e.out = e.out[:0]
	e.start(at)
	e.min = max(lo, 0)
	e.max = max(hi, e.min)
	e.loss.SetLimits(e.min, e.max)
	if e.ctrl != nil {
		e.schedule(e.ctrl.SetBitrates(at, e.min, 0, e.max))
	}
	e.setTarget(e.target, e.limit)
	res.Time = at
	e.finish(&res)
	return res
}

// OnSent accounts a packet of size bytes sent at at. It matters only with
// [SendsFromOnSent]; it then also starts the feedback timeout clock.
func (e *Estimator) OnSent(at bwe.Time, size bwe.ByteCount) {
	if e.cfg.Sends != SendsFromOnSent {
		return
	}
	e.start(at)
	e.accountSend(at, size)
	if !e.pendingSend {
		e.pendingSend, e.firstPending = true, at
	}
}

// accountSend feeds one sent packet to the ALR detector and the sent
// rate, and tells the probe controller about ALR transitions.
func (e *Estimator) accountSend(at bwe.Time, size bwe.ByteCount) {
	e.sent.add(at, size)
	was := e.inALR
	e.inALR = e.alr.OnSent(at, size)
	if was != e.inALR {
		e.alrTransition(at)
	}
}

// alrTransition tells the probe controller that the sender entered or
// left the application-limited region (per e.inALR) at at.
func (e *Estimator) alrTransition(at bwe.Time) {
	if e.ctrl == nil {
		return
	}
	if e.inALR {
		e.ctrl.SetALRStartTime(at, true)
	} else {
		e.ctrl.SetALRStartTime(at, false)
		e.ctrl.SetALREndedTime(at)
	}
}

// Update consumes one transport-feedback batch: every packet it reports,
// received or lost, with send times on the sender clock and arrival times
// on the receiver clock.
func (e *Estimator) Update(fb bwe.Feedback) (res Result) {
	e.out = e.out[:0]
	e.start(fb.Time)
	e.stats.Feedbacks++
	res.Time, res.Feedback = fb.Time, true
	if len(fb.Packets) == 0 {
		e.stats.EmptyFeedbacks++
		e.finish(&res)
		return res
	}
	e.hasFeedback, e.lastFeedback = true, fb.Time
	e.pendingSend, e.backedOff = false, false

	sc := scanBatch(fb.Packets)
	e.updateRTT(fb.Time, sc)
	if e.cfg.Sends == SendsFromFeedback {
		e.sendsFromFeedback(fb.Packets, sc)
	}

	probeRate := bwe.Bitrate(0)
	if sc.flags&scanProbes != 0 {
		probeRate = e.measureProbes(fb.Packets)
	}
	if probeRate > 0 && e.lastAcked > 0 {
		// A probe may not drag the estimate below what is being
		// delivered (libwebrtc WebRTC-Bwe-LimitProbesLowerThanThroughputEstimate,
		// default on: max(probe, min(last estimate, 0.85 × acked)); the
		// acked rate is the previous batch's).
		floor := min(e.target, e.lastAcked.Scale(0.85))
		probeRate = max(probeRate, floor)
	}
	res.Probe = probeRate

	e.lastDelay = e.delay.Update(fb, probeRate, e.inALR)
	dr := &e.lastDelay
	if dr.AckedValid {
		e.lastAcked = dr.Acked
	}
	if dr.Probe {
		// libwebrtc SetSendBitrate: a probe result resets the loss side.
		e.loss.SetEstimate(fb.Time, dr.Target)
	}
	in := lossbased.Input{Time: fb.Time, Packets: fb.Packets, InALR: e.inALR, RTT: e.rtt}
	if dr.Valid {
		in.DelayBased = dr.Target
	}
	if dr.AckedValid {
		in.Acked = dr.Acked
	}
	e.lastLoss = e.loss.Update(in)
	lr := &e.lastLoss

	limit := LimitDelay
	if !dr.Valid || lr.Estimate < dr.Target {
		limit = LimitLoss
	}
	e.setTarget(lr.Estimate, limit)

	if e.ctrl != nil && dr.Updated {
		e.schedule(e.ctrl.SetEstimatedBitrate(fb.Time, e.target, e.cause(dr, lr)))
	}
	if e.ctrl != nil && dr.RecoveredFromOveruse {
		e.schedule(e.ctrl.RequestProbe(fb.Time))
	}
	if e.ns != nil {
		e.ns.observe(fb, e.target, e.rtt)
	}
	e.finish(&res)
	return res
}

// cause tells the probe controller why the estimate is what it is
// (libwebrtc GoogCcNetworkController::GetBandwidthLimitedCause).
func (e *Estimator) cause(dr *delaybased.Result, lr *lossbased.Result) probe.Cause {
	switch {
	case lr.State == lossbased.Decreasing || lr.State == lossbased.IncreaseUsingPadding:
		return probe.CauseLossDecreasing
	case lr.State == lossbased.Increasing:
		return probe.CauseLossIncreasing
	case dr.Detection.Usage != bwe.Normal:
		return probe.CauseDelayIncreased
	}
	return probe.CauseDelayBased
}

// Process runs the periodic part of the estimator at now: the feedback
// timeout and the probe controller's timers. Call it every 25–100 ms.
func (e *Estimator) Process(now bwe.Time) (res Result) {
	e.out = e.out[:0]
	e.start(now)
	res.Time = now
	if e.timedOut(now) && (!e.backedOff || now.Sub(e.lastBackoff) >= e.cfg.TimeoutInterval) {
		e.lastBackoff, e.backedOff = now, true
		e.stats.Timeouts++
		r := max(e.target.Scale(e.cfg.TimeoutBackoff), e.min)
		e.delay.SetEstimate(now, r)
		e.loss.SetEstimate(now, r)
		e.setTarget(r, LimitTimeout)
		res.TimedOut = true
		if e.ctrl != nil {
			e.schedule(e.ctrl.SetEstimatedBitrate(now, e.target, probe.CauseRTTBackoff))
		}
	}
	if e.ctrl != nil {
		e.schedule(e.ctrl.Process(now))
	}
	e.finish(&res)
	return res
}

// timedOut reports whether feedback is overdue at now: FeedbackTimeout has
// passed since the last feedback (or the start) and, when sends are
// known, since the first packet sent after it.
func (e *Estimator) timedOut(now bwe.Time) bool {
	ref := e.startedAt
	if e.hasFeedback {
		ref = e.lastFeedback
	}
	if e.cfg.Sends == SendsFromOnSent {
		if !e.pendingSend {
			return false
		}
		ref = max(ref, e.firstPending)
	}
	return now.Sub(ref) > e.cfg.FeedbackTimeout
}

// setTarget bounds r by the sent-rate cap and [min, max] and makes it the
// target.
func (e *Estimator) setTarget(r bwe.Bitrate, limit Limit) {
	if c, ok := e.sentCap(); ok && r > c {
		r, limit = c, LimitSentRate
	}
	switch {
	case r <= e.min:
		r, limit = e.min, LimitMin
	case r >= e.max:
		r, limit = e.max, LimitMax
	}
	e.target, e.limit = r, limit
	e.alr.SetEstimate(r)
}

// sentRate returns the rate sent over SentRateWindow, once a tenth of the
// window has been seen.
func (e *Estimator) sentRate() (bwe.Bitrate, bool) {
	return e.sent.rate(e.cfg.SentRateWindow / 10)
}

// sentCap returns the cap at SentRateCap × the sent rate, never below the
// start rate, while the sent rate is known and the cap is on.
func (e *Estimator) sentCap() (bwe.Bitrate, bool) {
	s, ok := e.sentRate()
	if m := &e.sent.memo; m.capValid {
		return m.cap, m.capOK
	}
	return e.refreshCap(s, ok)
}

// refreshCap computes the cap from the sent rate s (if ok) and remembers
// it with the sent rate it derives from (the rate's memo is valid right
// after sentRate).
func (e *Estimator) refreshCap(s bwe.Bitrate, ok bool) (bwe.Bitrate, bool) {
	m := &e.sent.memo
	c, cok := bwe.Bitrate(0), false
	if ok && e.cfg.SentRateCap >= 0 {
		c, cok = max(s.Scale(e.cfg.SentRateCap), e.cfg.Start), true
	}
	m.capValid, m.cap, m.capOK = true, c, cok
	return c, cok
}

// finish fills in the signals common to every result. The callers pass
// their named result: filled in place, it is not copied on return.
func (e *Estimator) finish(res *Result) {
	res.Target, res.Limit = e.target, e.limit
	res.Delay, res.Loss = e.lastDelay, e.lastLoss
	if !res.Feedback {
		res.Delay.Updated, res.Delay.Probe, res.Delay.RecoveredFromOveruse, res.Delay.Deltas = false, false, false, 0
	}
	res.RTT = e.rtt
	res.Sent, res.SentValid = e.sentRate()
	res.Cap, _ = e.sentCap()
	res.InALR = e.inALR
	res.Probes = e.out
	// Field by field: a composite literal of this size is built on the
	// stack and copied in 16-byte moves, which stall on the narrower
	// stores that built it.
	sig := &res.Signals
	*sig = bwe.Signals{}
	sig.Usage = res.Delay.Detection.Usage
	sig.Loss = res.Loss.Loss
	sig.RTT = e.rtt
	sig.Congested = e.limit == LimitTimeout || (e.limit == LimitLoss && res.Loss.State == lossbased.Decreasing)
	sig.Oscillation = e.osc
	sig.LossRisk = e.ns.risk()
	if e.ns != nil {
		res.NetState = e.ns.last
	}
	if e.cfg.Oscillation != nil && res.Feedback {
		e.partsAt = max(e.partsAt, res.Time)
		e.osc = e.cfg.Oscillation.Add(e.partsAt, e.target)
		res.Signals.Oscillation = e.osc
	}
	e.encoder = e.target
	if e.cfg.Rate != nil {
		// The parts require non-decreasing times; a caller's Process
		// and Update clocks may interleave slightly out of order.
		e.partsAt = max(e.partsAt, res.Time)
		e.encoder = e.cfg.Rate.Update(bwe.RateInput{Time: e.partsAt, Estimate: e.target, Signals: res.Signals})
	}
	res.Encoder = e.encoder
	if e.protector != nil {
		res.Protection = e.protector.Protection()
	}
}

// batchScan is what one pass over a batch finds for updateRTT,
// sendsFromFeedback and measureProbes. (Four fields at most: the compiler
// keeps such a struct in registers.)
type batchScan struct {
	minSend         bwe.Time // earliest send time of a received packet
	lowest, highest int64    // sequence numbers
	flags           int      // scanReceived, scanProbes
}

const (
	scanReceived = 1 << iota // a packet was received
	scanProbes               // a received packet belongs to a probe cluster
)

// scanBatch scans a non-empty batch, with selects rather than branches:
// random loss makes Received unpredictable.
func scanBatch(pkts []bwe.PacketResult) batchScan {
	minSend, lowest, highest := bwe.MaxTime, pkts[0].Seq, pkts[0].Seq
	flags := 0
	for i := range pkts {
		p := &pkts[i]
		send, got := p.SendTime, 0
		if !p.Received {
			send = bwe.MaxTime
		}
		if p.Received {
			got = scanReceived
		}
		if p.ProbeCluster > 0 {
			got *= scanReceived | scanProbes
		}
		flags |= got
		minSend = min(minSend, send)
		lowest = min(lowest, p.Seq)
		highest = max(highest, p.Seq)
	}
	return batchScan{minSend: minSend, lowest: lowest, highest: highest, flags: flags}
}

// updateRTT records the batch's largest feedback time − send time, in
// whole ms, and sets the RTT to the mean of the last RTTWindow of them,
// as libwebrtc's GoogCcNetworkController does with transport feedback.
// Time.Sub is non-increasing in its argument: the largest feedback time
// − send time is the one of the earliest send time. A negative largest one
// is ignored.
func (e *Estimator) updateRTT(fbTime bwe.Time, sc batchScan) {
	if sc.flags&scanReceived == 0 {
		return
	}
	maxRTT := fbTime.Sub(sc.minSend)
	if maxRTT < 0 {
		return
	}
	// The sum of the slots in use is kept up to date: int64 addition
	// wraps, so it equals a fresh sum of them whatever the order.
	n := len(e.rttMs)
	v := int64((maxRTT + time.Millisecond/2) / time.Millisecond)
	e.rttSum += v - e.rttMs[e.rttSlot]
	e.rttMs[e.rttSlot] = v
	if e.rttSlot++; e.rttSlot == n {
		e.rttSlot = 0
	}
	e.nRTT++
	k := min(e.nRTT, n)
	e.rtt = time.Duration(e.rttSum/int64(k)) * time.Millisecond
	e.delay.SetRTT(e.rtt)
}

// sendsFromFeedback accounts the packets of a batch that no earlier batch
// reported, in the order given.
func (e *Estimator) sendsFromFeedback(packets []bwe.PacketResult, sc batchScan) {
	last, seen := e.lastSeq, e.seqSeen
	if seen {
		// The common batch reports no packet an earlier batch reported.
		if sc.lowest <= last {
			for i := range packets {
				p := &packets[i]
				if p.Seq <= last {
					continue
				}
				e.accountSend(p.SendTime, p.Size)
				if !e.seqSeen || p.Seq > e.lastSeq {
					e.lastSeq, e.seqSeen = p.Seq, true
				}
			}
			return
		}
	}
	// Every packet is new: the same as accountSend for each in turn, the
	// sent rate and the ALR detector each given the whole batch at once.
	e.sent.addRun(packets)
	for run := packets; len(run) > 0; {
		was := e.inALR
		n := e.alr.onSentRun(run)
		e.inALR = e.alr.inALR
		if e.inALR != was {
			e.alrTransition(run[n-1].SendTime)
		}
		run = run[n:]
	}
	highest := sc.highest
	if e.seqSeen {
		highest = max(highest, e.lastSeq)
	}
	e.lastSeq, e.seqSeen = highest, true
}

// measureProbes feeds the batch's received probe packets to the probe
// estimator and returns the rate a cluster completed, or 0.
func (e *Estimator) measureProbes(packets []bwe.PacketResult) bwe.Bitrate {
	found := false
	for i := range packets {
		p := &packets[i]
		if p.ProbeCluster <= 0 || !p.Received {
			continue
		}
		c, ok := e.cluster(p.ProbeCluster)
		if !ok {
			e.stats.UnknownProbes++
			continue
		}
		e.stats.ProbePackets++
		e.probes.Update(*p, c)
		found = true
	}
	if !found {
		return 0
	}
	r, ok := e.probes.Fetch()
	if !ok {
		return 0
	}
	return r
}
