package tcp

import (
	"math"
	"time"

	"github.com/bwelab/bwe"
)

// Segment is one packet a [Sender] transmits.
type Segment struct {
	// Seq numbers the segment's data: 0, 1, 2... in the order the data
	// was first sent. A retransmission carries the number of the data it
	// repeats; the receiver acknowledges by this number.
	Seq int64
	// Size is the payload in bytes: SegmentSize, or less for the last
	// bytes of the application's data.
	Size bwe.ByteCount
	// Retransmission reports that the data was sent before.
	Retransmission bool
}

// Stats describes what a [Sender] has done and its current state. Counters
// are cumulative since construction.
type Stats struct {
	// Sent counts transmissions, retransmissions included; SentBytes are
	// their payload bytes.
	Sent      int64
	SentBytes bwe.ByteCount
	// Retransmitted counts retransmissions.
	Retransmitted int64
	// Acked counts segments acknowledged (the first acknowledgement of
	// each); AckedBytes are their payload bytes.
	Acked      int64
	AckedBytes bwe.ByteCount
	// Lost counts segments declared lost, by DupThresh or by a timeout.
	Lost int64
	// Reductions counts loss episodes: window reductions on loss
	// detection. Timeouts are counted apart.
	Reductions int64
	// Timeouts counts retransmission-timer expiries.
	Timeouts int64
	// IgnoredAcks counts acknowledgements of segments never sent or
	// already acknowledged.
	IgnoredAcks int64
	// Cwnd is the congestion window, InFlight the payload bytes in the
	// network (sent, neither acknowledged nor declared lost: RFC 6675
	// "pipe"), Ssthresh the slow-start threshold (math.MaxInt64 until the
	// first loss).
	Cwnd, InFlight, Ssthresh bwe.ByteCount
	// SRTT and RTTVar are the RFC 6298 estimates (zero before the first
	// sample); RTO is the current timeout, backoff included.
	SRTT, RTTVar, RTO time.Duration
}

type segState uint8

const (
	segInFlight segState = iota
	segLost              // declared lost, waiting to be retransmitted
	segAcked
)

// segment is the sender's record of one segment of data between the
// oldest unacknowledged one and the next new one.
type segment struct {
	sent  bwe.Time // latest transmission
	xmit  int64    // transmission number of the latest transmission
	size  bwe.ByteCount
	state segState
	retx  bool // ever retransmitted (Karn's rule)
}

// xmitRecord is one transmission, kept in transmission order until it is
// acknowledged, superseded or declared lost.
type xmitRecord struct{ xmit, seq int64 }

// Sender is a TCP-like sender of one connection: it decides which segment
// to send and when, from the acknowledgements and timeouts it is given. It
// sends no packets itself and reads no clock: the caller transmits each
// [Segment] that [Sender.Send] returns, reports each acknowledgement with
// [Sender.OnAck], and calls [Sender.OnTimer] at [Sender.Deadline].
//
// A Sender is not safe for concurrent use.
type Sender struct {
	cfg     Config
	smss    bwe.ByteCount
	maxCwnd bwe.ByteCount
	beta    float64 // CUBIC β
	c       float64 // CUBIC C

	now bwe.Time // latest instant seen; earlier ones are taken as this

	unlimited bool
	backlog   bwe.ByteCount // application bytes not yet sent

	una, nxt int64            // oldest unacknowledged segment; next new segment
	segs     ring[segment]    // segments una..nxt-1
	flight   ring[xmitRecord] // transmissions in the network, oldest first
	lost     ring[int64]      // segments to retransmit, in order
	nextXmit int64            // number of the next transmission
	top      []int64          // the DupThresh highest acknowledged transmission numbers, descending; -1 if unset
	pipe     bwe.ByteCount    // payload bytes in flight
	cwnd     bwe.ByteCount    // congestion window
	ssthresh bwe.ByteCount    // slow-start threshold
	caAcked  bwe.ByteCount    // Reno: bytes acknowledged towards the next one-segment increase
	carry    float64          // CUBIC: fraction of a byte of window not yet added
	recover  int64            // highest segment sent when the window was last reduced; -1 if never
	inFR     bool             // in fast recovery: no window growth
	cub      cubicState       // CUBIC epoch and W_max
	rtt      rttEstimator     // RFC 6298 estimator
	deadline bwe.Time         // retransmission timer; bwe.MaxTime when stopped
	st       Stats            // counters
}

// cubicState is CUBIC's state between loss events (RFC 9438 §4).
type cubicState struct {
	epochValid bool
	epoch      bwe.Time // start of the current congestion-avoidance stage
	k          float64  // seconds from epoch until the window reaches origin
	origin     float64  // W_max of the current epoch, in segments
	wmax       float64  // window before the last reduction (fast convergence applied), segments; 0 after a timeout
	prior      float64  // cwnd_prior: window before the last reduction, segments
	west       float64  // Reno-friendly estimate W_est, segments
}

// rttEstimator holds the RFC 6298 state.
type rttEstimator struct {
	valid        bool
	srtt, rttvar time.Duration
	rto          time.Duration // backoff included
	backoffs     int           // consecutive timeouts
}

// NewSender returns a sender with no data to send; give it some with
// [Sender.AddData] or [Sender.SetUnlimited]. It returns an error naming the
// first field of cfg that is out of range.
func NewSender(cfg Config) (*Sender, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	const initialBuffer = 64
	n := min(cfg.MaxWindow, max(initialBuffer, 2*cfg.InitialWindow))
	s := &Sender{
		cfg:     cfg,
		now:     bwe.MinTime,
		smss:    cfg.SegmentSize,
		maxCwnd: bwe.ByteCount(cfg.MaxWindow) * cfg.SegmentSize,
		beta:    cfg.CubicBeta,
		c:       cfg.CubicC,
		segs:    newRing[segment](n),
		flight:  newRing[xmitRecord](n + cfg.DupThresh),
		lost:    newRing[int64](n),
		top:     make([]int64, cfg.DupThresh),
	}
	s.newConnection()
	return s, nil
}

// newConnection resets the congestion state and RTT estimate as a new
// connection would start them, keeping segment numbers (so that late
// acknowledgements of the old connection stay recognisable) and counters.
// It is meant for when everything sent has been acknowledged.
func (s *Sender) newConnection() {
	s.cwnd = min(bwe.ByteCount(s.cfg.InitialWindow)*s.smss, s.maxCwnd)
	s.ssthresh = math.MaxInt64
	s.caAcked, s.carry = 0, 0
	s.inFR = false
	s.recover = s.nxt - 1
	s.cub = cubicState{}
	s.rtt = rttEstimator{rto: s.cfg.InitialRTO}
	for i := range s.top {
		s.top[i] = -1
	}
	if s.una == s.nxt {
		s.lost.clear()
		s.flight.clear()
		s.deadline = bwe.MaxTime
	}
}

// AddData gives the sender n more bytes of application data to send.
// Non-positive n is ignored; the backlog saturates.
func (s *Sender) AddData(n bwe.ByteCount) {
	if n > 0 {
		s.backlog = bwe.SatAdd(s.backlog, n)
	}
}

// SetUnlimited gives the sender an endless backlog: a bulk transfer.
func (s *Sender) SetUnlimited() { s.unlimited = true }

// Backlog returns the application bytes not yet sent once, or
// math.MaxInt64 for an unlimited sender.
func (s *Sender) Backlog() bwe.ByteCount {
	if s.unlimited {
		return math.MaxInt64
	}
	return s.backlog
}

// Complete reports whether all the data given so far has been sent and
// acknowledged. An unlimited sender is never complete.
func (s *Sender) Complete() bool {
	return !s.unlimited && s.backlog == 0 && s.una == s.nxt
}

// Deadline returns when [Sender.OnTimer] must next be called (the
// retransmission timer), or bwe.MaxTime if nothing is outstanding.
func (s *Sender) Deadline() bwe.Time { return s.deadline }

// Stats returns counters and the current state.
func (s *Sender) Stats() Stats {
	st := s.st
	st.Cwnd, st.InFlight, st.Ssthresh = s.cwnd, s.pipe, s.ssthresh
	st.SRTT, st.RTTVar, st.RTO = s.rtt.srtt, s.rtt.rttvar, s.rtt.rto
	return st
}

// InRecovery reports whether the sender is in fast recovery: a loss was
// detected, the window reduced, and not all data sent before the
// reduction has been acknowledged yet. The window does not grow then.
func (s *Sender) InRecovery() bool { return s.inFR }

// clock takes now as the current instant unless it is earlier than one
// already seen.
func (s *Sender) clock(now bwe.Time) bwe.Time {
	if now < s.now {
		return s.now
	}
	s.now = now
	return now
}

// next finds the segment Send would transmit: the first segment waiting
// for retransmission, else new data. It drops stale entries of the
// retransmission queue (segments acknowledged since they were declared
// lost).
func (s *Sender) next() (seq int64, size bwe.ByteCount, retx, ok bool) {
	for s.lost.len() > 0 {
		q := *s.lost.front()
		if q >= s.una {
			if sg := s.segs.at(int(q - s.una)); sg.state == segLost {
				return q, sg.size, true, true
			}
		}
		s.lost.pop()
	}
	if s.nxt-s.una >= int64(s.cfg.MaxWindow) {
		return 0, 0, false, false
	}
	switch {
	case s.unlimited:
		return s.nxt, s.smss, false, true
	case s.backlog > 0:
		return s.nxt, min(s.smss, s.backlog), false, true
	}
	return 0, 0, false, false
}

// CanSend reports whether [Sender.Send] would return a segment at now:
// there is data to send (a retransmission or new data) and the window has
// room for it.
func (s *Sender) CanSend(now bwe.Time) bool {
	s.clock(now)
	_, size, _, ok := s.next()
	return ok && s.pipe+size <= s.cwnd
}

// Send returns the next segment to transmit at now, retransmissions first,
// and records it as sent; ok is false when [Sender.CanSend] is false. The
// caller transmits every segment it gets, calling Send until ok is false.
func (s *Sender) Send(now bwe.Time) (seg Segment, ok bool) {
	now = s.clock(now)
	seq, size, retx, ok := s.next()
	if !ok || s.pipe+size > s.cwnd {
		return Segment{}, false
	}
	x := s.nextXmit
	s.nextXmit++
	if retx {
		s.lost.pop()
		sg := s.segs.at(int(seq - s.una))
		sg.sent, sg.xmit, sg.state, sg.retx = now, x, segInFlight, true
		s.st.Retransmitted++
		if seq == s.una {
			// Linux restarts the timer when it retransmits the oldest
			// segment, so that a repaired hole gets a full RTO.
			s.deadline = now.Add(s.rtt.rto)
		}
	} else {
		s.segs.push(segment{sent: now, xmit: x, size: size, state: segInFlight})
		s.nxt++
		if !s.unlimited {
			s.backlog -= size
		}
	}
	s.flight.push(xmitRecord{xmit: x, seq: seq})
	s.pipe += size
	s.st.Sent++
	s.st.SentBytes += size
	if s.deadline == bwe.MaxTime {
		s.deadline = now.Add(s.rtt.rto) // RFC 6298 (5.1)
	}
	return Segment{Seq: seq, Size: size, Retransmission: retx}, true
}

// OnAck reports that the receiver got segment seq (a value [Sender.Send]
// returned) and that its acknowledgement reached the sender at now.
// Acknowledgements of segments never sent or already acknowledged are
// counted in Stats.IgnoredAcks and otherwise ignored.
func (s *Sender) OnAck(now bwe.Time, seq int64) {
	now = s.clock(now)
	if seq < s.una || seq >= s.nxt {
		s.st.IgnoredAcks++
		return
	}
	sg := s.segs.at(int(seq - s.una))
	if sg.state == segAcked {
		s.st.IgnoredAcks++
		return
	}
	if sg.state == segInFlight {
		s.pipe -= sg.size
	}
	sg.state = segAcked
	size := sg.size
	s.st.Acked++
	s.st.AckedBytes += size
	if !sg.retx {
		s.rtt.sample(now.Sub(sg.sent), s.cfg) // Karn: never from retransmitted data
	}
	s.credit(sg.xmit)

	advanced := false
	for s.segs.len() > 0 && s.segs.front().state == segAcked {
		s.segs.pop()
		s.una++
		advanced = true
	}
	if advanced {
		// RFC 6298 (5.2), (5.3).
		if s.una == s.nxt {
			s.deadline = bwe.MaxTime
		} else {
			s.deadline = now.Add(s.rtt.rto)
		}
		if s.inFR && s.una > s.recover {
			s.inFR = false
		}
	}
	s.detectLosses()
	if !s.inFR {
		s.grow(now, size)
	}
}

// credit records that transmission x was acknowledged, keeping the
// DupThresh highest such numbers.
func (s *Sender) credit(x int64) {
	last := len(s.top) - 1
	if x <= s.top[last] {
		return
	}
	i := last
	for i > 0 && s.top[i-1] < x {
		s.top[i] = s.top[i-1]
		i--
	}
	s.top[i] = x
}

// detectLosses declares lost every segment whose latest transmission has
// at least DupThresh later transmissions acknowledged (RFC 6675 §4 with
// transmission order in place of sequence order, so that lost
// retransmissions are found too), and reduces the window once per loss
// episode.
func (s *Sender) detectLosses() {
	thresh := s.top[len(s.top)-1] // -1 until DupThresh acknowledgements
	flight := s.pipe              // in flight before this detection
	reduced := false
	for s.flight.len() > 0 {
		r := *s.flight.front()
		if r.seq < s.una {
			s.flight.pop()
			continue
		}
		sg := s.segs.at(int(r.seq - s.una))
		if sg.xmit != r.xmit || sg.state != segInFlight {
			s.flight.pop()
			continue
		}
		if r.xmit >= thresh {
			return
		}
		s.flight.pop()
		sg.state = segLost
		s.pipe -= sg.size
		s.lost.push(r.seq)
		s.st.Lost++
		// A loss of data first sent after the last reduction is a new
		// congestion event (the "recover" variable of RFC 6582).
		if !reduced && r.seq > s.recover {
			s.reduce(flight)
			reduced = true
		}
	}
}

// reduce enters fast recovery and cuts the window (RFC 5681 eq. 4 for
// Reno; RFC 8312 §4.5–4.6 for CUBIC).
func (s *Sender) reduce(flight bwe.ByteCount) {
	s.st.Reductions++
	s.inFR = true
	s.recover = s.nxt - 1
	switch s.cfg.Variant {
	case Cubic:
		w := s.segments(s.cwnd)
		s.cubicMaxOnLoss(w)
		s.ssthresh = max(s.bytes(w*s.beta), 2*s.smss)
	default:
		s.ssthresh = max(flight/2, 2*s.smss)
	}
	s.cwnd = min(s.ssthresh, s.maxCwnd)
	s.caAcked, s.carry = 0, 0
}

// OnTimer runs the retransmission timer if it is due at now: every
// segment in flight is declared lost, the window falls to one segment, the
// timeout doubles (up to MaxRTO) and the timer restarts (RFC 6298 §5,
// RFC 5681 §3.1). Calls before the deadline do nothing.
func (s *Sender) OnTimer(now bwe.Time) {
	now = s.clock(now)
	if s.deadline == bwe.MaxTime || now < s.deadline {
		return
	}
	if s.una == s.nxt {
		s.deadline = bwe.MaxTime
		return
	}
	s.st.Timeouts++
	if s.rtt.backoffs == 0 {
		// RFC 5681 §3.1: a repeated timeout keeps ssthresh.
		switch s.cfg.Variant {
		case Cubic:
			// RFC 8312 §4.7: ssthresh from β; the next epoch starts with
			// K = 0 at the window it starts from.
			w := s.segments(s.cwnd)
			s.cub.prior = w
			s.cub.wmax = 0
			s.ssthresh = max(s.bytes(w*s.beta), 2*s.smss)
		default:
			s.ssthresh = max(s.pipe/2, 2*s.smss)
		}
	}
	s.cwnd = min(s.smss, s.maxCwnd)
	s.caAcked, s.carry = 0, 0
	s.cub.epochValid = false
	s.inFR = false
	s.recover = s.nxt - 1
	// Retransmit from the oldest segment on: rebuild the queue in
	// sequence order.
	s.lost.clear()
	for i := range s.segs.len() {
		sg := s.segs.at(i)
		switch sg.state {
		case segInFlight:
			sg.state = segLost
			s.st.Lost++
			fallthrough
		case segLost:
			s.lost.push(s.una + int64(i))
		}
	}
	s.flight.clear()
	s.pipe = 0
	s.rtt.backoff(s.cfg)
	s.deadline = now.Add(s.rtt.rto)
}

// grow opens the window for acked bytes newly acknowledged outside fast
// recovery: slow start below ssthresh (RFC 5681 §3.1, at most one segment
// per acknowledgement), congestion avoidance above.
func (s *Sender) grow(now bwe.Time, acked bwe.ByteCount) {
	if s.cwnd < s.ssthresh {
		s.cwnd = min(s.cwnd+min(acked, s.smss), s.maxCwnd)
		return
	}
	switch s.cfg.Variant {
	case Cubic:
		s.cubicGrow(now, acked)
	default:
		// RFC 5681 §3.1 byte counting: one segment per window acknowledged.
		s.caAcked += acked
		if s.caAcked >= s.cwnd {
			s.caAcked -= s.cwnd
			s.cwnd = min(s.cwnd+s.smss, s.maxCwnd)
		}
	}
}

// segments converts bytes to (fractional) segments.
func (s *Sender) segments(b bwe.ByteCount) float64 { return float64(b) / float64(s.smss) }

// bytes converts (fractional) segments to the nearest whole byte, clamped
// to [0, the window cap].
func (s *Sender) bytes(w float64) bwe.ByteCount {
	b := math.Round(w * float64(s.smss))
	switch {
	case !(b > 0):
		return 0
	case b >= float64(s.maxCwnd):
		return s.maxCwnd
	}
	return bwe.ByteCount(b)
}

// seconds converts d to floating-point seconds for CUBIC's cubic.
func seconds(d time.Duration) float64 { return d.Seconds() }

// cubicMaxOnLoss updates W_max when the window w (segments) is cut,
// applying fast convergence (RFC 8312 §4.6, RFC 9438 §4.7).
func (s *Sender) cubicMaxOnLoss(w float64) {
	if w < s.cub.wmax {
		s.cub.wmax = w * (1 + s.beta) / 2
	} else {
		s.cub.wmax = w
	}
	s.cub.prior = w
	s.cub.epochValid = false
}

// cubicGrow is CUBIC's congestion avoidance for one acknowledgement
// (RFC 9438 §4.2–4.5).
func (s *Sender) cubicGrow(now bwe.Time, acked bwe.ByteCount) {
	w := s.segments(s.cwnd)
	cb := &s.cub
	if !cb.epochValid {
		cb.epochValid = true
		cb.epoch = now
		if w >= cb.wmax {
			cb.k, cb.origin = 0, w
		} else {
			cb.k = math.Cbrt((cb.wmax - w) / s.c)
			cb.origin = cb.wmax
		}
		cb.west = w
	}
	t := seconds(now.Sub(cb.epoch))
	// Reno-friendly estimate (RFC 9438 §4.3).
	alpha := 3 * (1 - s.beta) / (1 + s.beta)
	if cb.west >= cb.prior {
		alpha = 1
	}
	cb.west += alpha * s.segments(acked) / w
	var next float64
	if s.cubicWindow(t) < cb.west {
		next = cb.west
	} else {
		// Concave and convex regions (RFC 9438 §4.4–4.5): aim at the
		// window one RTT ahead, at most 1.5 times the current one.
		target := s.cubicWindow(t + seconds(s.rtt.srtt))
		target = min(max(target, w), 1.5*w)
		next = w + (target-w)/w*s.segments(acked)
	}
	if next <= w {
		return
	}
	inc := (next-w)*float64(s.smss) + s.carry
	whole := math.Floor(inc)
	s.carry = inc - whole
	s.cwnd = min(s.cwnd+bwe.ByteCount(min(whole, float64(s.maxCwnd))), s.maxCwnd)
}

// cubicWindow is W_cubic(t) = C·(t−K)³ + W_max in segments, t in seconds
// since the epoch.
func (s *Sender) cubicWindow(t float64) float64 {
	d := t - s.cub.k
	return s.c*d*d*d + s.cub.origin
}

// sample feeds one RTT measurement r (RFC 6298 §2.2–2.3). A valid sample
// ends any timeout backoff.
func (e *rttEstimator) sample(r time.Duration, cfg Config) {
	if r < 0 {
		r = 0
	}
	if !e.valid {
		e.valid = true
		e.srtt, e.rttvar = r, r/2
	} else {
		// RTTVAR ← ¾·RTTVAR + ¼·|SRTT−R|, SRTT ← ⅞·SRTT + ⅛·R, written as
		// increments so that no intermediate overflows.
		d := e.srtt - r
		if d < 0 {
			d = -d
		}
		e.rttvar += (d - e.rttvar) / 4
		e.srtt += (r - e.srtt) / 8
	}
	e.backoffs = 0
	v2 := bwe.SatAdd(e.rttvar, e.rttvar)
	e.rto = min(max(bwe.SatAdd(e.srtt, bwe.SatAdd(v2, v2)), cfg.MinRTO), cfg.MaxRTO)
}

// backoff doubles the timeout after an expiry (RFC 6298 (5.5)), up to
// MaxRTO.
func (e *rttEstimator) backoff(cfg Config) {
	e.backoffs++
	e.rto = min(bwe.SatAdd(e.rto, e.rto), cfg.MaxRTO)
}
