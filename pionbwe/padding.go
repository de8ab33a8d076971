package pionbwe

import (
	"encoding/binary"

	"github.com/bwelab/bwe"
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
)

// maxPaddingSize is the padding of a padding-only packet, in bytes: RTP
// padding ends with its own length in one byte, so RFC 3550 allows 255;
// libwebrtc rtp_sender.cc: kMaxPaddingLength = 224 (a multiple of 32,
// for SRTP).
const maxPaddingSize = 224

// WithPadding turns padding on or off. Default on: when a probe cluster is
// due and the pacer's queue is empty, the pacer sends padding-only RTP
// packets (padding bit set, 224 bytes of padding, no payload) on the
// stream that last sent media carrying a transport-wide sequence number,
// at the cluster's rate, until the cluster is complete. The sequence
// numbers of the padded stream and the transport-wide numbers are
// rewritten on the way out so that both stay gapless (see the package
// documentation). Off: probe clusters are sent with queued media only.
// Padding needs the pacer ([WithPacer]).
func WithPadding(enabled bool) Option {
	return func(e *Estimator) error {
		e.padding = enabled
		return nil
	}
}

// seqSpace is the outgoing RTP sequence-number space of one SSRC: the
// packetizer numbers media packets; each padding packet inserted takes the
// next number and shifts every later media packet by one more.
type seqSpace struct {
	ssrc   uint32
	offset uint16 // added to the media packets' sequence numbers
	last   uint16 // last sequence number sent, rewritten
	ts     uint32 // RTP timestamp of the last media packet sent
	pt     uint8  // its payload type
	media  bool   // a media packet was sent
}

// padder is the state of padding and of the rewriting of sequence numbers;
// the Estimator's mu guards it, except hdr and tw, which only the holder of
// sendMu touches.
type padder struct {
	spaces   []*seqSpace
	twOffset uint16        // added to the media packets' transport-wide numbers
	lastTW   uint16        // last transport-wide number sent, rewritten
	from     *streamWriter // the stream to pad, nil if none yet
	hdr      rtp.Header    // the padding packet being sent
	tw       [2]byte       // its transport-wide number, the extension's payload
	payload  [0]byte       // its payload: none, the padding follows the header
}

// space returns the sequence space of ssrc, made on first use.
func (p *padder) space(ssrc uint32) *seqSpace {
	for _, s := range p.spaces {
		if s.ssrc == ssrc {
			return s
		}
	}
	s := &seqSpace{ssrc: ssrc}
	p.spaces = append(p.spaces, s)
	return s
}

// outgoing returns the rewritten sequence number and transport-wide number
// of a media packet of w leaving the queue, and records it as the last
// media packet of its SSRC. The caller holds mu.
func (p *padder) outgoing(w *streamWriter, s *qslot) (seq, tw uint16) {
	seq, tw = s.rtpSeq, s.tw
	if s.hasTW {
		tw += p.twOffset
		p.lastTW = tw
	}
	if sp := w.space; sp != nil && s.ssrc == sp.ssrc {
		seq += sp.offset
		sp.last, sp.ts, sp.pt, sp.media = seq, s.ts, s.pt, true
		if w.twID != 0 && s.hasTW {
			p.from = w
		}
	}
	return seq, tw
}

// canPad returns whether a padding packet can be made: a stream with a
// transport-wide number has sent media.
func (p *padder) canPad() bool { return p.from != nil }

// next numbers the next padding packet, shifting the later media packets,
// and builds its header. It returns its stream, its numbers and its size.
// The caller holds mu and sendMu.
func (p *padder) next() (w *streamWriter, seq, tw uint16, size bwe.ByteCount) {
	w = p.from
	sp := w.space
	sp.offset++
	sp.last++
	p.twOffset++
	p.lastTW++
	seq, tw = sp.last, p.lastTW
	h := &p.hdr
	h.Version = 2
	h.Padding = true
	h.PaddingSize = maxPaddingSize
	h.Marker = false
	h.PayloadType = sp.pt
	h.SequenceNumber = seq
	h.Timestamp = sp.ts
	h.SSRC = sp.ssrc
	h.CSRC = h.CSRC[:0]
	binary.BigEndian.PutUint16(p.tw[:], tw)
	h.Extension = true
	h.ExtensionProfile = rtp.ExtensionProfileOneByte
	if w.twID > 14 {
		h.ExtensionProfile = rtp.ExtensionProfileTwoByte
	}
	h.Extensions = h.Extensions[:0]
	// It cannot fail: twID is in [1, 255] and the profile fits it.
	_ = h.SetExtension(w.twID, p.tw[:])
	return w, seq, tw, bwe.ByteCount(h.MarshalSize() + maxPaddingSize)
}

// writeClosed passes a packet written after Close on, with the sequence
// number and transport-wide number shifted by the padding packets sent
// before, so that the receiver still sees gapless numbers. It is called
// with mu held and unlocks it.
func (w *streamWriter) writeClosed(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
	p := &w.e.pad
	var seqOff, twOff uint16
	if w.space != nil && h.SSRC == w.space.ssrc {
		seqOff = w.space.offset
	}
	if w.twID != 0 && len(h.GetExtension(w.twID)) >= 2 {
		twOff = p.twOffset
	}
	w.e.mu.Unlock()
	if seqOff == 0 && twOff == 0 {
		return w.next.Write(h, payload, a)
	}
	// A copy: the caller's header and buffers are not ours to change.
	c := h.Clone()
	c.SequenceNumber += seqOff
	if ext := c.GetExtension(w.twID); twOff != 0 && len(ext) >= 2 {
		binary.BigEndian.PutUint16(ext, binary.BigEndian.Uint16(ext)+twOff)
	}
	return w.next.Write(&c, payload, a)
}
