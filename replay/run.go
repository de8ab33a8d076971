package replay

import (
	"fmt"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/delaybased"
	"github.com/bwelab/bwe/probe"
	"github.com/bwelab/bwe/sendside"
)

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
	// Estimator is the send-side estimator's own account of what it
	// consumed, and Delay its delay-based part's.
	Estimator sendside.Stats
	Delay     delaybased.Stats
	// ProbePackets is the number of probe packets the sender sent.
	ProbePackets int
}

// Run emulates scenario s in closed loop with a send-side estimator built
// from cfg, and returns the metrics and time series of the run.
//
// The loop, in emulated time from 0 to s.Duration:
//
//   - the sender paces s.PacketSize packets at the media rate: the target
//     (starting at s.StartRate), but at least s.MinRate and at most
//     s.AppRate when the application is limited; when the rate changes,
//     the next packet goes out one interval at the new rate after the
//     previous one (or at once if that instant has passed);
//   - when the estimator asks for probe clusters, the sender sends them
//     first, in order, each at its probe rate until it has carried its
//     bytes (rate × duration) and its packet count, its packets tagged
//     with the cluster id; media waits meanwhile (so a probe of an
//     application-limited sender is padding);
//   - each packet goes through the [Link], which decides its fate;
//   - every s.FeedbackInterval the receiver reports, in sequence order,
//     every packet whose fate it knows and has not yet reported: packets
//     that arrived, with their arrival time, and missing packets once a
//     later packet has arrived. Empty reports are not sent. The report
//     reaches the sender one propagation delay later unless it falls in
//     one of s.FeedbackOutages, where it is lost;
//   - the sender gives each report to the estimator, calls its Process
//     every s.ProcessInterval, and adopts its target.
//
// Events due at the same instant run in a fixed order: report delivery,
// process, send, receiver report, sample. Run is deterministic: the same
// scenario and configuration give the same result, bit for bit. The parts
// in cfg (detector, loss estimator), if set, must be fresh: the run owns
// them. cfg.Start, if zero, is s.StartRate.
//
// Run returns an error naming the field if s or cfg is invalid.
func Run(s Scenario, cfg sendside.Config) (*Result, error) {
	e, err := newEmulation(s, cfg)
	if err != nil {
		return nil, err
	}
	e.loop()
	m := e.finish() // completes e.samples
	return &Result{
		Scenario:     e.s,
		Metrics:      m,
		Series:       e.samples,
		Link:         e.link.Stats(),
		Estimator:    e.est.Stats(),
		Delay:        e.est.DelayStats(),
		ProbePackets: e.probePackets,
	}, nil
}

// newEmulation prepares the run of s with an estimator built from cfg.
func newEmulation(s Scenario, cfg sendside.Config) (*emulation, error) {
	s, err := s.WithDefaults()
	if err != nil {
		return nil, err
	}
	link, err := NewLink(s.Link, s.Seed)
	if err != nil {
		return nil, fmt.Errorf("replay: scenario %q: %w", s.Name, err)
	}
	if cfg.Start == 0 {
		cfg.Start = s.StartRate
	}
	est, err := sendside.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("replay: scenario %q: %w", s.Name, err)
	}
	e := &emulation{
		s:          s,
		link:       link,
		est:        est,
		end:        bwe.TimeFromDuration(s.Duration),
		warmup:     bwe.TimeFromDuration(s.Warmup),
		target:     est.Target(),
		nextTick:   bwe.TimeFromDuration(s.FeedbackInterval),
		packets:    make([]packet, 0, expectedPackets(s)),
		samples:    make([]Sample, 0, int(s.Duration/s.SampleInterval)+1),
		probeQueue: make([]pendingProbe, 0, 8),
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
	send  bwe.Time
	size  bwe.ByteCount
	probe int32 // probe cluster id, 0 for media
	fate  Fate
}

// report is a feedback report on its way back to the sender: it covers
// packets[lo:hi] and reaches the sender at at.
type report struct {
	at     bwe.Time
	lo, hi int
}

// pendingProbe is a probe cluster the sender is sending or will send.
type pendingProbe struct {
	req      probe.Request
	minBytes bwe.ByteCount // what the cluster must carry
	bytes    bwe.ByteCount
	count    int
}

// emulation is the state of one closed-loop run.
type emulation struct {
	s      Scenario
	link   *Link
	est    *sendside.Estimator
	end    bwe.Time
	warmup bwe.Time

	packets  []packet
	reported int      // first packet the receiver has not reported yet
	acked    int      // first packet the sender has not had reported yet
	inFlight []report // reports on their way back, in order of arrival
	results  []bwe.PacketResult

	// Sender.
	target       bwe.Bitrate
	last         sendside.Result
	nextSend     bwe.Time
	lastSend     bwe.Time
	sent         bool
	overuses     int
	probeQueue   []pendingProbe
	probePackets int
	nextProcess  bwe.Time

	// Receiver and sampling.
	nextTick   bwe.Time
	nextSample bwe.Time
	samples    []Sample
}

// loop runs events in time order until the end of the run.
func (e *emulation) loop() {
	for {
		t := min(e.nextSend, e.nextTick, e.nextSample, e.nextProcess)
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
		case e.nextProcess == t:
			e.adopt(t, e.est.Process(t))
			e.nextProcess = t.Add(e.s.ProcessInterval)
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

// mediaRate is the rate media is paced at.
func (e *emulation) mediaRate() bwe.Bitrate {
	r := max(e.target, e.s.MinRate, 1)
	if e.s.AppRate > 0 {
		r = min(r, e.s.AppRate)
	}
	return r
}

// interval returns the pacing interval of the next packet: at the rate of
// the probe being sent, else at the media rate; in whole microseconds,
// rounded up.
func (e *emulation) interval() time.Duration {
	rate := int64(e.mediaRate())
	if len(e.probeQueue) > 0 {
		rate = int64(max(e.probeQueue[0].req.Bitrate, 1))
	}
	us := (e.s.PacketSize.Bits()*1_000_000 + rate - 1) / rate
	return time.Duration(us) * time.Microsecond
}

// send sends one packet at t and schedules the next.
func (e *emulation) send(t bwe.Time) {
	var id int32
	if len(e.probeQueue) > 0 {
		p := &e.probeQueue[0]
		id = p.req.ID
		p.bytes += e.s.PacketSize
		p.count++
		e.probePackets++
		if p.count >= p.req.MinProbes && p.bytes >= p.minBytes {
			e.probeQueue = append(e.probeQueue[:0], e.probeQueue[1:]...)
		}
	}
	fate := e.link.Send(t, e.s.PacketSize)
	e.packets = append(e.packets, packet{send: t, size: e.s.PacketSize, probe: id, fate: fate})
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
	lo := e.reported
	e.reported = last + 1
	if e.s.inOutage(t) {
		return // the report is lost on its way back
	}
	e.inFlight = append(e.inFlight, report{at: t.Add(e.s.Link.Delay), lo: lo, hi: last + 1})
}

// deliver hands a report to the estimator at the report's arrival time.
func (e *emulation) deliver(r report) {
	e.results = e.results[:0]
	for k := r.lo; k < r.hi; k++ {
		p := &e.packets[k]
		pr := bwe.PacketResult{Seq: int64(k), SendTime: p.send, Size: p.size, ProbeCluster: p.probe}
		if p.fate.Outcome == Delivered {
			pr.Arrival, pr.Received = p.fate.Arrival, true
		}
		e.results = append(e.results, pr)
	}
	e.acked = r.hi
	res := e.est.Update(bwe.Feedback{Time: r.at, Packets: e.results})
	if res.Delay.Detection.Usage == bwe.Overusing && e.last.Delay.Detection.Usage != bwe.Overusing && r.at >= e.warmup {
		e.overuses++
	}
	e.adopt(r.at, res)
}

// adopt takes the estimator's result at t: its probe clusters join the
// queue (and start at once if none was being sent), and a new target
// reschedules the next media packet.
func (e *emulation) adopt(t bwe.Time, res sendside.Result) {
	e.last = res
	idle := len(e.probeQueue) == 0
	for _, p := range res.Probes {
		e.probeQueue = append(e.probeQueue, pendingProbe{req: p, minBytes: p.Cluster().MinBytes})
	}
	changed := res.Target != e.target
	e.target = res.Target
	if !e.sent {
		return
	}
	if (idle && len(e.probeQueue) > 0) || (changed && len(e.probeQueue) == 0) {
		e.nextSend = max(t, e.lastSend.Add(e.interval()))
	}
}

// sample records the state of the loop at t. Delivered and sent rates
// and queuing delay are filled in by finish, once the whole run is known.
func (e *emulation) sample(t bwe.Time) {
	e.samples = append(e.samples, Sample{
		At:         t,
		Capacity:   e.link.capacityAt(t),
		Target:     e.target,
		DelayBased: e.last.Delay.Target,
		LossBased:  e.last.Loss.Estimate,
		Limit:      e.last.Limit,
		InALR:      e.last.InALR,
		Usage:      e.last.Delay.Detection.Usage,
	})
}
