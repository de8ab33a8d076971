package pionbwe

import (
	"time"

	"github.com/bwelab/bwe"
)

// sentPacket is one tracked packet of the send history.
type sentPacket struct {
	idx    int64 // send index; -1 in a free slot
	tw     int64 // unwrapped transport-wide sequence number, or -1
	rtp    int64 // unwrapped RTP sequence number of its stream
	ssrc   uint32
	send   bwe.Time
	size   bwe.ByteCount
	probe  int32
	acked  bool // reported received: a later report is a duplicate
	hasTW  bool
	stream *streamIndex
}

// streamIndex maps one stream's unwrapped RTP sequence numbers to send
// indices, for RFC 8888 feedback, which names packets by (SSRC, RTP
// sequence number).
type streamIndex struct {
	ssrc   uint32
	seq    bwe.SeqUnwrapper
	last   int64 // last unwrapped RTP sequence number sent
	sent   bool
	byRTP  []int64 // send index by rtp & mask, -1 if none
	counts int64   // packets tracked
}

// history is the send history: every tracked packet sent within the last
// window of time, in a ring indexed by send index (a dense counter over
// all tracked packets), with a second ring mapping transport-wide sequence
// numbers to send indices and, per stream, a third mapping RTP sequence
// numbers. The rings grow (doubling) only when the window holds more
// packets than they do; in steady state adding and looking up allocate
// nothing.
//
// Not safe for concurrent use; the Estimator's lock guards it.
type history struct {
	window  time.Duration
	maxCap  int
	ring    []sentPacket
	byTW    []int64 // send index by tw & mask, -1 if none
	mask    int64
	first   int64 // oldest live send index
	next    int64 // next send index
	tw      bwe.SeqUnwrapper
	lastTW  int64
	hasTW   bool
	streams []*streamIndex
	grown   int64 // times the rings grew
	evicted int64 // packets dropped from the window, never reported received
}

func newHistory(window time.Duration, capacity, maxCap int) history {
	h := history{window: window, maxCap: maxCap}
	h.alloc(capacity)
	return h
}

// alloc makes empty rings of n slots (a power of two).
func (h *history) alloc(n int) {
	h.ring = make([]sentPacket, n)
	h.byTW = make([]int64, n)
	for i := range h.ring {
		h.ring[i].idx = -1
		h.byTW[i] = -1
	}
	h.mask = int64(n - 1)
	for _, s := range h.streams {
		s.byRTP = make([]int64, n)
		for i := range s.byRTP {
			s.byRTP[i] = -1
		}
	}
}

// addStream returns a new per-stream index.
func (h *history) addStream(ssrc uint32) *streamIndex {
	s := &streamIndex{ssrc: ssrc, byRTP: make([]int64, len(h.ring))}
	for i := range s.byRTP {
		s.byRTP[i] = -1
	}
	h.streams = append(h.streams, s)
	return s
}

// stream returns the index of the stream with the given SSRC, or nil.
func (h *history) stream(ssrc uint32) *streamIndex {
	for _, s := range h.streams {
		if s.ssrc == ssrc {
			return s
		}
	}
	return nil
}

// len returns the number of packets in the window.
func (h *history) len() int { return int(h.next - h.first) }

// expire drops the packets sent more than window before now.
func (h *history) expire(now bwe.Time) {
	limit := now.Add(-h.window)
	for h.first < h.next {
		p := &h.ring[h.first&h.mask]
		if p.send >= limit {
			break
		}
		h.drop(p)
		h.first++
	}
}

// drop removes p from the indices.
func (h *history) drop(p *sentPacket) {
	if !p.acked {
		h.evicted++
	}
	if p.hasTW && h.byTW[p.tw&h.mask] == p.idx {
		h.byTW[p.tw&h.mask] = -1
	}
	if s := p.stream; s != nil && s.byRTP[p.rtp&h.mask] == p.idx {
		s.byRTP[p.rtp&h.mask] = -1
	}
	p.idx = -1
}

// add records a packet sent at now and returns its send index. tw is the
// packet's 16-bit transport-wide sequence number if hasTW.
func (h *history) add(now bwe.Time, s *streamIndex, rtpSeq uint16, tw uint16, hasTW bool, size bwe.ByteCount, probe int32) int64 {
	h.expire(now)
	if h.len() == len(h.ring) {
		if len(h.ring) < h.maxCap {
			h.grow()
		} else {
			h.drop(&h.ring[h.first&h.mask])
			h.first++
		}
	}
	idx := h.next
	h.next++
	p := &h.ring[idx&h.mask]
	*p = sentPacket{idx: idx, tw: -1, ssrc: s.ssrc, send: now, size: size, probe: probe, stream: s}
	p.rtp = s.seq.Unwrap(rtpSeq)
	s.last, s.sent = p.rtp, true
	s.counts++
	// A newer packet with the same RTP sequence number (a retransmission
	// on the same SSRC) takes the slot: feedback then refers to it.
	s.byRTP[p.rtp&h.mask] = idx
	if hasTW {
		p.hasTW = true
		p.tw = h.tw.Unwrap(tw)
		h.lastTW, h.hasTW = p.tw, true
		h.byTW[p.tw&h.mask] = idx
	}
	return idx
}

// grow doubles the rings, keeping every live packet.
func (h *history) grow() {
	old := h.ring
	oldMask := h.mask
	h.grown++
	h.alloc(2 * len(old))
	for i := h.first; i < h.next; i++ {
		p := old[i&oldMask]
		h.ring[i&h.mask] = p
		if p.idx < 0 {
			continue
		}
		if p.hasTW {
			h.byTW[p.tw&h.mask] = p.idx
		}
		if p.stream != nil {
			p.stream.byRTP[p.rtp&h.mask] = p.idx
		}
	}
}

// Outcomes of a history lookup.
const (
	lookFound   = iota
	lookUnknown // beyond the last packet sent: never sent
	lookOld     // at or before the last packet sent, but not in the window
)

// at returns the live packet with send index idx.
func (h *history) at(idx int64) *sentPacket {
	if idx < h.first || idx >= h.next {
		return nil
	}
	p := &h.ring[idx&h.mask]
	if p.idx != idx {
		return nil
	}
	return p
}

// unwrapTW returns the 64-bit transport-wide sequence number closest to
// the last one sent whose low 16 bits are seq.
func (h *history) unwrapTW(seq uint16) int64 {
	return unwrapNear(h.lastTW, int64(seq), 16)
}

// byTransport returns the packet with unwrapped transport-wide sequence
// number tw, or why there is none.
func (h *history) byTransport(tw int64) (*sentPacket, int) {
	if !h.hasTW || tw > h.lastTW {
		return nil, lookUnknown
	}
	if h.lastTW-tw > h.mask {
		return nil, lookOld
	}
	p := h.at(h.byTW[tw&h.mask])
	if p == nil || !p.hasTW || p.tw != tw {
		return nil, lookOld
	}
	return p, lookFound
}

// byRTP returns the packet of stream s with unwrapped RTP sequence number
// seq, or why there is none.
func (h *history) byRTP(s *streamIndex, seq int64) (*sentPacket, int) {
	if !s.sent || seq > s.last {
		return nil, lookUnknown
	}
	if s.last-seq > h.mask {
		return nil, lookOld
	}
	p := h.at(s.byRTP[seq&h.mask])
	if p == nil || p.stream != s || p.rtp != seq {
		return nil, lookOld
	}
	return p, lookFound
}

// unwrapNear returns the integer closest to ref whose low bits bits are
// v's (v in [0, 2^bits)); a tie goes forward.
func unwrapNear(ref, v int64, bits uint) int64 {
	span := int64(1) << bits
	d := (v - ref) & (span - 1)
	if d >= span/2 {
		d -= span
	}
	if d == -span/2 {
		d = span / 2
	}
	return ref + d
}
