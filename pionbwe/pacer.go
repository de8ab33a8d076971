package pionbwe

import (
	"encoding/binary"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/probe"
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
)

// Sizes of the pacer.
const (
	// pacerSlots is the queue's capacity in packets: 2 s of 1200-byte
	// packets at 9.8 Mbps, beyond which the queue is flushed early.
	pacerSlots = 2048
	// slotSize is the size of a queue slot's buffer, made on first use;
	// a larger packet grows its slot for good.
	slotSize = 1500
	// maxPendingProbes is how many probe clusters wait at most; more are
	// dropped (the probe controller issues at most two at once).
	maxPendingProbes = 8
	// probeTimeout is how long a cluster waits for media before it is
	// abandoned: probe clusters longer than 1 s are invalid anyway
	// (libwebrtc probe_bitrate_estimator.cc kMaxProbeInterval = 1 s).
	probeTimeout = time.Second
)

// qslot is one queued packet: its header marshalled and its payload,
// copied into the slot's own buffer (pion reuses the caller's buffers).
type qslot struct {
	buf     []byte
	hdr, n  int // header length; header + payload length
	padding byte
	w       *streamWriter
	attrs   interceptor.Attributes
	enq     bwe.Time
	rtpSeq  uint16
	tw      uint16
	hasTW   bool
	size    bwe.ByteCount
	ssrc    uint32
	ts      uint32
	pt      uint8
}

// probeRun is a probe cluster being sent.
type probeRun struct {
	req      probe.Request
	minBytes bwe.ByteCount
	sentN    int
	sentB    bwe.ByteCount
}

// pacer is the queue and the pacing state; the Estimator's mu guards it.
//
// It sends with a media debt, as libwebrtc's PacingController does: each
// packet sent adds its size to the debt, which drains at the pacing rate;
// a packet leaves when the debt is not positive. While packets wait, the
// debt may fall below zero by up to maxCatchUp of the rate, so that a
// late wake-up sends what it missed. The pacing rate is
// the multiplier × max(target, encoder target), raised so that the queue
// drains within maxDelay of its oldest packet's arrival, and raised
// to a probe cluster's rate while one is active.
type pacer struct {
	mult       float64       // pacing rate over max(target, encoder)
	maxDelay   time.Duration // longest a packet should wait
	slots      []qslot
	head, tail int64 // queued packets are [head, tail)
	bytes      bwe.ByteCount
	rate       bwe.Bitrate // mult × max(target, encoder)
	debt       bwe.ByteCount
	at         bwe.Time // time of the last debt update
	atSet      bool
	probes     [maxPendingProbes]probeRun
	nprobes    int
	wake       chan struct{}
	stats      PacerStats
}

func newPacer(target bwe.Bitrate, mult float64, maxDelay time.Duration) pacer {
	p := pacer{mult: mult, maxDelay: maxDelay, slots: make([]qslot, pacerSlots), wake: make(chan struct{}, 1)}
	p.setTarget(target)
	return p
}

func (p *pacer) setTarget(r bwe.Bitrate) { p.rate = max(r.Scale(p.mult), 1) }

func (p *pacer) full() bool  { return p.tail-p.head == int64(len(p.slots)) }
func (p *pacer) empty() bool { return p.tail == p.head }

func (p *pacer) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// addProbe queues a probe cluster.
func (p *pacer) addProbe(r probe.Request) {
	if p.nprobes == maxPendingProbes {
		p.stats.ProbesDropped++
		return
	}
	p.probes[p.nprobes] = probeRun{req: r, minBytes: r.Cluster().MinBytes}
	p.nprobes++
	p.signal()
}

// popProbe removes the active cluster.
func (p *pacer) popProbe() {
	copy(p.probes[:], p.probes[1:p.nprobes])
	p.nprobes--
}

// maxCatchUp bounds what the pacer sends back to back after waking late:
// a timer that fires late (a millisecond is common on a loaded machine)
// would otherwise lose the time to every packet, and padding at a probe
// cluster's few megabits per second, one 244-byte packet every half
// millisecond, would go out at half its rate and measure nothing. 2 ms is
// libwebrtc's spacing of probe bursts (bitrate_prober.cc: a burst is at
// least 2 × min_probe_delta of the cluster's rate, min_probe_delta = 2 ms).
const maxCatchUp = 2 * time.Millisecond

// What the pacer does next.
const (
	actWait  = iota // wait
	actMedia        // send the head packet
	actPad          // send a padding packet
)

// due returns whether the head packet may leave at now (actMedia) or a
// padding packet should (actPad: the queue is empty, a probe cluster is
// pending and canPad), with the probe cluster it belongs to (0 for none),
// or how long to wait (actWait; negative: until woken).
func (p *pacer) due(now bwe.Time, canPad bool) (act int, cluster int32, wait time.Duration) {
	for p.nprobes > 0 && now.Sub(p.probes[0].req.At) > probeTimeout {
		p.stats.ProbesExpired++
		p.popProbe()
	}
	rate := p.rate
	if !p.empty() {
		// Drain within maxDelay of the oldest packet's arrival
		// (libwebrtc PacingController: the rate needed to send the
		// queue in the time left, at least 1 ms).
		left := max(p.maxDelay-now.Sub(p.slots[p.head%int64(len(p.slots))].enq), time.Millisecond)
		rate = max(rate, bwe.RateOf(p.bytes, left))
	}
	if p.nprobes > 0 {
		rate = max(rate, p.probes[0].req.Bitrate)
		cluster = p.probes[0].req.ID
	}
	if p.atSet {
		p.debt -= rate.Over(now.Sub(p.at))
	}
	p.at, p.atSet = now, true
	act = actMedia
	if p.empty() {
		if p.nprobes == 0 || !canPad {
			// Idle: no credit for the time nothing was waiting.
			p.debt = max(p.debt, 0)
			return actWait, 0, -1
		}
		act = actPad
	}
	// Something waits: the time a late wake-up lost is owed to it, up to
	// maxCatchUp of the rate.
	p.debt = max(p.debt, -rate.Over(maxCatchUp))
	if p.debt > 0 {
		return actWait, 0, max(sendTime(p.debt, rate), time.Millisecond/4)
	}
	return act, cluster, 0
}

// sendTime returns how long size takes at rate r (r positive), rounded
// up to the microsecond of the estimator's clock: a wait rounded down
// would leave a byte of debt, and a minimum wait, after every packet.
func sendTime(size bwe.ByteCount, r bwe.Bitrate) time.Duration {
	us := (size.Bits()*int64(time.Second/time.Microsecond) + int64(r) - 1) / int64(r)
	return time.Duration(us) * time.Microsecond
}

// sentHead accounts the head packet as sent and frees its slot.
func (p *pacer) sentHead(cluster int32) {
	s := &p.slots[p.head%int64(len(p.slots))]
	p.debt += s.size
	p.bytes -= s.size
	s.w, s.attrs = nil, nil
	p.head++
	p.stats.Sent++
	p.probeSent(cluster, s.size)
}

// sentPadding accounts a padding packet of size bytes as sent.
func (p *pacer) sentPadding(cluster int32, size bwe.ByteCount) {
	p.debt += size
	p.stats.Padding++
	p.stats.PaddingBytes += size
	p.probeSent(cluster, size)
}

// probeSent accounts a packet of size bytes sent for the probe cluster
// with id cluster (0: none), and completes the cluster when it has sent
// its minimum bytes and packets.
func (p *pacer) probeSent(cluster int32, size bwe.ByteCount) {
	if cluster == 0 || p.nprobes == 0 || p.probes[0].req.ID != cluster {
		return
	}
	p.stats.ProbePackets++
	r := &p.probes[0]
	r.sentN++
	r.sentB += size
	if r.sentN >= r.req.MinProbes && r.sentB >= r.minBytes {
		p.stats.ProbeClusters++
		p.popProbe()
	}
}

// enqueue copies the packet into the queue and wakes the pacer. When the
// queue is full, its oldest packets are sent at once to make room. It is
// called with mu held and unlocks it.
func (e *Estimator) enqueue(w *streamWriter, h *rtp.Header, payload []byte, a interceptor.Attributes, tw uint16, hasTW bool) (int, error) {
	p := &e.pace
	for p.full() {
		e.mu.Unlock()
		e.sendHead(true)
		e.mu.Lock()
	}
	s := &p.slots[p.tail%int64(len(p.slots))]
	need := h.MarshalSize() + len(payload)
	if cap(s.buf) < need {
		s.buf = make([]byte, max(need, slotSize))
	}
	s.buf = s.buf[:cap(s.buf)]
	n, err := h.MarshalTo(s.buf)
	if err != nil {
		e.mu.Unlock()
		return 0, err
	}
	copy(s.buf[n:], payload)
	s.hdr, s.n, s.padding = n, n+len(payload), h.PaddingSize
	s.w, s.attrs = w, a
	s.enq = e.clock()
	s.rtpSeq, s.tw, s.hasTW = h.SequenceNumber, tw, hasTW
	s.ssrc, s.ts, s.pt = h.SSRC, h.Timestamp, h.PayloadType
	s.size = bwe.ByteCount(s.n + int(h.PaddingSize))
	p.tail++
	p.bytes += s.size
	written := s.n
	e.mu.Unlock()
	p.signal()
	return written, nil
}

// sendHead sends the head packet if it is due (or at once if force), and
// returns how long to wait before the next one is due (negative: until
// woken). It takes sendMu, then mu.
func (e *Estimator) sendHead(force bool) (wait time.Duration) {
	e.sendMu.Lock()
	defer e.sendMu.Unlock()
	e.mu.Lock()
	p := &e.pace
	now := e.clock()
	act, cluster, wait := p.due(now, e.padding && !e.closed && e.pad.canPad())
	if force && !p.empty() {
		act = actMedia
		p.stats.Flushed++
	}
	switch act {
	case actWait:
		e.mu.Unlock()
		return wait
	case actPad:
		e.sendPadding(now, cluster) // unlocks mu
		return 0
	}
	s := &p.slots[p.head%int64(len(p.slots))]
	seq, tw := e.pad.outgoing(s.w, s)
	if !e.closed || force {
		e.sent(s.w, seq, tw, s.hasTW, s.size, now, cluster, false)
	}
	e.mu.Unlock()

	// The slot stays ours until sentHead: enqueue never writes the head.
	w, attrs := s.w, s.attrs
	var err error
	if _, err = e.sendHdr.Unmarshal(s.buf[:s.hdr]); err == nil {
		e.sendHdr.PaddingSize = s.padding
		e.sendHdr.SequenceNumber = seq
		if s.hasTW && tw != s.tw {
			// The extension's payload is the slot's buffer.
			if ext := e.sendHdr.GetExtension(w.twID); len(ext) >= 2 {
				binary.BigEndian.PutUint16(ext, tw)
			}
		}
		_, err = w.next.Write(&e.sendHdr, s.buf[s.hdr:s.n], attrs)
	}

	e.mu.Lock()
	if err != nil {
		p.stats.WriteErrors++
	}
	p.sentHead(cluster)
	e.mu.Unlock()
	return 0
}

// sendPadding sends a padding packet for the probe cluster with id
// cluster. It is called with sendMu and mu held and unlocks mu.
func (e *Estimator) sendPadding(now bwe.Time, cluster int32) {
	w, seq, tw, size := e.pad.next()
	e.sent(w, seq, tw, true, size, now, cluster, true)
	e.mu.Unlock()

	_, err := w.next.Write(&e.pad.hdr, e.pad.payload[:], nil)

	e.mu.Lock()
	if err != nil {
		e.pace.stats.WriteErrors++
	}
	e.pace.sentPadding(cluster, size)
	e.mu.Unlock()
}

// pacerLoop sends the queue at the pacing rate until Close.
func (e *Estimator) pacerLoop() {
	defer e.wg.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		wait := e.sendHead(false)
		if wait == 0 {
			select {
			case <-e.done:
				return
			default:
				continue
			}
		}
		if wait > 0 {
			timer.Reset(wait)
		}
		select {
		case <-e.done:
			timer.Stop()
			return
		case <-e.pace.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// flushQueue sends what is left in the queue, unpaced (at Close).
func (e *Estimator) flushQueue() {
	for {
		e.mu.Lock()
		empty := e.pace.empty()
		e.mu.Unlock()
		if empty {
			return
		}
		e.sendHead(true)
	}
}
