package delaybased

import (
	"fmt"
	"math"
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
// on the receiver's; only differences within each clock are used. Update
// and Bitrate allocate nothing. Not safe for concurrent use.
type Throughput struct {
	cfg ThroughputConfig

	ring []ackedPacket // MaxWindowPackets+1 slots, allocated once
	head int           // index of the oldest packet
	n    int           // packets in the window

	latestDiscardedSend bwe.Time // newest send time among packets that left the window
	hasDiscarded        bool
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
	return &Throughput{cfg: cfg, ring: make([]ackedPacket, cfg.MaxWindowPackets+1)}, nil
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
		p := &packets[i]
		if !p.Received {
			continue
		}
		t.insert(ackedPacket{send: p.SendTime, recv: p.Arrival, size: max(p.Size, 0)})
		if t.at(t.n-1).recv.Sub(p.Arrival) > maxReordering {
			t.n = 0
			t.hasDiscarded = false
		}
	}
	for t.firstOutsideWindow() {
		t.dropFront()
	}
}

// insert appends p and moves it back past packets received after it. The
// window then briefly holds MaxWindowPackets+1 packets; if it does, the
// oldest one leaves at once. libwebrtc trims only after the whole batch,
// but a packet received before MaxWindowPackets+1 others can never remain
// in a window of MaxWindowPackets, so dropping it early gives the same
// window (and the same newest discarded send time) with a bounded ring.
func (t *Throughput) insert(p ackedPacket) {
	t.ring[t.index(t.n)] = p
	t.n++
	for i := t.n - 1; i > 0; i-- {
		cur, prev := t.index(i), t.index(i-1)
		if !t.ring[cur].recv.Before(t.ring[prev].recv) {
			break
		}
		t.ring[cur], t.ring[prev] = t.ring[prev], t.ring[cur]
	}
	if t.n > t.cfg.MaxWindowPackets {
		t.dropFront()
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
	s := t.ring[t.head].send
	if !t.hasDiscarded || s.After(t.latestDiscardedSend) {
		t.latestDiscardedSend, t.hasDiscarded = s, true
	}
	t.head = t.index(1)
	t.n--
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
// scans the window once: O(window), up to MaxWindowPackets.
func (t *Throughput) Bitrate() (bwe.Bitrate, bool) {
	if t.n == 0 || t.n < t.cfg.RequiredPackets {
		return 0, false
	}
	// The window is a ring: at most two contiguous segments.
	end := t.head + t.n
	seg1, seg2 := t.ring[t.head:min(end, len(t.ring))], t.ring[:max(end-len(t.ring), 0)]
	acc := windowScan{prevRecv: seg1[0].recv, discarded: t.hasDiscarded, latestDiscarded: t.latestDiscardedSend}
	acc.scan(seg1)
	acc.scan(seg2)

	// The window is sorted by arrival, so the first received packet is the
	// first one (the earliest of equal arrivals, as in libwebrtc). N packets
	// span N−1 intervals: leave out the packet whose size does not count
	// towards the span (the first received, the last sent).
	first, last := t.at(0), t.at(t.n-1)
	recvSize := acc.recvSize - first.size
	sendSize := acc.sendSize - acc.lastSendSize

	// Trimming keeps the window within MaxWindowDuration, so neighbouring
	// gaps fit a Duration; saturate anyway against hostile clocks.
	largest, second := time.Duration(acc.largestGap), time.Duration(acc.secondGap)
	recvSpan := last.recv.Sub(first.recv) - largest + second
	recvRate := bwe.RateOf(recvSize, max(recvSpan, minRateDuration))
	if acc.sent < t.cfg.RequiredPackets {
		return recvRate, true
	}
	sendRate := bwe.RateOf(sendSize, max(acc.lastSend.Sub(acc.firstSend), minRateDuration))
	return min(sendRate, recvRate), true
}

// windowScan accumulates what Bitrate needs in one pass over the window.
type windowScan struct {
	prevRecv              bwe.Time
	largestGap, secondGap time.Duration
	recvSize, sendSize    bwe.ByteCount
	lastSendSize          bwe.ByteCount
	firstSend, lastSend   bwe.Time
	sent                  int
	discarded             bool
	latestDiscarded       bwe.Time
}

func (w *windowScan) scan(seg []ackedPacket) {
	for i := range seg {
		p := &seg[i]
		gap := p.recv.Sub(w.prevRecv)
		w.prevRecv = p.recv
		if gap > w.largestGap {
			w.secondGap, w.largestGap = w.largestGap, gap
		} else if gap > w.secondGap {
			w.secondGap = gap
		}
		w.recvSize = addSize(w.recvSize, p.size)
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
		w.sendSize = addSize(w.sendSize, p.size)
		w.sent++
	}
}

// Len returns the number of packets in the window.
func (t *Throughput) Len() int { return t.n }

// Reset empties the window, as after a long pause.
func (t *Throughput) Reset() {
	t.n = 0
	t.head = 0
	t.hasDiscarded = false
}

// addSize returns a+b for non-negative sizes, saturating.
func addSize(a, b bwe.ByteCount) bwe.ByteCount {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
