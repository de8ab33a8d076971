package delaybased

import (
	"fmt"
	"math"
	"math/bits"
	"time"

	"github.com/bwelab/bwe"
)

// Constants of the throughput estimator, from libwebrtc
// goog_cc/robust_throughput_estimator.cc.
const (
	// maxReordering: a packet received this much earlier than the newest
	// packet in the window means severe reordering or a jump of the
	// receiver's clock, and the window starts over. libwebrtc:
	// kMaxReorderingTime = 1 s.
	maxReordering = time.Second
	// minRateDuration is the shortest span a rate is computed over.
	// libwebrtc: TimeDelta::Millis(1).
	minRateDuration = time.Millisecond
	// maxWindowPacketsLimit bounds the ring allocated at construction.
	maxWindowPacketsLimit = 1 << 20
)

// ThroughputConfig configures a [Throughput] estimator. A zero field takes
// the default given in its comment; [DefaultThroughputConfig] spells them
// out. The defaults are those of libwebrtc's
// RobustThroughputEstimatorSettings
// (goog_cc/acknowledged_bitrate_estimator_interface.h).
type ThroughputConfig struct {
	// WindowPackets: the window keeps at least this many packets, however
	// old (up to MaxWindowDuration). Default 20 (window_packets).
	WindowPackets int
	// MaxWindowPackets caps the window; the ring holding it is allocated
	// once, at construction. Default 500 (max_window_packets).
	MaxWindowPackets int
	// MinWindowDuration: the window keeps at least the packets received
	// during this span before the newest. Default 1 s (min_window_duration).
	MinWindowDuration time.Duration
	// MaxWindowDuration: the window never spans more than this, so that a
	// pause in sending does not leave stale packets in it. Default 5 s
	// (max_window_duration).
	MaxWindowDuration time.Duration
	// RequiredPackets is the number of packets the window needs before an
	// estimate is given; fewer send times than this (after reordered
	// packets are set aside) and the estimate is the receive rate alone.
	// Default 10 (required_packets).
	RequiredPackets int
}

// DefaultThroughputConfig returns the libwebrtc defaults.
func DefaultThroughputConfig() ThroughputConfig {
	return ThroughputConfig{
		WindowPackets:     20,
		MaxWindowPackets:  500,
		MinWindowDuration: time.Second,
		MaxWindowDuration: 5 * time.Second,
		RequiredPackets:   10,
	}
}

func (c ThroughputConfig) withDefaults() (ThroughputConfig, error) {
	d := DefaultThroughputConfig()
	switch {
	case c.WindowPackets < 0:
		return c, fmt.Errorf("delaybased: ThroughputConfig.WindowPackets %d is negative", c.WindowPackets)
	case c.MaxWindowPackets < 0:
		return c, fmt.Errorf("delaybased: ThroughputConfig.MaxWindowPackets %d is negative", c.MaxWindowPackets)
	case c.MaxWindowPackets > maxWindowPacketsLimit:
		return c, fmt.Errorf("delaybased: ThroughputConfig.MaxWindowPackets %d exceeds %d", c.MaxWindowPackets, maxWindowPacketsLimit)
	case c.MinWindowDuration < 0:
		return c, fmt.Errorf("delaybased: ThroughputConfig.MinWindowDuration %v is negative", c.MinWindowDuration)
	case c.MaxWindowDuration < 0:
		return c, fmt.Errorf("delaybased: ThroughputConfig.MaxWindowDuration %v is negative", c.MaxWindowDuration)
	case c.RequiredPackets < 0:
		return c, fmt.Errorf("delaybased: ThroughputConfig.RequiredPackets %d is negative", c.RequiredPackets)
	}
	if c.WindowPackets == 0 {
		c.WindowPackets = d.WindowPackets
	}
	if c.MaxWindowPackets == 0 {
		c.MaxWindowPackets = d.MaxWindowPackets
	}
	if c.MinWindowDuration == 0 {
		c.MinWindowDuration = d.MinWindowDuration
	}
	if c.MaxWindowDuration == 0 {
		c.MaxWindowDuration = d.MaxWindowDuration
	}
	if c.RequiredPackets == 0 {
		c.RequiredPackets = d.RequiredPackets
	}
	switch {
	case c.MinWindowDuration > c.MaxWindowDuration:
		return c, fmt.Errorf("delaybased: ThroughputConfig.MinWindowDuration %v exceeds MaxWindowDuration %v",
			c.MinWindowDuration, c.MaxWindowDuration)
	case c.RequiredPackets > c.MaxWindowPackets:
		return c, fmt.Errorf("delaybased: ThroughputConfig.RequiredPackets %d exceeds MaxWindowPackets %d: no estimate could ever be given",
			c.RequiredPackets, c.MaxWindowPackets)
	}
	return c, nil
}

// ackedPacket is what the window keeps of a received packet.
type ackedPacket struct {
	send bwe.Time // sender clock
	recv bwe.Time // receiver clock
	size bwe.ByteCount
}

// Throughput estimates the acknowledged throughput: the rate at which the
// packets reported received by transport feedback got through. It is
// libwebrtc's RobustThroughputEstimator
// (goog_cc/robust_throughput_estimator.cc), the default acknowledged-bitrate
// estimator of send-side GCC, which the AIMD controller uses to size its
// decreases and bound its increases.
//
// The window holds received packets in receive order: the smallest set that
// has at least WindowPackets packets and covers at least MinWindowDuration,
// but never more than MaxWindowPackets packets or MaxWindowDuration. The
// estimate is the smaller of two rates over the window:
//
//	receive rate = (Σ size − size of the first received) / receive span
//	send rate    = (Σ size − size of the last sent)      / send span
//
// where the receive span has its largest gap between consecutive arrivals
// replaced by the second largest (so that a delay spike followed by a burst
// does not lower the estimate), both spans are at least 1 ms, and packets
// sent before a packet that has already left the window (deeply reordered
// ones) are left out of the send rate. With fewer than RequiredPackets send
// times left, the receive rate alone is the estimate. A packet received more
// than 1 s before the newest one clears the window.
//
// Rates are truncated to whole bits per second, like libwebrtc's
// DataSize/TimeDelta. Send times are on the sender's clock and arrival times
// on the receiver's; only differences within each clock are used.
//
// While packets arrive in order (each received and sent no earlier than the
// one before it), the sums and extremes the estimate needs are kept up to
// date as packets enter and leave, and Bitrate costs O(1). A packet that has
// to be sorted back into the window, or that was sent before a packet
// already in it, makes Bitrate scan the whole window until that packet and
// those received before it have left; the result is the same either way,
// bit for bit. Update and Bitrate allocate nothing. Not safe for
// concurrent use.
type Throughput struct {
	cfg ThroughputConfig

	ring []ackedPacket // MaxWindowPackets+1 slots, allocated once
	head int           // index of the oldest packet
	n    int           // packets in the window

	latestDiscardedSend bwe.Time // newest send time among packets that left the window
	hasDiscarded        bool

	// What Bitrate needs, kept up to date while the window is in order:
	// sorted by arrival (always) and by send time, with no send time
	// before latestDiscardedSend, so that every packet counts towards the
	// send rate, the first sent is the oldest and the last sent the newest.
	//
	// irregular > 0 means that the window is not known to be in order and
	// the fields below are stale: that many packets must leave before they
	// are rebuilt (rebuild), and until then Bitrate scans the window.
	irregular int
	total     sizeSum // Σ size over the window
	runStart  int     // ring index of the oldest packet sent at the newest send time
	// Receive gaps between neighbours, largest two, as a queue made of two
	// stacks: gaps[i].gap is the gap between the packet at ring index i
	// and the one received before it. The gaps of window positions
	// 1..frontGaps form the front stack, whose gaps[i].top holds the top two
	// from i's gap up to the end of that stack; backTop holds the top two of
	// the gaps received since (positions frontGaps+1..n−1). Dropping the
	// oldest packet pops the front stack; when it is empty, the back is
	// moved into it (flip) in one pass. Each gap is pushed once and moved
	// once: O(1) amortised, whatever the gaps.
	gaps      []gapSlot // parallel to ring
	frontGaps int
	backTop   topGaps

	rebuilds, flips int // counted for tests
}

// gapSlot is the receive gap before one packet of the window and, while
// that packet's gap is in the front stack, the top two gaps from it to the
// end of that stack.
type gapSlot struct {
	gap time.Duration
	top topGaps
}

// topGaps is the largest and second-largest of a set of receive gaps, 0
// standing for missing values (gaps in an arrival-sorted window are never
// negative).
type topGaps struct{ largest, second time.Duration }

// push adds one gap g ≥ 0.
func (t topGaps) push(g time.Duration) topGaps {
	switch {
	case g > t.largest:
		return topGaps{g, t.largest}
	case g > t.second:
		t.second = g
	}
	return t
}

// merge returns the top two of the union of both sets.
func (t topGaps) merge(u topGaps) topGaps {
	if t.largest >= u.largest {
		return topGaps{t.largest, max(t.second, u.largest)}
	}
	return topGaps{u.largest, max(u.second, t.largest)}
}

// sizeSum adds non-negative sizes without overflow: 2^20 packets of at most
// 2^63−1 bytes fit in 128 bits.
type sizeSum struct{ hi, lo uint64 }

func (s *sizeSum) add(b bwe.ByteCount) {
	var carry uint64
	s.lo, carry = bits.Add64(s.lo, uint64(b), 0)
	s.hi += carry
}

func (s *sizeSum) sub(b bwe.ByteCount) {
	var borrow uint64
	s.lo, borrow = bits.Sub64(s.lo, uint64(b), 0)
	s.hi -= borrow
}

// saturated returns the sum capped at the largest ByteCount, as bwe.SatAdd
// would have summed it.
func (s sizeSum) saturated() bwe.ByteCount {
	if s.hi != 0 || s.lo > math.MaxInt64 {
		return math.MaxInt64
	}
	return bwe.ByteCount(s.lo)
}

// NewThroughput returns an estimator with an empty window. It rejects
// negative counts and durations, a
// MinWindowDuration above MaxWindowDuration, and a RequiredPackets that the
// window could never hold.
func NewThroughput(cfg ThroughputConfig) (*Throughput, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	// One slot more than the window may keep: a packet is inserted and
	// sorted before the window is trimmed (see Update).
	return &Throughput{
		cfg:  cfg,
		ring: make([]ackedPacket, cfg.MaxWindowPackets+1),
		gaps: make([]gapSlot, cfg.MaxWindowPackets+1),
	}, nil
}

// Config returns the configuration in use, defaults filled in.
func (t *Throughput) Config() ThroughputConfig { return t.cfg }

// Update adds one feedback batch (libwebrtc
// RobustThroughputEstimator::IncomingPacketFeedbackVector). packets should
// be sorted by arrival time; entries with Received false are ignored, and
// out-of-order arrivals are sorted into the window. Negative sizes count as
// 0. The slice is not retained.
func (t *Throughput) Update(packets []bwe.PacketResult) {
	for i := range packets {
		if p := &packets[i]; p.Received {
			t.add(p)
		}
	}
	t.trim()
}

// updateIndexed is Update given the received packets packets[idx], sorted
// by arrival time.
func (t *Throughput) updateIndexed(packets []bwe.PacketResult, idx []int32) {
	L := len(t.ring)
	for k := 0; k < len(idx); {
		if t.n > 0 && t.irregular == 0 {
			// The common case, written out with the aggregates in locals:
			// a packet received and sent no earlier than the newest one,
			// with room in the window. It is what add does then (insert
			// keeps it at the back, and pushAfter accounts it).
			n, total, top, runStart := t.n, t.total, t.backTop, t.runStart
			maxN := t.cfg.MaxWindowPackets
			slot := t.head + n
			if slot >= L {
				slot -= L
			}
			prevSlot := slot - 1
			if prevSlot < 0 {
				prevSlot += L
			}
			// The newest packet's times, kept from one packet to the next.
			prevRecv, prevSend := t.ring[prevSlot].recv, t.ring[prevSlot].send
			for ; k < len(idx); k++ {
				p := &packets[idx[k]]
				if p.Arrival < prevRecv || p.SendTime < prevSend || n >= maxN {
					break
				}
				size := max(p.Size, 0)
				t.ring[slot] = ackedPacket{send: p.SendTime, recv: p.Arrival, size: size}
				n++
				total.add(size)
				g := p.Arrival.Sub(prevRecv)
				t.gaps[slot].gap = g
				top = top.push(g)
				if p.SendTime > prevSend {
					runStart = slot
				}
				prevRecv, prevSend = p.Arrival, p.SendTime
				if slot++; slot == L {
					slot = 0
				}
			}
			t.n, t.total, t.backTop, t.runStart = n, total, top, runStart
			if k == len(idx) {
				break
			}
		}
		t.add(&packets[idx[k]])
		k++
	}
	t.trim()
}

// add inserts one received packet.
func (t *Throughput) add(p *bwe.PacketResult) {
	// A packet left at the back is the newest: no reordering to check.
	if !t.insert(ackedPacket{send: p.SendTime, recv: p.Arrival, size: max(p.Size, 0)}) &&
		t.at(t.n-1).recv.Sub(p.Arrival) > maxReordering {
		t.clear()
	}
}

// trim drops the packets outside the window after a batch.
func (t *Throughput) trim() {
	if t.irregular > 0 || t.n == 0 {
		for t.firstOutsideWindow() {
			t.dropFront()
		}
		return
	}
	// An ordered window, the common case, written out with the state in
	// locals: firstOutsideWindow and dropFront as they go while the
	// window stays ordered (dropping never makes it irregular). The
	// newest packet stays until the window is empty.
	L := len(t.ring)
	newest := t.at(t.n - 1).recv
	head, n, total := t.head, t.n, t.total
	latest, discarded := t.latestDiscardedSend, t.hasDiscarded
	for n > 0 {
		front := &t.ring[head]
		if n <= t.cfg.MaxWindowPackets {
			span := newest.Sub(front.recv)
			if span <= t.cfg.MaxWindowDuration && (n <= t.cfg.WindowPackets || span <= t.cfg.MinWindowDuration) {
				break
			}
		}
		if !discarded || front.send > latest {
			latest, discarded = front.send, true
		}
		total.sub(front.size)
		if n > 1 {
			if t.frontGaps == 0 {
				t.head, t.n = head, n
				t.flip()
			}
			t.frontGaps--
		}
		next := head + 1
		if next == L {
			next = 0
		}
		if t.runStart == head {
			t.runStart = next
		}
		head, n = next, n-1
	}
	t.head, t.n, t.total = head, n, total
	t.latestDiscardedSend, t.hasDiscarded = latest, discarded
}

// insert appends p and moves it back past packets received after it. The
// window then briefly holds MaxWindowPackets+1 packets; if it does, the
// oldest one leaves at once. libwebrtc trims only after the whole batch,
// but a packet received before MaxWindowPackets+1 others can never remain
// in a window of MaxWindowPackets, so dropping it early gives the same
// window (and the same newest discarded send time) with a bounded ring.
// It reports whether p stayed at the back.
func (t *Throughput) insert(p ackedPacket) (atBack bool) {
	slot := t.index(t.n)
	if t.n > 0 {
		// The common case: received no earlier than the newest packet,
		// it stays at the back.
		prevSlot := slot - 1
		if prevSlot < 0 {
			prevSlot += len(t.ring)
		}
		if prev := &t.ring[prevSlot]; !p.recv.Before(prev.recv) {
			t.ring[slot] = p
			t.n++
			switch {
			case p.send < prev.send:
				t.irregular = t.n
			case t.irregular == 0:
				t.pushAfter(slot, prev)
			}
			if t.n > t.cfg.MaxWindowPackets {
				t.dropFront()
			}
			return true
		}
	}
	t.ring[slot] = p
	t.n++
	atBack = true
	for i := t.n - 1; i > 0; i-- {
		cur, prev := t.index(i), t.index(i-1)
		if !t.ring[cur].recv.Before(t.ring[prev].recv) {
			break
		}
		t.ring[cur], t.ring[prev] = t.ring[prev], t.ring[cur]
		atBack = false
	}
	// In an ordered window the newest packet has the newest send time, and
	// none is older than latestDiscardedSend.
	switch {
	case !atBack || t.n > 1 && p.send < t.at(t.n-2).send:
		t.irregular = t.n
	case t.irregular == 0:
		t.push(slot)
	}
	if t.n > t.cfg.MaxWindowPackets {
		t.dropFront()
	}
	return atBack
}

// push adds the newest packet, at ring index slot, to the aggregates of an
// ordered window.
func (t *Throughput) push(slot int) {
	if t.n == 1 {
		t.total.add(t.ring[slot].size)
		t.runStart = slot
		return
	}
	t.pushAfter(slot, t.at(t.n-2))
}

// pushAfter is push for a window of at least two packets, prev being the
// one before the newest.
func (t *Throughput) pushAfter(slot int, prev *ackedPacket) {
	p := &t.ring[slot]
	t.total.add(p.size)
	g := p.recv.Sub(prev.recv)
	t.gaps[slot].gap = g
	t.backTop = t.backTop.push(g)
	if p.send > prev.send {
		t.runStart = slot
	}
}

// firstOutsideWindow reports whether the oldest packet should leave the
// window (libwebrtc FirstPacketOutsideWindow).
func (t *Throughput) firstOutsideWindow() bool {
	if t.n == 0 {
		return false
	}
	if t.n > t.cfg.MaxWindowPackets {
		return true
	}
	span := t.at(t.n - 1).recv.Sub(t.at(0).recv)
	if span > t.cfg.MaxWindowDuration {
		return true
	}
	return t.n > t.cfg.WindowPackets && span > t.cfg.MinWindowDuration
}

func (t *Throughput) dropFront() {
	front := &t.ring[t.head]
	if !t.hasDiscarded || front.send.After(t.latestDiscardedSend) {
		t.latestDiscardedSend, t.hasDiscarded = front.send, true
	}
	if t.irregular > 0 {
		t.head = t.index(1)
		t.n--
		if t.irregular--; t.irregular == 0 {
			t.rebuild()
		}
		return
	}
	// Ordered: the oldest packet was sent first, so the newest discarded
	// send time stays at or before every send time left.
	t.total.sub(front.size)
	if t.n > 1 {
		// The gap between the oldest two leaves.
		if t.frontGaps == 0 {
			t.flip()
		}
		t.frontGaps--
	}
	if t.runStart == t.head {
		// All packets were sent at once; the next one starts the run.
		t.runStart = t.index(1)
	}
	t.head = t.index(1)
	t.n--
}

// flip moves every gap into the front stack.
func (t *Throughput) flip() {
	t.flips++
	var top topGaps
	for i := t.n - 1; i > 0; i-- {
		g := &t.gaps[t.index(i)]
		top = top.push(g.gap)
		g.top = top
	}
	t.frontGaps, t.backTop = max(t.n-1, 0), topGaps{}
}

// rebuild recomputes the aggregates once the packets that made the window
// irregular have left. If it is still out of send order, it counts the
// packets that must leave first: up to the last one sent before a packet
// ahead of it or before latestDiscardedSend, since once they have gone the
// rest are in order and sent no earlier than any discarded one.
func (t *Throughput) rebuild() {
	t.rebuilds++
	newest, hasNewest := t.latestDiscardedSend, t.hasDiscarded
	t.total = sizeSum{}
	for i := range t.n {
		p := t.at(i)
		if hasNewest && p.send < newest {
			t.irregular = i + 1
		} else {
			newest, hasNewest = p.send, true
		}
		t.total.add(p.size)
		if i == 0 {
			t.runStart = t.index(i)
			continue
		}
		prev := t.at(i - 1)
		t.gaps[t.index(i)].gap = p.recv.Sub(prev.recv)
		if p.send > prev.send {
			t.runStart = t.index(i)
		}
	}
	if t.irregular > 0 {
		return
	}
	t.flip()
}

// clear empties the window and its aggregates.
func (t *Throughput) clear() {
	t.n = 0
	t.hasDiscarded = false
	t.irregular = 0
	t.total = sizeSum{}
	t.frontGaps, t.backTop = 0, topGaps{}
}

func (t *Throughput) index(i int) int {
	i += t.head
	if i >= len(t.ring) {
		i -= len(t.ring)
	}
	return i
}

func (t *Throughput) at(i int) *ackedPacket { return &t.ring[t.index(i)] }

// Bitrate returns the throughput estimate and true, or false while the
// window holds fewer than RequiredPackets packets (libwebrtc
// RobustThroughputEstimator::bitrate). The result is never negative. It
// costs O(1) while the window is in order, O(window) otherwise (see
// [Throughput]).
func (t *Throughput) Bitrate() (bwe.Bitrate, bool) {
	if t.n == 0 || t.n < t.cfg.RequiredPackets {
		return 0, false
	}
	if t.irregular > 0 {
		return t.rate(t.scanStats()), true
	}
	return t.rate(t.stats()), true
}

// bitrateScan is Bitrate computed by scanning the whole window, whatever
// its order: the reference for the incremental aggregates.
func (t *Throughput) bitrateScan() (bwe.Bitrate, bool) {
	if t.n == 0 || t.n < t.cfg.RequiredPackets {
		return 0, false
	}
	return t.rate(t.scanStats()), true
}

// windowStats is what the estimate needs from a non-empty window.
type windowStats struct {
	gaps                topGaps       // between neighbours in arrival order
	recvSize            bwe.ByteCount // Σ size, saturated
	sendSize            bwe.ByteCount // Σ size of the packets counted in the send rate, saturated
	lastSendSize        bwe.ByteCount // size of the first of them (in arrival order) sent last
	firstSend, lastSend bwe.Time      // their send times, earliest and latest
	sent                int           // how many they are
}

// rate turns the statistics of the window into the estimate.
func (t *Throughput) rate(s windowStats) bwe.Bitrate {
	// The window is sorted by arrival, so the first received packet is the
	// first one (the earliest of equal arrivals, as in libwebrtc). N packets
	// span N−1 intervals: leave out the packet whose size does not count
	// towards the span (the first received, the last sent).
	first, last := t.at(0), t.at(t.n-1)
	recvSize := s.recvSize - first.size
	sendSize := s.sendSize - s.lastSendSize

	recvSpan := last.recv.Sub(first.recv) - s.gaps.largest + s.gaps.second
	recvRate := bwe.RateOf(recvSize, max(recvSpan, minRateDuration))
	if s.sent < t.cfg.RequiredPackets {
		return recvRate
	}
	sendRate := bwe.RateOf(sendSize, max(s.lastSend.Sub(s.firstSend), minRateDuration))
	return min(sendRate, recvRate)
}

// stats reads the aggregates of an ordered, non-empty window: every packet
// counts towards the send rate, the oldest was sent first and the newest
// last.
func (t *Throughput) stats() windowStats {
	gaps := t.backTop
	if t.frontGaps > 0 {
		gaps = t.gaps[t.index(1)].top.merge(gaps)
	}
	total := t.total.saturated()
	return windowStats{
		gaps:         gaps,
		recvSize:     total,
		sendSize:     total,
		lastSendSize: t.ring[t.runStart].size,
		firstSend:    t.ring[t.head].send,
		lastSend:     t.at(t.n - 1).send,
		sent:         t.n,
	}
}

// scanStats computes the statistics of a non-empty window in one pass.
func (t *Throughput) scanStats() windowStats {
	// The window is a ring: at most two contiguous segments.
	end := t.head + t.n
	seg1, seg2 := t.ring[t.head:min(end, len(t.ring))], t.ring[:max(end-len(t.ring), 0)]
	acc := windowScan{prevRecv: seg1[0].recv, discarded: t.hasDiscarded, latestDiscarded: t.latestDiscardedSend}
	acc.scan(seg1)
	acc.scan(seg2)
	return acc.windowStats
}

// windowScan accumulates windowStats in one pass over the window.
type windowScan struct {
	windowStats
	prevRecv        bwe.Time
	discarded       bool
	latestDiscarded bwe.Time
}

func (w *windowScan) scan(seg []ackedPacket) {
	for i := range seg {
		p := &seg[i]
		gap := p.recv.Sub(w.prevRecv)
		w.prevRecv = p.recv
		if gap > w.gaps.largest {
			w.gaps.second, w.gaps.largest = w.gaps.largest, gap
		} else if gap > w.gaps.second {
			w.gaps.second = gap
		}
		w.recvSize = bwe.SatAdd(w.recvSize, p.size)
		if w.discarded && p.send < w.latestDiscarded {
			// Sent before a packet that already left the window: a
			// reordered packet whose old send time would drag the send
			// rate down.
			continue
		}
		if w.sent == 0 || p.send > w.lastSend {
			w.lastSend, w.lastSendSize = p.send, p.size
		}
		if w.sent == 0 || p.send < w.firstSend {
			w.firstSend = p.send
		}
		w.sendSize = bwe.SatAdd(w.sendSize, p.size)
		w.sent++
	}
}

// Len returns the number of packets in the window.
func (t *Throughput) Len() int { return t.n }

// Reset empties the window, as after a long pause.
func (t *Throughput) Reset() {
	t.clear()
	t.head = 0
}
