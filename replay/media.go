package replay

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/netstate"
	"github.com/bwelab/bwe/probe"
	"github.com/bwelab/bwe/sendside"
	"github.com/bwelab/bwe/traces"
)

// maxPacerQueue is the longest the pacer lets its queue last: it raises
// its rate so that the queued bytes leave within this time (libwebrtc
// pacing_controller.cc: kMaxExpectedQueueLength = 2 s).
const maxPacerQueue = 2 * time.Second

// packet is the emulation's record of one sent packet; its index in its
// flow's log is its transport sequence number.
type packet struct {
	send   bwe.Time
	size   bwe.ByteCount
	probe  int32 // probe cluster id, 0 for media
	parity bool  // an FEC parity packet
	frame  int64 // video frame number from 1, 0 for padding and greedy media
	group  int64 // FEC group from 1, 0 if unprotected
	fate   Fate
}

// queuedPacket is a media or parity packet waiting at the pacer.
type queuedPacket struct {
	size   bwe.ByteCount
	frame  int64
	group  int64
	parity bool
}

// report is a feedback report on its way back to the sender: it covers
// packets[lo:hi] as the receiver knew them at tick, and reaches the sender
// at at.
type report struct {
	at, tick bwe.Time
	lo, hi   int
}

// pendingProbe is a probe cluster the sender is sending or will send.
type pendingProbe struct {
	req      probe.Request
	minBytes bwe.ByteCount // what the cluster must carry
	bytes    bwe.ByteCount
	count    int
}

// PCG stream identifiers of a media flow's own random processes, offset
// by the flow's index.
const streamFrames = 0x66726d00 // "frm"

// mediaFlow is one media flow: a source, a pacer and an estimator at the
// sender, a receiver that reports feedback.
type mediaFlow struct {
	e     *emulation
	cfg   traces.Flow
	index int
	out   *Link // the path media takes
	back  *Link // the path feedback takes
	lane  int   // lane of media on out and of feedback on back
	est   FlowEstimator
	start bwe.Time
	stop  bwe.Time

	next bwe.Time // the earliest of the timers below

	// Sender.
	target       bwe.Bitrate // the encoder's target
	estimate     bwe.Bitrate // the estimator's target
	last         sendside.Result
	lastSend     bwe.Time
	lastSize     bwe.ByteCount
	sent         bool
	nextSend     bwe.Time
	nextProcess  bwe.Time
	probeQueue   []pendingProbe
	probePackets int
	overuses     int

	// Video source and pacer queue.
	nextFrame bwe.Time
	frameNo   int64
	frames    int
	encRate   float64 // encoder output rate, bps
	lastFrame bwe.Time
	nextKey   bwe.Time
	keyNext   bool
	fecGroups int64 // FEC groups formed so far
	rng       *rand.Rand
	queue     []queuedPacket // pacer queue; queue[qhead:] is live
	qhead     int
	qbytes    bwe.ByteCount

	// Receiver and the feedback in flight.
	packets   []packet
	reported  int
	nextTick  bwe.Time
	inFlight  []report // in order of arrival at the sender
	results   []bwe.PacketResult
	feedbacks int
	fbLost    int

	samples []Sample

	// Network statistics per interval, when RunNetState asks for them.
	netstate *netstate.Extractor
	steps    []netstate.Step
}

func newMediaFlow(e *emulation, i int, f traces.Flow) (*mediaFlow, error) {
	cfg, err := e.est.Config()
	if err != nil {
		return nil, err
	}
	if cfg.Start == 0 {
		cfg.Start = f.StartRate
	}
	var est FlowEstimator
	if e.est.New != nil {
		est, err = e.est.New(cfg)
	} else {
		var core *sendside.Estimator
		core, err = sendside.New(cfg)
		est = coreFlow{core}
	}
	if err != nil {
		return nil, err
	}
	out, back := e.paths(f.Reverse)
	start := bwe.TimeFromDuration(f.Start)
	stop := e.end
	if f.Stop > 0 {
		stop = bwe.TimeFromDuration(f.Stop)
	}
	m := &mediaFlow{
		e:           e,
		cfg:         f,
		index:       i,
		out:         out,
		back:        back,
		lane:        i,
		est:         est,
		start:       start,
		stop:        stop,
		target:      est.Target(),
		estimate:    est.Target(),
		nextSend:    bwe.MaxTime,
		nextProcess: start,
		nextFrame:   bwe.MaxTime,
		nextTick:    start.Add(e.s.FeedbackInterval),
		keyNext:     true,
		rng:         rand.New(rand.NewPCG(e.s.Seed, streamFrames+uint64(i))),
		packets:     make([]packet, 0, expectedPackets(e.s, f)),
		samples:     make([]Sample, 0, int(e.s.Duration/e.s.SampleInterval)+1),
		probeQueue:  make([]pendingProbe, 0, 8),
	}
	if f.Source == traces.Greedy {
		m.nextSend = start
	} else {
		m.nextFrame = start
		m.encRate = float64(m.mediaRate())
	}
	m.update()
	return m, nil
}

// expectedPackets guesses the number of packets of a flow, to size its
// packet log: the start rate over the whole run, at most one million.
func expectedPackets(s traces.Scenario, f traces.Flow) int {
	n := int64(f.StartRate.Over(s.Duration) / f.PacketSize)
	return int(min(max(n, 1024), 1<<20))
}

// update recomputes the flow's next event.
func (m *mediaFlow) update() {
	t := min(m.nextSend, m.nextProcess, m.nextFrame, m.nextTick)
	if len(m.inFlight) > 0 {
		t = min(t, m.inFlight[0].at)
	}
	m.next = t
}

// step runs the flow's first event due at t.
func (m *mediaFlow) step(t bwe.Time) {
	switch {
	case len(m.inFlight) > 0 && m.inFlight[0].at == t:
		r := m.inFlight[0]
		m.inFlight = append(m.inFlight[:0], m.inFlight[1:]...)
		m.deliver(r)
	case m.nextProcess == t:
		if t >= m.stop {
			m.nextProcess = bwe.MaxTime
		} else {
			m.adopt(t, m.est.Process(t))
			m.nextProcess = t.Add(m.e.s.ProcessInterval)
		}
	case m.nextFrame == t:
		m.frame(t)
	case m.nextSend == t:
		m.send(t)
	default:
		m.receiverReport(t)
		m.nextTick = t.Add(m.e.s.FeedbackInterval)
		if t >= m.stop.Add(time.Second) {
			m.nextTick = bwe.MaxTime // everything sent has had time to arrive
		}
	}
	m.update()
}

// active reports whether the flow sends at t.
func (m *mediaFlow) active(t bwe.Time) bool { return m.cfg.Active(duration(t)) }

// resumeAt returns the first instant at or after t at which the flow is
// active, or MaxTime.
func (m *mediaFlow) resumeAt(t bwe.Time) bwe.Time {
	for range len(m.cfg.Pauses) + 2 {
		if t >= m.stop {
			return bwe.MaxTime
		}
		if m.active(t) {
			return t
		}
		if t < m.start {
			t = m.start
			continue
		}
		for _, p := range m.cfg.Pauses {
			if p.Contains(duration(t)) {
				t = bwe.TimeFromDuration(p.To)
			}
		}
	}
	if m.active(t) {
		return t
	}
	return bwe.MaxTime
}

// fecGroup returns the FEC group of the frames the source produces now:
// media packets per parity packet, 0 for none: the flow's own FECGroup,
// else what the share the estimator's rate controller reserves for
// redundancy (sendside.Result.Protection) pays for.
func (m *mediaFlow) fecGroup() int {
	if m.cfg.FECGroup > 0 {
		return m.cfg.FECGroup
	}
	if p := m.last.Protection; p > 0 && p < 1 {
		// One parity packet per k media packets takes 1/(k+1) of the
		// rate: the k whose overhead is nearest the reserved share.
		return max(1, int(math.Round((1-p)/p)))
	}
	return 0
}

// mediaRate is the rate the source produces media at: the encoder's target, at
// least MinRate, at most AppRate when the application is limited.
func (m *mediaFlow) mediaRate() bwe.Bitrate {
	r := max(m.target, m.cfg.MinRate, 1)
	if m.cfg.AppRate > 0 {
		r = min(r, m.cfg.AppRate)
	}
	return r
}

// pacingRate is the rate the pacer sends queued media at.
func (m *mediaFlow) pacingRate() bwe.Bitrate {
	if m.cfg.Source == traces.Greedy {
		return m.mediaRate()
	}
	r := max(m.target, m.estimate, m.cfg.MinRate, 1).Scale(m.cfg.Video.PacingFactor)
	return max(r, bwe.RateOf(m.qbytes, maxPacerQueue), 1)
}

// interval returns the pacing interval after a packet of size bytes: at
// the rate of the probe being sent, else at the pacing rate; in whole
// microseconds, rounded up.
func (m *mediaFlow) interval(size bwe.ByteCount) time.Duration {
	rate := int64(m.pacingRate())
	if len(m.probeQueue) > 0 {
		rate = int64(max(m.probeQueue[0].req.Bitrate, 1))
	}
	us := (size.Bits()*1_000_000 + rate - 1) / rate
	return time.Duration(us) * time.Microsecond
}

// frame runs the video source at t: it produces a frame, if the flow is
// active, and queues its packets at the pacer.
func (m *mediaFlow) frame(t bwe.Time) {
	v := m.cfg.Video
	m.frameNo++
	m.nextFrame = m.start.Add(time.Duration(m.frameNo * int64(time.Second) / int64(v.FrameRate)))
	if m.nextFrame >= m.stop {
		m.nextFrame = bwe.MaxTime
	}
	if !m.active(t) {
		m.flush()
		m.keyNext = true
		return
	}
	// The encoder's output rate follows the media rate with a first-order
	// lag.
	want := float64(m.mediaRate())
	if m.frames == 0 || v.Lag == 0 {
		m.encRate = want
	} else {
		dt := float64(t - m.lastFrame)
		m.encRate += (want - m.encRate) * (1 - math.Exp(-dt/float64(v.Lag/time.Microsecond)))
	}
	m.lastFrame = t
	m.frames++
	bytes := m.encRate / 8 / float64(v.FrameRate)
	if v.KeyframeInterval > 0 && t >= m.nextKey {
		m.keyNext = true
	}
	if m.keyNext {
		bytes *= v.KeyframeFactor
		m.keyNext = false
		m.nextKey = t.Add(v.KeyframeInterval)
	}
	if v.Variation > 0 {
		bytes *= 1 + v.Variation*max(-3, min(3, m.rng.NormFloat64()))
	}
	size := bwe.ByteCount(max(1, math.Round(bytes)))
	n := (size + m.cfg.PacketSize - 1) / m.cfg.PacketSize
	k := bwe.ByteCount(m.fecGroup())
	var group int64
	var largest bwe.ByteCount
	for i := range n {
		p := size / n
		if i < size%n {
			p++
		}
		if k > 0 && i%k == 0 {
			m.fecGroups++
			group, largest = m.fecGroups, 0
		}
		m.queue = append(m.queue, queuedPacket{size: p, frame: m.frameNo, group: group})
		m.qbytes += p
		largest = max(largest, p)
		if k > 0 && (i%k == k-1 || i == n-1) {
			m.queue = append(m.queue, queuedPacket{size: largest, frame: m.frameNo, group: group, parity: true})
			m.qbytes += largest
		}
	}
	if m.nextSend == bwe.MaxTime {
		m.nextSend = t
		if m.sent {
			m.nextSend = max(t, m.lastSend.Add(m.interval(m.lastSize)))
		}
	}
}

// flush empties the pacer queue and the pending probes.
func (m *mediaFlow) flush() {
	m.queue, m.qhead, m.qbytes = m.queue[:0], 0, 0
	m.probeQueue = m.probeQueue[:0]
}

// send sends one packet at t and schedules the next.
func (m *mediaFlow) send(t bwe.Time) {
	if !m.active(t) {
		m.flush()
		m.nextSend = bwe.MaxTime
		if m.cfg.Source == traces.Greedy {
			m.nextSend = m.resumeAt(t)
		}
		return
	}
	var id int32
	var frame, group int64
	var parity bool
	size := m.cfg.PacketSize
	if m.cfg.Source != traces.Greedy && m.qhead < len(m.queue) {
		q := &m.queue[m.qhead]
		size, frame, group, parity = q.size, q.frame, q.group, q.parity
		m.qhead++
		m.qbytes -= size
		if m.qhead == len(m.queue) {
			m.queue, m.qhead = m.queue[:0], 0
		} else if m.qhead > 4096 && m.qhead > len(m.queue)/2 {
			k := copy(m.queue, m.queue[m.qhead:])
			m.queue, m.qhead = m.queue[:k], 0
		}
	}
	if len(m.probeQueue) > 0 {
		p := &m.probeQueue[0]
		id = p.req.ID
		p.bytes += size
		p.count++
		m.probePackets++
		if p.count >= p.req.MinProbes && p.bytes >= p.minBytes {
			m.probeQueue = append(m.probeQueue[:0], m.probeQueue[1:]...)
		}
	}
	m.est.OnSent(bwe.PacketResult{Seq: int64(len(m.packets)), SendTime: t, Size: size, ProbeCluster: id})
	fate := m.out.SendOn(m.lane, t, size, m.cfg.ExtraDelay)
	m.packets = append(m.packets, packet{send: t, size: size, probe: id, parity: parity, frame: frame, group: group, fate: fate})
	m.lastSend, m.lastSize, m.sent = t, size, true
	if m.cfg.Source == traces.Greedy || len(m.probeQueue) > 0 || m.qhead < len(m.queue) {
		m.nextSend = t.Add(m.interval(size))
	} else {
		m.nextSend = bwe.MaxTime // until the next frame
	}
}

// feedbackSize is the size on the wire of a transport-wide feedback
// report covering n packets: IPv4 and UDP headers (28 bytes), the RTCP
// feedback header with both SSRCs (12), the transport-wide fields (base
// sequence number, status count, reference time, feedback count: 8), one
// 2-byte status chunk per 7 packets and a 1-byte receive delta per packet
// (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1), padded to 4
// bytes.
func feedbackSize(n int) bwe.ByteCount {
	b := 48 + 2*((n+6)/7) + n
	return bwe.ByteCount((b + 3) &^ 3)
}

// receiverReport sends, at receiver time t, a report of every packet up to
// the highest one that has arrived by t, from the first not yet reported.
func (m *mediaFlow) receiverReport(t bwe.Time) {
	last := -1
	reorder := m.out.Config().Reorder
	for k := m.reported; k < len(m.packets) && m.packets[k].send <= t; k++ {
		f := m.packets[k].fate
		if f.Outcome != Delivered {
			continue
		}
		if f.Arrival <= t {
			last = k
		} else if !reorder {
			break // FIFO: no later packet has arrived either
		}
	}
	if last < 0 {
		return
	}
	lo := m.reported
	m.reported = last + 1
	if m.e.s.InOutage(duration(t)) {
		m.fbLost++
		return
	}
	fate := m.back.SendOn(traces.MaxFlows+m.lane, t, feedbackSize(last+1-lo), m.cfg.ExtraDelay)
	if fate.Outcome != Delivered {
		m.fbLost++
		return
	}
	r := report{at: fate.Arrival, tick: t, lo: lo, hi: last + 1}
	i := len(m.inFlight)
	for i > 0 && m.inFlight[i-1].at > r.at {
		i--
	}
	m.inFlight = append(m.inFlight, report{})
	copy(m.inFlight[i+1:], m.inFlight[i:])
	m.inFlight[i] = r
}

// deliver hands a report to the estimator at the report's arrival time.
func (m *mediaFlow) deliver(r report) {
	if r.at >= m.stop {
		return
	}
	m.feedbacks++
	m.results = m.results[:0]
	for k := r.lo; k < r.hi; k++ {
		p := &m.packets[k]
		pr := bwe.PacketResult{Seq: int64(k), SendTime: p.send, Size: p.size, ProbeCluster: p.probe}
		if p.fate.Outcome == Delivered && p.fate.Arrival <= r.tick {
			pr.Arrival, pr.Received = p.fate.Arrival, true
		}
		m.results = append(m.results, pr)
	}
	fb := bwe.Feedback{Time: r.at, Packets: m.results}
	if m.index == 0 && m.e.record != nil && m.e.recordErr == nil {
		m.e.recordErr = m.e.record.Write(fb)
	}
	res := m.est.Update(fb)
	m.observeNetState(fb, res.Target, res.RTT)
	if res.Delay.Detection.Usage == bwe.Overusing && m.last.Delay.Detection.Usage != bwe.Overusing && r.at >= m.e.warmup {
		m.overuses++
	}
	m.adopt(r.at, res)
}

// adopt takes the estimator's result at t: its probe clusters join the
// queue (and start at once if none was being sent), and a new target
// reschedules the next packet.
func (m *mediaFlow) adopt(t bwe.Time, res sendside.Result) {
	m.last = res
	idle := len(m.probeQueue) == 0
	if m.active(t) {
		for _, p := range res.Probes {
			m.probeQueue = append(m.probeQueue, pendingProbe{req: p, minBytes: p.Cluster().MinBytes})
		}
	}
	enc := res.Encoder
	if enc == 0 {
		enc = res.Target
	}
	changed := enc != m.target || res.Target != m.estimate
	m.target, m.estimate = enc, res.Target
	if !m.sent || !m.active(t) {
		if len(m.probeQueue) > 0 && m.nextSend == bwe.MaxTime {
			m.nextSend = t
		}
		return
	}
	if (idle && len(m.probeQueue) > 0) || (changed && m.nextSend != bwe.MaxTime) {
		m.nextSend = max(t, m.lastSend.Add(m.interval(m.lastSize)))
	}
}

// sample records the state of the flow at t. Delivered and sent rates
// and queuing delay are filled in by finish, once the whole run is known.
func (m *mediaFlow) sample(t bwe.Time) {
	m.samples = append(m.samples, Sample{
		At:         t,
		Capacity:   m.out.CapacityAt(t),
		Target:     m.target,
		Estimate:   m.estimate,
		DelayBased: m.last.Delay.Target,
		LossBased:  m.last.Loss.Estimate,
		Limit:      m.last.Limit,
		InALR:      m.last.InALR,
		Usage:      m.last.Delay.Detection.Usage,
	})
}
