package pionbwe

import (
	"encoding/binary"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// fakeClock is a clock the test advances by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// withManual makes an estimator that starts no goroutine: tests drive
// its timers and its pacer by hand.
func withManual() Option {
	return func(e *Estimator) error {
		e.manual = true
		return nil
	}
}

const (
	testTWID = 3
	testSSRC = 0x1111
)

func twccInfo(ssrc uint32) *interceptor.StreamInfo {
	return &interceptor.StreamInfo{
		SSRC:                ssrc,
		RTPHeaderExtensions: []interceptor.RTPHeaderExtension{{URI: TransportCCURI, ID: testTWID}},
	}
}

// sink is the next writer: it counts what it is given.
type sink struct {
	mu    sync.Mutex
	n     int
	bytes int
	seqs  []uint16
	keep  bool
}

func (s *sink) Write(h *rtp.Header, payload []byte, _ interceptor.Attributes) (int, error) {
	s.mu.Lock()
	s.n++
	s.bytes += len(payload)
	if s.keep {
		s.seqs = append(s.seqs, h.SequenceNumber)
	}
	s.mu.Unlock()
	return len(payload), nil
}

// twHeader returns a header carrying transport-wide number tw, as pion's
// twcc header-extension interceptor leaves it.
func twHeader(ssrc uint32, seq, tw uint16) *rtp.Header {
	h := &rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, SSRC: ssrc, Timestamp: uint32(seq) * 3000}
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], tw)
	if err := h.SetExtension(testTWID, b[:]); err != nil {
		panic(err)
	}
	return h
}

// link is a simulated path: a bottleneck of capacity bps with a one-way
// delay, random loss, and a receiver clock offset from the sender's.
type link struct {
	capacity float64 // bits per second
	delay    time.Duration
	loss     float64
	rng      *rand.Rand
	free     time.Duration // when the bottleneck is next free (sender clock since start)
	rxOffset time.Duration // receiver clock minus sender clock
	inflight []arrival
	recorder *twcc.Recorder
	nextFB   time.Duration
	fbEvery  time.Duration
	outFrom  time.Duration // feedback built in [outFrom, outTo) is lost
	outTo    time.Duration
}

type arrival struct {
	at   time.Duration // arrival on the sender's clock (since start)
	tw   uint16
	ssrc uint32
}

func newLink(capacity float64, delay time.Duration, loss float64, seed uint64) *link {
	return &link{
		capacity: capacity, delay: delay, loss: loss,
		rng:      rand.New(rand.NewPCG(seed, 1)),
		rxOffset: 1<<24*64*time.Millisecond - 3*time.Second, // the reference time wraps 3 s in
		recorder: twcc.NewRecorder(0x9999),
		fbEvery:  50 * time.Millisecond,
	}
}

// send puts a packet of size bytes on the link at now (since start).
func (l *link) send(now time.Duration, tw uint16, size int) {
	if l.rng.Float64() < l.loss {
		return
	}
	start := max(now, l.free)
	tx := time.Duration(float64(size*8) / l.capacity * float64(time.Second))
	l.free = start + tx
	l.inflight = append(l.inflight, arrival{at: l.free + l.delay, tw: tw, ssrc: testSSRC})
}

// feedback returns the TWCC feedback that reaches the sender at now, if
// any: the receiver sends it every fbEvery, one way delay ago, covering
// what had arrived by then.
func (l *link) feedback(now time.Duration) []rtcp.Packet {
	if now < l.nextFB+l.delay {
		return nil
	}
	built := l.nextFB
	l.nextFB += l.fbEvery
	k := 0
	for _, a := range l.inflight {
		if a.at <= built {
			l.recorder.Record(a.ssrc, a.tw, (a.at + l.rxOffset).Microseconds())
			continue
		}
		l.inflight[k] = a
		k++
	}
	l.inflight = l.inflight[:k]
	pkts := l.recorder.BuildFeedbackPacket()
	if len(pkts) == 0 || (built >= l.outFrom && built < l.outTo) {
		return nil
	}
	// Through the wire format, as pion's RTCP reader gives them.
	out := make([]rtcp.Packet, 0, len(pkts))
	for _, p := range pkts {
		b, err := p.Marshal()
		if err != nil {
			panic(err)
		}
		q, err := rtcp.Unmarshal(b)
		if err != nil {
			panic(err)
		}
		out = append(out, q...)
	}
	return out
}

// session drives an estimator over a link: media at a fixed packet rate,
// feedback as the link delivers it. Time steps of 1 ms.
type session struct {
	t       testing.TB
	clk     *fakeClock
	e       *Estimator
	w       interceptor.RTPWriter
	link    *link
	now     time.Duration
	seq     uint16
	tw      uint16
	rate    float64             // media rate when not following the target
	advance func(time.Duration) // advances the estimator's clock
	maxIn   int64               // most packets sent and not yet reported, at a batch
	batches []int               // target after each batch given to the estimator
}

func newSession(t testing.TB, l *link, opts ...Option) *session {
	t.Helper()
	clk := newFakeClock()
	opts = append([]Option{WithClock(clk.Now), WithPacer(false), withManual()}, opts...)
	e, err := New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	s := &session{t: t, clk: clk, e: e, link: l, rate: 1e6, advance: clk.Advance}
	s.w = e.AddStream(twccInfo(testSSRC), &sink{})
	return s
}

// run advances the session by d, sending a 1200-byte packet every
// interval (the media rate follows the target when follow is set).
func (s *session) run(d time.Duration, follow bool) {
	end := s.now + d
	var credit float64
	payload := make([]byte, 1200-12-8)
	for s.now < end {
		s.advance(time.Millisecond)
		s.now += time.Millisecond
		rate := s.rate
		if follow {
			rate = float64(s.e.GetTargetBitrate())
		}
		credit += rate / 1000 / 8
		for credit >= 1200 {
			credit -= 1200
			h := twHeader(testSSRC, s.seq, s.tw)
			if _, err := s.w.Write(h, payload, nil); err != nil {
				s.t.Fatal(err)
			}
			s.link.send(s.now, s.tw, 1200)
			s.seq++
			s.tw++
		}
		if fb := s.link.feedback(s.now); fb != nil {
			before := s.e.Stats().Batches
			if err := s.e.WriteRTCP(fb, nil); err != nil {
				s.t.Fatal(err)
			}
			st := s.e.Stats()
			if st.Batches > before {
				s.batches = append(s.batches, int(st.Last.Target))
			}
			s.maxIn = max(s.maxIn, st.PacketsSent-st.Received-st.Lost)
		}
	}
}

var interceptorStreamInfoPlain = interceptor.StreamInfo{SSRC: 0x7777}
