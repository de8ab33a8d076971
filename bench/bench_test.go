package bench

import (
	"runtime"
	"testing"

	"github.com/bwelab/bwe/pionbwe"
	"github.com/bwelab/bwe/replay"
	"github.com/bwelab/bwe/sendside"
	"github.com/bwelab/bwe/trendline"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/logging"
)

// config is one of our estimator configurations; build makes a fresh one
// (its parts are owned by the estimator built from it).
type config struct {
	name  string
	build func() (sendside.Config, error)
}

var configs = []config{
	{"plain", func() (sendside.Config, error) { return sendside.DefaultConfig(), nil }},
	{"robust", func() (sendside.Config, error) {
		d, err := trendline.NewByName("robust")
		if err != nil {
			return sendside.Config{}, err
		}
		cfg := sendside.DefaultConfig()
		cfg.Delay.Detector = d
		return cfg, nil
	}},
	{"smooth", func() (sendside.Config, error) {
		e, err := replay.ParseEstimator("smooth")
		if err != nil {
			return sendside.Config{}, err
		}
		return e.Config()
	}},
}

// warmups is how many replays run before measuring: the first grows the
// buffers (send history, sorting and batch buffers, pacer slots), the
// second reaches the steady state of the replay cycle.
const warmups = 2

// newAdapter returns our adapter with configuration c on its own clock;
// paced turns its pacer on (padding off: the recorded feedback names the
// packets the session sent, which padding would renumber).
func newAdapter(tb testing.TB, c config, paced bool) (*pionbwe.Estimator, *clock) {
	tb.Helper()
	cfg, err := c.build()
	if err != nil {
		tb.Fatal(err)
	}
	clk := newClock()
	e, err := pionbwe.New(pionbwe.WithConfig(cfg), pionbwe.WithClock(clk.Now), pionbwe.WithPacer(paced), pionbwe.WithPadding(false))
	if err != nil {
		tb.Fatal(err)
	}
	return e, clk
}

// newCore returns the bare estimator with configuration c.
func newCore(tb testing.TB, c config) *sendside.Estimator {
	tb.Helper()
	cfg, err := c.build()
	if err != nil {
		tb.Fatal(err)
	}
	e, err := sendside.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// newGCC returns pion's gcc with logging off; nopacer gives it pion's
// NoOpPacer instead of its default LeakyBucketPacer.
func newGCC(tb testing.TB, nopacer bool) *gcc.SendSideBWE {
	tb.Helper()
	lf := logging.NewDefaultLoggerFactory()
	lf.DefaultLogLevel = logging.LogLevelDisabled
	opts := []gcc.Option{gcc.WithLoggerFactory(lf)}
	if nopacer {
		opts = append(opts, gcc.SendSideBWEPacer(gcc.NewNoOpPacer()))
	}
	g, err := gcc.NewSendSideBWE(opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

// meter counts the allocations and CPU time of the measured stretches
// of a benchmark (the whole process: estimator goroutines included).
type meter struct {
	ms             runtime.MemStats
	mallocs, bytes uint64
	cpu0, cpu      int64 // ns
}

func (m *meter) start() {
	runtime.ReadMemStats(&m.ms)
	m.cpu0 = cpuTime()
}

func (m *meter) stop() {
	m.cpu += cpuTime() - m.cpu0
	mallocs, bytes := m.ms.Mallocs, m.ms.TotalAlloc
	runtime.ReadMemStats(&m.ms)
	m.mallocs += m.ms.Mallocs - mallocs
	m.bytes += m.ms.TotalAlloc - bytes
}

// report reports the per-packet metrics of b.N replays of the session.
func (m *meter) report(b *testing.B) {
	n := float64(b.N) * sessionPackets
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/packet")
	b.ReportMetric(float64(m.mallocs)/n, "allocs/packet")
	b.ReportMetric(float64(m.bytes)/n, "B/packet")
	if m.cpu >= 0 && cpuTimeKnown {
		b.ReportMetric(float64(m.cpu)/n, "cpu-ns/packet")
	}
}

// BenchmarkSession replays the session (RTP headers through the
// AddStream writer, TWCC feedback through WriteRTCP) into pion's gcc and
// into our adapter; one op is one replay of the whole session.
func BenchmarkSession(b *testing.B) {
	s := getSession(b)
	b.Run("impl=pion-gcc", func(b *testing.B) {
		// Its LeakyBucketPacer sends on the wall clock at 1.5 × a target
		// starting at 10 kbps: in a tight loop its queue only grows. The
		// estimator is therefore replaced after every replay, outside the
		// measured time, so that memory stays bounded.
		g := newGCC(b, false)
		p := newPlayer(s, g, nil)
		var m meter
		b.ReportAllocs()
		m.start()
		for b.Loop() {
			if err := p.replay(); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			m.stop()
			if err := g.Close(); err != nil {
				b.Fatal(err)
			}
			g = newGCC(b, false)
			p = newPlayer(s, g, nil)
			m.start()
			b.StartTimer()
		}
		m.stop()
		m.report(b)
		if err := g.Close(); err != nil {
			b.Fatal(err)
		}
	})
	b.Run("impl=pion-gcc-nopacer", func(b *testing.B) {
		g := newGCC(b, true)
		p := newPlayer(s, g, nil)
		runPlayer(b, p)
		if err := g.Close(); err != nil {
			b.Fatal(err)
		}
	})
	for _, c := range configs {
		for _, paced := range []bool{false, true} {
			name := "impl=bwe-" + c.name
			if paced {
				name += "-paced"
			}
			b.Run(name, func(b *testing.B) {
				e, clk := newAdapter(b, c, paced)
				runPlayer(b, newPlayer(s, e, clk))
				if err := e.Close(); err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}

// runPlayer measures replays of p on one estimator, after warmups.
func runPlayer(b *testing.B, p *player) {
	for range warmups {
		if err := p.replay(); err != nil {
			b.Fatal(err)
		}
	}
	var m meter
	b.ReportAllocs()
	m.start()
	for b.Loop() {
		if err := p.replay(); err != nil {
			b.Fatal(err)
		}
	}
	m.stop()
	m.report(b)
}

// BenchmarkCore replays the session's feedback batches, as the adapter
// gives them to its estimator, into the bare sendside.Estimator: Update
// for every batch and Process on the adapter's timer grid. One op is one
// replay of the whole session.
func BenchmarkCore(b *testing.B) {
	s := getSession(b)
	for _, c := range configs {
		b.Run("config="+c.name, func(b *testing.B) {
			p := newCorePlayer(s, newCore(b, c))
			for range warmups {
				p.replay()
			}
			var m meter
			b.ReportAllocs()
			m.start()
			for b.Loop() {
				p.replay()
			}
			m.stop()
			m.report(b)
		})
	}
}
