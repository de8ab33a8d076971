package bench

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/pionbwe"
	"github.com/bwelab/bwe/sendside"
	"github.com/bwelab/bwe/traces"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// The recorded session (see the package documentation).
const (
	sessionPackets   = 5000
	packetSize       = 1200                                  // bytes on the wire: 12 header + 8 extension + 1180 payload
	packetInterval   = 3840 * time.Microsecond               // 1200 bytes at 2.5 Mbps
	sessionDuration  = sessionPackets * packetInterval       // 19.2 s
	linkCapacity     = 2 * bwe.Mbps                          // the bottleneck
	oneWayDelay      = 40 * time.Millisecond                 // both ways
	lossRate         = 0.01                                  // random loss on the link
	queueLimit       = 300 * time.Millisecond                // drop-tail queue, in time at linkCapacity
	feedbackInterval = 50 * time.Millisecond                 // the receiver's TWCC interval
	refUnit          = 64 * time.Millisecond                 // TWCC reference time unit
	refPerSession    = uint32(sessionDuration / refUnit)     // 300: a replay shifts arrivals by whole units
	rxOffset         = 7*time.Hour + 123456*time.Microsecond // receiver clock minus sender clock
	sessionSeed      = 1
	twID             = 3
	mediaSSRC        = 0x1234
	feedbackSSRC     = 0x9999
	processInterval  = pionbwe.DefaultProcessInterval
)

// Both shifts of a replay must be whole: arrivals by TWCC reference units,
// feedback instants by the feedback interval.
var _ = [1]struct{}{}[sessionDuration%refUnit+sessionDuration%feedbackInterval]

// feedbackEvent is one RTCP compound packet reaching the sender.
type feedbackEvent struct {
	at   time.Duration // since the session's first packet, sender clock
	pkts []rtcp.Packet // as rtcp.Unmarshal returns them
	twcc []twccBase    // the TWCC packets among pkts and their unshifted fields
}

type twccBase struct {
	p     *rtcp.TransportLayerCC
	base  uint16
	ref   uint32
	count uint8
}

// session is the recorded input every benchmark replays.
type session struct {
	headers  []rtp.Header // packet i carries RTP and transport-wide sequence number i
	ext      [][]byte     // the transport-wide extension payload of headers[i]
	payload  []byte
	feedback []feedbackEvent

	// Totals of the feedback: TWCC packets, statuses reported, statuses
	// reported received.
	twccPackets, statuses, received int

	// start is the empty batch that starts the adapter's estimator at the
	// first packet; batches are the others, as the adapter (pacer off)
	// gives them to its sendside.Estimator in the first replay.
	start   bwe.Feedback
	batches []bwe.Feedback
}

func sendAt(i int) time.Duration { return time.Duration(i) * packetInterval }

var (
	sessionOnce sync.Once
	theSession  *session
	sessionErr  error
)

// getSession returns the session every benchmark and test replays,
// generated once.
func getSession(tb testing.TB) *session {
	tb.Helper()
	sessionOnce.Do(func() { theSession, sessionErr = newSession(sessionSeed) })
	if sessionErr != nil {
		tb.Fatal(sessionErr)
	}
	return theSession
}

// newSession generates the session with randomness from seed: media at
// 2.5 Mbps (packetSize every packetInterval) through a drop-tail
// bottleneck of linkCapacity with oneWayDelay and lossRate random loss,
// TWCC feedback built every feedbackInterval by pion's twcc.Recorder,
// marshalled and unmarshalled as pion's RTCP reader delivers it.
func newSession(seed uint64) (*session, error) {
	s := &session{payload: make([]byte, packetSize-20)}
	rng := rand.New(rand.NewPCG(seed, 0x62776562656e6368))
	type arrival struct {
		at time.Duration // sender clock
		tw uint16
	}
	var (
		inflight []arrival
		free     time.Duration // when the bottleneck is next idle
		tx       = time.Duration(int64(packetSize*8) * int64(time.Second) / int64(linkCapacity))
		rec      = twcc.NewRecorder(feedbackSSRC)
		built    = feedbackInterval // next feedback built at the receiver
	)
	s.headers = make([]rtp.Header, sessionPackets)
	s.ext = make([][]byte, sessionPackets)
	// buildFeedback builds the feedback of the instant built (receiver
	// side), from what had arrived by then.
	buildFeedback := func() error {
		k := 0
		for _, a := range inflight {
			if a.at <= built {
				rec.Record(mediaSSRC, a.tw, (a.at + rxOffset).Microseconds())
				continue
			}
			inflight[k] = a
			k++
		}
		inflight = inflight[:k]
		pkts := rec.BuildFeedbackPacket()
		at := built + oneWayDelay
		built += feedbackInterval
		if len(pkts) == 0 {
			return nil
		}
		var wire []byte
		for _, p := range pkts {
			b, err := p.Marshal()
			if err != nil {
				return err
			}
			wire = append(wire, b...)
		}
		got, err := rtcp.Unmarshal(wire)
		if err != nil {
			return err
		}
		ev := feedbackEvent{at: at, pkts: got}
		for _, p := range got {
			if fb, ok := p.(*rtcp.TransportLayerCC); ok {
				ev.twcc = append(ev.twcc, twccBase{p: fb, base: fb.BaseSequenceNumber, ref: fb.ReferenceTime, count: fb.FbPktCount})
				s.twccPackets++
				s.statuses += int(fb.PacketStatusCount)
				s.received += len(fb.RecvDeltas)
			}
		}
		s.feedback = append(s.feedback, ev)
		return nil
	}
	for i := range sessionPackets {
		now := sendAt(i)
		for built+oneWayDelay <= now {
			if err := buildFeedback(); err != nil {
				return nil, err
			}
		}
		h := &s.headers[i]
		*h = rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: uint16(i), Timestamp: uint32(i) * 1000, SSRC: mediaSSRC}
		if err := h.SetExtension(twID, []byte{byte(i >> 8), byte(i)}); err != nil {
			return nil, err
		}
		s.ext[i] = h.GetExtension(twID)
		if h.MarshalSize()+len(s.payload) != packetSize {
			return nil, fmt.Errorf("bench: packet size %d, want %d", h.MarshalSize()+len(s.payload), packetSize)
		}
		if rng.Float64() < lossRate {
			continue
		}
		start := max(now, free)
		if start-now+tx > queueLimit {
			continue // the queue is full
		}
		free = start + tx
		inflight = append(inflight, arrival{at: free + oneWayDelay, tw: uint16(i)})
	}
	for built+oneWayDelay < sessionDuration {
		if err := buildFeedback(); err != nil {
			return nil, err
		}
	}
	if err := s.recordBatches(); err != nil {
		return nil, err
	}
	return s, nil
}

// recordBatches replays the session once through the adapter (pacer
// off) with its recorder on, and keeps the batches it gave its
// estimator.
func (s *session) recordBatches() error {
	var buf bytes.Buffer
	clk := newClock()
	e, err := pionbwe.New(pionbwe.WithClock(clk.Now), pionbwe.WithPacer(false), pionbwe.WithRecorder(&buf))
	if err != nil {
		return err
	}
	p := newPlayer(s, e, clk)
	if err := p.replay(); err != nil {
		return err
	}
	if err := e.Close(); err != nil {
		return err
	}
	r, err := traces.NewFeedbackReader(&buf, "recording")
	if err != nil {
		return err
	}
	for {
		fb, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		fb.Packets = append([]bwe.PacketResult(nil), fb.Packets...)
		if len(s.batches) == 0 && len(fb.Packets) == 0 && s.start.Packets == nil {
			s.start = fb
			s.start.Packets = []bwe.PacketResult{}
			continue
		}
		s.batches = append(s.batches, fb)
	}
	if s.start.Packets == nil {
		return errors.New("bench: the recording has no starting batch")
	}
	return nil
}

// clock is the adapter's clock: a fixed origin plus an offset the player
// sets, safe for the adapter's goroutines to read.
type clock struct {
	origin time.Time
	off    atomic.Int64
}

func newClock() *clock {
	return &clock{origin: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time { return c.origin.Add(time.Duration(c.off.Load())) }

func (c *clock) set(d time.Duration) { c.off.Store(int64(d)) }

// discard is the next writer: it drops the packet.
type discard struct{}

func (discard) Write(_ *rtp.Header, payload []byte, _ interceptor.Attributes) (int, error) {
	return len(payload), nil
}

// counter is a next writer that counts the packets it is given.
type counter struct{ n atomic.Int64 }

func (c *counter) Write(_ *rtp.Header, payload []byte, _ interceptor.Attributes) (int, error) {
	c.n.Add(1)
	return len(payload), nil
}

// player replays the session into a cc.BandwidthEstimator: replay k
// sends the packets with sequence numbers shifted by k × sessionPackets
// (mod 2^16), and the feedback with base sequence numbers shifted alike,
// reference times by k × sessionDuration and feedback counts by k × the
// number of TWCC packets; the clock, if any, reads k × sessionDuration
// plus the event's time. Replay k therefore continues replay k-1.
type player struct {
	s      *session
	e      cc.BandwidthEstimator
	w      interceptor.RTPWriter
	clk    *clock // nil: the estimator reads the wall clock (pion's gcc)
	k      int
	onFeed func() // if set, called after every feedback event
}

func streamInfo() *interceptor.StreamInfo {
	return &interceptor.StreamInfo{
		SSRC:                mediaSSRC,
		ClockRate:           90000,
		RTPHeaderExtensions: []interceptor.RTPHeaderExtension{{URI: pionbwe.TransportCCURI, ID: twID}},
	}
}

func newPlayer(s *session, e cc.BandwidthEstimator, clk *clock) *player {
	return newPlayerTo(s, e, clk, discard{})
}

func newPlayerTo(s *session, e cc.BandwidthEstimator, clk *clock, next interceptor.RTPWriter) *player {
	return &player{s: s, e: e, w: e.AddStream(streamInfo(), next), clk: clk}
}

// replay replays the session once, feedback before packets sent at the
// same instant.
func (p *player) replay() error {
	s := p.s
	shift := time.Duration(p.k) * sessionDuration
	seq := uint16(p.k * sessionPackets)
	ref := uint32(p.k) * refPerSession
	cnt := uint8(p.k * s.twccPackets)
	f := 0
	feed := func() error {
		ev := &s.feedback[f]
		f++
		for _, t := range ev.twcc {
			t.p.BaseSequenceNumber = t.base + seq
			t.p.ReferenceTime = (t.ref + ref) & 0xffffff
			t.p.FbPktCount = t.count + cnt
		}
		if p.clk != nil {
			p.clk.set(shift + ev.at)
		}
		if err := p.e.WriteRTCP(ev.pkts, nil); err != nil {
			return err
		}
		if p.onFeed != nil {
			p.onFeed()
		}
		return nil
	}
	for i := range s.headers {
		at := sendAt(i)
		for f < len(s.feedback) && s.feedback[f].at <= at {
			if err := feed(); err != nil {
				return err
			}
		}
		if p.clk != nil {
			p.clk.set(shift + at)
		}
		h := &s.headers[i]
		n := uint16(i) + seq
		h.SequenceNumber = n
		binary.BigEndian.PutUint16(s.ext[i], n)
		if _, err := p.w.Write(h, s.payload, nil); err != nil {
			return err
		}
	}
	for f < len(s.feedback) {
		if err := feed(); err != nil {
			return err
		}
	}
	p.k++
	return nil
}

// corePlayer replays the session's batches into a sendside.Estimator as
// the adapter does: the starting batch once, then the estimator's timers
// at every point of the processInterval grid earlier than a batch, then
// the batch. Replay k shifts times by k × sessionDuration and sequence
// numbers by k × sessionPackets.
type corePlayer struct {
	s       *session
	e       *sendside.Estimator
	work    []bwe.Feedback // the batches of the current replay
	next    bwe.Time       // next grid point
	k       int
	started bool
	onFeed  func(sendside.Result) // if set, called with every Update result
}

func newCorePlayer(s *session, e *sendside.Estimator) *corePlayer {
	c := &corePlayer{s: s, e: e, work: make([]bwe.Feedback, len(s.batches))}
	for i, fb := range s.batches {
		c.work[i] = bwe.Feedback{Time: fb.Time, Packets: append([]bwe.PacketResult(nil), fb.Packets...)}
	}
	return c
}

func (c *corePlayer) replay() {
	if !c.started {
		c.started = true
		r := c.e.Update(c.s.start)
		if c.onFeed != nil {
			c.onFeed(r)
		}
		c.next = c.s.start.Time // a multiple of processInterval: the first packet is at 0
	}
	shift := time.Duration(c.k) * sessionDuration
	seq := int64(c.k) * sessionPackets
	for j := range c.work {
		fb, base := &c.work[j], &c.s.batches[j]
		fb.Time = base.Time.Add(shift)
		for i := range fb.Packets {
			p, q := &fb.Packets[i], &base.Packets[i]
			p.Seq = q.Seq + seq
			p.SendTime = q.SendTime.Add(shift)
			if q.Received {
				p.Arrival = q.Arrival.Add(shift)
			}
		}
		for c.next < fb.Time {
			c.e.Process(c.next)
			c.next = c.next.Add(processInterval)
		}
		r := c.e.Update(*fb)
		if c.onFeed != nil {
			c.onFeed(r)
		}
	}
	c.k++
}
