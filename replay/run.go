package replay

import (
	"fmt"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/delaybased"
)

// rttWindow is the number of per-feedback RTTs averaged into the RTT given
// to the estimator (libwebrtc goog_cc_network_control.cc:
// kMaxFeedbackRttWindow = 32).
const rttWindow = 32

// Result is the outcome of one [Run].
type Result struct {
	// Scenario is the scenario that ran, with its defaults filled in.
	Scenario Scenario
	// Metrics summarises the steady part of the run.
	Metrics Metrics
	// Series samples the run every Scenario.SampleInterval, from 0.
	Series []Sample
	// Link counts what the bottleneck did with every packet of the run.
	Link LinkStats
	// Estimator is the estimator's own account of what it consumed.
	Estimator delaybased.Stats
}

// Run emulates scenario s in closed loop with a delay-based estimator
// built from cfg, and returns the metrics and time series of the run.
//
// The loop, in emulated time from 0 to s.Duration:
//
//   - the sender paces s.PacketSize packets at max(target, s.MinRate),
//     the target starting at s.StartRate (as the estimator bounds it); when the target changes, the next packet
//     goes out one interval at the new rate after the previous one (or at
//     once if that instant has passed);
//   - each packet goes through the [Link], which decides its fate;
//   - every s.FeedbackInterval the receiver reports, in sequence order,
//     every packet whose fate it knows and has not yet reported: packets
//     that arrived, with their arrival time, and missing packets once a
//     later packet has arrived. Empty reports are not sent. The report
//     reaches the sender one propagation delay later and is never lost;
//   - on each report the sender gives the estimator the RTT (the mean of
//     the last 32 per-report maxima of report time − send time, in whole
//     ms, as libwebrtc's GoogCcNetworkController does with transport
//     feedback only), then the report, without probe or ALR, and adopts the
//     estimate as its target.
//
// Events due at the same instant run in a fixed order: report delivery,
// send, receiver report, sample. Run is deterministic: the same scenario
// and configuration give the same result, bit for bit. cfg.Detector, if
// set, must be a fresh detector that nothing else uses; the run owns it.
//
// Run returns an error naming the field if s or cfg is invalid.
func Run(s Scenario, cfg delaybased.Config) (*Result, error) {
	e, err := newEmulation(s, cfg)
	if err != nil {
		return nil, err
	}
	e.loop()
	m := e.finish() // completes e.samples
	return &Result{
		Scenario:  e.s,
		Metrics:   m,
		Series:    e.samples,
		Link:      e.link.Stats(),
		Estimator: e.est.Stats(),
	}, nil
}

// newEmulation prepares the run of s with an estimator built from cfg.
func newEmulation(s Scenario, cfg delaybased.Config) (*emulation, error) {
	s, err := s.WithDefaults()
	if err != nil {
		return nil, err
	}
	link, err := NewLink(s.Link, s.Seed)
	if err != nil {
		return nil, fmt.Errorf("replay: scenario %q: %w", s.Name, err)
	}
	est, err := delaybased.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("replay: scenario %q: %w", s.Name, err)
	}
	est.SetStartBitrate(s.StartRate)
	e := &emulation{
		s:        s,
		link:     link,
		est:      est,
		end:      bwe.TimeFromDuration(s.Duration),
		warmup:   bwe.TimeFromDuration(s.Warmup),
		target:   s.StartRate,
		nextTick: bwe.TimeFromDuration(s.FeedbackInterval),
		packets:  make([]packet, 0, expectedPackets(s)),
		samples:  make([]Sample, 0, int(s.Duration/s.SampleInterval)+1),
	}
	if r, ok := est.Estimate(); ok {
		e.target = r
	}
	return e, nil
}

// expectedPackets guesses the number of packets of a run, to size its
// packet log: the start rate over the whole run, at most one million.
func expectedPackets(s Scenario) int {
	n := int64(s.StartRate.Over(s.Duration) / s.PacketSize)
	return int(min(max(n, 1024), 1<<20))
}

// packet is the emulation's record of one sent packet; its index in the
// log is its transport sequence number.
type packet struct {
	send bwe.Time
	size bwe.ByteCount
	fate Fate
}

// report is a feedback report on its way back to the sender: it covers
// packets[lo:hi] and reaches the sender at at.
type report struct {
	at     bwe.Time
	lo, hi int
}

// emulation is the state of one closed-loop run.
type emulation struct {
	s      Scenario
	link   *Link
	est    *delaybased.Estimator
	end    bwe.Time
	warmup bwe.Time

	packets  []packet
	reported int      // first packet the receiver has not reported yet
	acked    int      // first packet the sender has not had reported yet
	inFlight []report // reports on their way back, in order of arrival
	results  []bwe.PacketResult

	// Sender.
	target   bwe.Bitrate
	usage    bwe.Usage
	nextSend bwe.Time
	lastSend bwe.Time
	sent     bool
	rtts     [rttWindow]int64 // per-report maximum RTTs, ms
	nRTT     int
	overuses int

	// Receiver and sampling.
	nextTick   bwe.Time
	nextSample bwe.Time
	samples    []Sample
}

// loop runs events in time order until the end of the run.
func (e *emulation) loop() {
	for {
		t := min(e.nextSend, e.nextTick, e.nextSample)
		if len(e.inFlight) > 0 {
			t = min(t, e.inFlight[0].at)
		}
		if t >= e.end {
			return
		}
		switch {
		case len(e.inFlight) > 0 && e.inFlight[0].at == t:
			e.deliver(e.inFlight[0])
			e.inFlight = e.inFlight[1:]
		case e.nextSend == t:
			e.send(t)
		case e.nextTick == t:
			e.receiverReport(t)
			e.nextTick = t.Add(e.s.FeedbackInterval)
		default:
			e.sample(t)
			e.nextSample = t.Add(e.s.SampleInterval)
		}
	}
}

// interval returns the pacing interval of one packet at the current
// target, in whole microseconds, rounded up.
func (e *emulation) interval() time.Duration {
	rate := int64(max(e.target, e.s.MinRate, 1))
	us := (e.s.PacketSize.Bits()*1_000_000 + rate - 1) / rate
	return time.Duration(us) * time.Microsecond
}

// send sends one packet at t and schedules the next.
func (e *emulation) send(t bwe.Time) {
	fate := e.link.Send(t, e.s.PacketSize)
	e.packets = append(e.packets, packet{send: t, size: e.s.PacketSize, fate: fate})
	e.lastSend, e.sent = t, true
	e.nextSend = t.Add(e.interval())
}

// receiverReport sends, at receiver time t, a report of every packet whose
// fate is known and that no earlier report covered.
func (e *emulation) receiverReport(t bwe.Time) {
	last := -1
	for k := e.reported; k < len(e.packets); k++ {
		f := e.packets[k].fate
		if f.Outcome != Delivered {
			continue
		}
		if f.Arrival > t {
			break // FIFO: no later packet has arrived either
		}
		last = k
	}
	if last < 0 {
		return
	}
	e.inFlight = append(e.inFlight, report{at: t.Add(e.s.Link.Delay), lo: e.reported, hi: last + 1})
	e.reported = last + 1
}

// deliver hands a report to the estimator at the report's arrival time.
func (e *emulation) deliver(r report) {
	e.results = e.results[:0]
	maxRTT := time.Duration(-1)
	for k := r.lo; k < r.hi; k++ {
		p := &e.packets[k]
		pr := bwe.PacketResult{Seq: int64(k), SendTime: p.send, Size: p.size}
		if p.fate.Outcome == Delivered {
			pr.Arrival, pr.Received = p.fate.Arrival, true
			maxRTT = max(maxRTT, r.at.Sub(p.send))
		}
		e.results = append(e.results, pr)
	}
	if maxRTT >= 0 {
		e.est.SetRTT(e.pushRTT(maxRTT))
	}
	e.acked = r.hi
	res := e.est.Update(bwe.Feedback{Time: r.at, Packets: e.results}, 0, false)
	if res.Detection.Usage == bwe.Overusing && e.usage != bwe.Overusing && r.at >= e.warmup {
		e.overuses++
	}
	e.usage = res.Detection.Usage
	if !res.Valid || res.Target == e.target {
		return
	}
	e.target = res.Target
	if e.sent {
		e.nextSend = max(r.at, e.lastSend.Add(e.interval()))
	}
}

// pushRTT records one report's maximum RTT and returns the mean of the
// last rttWindow of them, in whole milliseconds: the maximum rounded to
// the nearest ms, the mean truncated, as libwebrtc does.
func (e *emulation) pushRTT(rtt time.Duration) time.Duration {
	ms := int64((rtt + time.Millisecond/2) / time.Millisecond)
	e.rtts[e.nRTT%rttWindow] = ms
	e.nRTT++
	n := min(e.nRTT, rttWindow)
	var sum int64
	for _, v := range e.rtts[:n] {
		sum += v
	}
	return time.Duration(sum/int64(n)) * time.Millisecond
}

// sample records the state of the loop at t. Delivered rate and queuing
// delay are filled in by finish, once the whole run is known.
func (e *emulation) sample(t bwe.Time) {
	e.samples = append(e.samples, Sample{
		At:       t,
		Capacity: e.link.capacityAt(t),
		Target:   e.target,
		Usage:    e.usage,
	})
}
