package pionbwe

import (
	"testing"
	"time"

	"github.com/bwelab/bwe/probe"
	"github.com/bwelab/bwe/trendline"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/logging"
	"github.com/pion/rtcp"
)

func quietGCC(b *testing.B, opts ...gcc.Option) *gcc.SendSideBWE {
	lf := logging.NewDefaultLoggerFactory()
	lf.DefaultLogLevel = logging.LogLevelDisabled
	g, err := gcc.NewSendSideBWE(append([]gcc.Option{gcc.WithLoggerFactory(lf)}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	return g
}

// BenchmarkWriteRTP measures one RTP packet through the writer AddStream
// returns, ours and pion's gcc on identical packets: without pacer (pion:
// its NoOpPacer, which also records the packet synchronously), and with
// the pacer queueing it (ours drained in the loop, pion's by its own
// goroutine).
func BenchmarkWriteRTP(b *testing.B) {
	run := func(b *testing.B, s *steadyFeedback, w interceptor.RTPWriter, after func()) {
		b.ReportAllocs()
		for b.Loop() {
			s.clk.Advance(100 * time.Microsecond)
			s.h.SequenceNumber = s.tw
			s.ext[0], s.ext[1] = byte(s.tw>>8), byte(s.tw)
			w.Write(s.h, s.pay, nil)
			s.tw++
			if after != nil {
				after()
			}
		}
	}
	b.Run("pionbwe", func(b *testing.B) {
		s := newSteadyFeedback()
		e, _ := New(WithPacer(false), withManual(), WithClock(s.clk.Now))
		run(b, s, e.AddStream(twccInfo(testSSRC), &sink{}), nil)
	})
	b.Run("pion-gcc", func(b *testing.B) {
		g := quietGCC(b, gcc.SendSideBWEPacer(gcc.NewNoOpPacer()))
		defer g.Close()
		run(b, newSteadyFeedback(), g.AddStream(twccInfo(testSSRC), &sink{}), nil)
	})
	b.Run("pionbwe-paced", func(b *testing.B) {
		s := newSteadyFeedback()
		e, _ := New(withManual(), WithClock(s.clk.Now))
		run(b, s, e.AddStream(twccInfo(testSSRC), &sink{}), func() { e.sendHead(true) })
	})
	b.Run("pion-gcc-paced", func(b *testing.B) {
		g := quietGCC(b)
		defer g.Close()
		run(b, newSteadyFeedback(), g.AddStream(twccInfo(testSSRC), &sink{}), nil)
	})
}

// BenchmarkFeedback measures a steady feedback step, 16 packets sent and
// one TWCC packet reporting them, ours and pion's gcc (NoOpPacer) on
// identical packets; ns/pkt divides by the 16 packets.
func BenchmarkFeedback(b *testing.B) {
	run := func(b *testing.B, s *steadyFeedback, w interceptor.RTPWriter, rtcpw func([]rtcp.Packet, interceptor.Attributes) error) {
		b.ReportAllocs()
		for b.Loop() {
			rtcpw(s.step(w), nil)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*16), "ns/pkt")
	}
	b.Run("pionbwe", func(b *testing.B) {
		s := newSteadyFeedback()
		e, _ := New(WithPacer(false), withManual(), WithClock(s.clk.Now))
		run(b, s, e.AddStream(twccInfo(testSSRC), &sink{}), e.WriteRTCP)
	})
	b.Run("pionbwe-live", func(b *testing.B) {
		// The live-push configuration: the robust detector, probe
		// clusters measured over their queued packets.
		s := newSteadyFeedback()
		det, err := trendline.NewRobust(trendline.DefaultRobustConfig())
		if err != nil {
			b.Fatal(err)
		}
		e, err := New(WithPacer(false), withManual(), WithClock(s.clk.Now),
			WithDelayDetector(det), WithProbeEstimator(probe.Config{QueuedRate: true}))
		if err != nil {
			b.Fatal(err)
		}
		run(b, s, e.AddStream(twccInfo(testSSRC), &sink{}), e.WriteRTCP)
	})
	b.Run("pion-gcc", func(b *testing.B) {
		s := newSteadyFeedback()
		g := quietGCC(b, gcc.SendSideBWEPacer(gcc.NewNoOpPacer()))
		defer g.Close()
		run(b, s, g.AddStream(twccInfo(testSSRC), &sink{}), g.WriteRTCP)
	})
}
