package pionbwe

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/probe"
	"github.com/bwelab/bwe/ratecontrol"
	"github.com/bwelab/bwe/sendside"
	"github.com/bwelab/bwe/traces"
	"github.com/bwelab/bwe/trendline"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// At 20 Mbps with a 200 ms RTT (evaluation.md: pion's gcc, keeping 250
// packets, stays stuck at 12 Mbps), the history kept by time matches
// every report: more than 500 packets are in flight.
func TestSendHistoryByTime(t *testing.T) {
	l := newLink(25e6, 100*time.Millisecond, 0, 1)
	s := newSession(t, l, WithStartBitrate(20_000_000))
	s.rate = 20e6
	s.run(5*time.Second, false)
	st := s.e.Stats()
	if st.Old != 0 || st.Unknown != 0 {
		t.Errorf("old %d, unknown %d reports: the history went blind", st.Old, st.Unknown)
	}
	if s.maxIn <= 250 {
		t.Errorf("at most %d packets awaited a report, want > 250 (more than pion's history holds)", s.maxIn)
	}
	// Everything sent more than RTT + feedback interval ago is reported.
	if inflight := st.PacketsSent - st.Received; inflight > 700 || inflight < 0 {
		t.Errorf("%d sent, %d reported received", st.PacketsSent, st.Received)
	}
	// The window is by time: 2 s of 2083 packets/s, not a packet count.
	if st.History < 4000 || st.History > 4300 {
		t.Errorf("history holds %d packets, want 2 s worth (~4167)", st.History)
	}
	t.Logf("history %d, up to %d awaiting a report, grown %d times, received %d of %d", st.History, s.maxIn, st.HistoryGrowths, st.Received, st.PacketsSent)
}

func TestUnwrapNear(t *testing.T) {
	for _, tc := range []struct {
		ref, v int64
		bits   uint
		want   int64
	}{
		{0, 5, 16, 5},
		{65535, 0, 16, 65536},
		{65536, 65535, 16, 65535},
		{10, 65530, 16, -6},
		{0, 32768, 16, 32768}, // a tie goes forward
		{1 << 24, 0xFFFFFF, 24, 1<<24 - 1},
		{0xFFFFFF, 0, 24, 1 << 24},
		{0xFFFF0000, 0x10000, 32, 0x100010000},
	} {
		if got := unwrapNear(tc.ref, tc.v, tc.bits); got != tc.want {
			t.Errorf("unwrapNear(%d, %d, %d) = %d, want %d", tc.ref, tc.v, tc.bits, got, tc.want)
		}
	}
}

// Headers without the extension on a TWCC stream get numbers from the
// estimator; streams without TWCC are tracked by RTP sequence only.
func TestNumbering(t *testing.T) {
	clk := newFakeClock()
	e, err := New(WithClock(clk.Now), WithPacer(false), withManual())
	if err != nil {
		t.Fatal(err)
	}
	w := e.AddStream(twccInfo(testSSRC), &sink{})
	for i := range 3 {
		h := &rtp.Header{Version: 2, SSRC: testSSRC, SequenceNumber: uint16(i)}
		if _, err := w.Write(h, []byte{1, 2, 3}, nil); err != nil {
			t.Fatal(err)
		}
		if got := binary.BigEndian.Uint16(h.GetExtension(testTWID)); got != uint16(i) {
			t.Errorf("packet %d: transport number %d, want %d", i, got, i)
		}
	}
	// A header numbered upstream is kept, and numbering continues from it.
	if _, err := w.Write(twHeader(testSSRC, 3, 100), nil, nil); err != nil {
		t.Fatal(err)
	}
	h := &rtp.Header{Version: 2, SSRC: testSSRC, SequenceNumber: 4}
	w.Write(h, nil, nil)
	if got := binary.BigEndian.Uint16(h.GetExtension(testTWID)); got != 101 {
		t.Errorf("after an upstream 100: %d, want 101", got)
	}
	plain := e.AddStream(&interceptorStreamInfoPlain, &sink{})
	h = &rtp.Header{Version: 2, SSRC: 0x7777, SequenceNumber: 9}
	plain.Write(h, nil, nil)
	if h.Extension {
		t.Errorf("a stream without TWCC got an extension")
	}
	if st := e.Stats(); st.PacketsSent != 6 || st.Numbered != 4 {
		t.Errorf("sent %d, numbered %d; want 6, 4", st.PacketsSent, st.Numbered)
	}
	if _, err := w.Write(nil, nil, nil); err == nil {
		t.Errorf("nil header: no error")
	}
}

func TestAllocsWritePath(t *testing.T) {
	for _, pacing := range []bool{false, true} {
		clk := newFakeClock()
		e, err := New(WithClock(clk.Now), WithPacer(pacing), withManual())
		if err != nil {
			t.Fatal(err)
		}
		w := e.AddStream(twccInfo(testSSRC), &sink{})
		h := twHeader(testSSRC, 0, 0)
		ext := h.GetExtension(testTWID)
		payload := make([]byte, 1100)
		var n uint16
		write := func() {
			clk.Advance(500 * time.Microsecond)
			n++
			h.SequenceNumber = n
			binary.BigEndian.PutUint16(ext, n)
			if _, err := w.Write(h, payload, nil); err != nil {
				t.Fatal(err)
			}
			if pacing {
				e.sendHead(true)
			}
		}
		for range 5000 {
			write()
		}
		if a := testing.AllocsPerRun(2000, write); a != 0 {
			t.Errorf("pacer %v: %v allocations per packet, want 0", pacing, a)
		}
	}
}

// steadyFeedback sends 16 packets, 1 ms apart, and gives the estimator
// one TWCC packet reporting them, reusing four prebuilt packets.
type steadyFeedback struct {
	clk  *fakeClock
	h    *rtp.Header
	ext  []byte
	pay  []byte
	fbs  [4]*rtcp.TransportLayerCC
	pkts []rtcp.Packet
	tw   uint16
	iter int
}

func newSteadyFeedback() *steadyFeedback {
	s := &steadyFeedback{clk: newFakeClock(), h: twHeader(testSSRC, 0, 0), pay: make([]byte, 1100), pkts: make([]rtcp.Packet, 1)}
	s.ext = s.h.GetExtension(testTWID)
	for k := range s.fbs {
		// Arrivals 20 ms after sending; a batch spans 16 ms, so the
		// offsets within a 64 ms reference period repeat every 4.
		d := make([]int64, 16)
		for i := range d {
			d[i] = 1000
		}
		d[0] = int64(k*16000 + 20000)
		s.fbs[k] = mkTWCC(0, 16, 0, []rtcp.PacketStatusChunk{sv(large, small, small, small, small, small, small), sv(small, small, small, small, small, small, small), rl(small, 2)}, deltas(d...))
	}
	return s
}

// step sends 16 packets through w and returns the feedback for them.
func (s *steadyFeedback) step(w interceptor.RTPWriter) []rtcp.Packet {
	base := s.tw
	for range 16 {
		s.clk.Advance(time.Millisecond)
		s.h.SequenceNumber = s.tw
		binary.BigEndian.PutUint16(s.ext, s.tw)
		w.Write(s.h, s.pay, nil)
		s.tw++
	}
	fb := s.fbs[s.iter%4]
	fb.BaseSequenceNumber = base
	fb.ReferenceTime = uint32(s.iter/4) & 0xFFFFFF
	s.iter++
	s.clk.Advance(30 * time.Millisecond)
	s.pkts[0] = fb
	return s.pkts
}

func TestAllocsFeedbackPath(t *testing.T) {
	t.Run("default", func(t *testing.T) { allocsFeedbackPath(t) })
	t.Run("live", func(t *testing.T) {
		det, err := trendline.NewRobust(trendline.DefaultRobustConfig())
		if err != nil {
			t.Fatal(err)
		}
		allocsFeedbackPath(t, WithDelayDetector(det), WithProbeEstimator(probe.Config{QueuedRate: true}))
	})
}

func allocsFeedbackPath(t *testing.T, opts ...Option) {
	s := newSteadyFeedback()
	e, err := New(append([]Option{WithClock(s.clk.Now), WithPacer(false), withManual()}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	w := e.AddStream(twccInfo(testSSRC), &sink{})
	step := func() {
		pkts := s.step(w)
		if err := e.WriteRTCP(pkts, nil); err != nil {
			t.Fatal(err)
		}
	}
	for range 3000 {
		step()
	}
	if a := testing.AllocsPerRun(1000, step); a != 0 {
		t.Errorf("%v allocations per feedback step, want 0", a)
	}
	if st := e.Stats(); st.Received < 3000*16 || st.Old+st.Unknown+st.Duplicate+st.Malformed != 0 {
		t.Errorf("stats %+v", st)
	}
}

// Callbacks come in order from one goroutine; a slow callback gets the
// latest value next, never an older one.
func TestCallbacksOrdered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, err := New(WithPacer(false), WithStartBitrate(300_000))
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var got []int
		gate := make(chan struct{})
		first := true
		e.OnTargetBitrateChange(func(bps int) {
			mu.Lock()
			got = append(got, bps)
			block := first
			first = false
			mu.Unlock()
			if block {
				<-gate
			}
		})
		s := &session{t: t, e: e, link: newLink(3e6, 30*time.Millisecond, 0, 3), rate: 1e6, advance: time.Sleep}
		s.w = e.AddStream(twccInfo(testSSRC), &sink{})
		s.run(6*time.Second, true)
		synctest.Wait()
		mu.Lock()
		if len(got) != 1 {
			t.Errorf("while the first callback blocks: %d calls, want 1", len(got))
		}
		mu.Unlock()
		if n := len(s.batches); n < 50 {
			t.Fatalf("only %d batches", n)
		}
		close(gate)
		synctest.Wait()
		mu.Lock()
		final := e.GetTargetBitrate()
		if len(got) != 2 || got[1] != final || got[0] == final {
			t.Errorf("callbacks %v, want [first change, %d]", got, final)
		}
		got = got[:0]
		mu.Unlock()

		// A fast callback sees every value the estimator settles on,
		// each once, in order.
		s.run(4*time.Second, true)
		synctest.Wait()
		for i := 1; i < len(got); i++ {
			if got[i] == got[i-1] {
				t.Errorf("call %d repeats %d", i, got[i])
			}
		}
		if len(got) < 10 || got[len(got)-1] != e.GetTargetBitrate() {
			t.Errorf("%d calls, last %v, target %d", len(got), got[len(got)-1:], e.GetTargetBitrate())
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

// Close stops every goroutine (the bubble would deadlock otherwise), may
// be called concurrently and again, and flushes the pacer's queue.
func TestCloseIdempotent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, err := New(WithConfig(sendside.Config{NoProbing: true}))
		if err != nil {
			t.Fatal(err)
		}
		out := &sink{}
		w := e.AddStream(twccInfo(testSSRC), out)
		for i := range 50 {
			w.Write(twHeader(testSSRC, uint16(i), uint16(i)), make([]byte, 1200), nil)
		}
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				if err := e.Close(); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if err := e.Close(); err != nil {
			t.Error(err)
		}
		if out.n != 50 {
			t.Errorf("%d of 50 queued packets sent by Close", out.n)
		}
		if err := e.WriteRTCP(nil, nil); err != ErrClosed {
			t.Errorf("WriteRTCP after Close: %v, want ErrClosed", err)
		}
		// Writes after Close pass through.
		w.Write(twHeader(testSSRC, 50, 50), nil, nil)
		if out.n != 51 {
			t.Errorf("write after Close not passed on")
		}
	})
}

// The pacer sends at its multiple of the target (2.5 by default), in
// order.
func TestPacerRate(t *testing.T) {
	tests := []struct {
		name string
		opts []Option
		rate int // the pacing rate, bits per second
	}{
		{"default", nil, 2_500_000},
		{"1.1", []Option{WithPacing(1.1, 2*time.Second)}, 1_100_000},
		{"1.0", []Option{WithPacing(1, 2*time.Second)}, 1_000_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { pacerRate(t, tt.opts, tt.rate) })
	}
}

func pacerRate(t *testing.T, opts []Option, rate int) {
	synctest.Test(t, func(t *testing.T) {
		opts = append([]Option{WithConfig(sendside.Config{NoProbing: true}), WithStartBitrate(1_000_000)}, opts...)
		e, err := New(opts...)
		if err != nil {
			t.Fatal(err)
		}
		out := &timedSink{start: time.Now()}
		w := e.AddStream(twccInfo(testSSRC), out)
		for i := range 100 {
			w.Write(twHeader(testSSRC, uint16(i), uint16(i)), make([]byte, 1200-12-8), nil)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if len(out.at) != 100 {
			t.Fatalf("%d of 100 packets sent", len(out.at))
		}
		// 100 × 1200 B: the last leaves 99 × 9.6 ms / (rate in Mbps) in.
		want := 99 * 9600 * time.Second / time.Duration(rate)
		if last := out.at[99]; last < want || last > want+5*time.Millisecond {
			t.Errorf("last packet sent at %v, want %v", last, want)
		}
		for i, s := range out.seqs {
			if s != uint16(i) {
				t.Fatalf("packet %d sent as seq %d: out of order", i, s)
			}
		}
		if st := e.Stats(); st.Pacer.Sent != 100 || st.PacketsSent != 100 || st.Pacer.Rate != bwe.Bitrate(rate) {
			t.Errorf("pacer stats %+v, sent %d", st.Pacer, st.PacketsSent)
		}
		e.Close()
	})
}

// Every option rejects an impossible value with an error naming it.
func TestOptionsReject(t *testing.T) {
	tests := []struct {
		opt  Option
		name string
	}{
		{WithStartBitrate(0), "WithStartBitrate"},
		{WithMinBitrate(-1), "WithMinBitrate"},
		{WithMaxBitrate(0), "WithMaxBitrate"},
		{WithDelayDetector(nil), "WithDelayDetector"},
		{WithLossEstimator(nil), "WithLossEstimator"},
		{WithOscillationDetector(nil), "WithOscillationDetector"},
		{WithRateController(nil), "WithRateController"},
		{WithClock(nil), "WithClock"},
		{WithProcessInterval(0), "WithProcessInterval"},
		{WithSendHistory(time.Hour), "WithSendHistory"},
		{WithPacing(0.9, time.Second), "WithPacing"},
		{WithPacing(math.NaN(), time.Second), "WithPacing"},
		{WithPacing(math.Inf(1), time.Second), "WithPacing"},
		{WithPacing(1, 0), "WithPacing"},
		{WithProbeEstimator(probe.Config{MinQueued: 1}), "MinQueued"},
		{WithProbeEstimator(probe.Config{TargetUtilization: 2}), "TargetUtilization"},
		{WithRecorder(nil), "WithRecorder"},
		{WithObserver(nil), "WithObserver"},
		{WithSmoother(nil), "WithSmoother"},
		{WithPacketOverhead(-1), "WithPacketOverhead"},
		{WithPacketOverhead(1001), "WithPacketOverhead"},
		{nil, "nil Option"},
	}
	for _, tt := range tests {
		e, err := New(tt.opt)
		if err == nil {
			e.Close()
			t.Errorf("New(%s) succeeded, want an error naming it", tt.name)
			continue
		}
		if !strings.Contains(err.Error(), tt.name) {
			t.Errorf("New(%s): %v, want the error to name %s", tt.name, err, tt.name)
		}
	}
}

// Probe clusters go out with queued media, tagged.
func TestPacerProbes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, err := New(WithStartBitrate(1_000_000))
		if err != nil {
			t.Fatal(err)
		}
		w := e.AddStream(twccInfo(testSSRC), &sink{})
		for i := range 200 {
			w.Write(twHeader(testSSRC, uint16(i), uint16(i)), make([]byte, 1000), nil)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		st := e.Stats()
		if st.Pacer.ProbeClusters == 0 || st.Pacer.ProbePackets == 0 {
			t.Errorf("no probe cluster sent: %+v", st.Pacer)
		}
		e.mu.Lock()
		tagged := 0
		for i := e.hist.first; i < e.hist.next; i++ {
			if e.hist.at(i).probe > 0 {
				tagged++
			}
		}
		e.mu.Unlock()
		if int64(tagged) != st.Pacer.ProbePackets {
			t.Errorf("%d packets tagged in the history, pacer sent %d", tagged, st.Pacer.ProbePackets)
		}
		e.Close()
	})
}

type timedSink struct {
	start time.Time
	at    []time.Duration
	seqs  []uint16
}

func (s *timedSink) Write(h *rtp.Header, payload []byte, _ interceptor.Attributes) (int, error) {
	s.at = append(s.at, time.Since(s.start))
	s.seqs = append(s.seqs, h.SequenceNumber)
	return len(payload), nil
}

// Concurrent writers, feedback and readers, under the race detector.
func TestConcurrentUse(t *testing.T) {
	e, err := New(WithStartBitrate(5_000_000))
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64
	e.OnTargetBitrateChange(func(int) { calls.Add(1) })
	var tw atomic.Uint32
	rec := twcc.NewRecorder(1)
	var recMu sync.Mutex
	start := time.Now()
	var wg sync.WaitGroup
	for g := range 4 {
		ssrc := uint32(100 + g)
		w := e.AddStream(twccInfo(ssrc), &sink{})
		wg.Go(func() {
			payload := make([]byte, 500)
			for i := range 1000 {
				n := uint16(tw.Add(1) - 1)
				w.Write(twHeader(ssrc, uint16(i), n), payload, nil)
				recMu.Lock()
				rec.Record(ssrc, n, time.Since(start).Microseconds())
				recMu.Unlock()
			}
		})
	}
	stop := make(chan struct{})
	var fbWG sync.WaitGroup
	fbWG.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			recMu.Lock()
			pkts := rec.BuildFeedbackPacket()
			recMu.Unlock()
			e.WriteRTCP(pkts, nil)
			_ = e.GetStats()
			_ = e.GetTargetBitrate()
			time.Sleep(time.Millisecond)
		}
	})
	wg.Wait()
	close(stop)
	fbWG.Wait()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if st := e.Stats(); st.PacketsSent != 4000 {
		t.Errorf("%d packets in the history, want 4000", st.PacketsSent)
	}
}

// halver is a smoother that halves the estimate and counts its calls.
type halver struct{ calls int }

func (h *halver) Smooth(_ bwe.Time, est bwe.Bitrate, _ bwe.Signals) bwe.Bitrate {
	h.calls++
	return est / 2
}
func (h *halver) Reset() {}

// WithSmoother puts a rate controller behind the smoother between the
// target and the encoder; with a rate controller of its own it is refused.
func TestWithSmoother(t *testing.T) {
	s := newSteadyFeedback()
	h := &halver{}
	e, err := New(WithClock(s.clk.Now), WithPacer(false), withManual(), WithStartBitrate(1_000_000), WithSmoother(h))
	if err != nil {
		t.Fatal(err)
	}
	w := e.AddStream(twccInfo(testSSRC), &sink{})
	for range 200 {
		if err := e.WriteRTCP(s.step(w), nil); err != nil {
			t.Fatal(err)
		}
	}
	target, enc := e.GetTargetBitrate(), e.EncoderBitrate()
	if h.calls == 0 || enc <= 0 || float64(enc) > 0.6*float64(target) {
		t.Errorf("after 200 feedback steps: smoother called %d times, encoder %d bps, target %d bps; want calls and an encoder rate near half the target", h.calls, enc, target)
	}
	rc, err := ratecontrol.New(ratecontrol.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(WithSmoother(&halver{}), WithRateController(rc)); err == nil || !strings.Contains(err.Error(), "WithSmoother and WithRateController") {
		t.Errorf("New(WithSmoother, WithRateController) error %v, want one naming both", err)
	}
}

// WithPacketOverhead adds its bytes to every packet the estimator
// accounts, and EncoderBitrate gives the media's share of the target.
func TestPacketOverhead(t *testing.T) {
	for _, overhead := range []int{0, 44} {
		s := newSteadyFeedback()
		var rec bytes.Buffer
		e, err := New(WithClock(s.clk.Now), WithPacer(false), withManual(), WithStartBitrate(1_000_000),
			WithRecorder(&rec), WithPacketOverhead(overhead))
		if err != nil {
			t.Fatal(err)
		}
		// The packet as written: its header, with the transport-wide
		// extension, and 1100 bytes of payload.
		size := s.h.MarshalSize() + len(s.pay)
		w := e.AddStream(twccInfo(testSSRC), &sink{})
		for range 50 {
			if err := e.WriteRTCP(s.step(w), nil); err != nil {
				t.Fatal(err)
			}
		}
		target, enc := e.GetTargetBitrate(), e.EncoderBitrate()
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		r, err := traces.NewFeedbackReader(bytes.NewReader(rec.Bytes()), "overhead")
		if err != nil {
			t.Fatal(err)
		}
		var n int
		for {
			fb, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range fb.Packets {
				n++
				if p.Size != bwe.ByteCount(size+overhead) {
					t.Fatalf("overhead %d: packet %d accounted as %d bytes, want %d + %d", overhead, p.Seq, p.Size, size, overhead)
				}
			}
		}
		if n < 50*16 {
			t.Errorf("overhead %d: %d packets recorded, want %d", overhead, n, 50*16)
		}
		want := bwe.Bitrate(target).Scale(float64(size) / float64(size+overhead))
		// The mean packet size starts at 1200 bytes and converges on
		// the packets' size: within a kbps after 800 packets.
		if d := enc - int(want); d < -1000 || d > 1000 {
			t.Errorf("overhead %d: EncoderBitrate %d with target %d, want %v (the share of %d-byte packets)", overhead, enc, target, want, size)
		}
	}
}
