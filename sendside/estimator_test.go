package sendside

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/lossbased"
)

const ms = time.Millisecond

// at returns the instant d after the origin.
func at(d time.Duration) bwe.Time { return bwe.TimeFromDuration(d) }

// feeder scripts feedback: a sender pacing 1200-byte packets at a given
// rate through a bottleneck of a given capacity and one-way delay, with
// random loss, reported in one batch per call.
type feeder struct {
	capacity bwe.Bitrate
	delay    time.Duration
	loss     float64
	rng      *rand.Rand
	seq      int64
	next     bwe.Time // next send
	free     bwe.Time // when the bottleneck is next idle
	buf      []bwe.PacketResult
}

func newFeeder(capacity bwe.Bitrate, delay time.Duration, loss float64) *feeder {
	return &feeder{capacity: capacity, delay: delay, loss: loss, rng: rand.New(rand.NewPCG(7, 11)), buf: make([]bwe.PacketResult, 0, 4096)}
}

// batch sends at rate until now and returns the feedback of everything
// sent, as the receiver reports it one delay after the last arrival
// (feedback time now + 2 × delay, on one shared clock).
func (f *feeder) batch(now bwe.Time, rate bwe.Bitrate) bwe.Feedback {
	f.buf = f.buf[:0]
	step := time.Duration(9600 * int64(time.Second) / int64(max(rate, 1)))
	service := time.Duration(9600 * int64(time.Second) / int64(max(f.capacity, 1)))
	for ; f.next <= now; f.next = f.next.Add(step) {
		p := bwe.PacketResult{Seq: f.seq, SendTime: f.next, Size: 1200}
		f.seq++
		if f.rng.Float64() >= f.loss {
			f.free = max(f.free, f.next).Add(service)
			p.Arrival, p.Received = f.free.Add(f.delay), true
		}
		f.buf = append(f.buf, p)
	}
	return bwe.Feedback{Time: now.Add(2 * f.delay), Packets: f.buf}
}

func newEstimator(t testing.TB, cfg Config) *Estimator {
	t.Helper()
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// libwebrtc goog_cc_network_control_unittest
// InitializeTargetRateOnFirstProcessIntervalAfterNetworkAvailable: start
// 60 kbps, max 300 kbps ⇒ target 60 kbps and probes at 180 and 300 kbps;
// and the route-change row, start 120 kbps with max 1200 kbps ⇒ 360 and
// 720 kbps.
func TestInitialProbes(t *testing.T) {
	tests := []struct {
		start, max bwe.Bitrate
		want       []bwe.Bitrate
	}{
		{60 * bwe.Kbps, 300 * bwe.Kbps, []bwe.Bitrate{180 * bwe.Kbps, 300 * bwe.Kbps}},
		{120 * bwe.Kbps, 1200 * bwe.Kbps, []bwe.Bitrate{360 * bwe.Kbps, 720 * bwe.Kbps}},
	}
	for _, tc := range tests {
		e := newEstimator(t, Config{Start: tc.start, Max: tc.max})
		r := e.Process(0)
		if r.Target != tc.start || r.Limit != LimitStart {
			t.Errorf("start %v: first target %v (%v), want the start rate", tc.start, r.Target, r.Limit)
		}
		var got []bwe.Bitrate
		for _, p := range r.Probes {
			got = append(got, p.Bitrate)
		}
		if len(got) != len(tc.want) || got[0] != tc.want[0] || got[1] != tc.want[1] {
			t.Errorf("start %v, max %v: probes at %v, want %v", tc.start, tc.max, got, tc.want)
		}
		if again := e.Process(at(25 * ms)); len(again.Probes) != 0 {
			t.Errorf("start %v: second Process asks for %d more probes", tc.start, len(again.Probes))
		}
	}
	e := newEstimator(t, Config{NoProbing: true})
	if r := e.Process(0); len(r.Probes) != 0 {
		t.Errorf("NoProbing: %d probes scheduled", len(r.Probes))
	}
}

// SetLimits bounds the target at once, and a raised maximum is probed
// once initial probing is over.
func TestSetLimits(t *testing.T) {
	// No feedback comes in this test: keep the timeout (whose backoff
	// suppresses probing) out of the way.
	e := newEstimator(t, Config{Start: bwe.Mbps, Max: 2 * bwe.Mbps, FeedbackTimeout: time.Hour})
	e.Process(0)
	if r := e.SetLimits(at(10*ms), 100*bwe.Kbps, 500*bwe.Kbps); r.Target != 500*bwe.Kbps || r.Limit != LimitMax {
		t.Fatalf("SetLimits(100k, 500k): target %v (%v), want 500 kbps (max)", r.Target, r.Limit)
	}
	if r := e.SetLimits(at(20*ms), 3*bwe.Mbps, 0); r.Target != 3*bwe.Mbps || r.Limit != LimitMin {
		t.Fatalf("SetLimits(3M, 0): target %v (%v), want 3 Mbps (min, max raised to it)", r.Target, r.Limit)
	}
	e.SetLimits(at(30*ms), 100*bwe.Kbps, 2*bwe.Mbps)
	r := e.SetLimits(at(2100*ms), 100*bwe.Kbps, 8*bwe.Mbps)
	if len(r.Probes) != 1 || r.Probes[0].Bitrate != 8*bwe.Mbps {
		t.Errorf("raising the max to 8 Mbps: probes %+v, want one at 8 Mbps", r.Probes)
	}
}

// A probe cluster the estimator scheduled, reported back at the rate it
// was sent, raises the estimate to about that rate at once.
func TestProbeResultRaisesTarget(t *testing.T) {
	e := newEstimator(t, Config{Start: 300 * bwe.Kbps})
	req := e.Process(0).Probes[0] // 900 kbps
	var pk []bwe.PacketResult
	c := req.Cluster()
	gap := time.Duration(9600 * int64(time.Second) / int64(req.Bitrate))
	for i := range c.MinProbes + 2 {
		send := at(time.Duration(i) * gap)
		pk = append(pk, bwe.PacketResult{Seq: int64(i), SendTime: send, Arrival: send.Add(30 * ms), Size: 1200, Received: true, ProbeCluster: req.ID})
	}
	r := e.Update(bwe.Feedback{Time: at(100 * ms), Packets: pk})
	if r.Probe < 850*bwe.Kbps || r.Probe > 950*bwe.Kbps || !r.Delay.Probe {
		t.Fatalf("probe result %v (delay-based took it: %v), want about 900 kbps", r.Probe, r.Delay.Probe)
	}
	if r.Target != r.Probe {
		t.Errorf("target %v (%v), want the probe result %v", r.Target, r.Limit, r.Probe)
	}
	if st := e.Stats(); st.ProbePackets != int64(len(pk)) || st.UnknownProbes != 0 {
		t.Errorf("stats %+v, want %d probe packets, no unknown", st, len(pk))
	}
	// A cluster id this estimator never scheduled is counted, not used.
	pk = pk[:1]
	pk[0].ProbeCluster, pk[0].Seq = 999, 100
	e.Update(bwe.Feedback{Time: at(150 * ms), Packets: pk})
	if st := e.Stats(); st.UnknownProbes != 1 {
		t.Errorf("UnknownProbes = %d, want 1", st.UnknownProbes)
	}
}

// When feedback stops, the target backs off by TimeoutBackoff every
// TimeoutInterval once FeedbackTimeout has passed, and never rises while
// it is missing; the delay detector's last verdict is not applied again.
func TestFeedbackTimeout(t *testing.T) {
	for _, loss := range lossbased.Names() {
		t.Run(loss, func(t *testing.T) {
			le, err := lossbased.NewByName(loss)
			if err != nil {
				t.Fatal(err)
			}
			e := newEstimator(t, Config{Start: bwe.Mbps, NoProbing: true, Loss: le})
			f := newFeeder(4*bwe.Mbps, 20*ms, 0)
			var r Result
			for now := 50 * ms; now <= 10*time.Second; now += 50 * ms {
				r = e.Update(f.batch(at(now), e.Target()))
				e.Process(r.Time)
			}
			before, last := r.Target, r.Time
			steps := []struct {
				after time.Duration
				want  bwe.Bitrate
			}{
				{time.Second, before},                     // not yet: the timeout is strict
				{1025 * ms, before.Scale(0.8)},            // first backoff
				{2 * time.Second, before.Scale(0.8)},      // once per interval
				{2025 * ms, before.Scale(0.8).Scale(0.8)}, // second backoff, 2 s after the last feedback
			}
			prev := before
			for now := last; now <= last.Add(2025*ms); now = now.Add(25 * ms) {
				p := e.Process(now)
				if p.Target > prev {
					t.Fatalf("at +%v without feedback: target rose from %v to %v", now.Sub(last), prev, p.Target)
				}
				prev = p.Target
				for _, s := range steps {
					if now.Sub(last) == s.after && p.Target != s.want {
						t.Errorf("at +%v without feedback: target %v (%v), want %v", s.after, p.Target, p.Limit, s.want)
					}
				}
			}
			if got := e.Stats().Timeouts; got != 2 {
				t.Errorf("Timeouts = %d, want 2", got)
			}
			if prev >= before {
				t.Errorf("2 s without feedback: target %v, want below %v", prev, before)
			}
		})
	}
}

// With sends reported through OnSent, silence is a timeout only if
// something was sent: an idle sender expects no feedback.
func TestFeedbackTimeoutWaitsForSends(t *testing.T) {
	e := newEstimator(t, Config{Start: bwe.Mbps, NoProbing: true, Sends: SendsFromOnSent})
	for now := time.Duration(0); now <= 5*time.Second; now += 25 * ms {
		if r := e.Process(at(now)); r.TimedOut || r.Target != bwe.Mbps {
			t.Fatalf("idle at %v: target %v, timed out %v; want 1 Mbps held", now, r.Target, r.TimedOut)
		}
	}
	e.OnSent(at(5*time.Second), 1200)
	r := e.Process(at(6 * time.Second))
	if r.TimedOut {
		t.Fatalf("1 s after a send: timed out already (the timeout is strict)")
	}
	if r = e.Process(at(6*time.Second + 25*ms)); !r.TimedOut || r.Target != 800*bwe.Kbps {
		t.Fatalf("1.025 s after an unanswered send: target %v, timed out %v; want 800 kbps", r.Target, r.TimedOut)
	}
}

// libwebrtc averages the last 32 per-feedback maximum RTTs, each rounded
// to whole ms, truncating the mean.
func TestRTT(t *testing.T) {
	e := newEstimator(t, Config{NoProbing: true})
	steps := []struct {
		rtt, want time.Duration
	}{
		{100400 * time.Microsecond, 100 * ms},
		{100500 * time.Microsecond, 100 * ms}, // (100+101)/2 truncates
		{103 * ms, 101 * ms},                  // (100+101+103)/3 = 101.3
	}
	now := at(time.Second)
	pk := []bwe.PacketResult{{Size: 1200, Received: true}, {Size: 1200}}
	for i, s := range steps {
		now = now.Add(50 * ms)
		pk[0].Seq, pk[1].Seq = int64(2*i), int64(2*i+1)
		pk[0].SendTime, pk[0].Arrival = now.Add(-s.rtt), now.Add(-s.rtt/2)
		pk[1].SendTime = now.Add(-5 * time.Second) // lost: no RTT
		if got := e.Update(bwe.Feedback{Time: now, Packets: pk}).RTT; got != s.want {
			t.Errorf("step %d: feedback RTT %v ⇒ RTT %v, want %v", i, s.rtt, got, s.want)
		}
	}
	for i := range 32 {
		now = now.Add(50 * ms)
		pk[0].Seq, pk[1].Seq = int64(100+2*i), int64(101+2*i)
		pk[0].SendTime, pk[0].Arrival = now.Add(-50*ms), now.Add(-25*ms)
		e.Update(bwe.Feedback{Time: now, Packets: pk})
	}
	if got := e.Update(bwe.Feedback{Time: now.Add(50 * ms), Packets: pk[:0]}).RTT; got != 50*ms {
		t.Errorf("after 32 RTTs of 50 ms: %v, want 50ms", got)
	}
}

// Heavy loss cannot take the target below Min, nor anything above Max,
// whichever loss estimator is plugged in.
func TestLimitsUnderHeavyLoss(t *testing.T) {
	for _, loss := range lossbased.Names() {
		t.Run(loss, func(t *testing.T) {
			le, err := lossbased.NewByName(loss)
			if err != nil {
				t.Fatal(err)
			}
			lo, hi := 400*bwe.Kbps, 1500*bwe.Kbps
			e := newEstimator(t, Config{Min: lo, Max: hi, Start: bwe.Mbps, Loss: le})
			f := newFeeder(3*bwe.Mbps, 30*ms, 0.4)
			var r Result
			for now := 50 * ms; now <= 30*time.Second; now += 50 * ms {
				r = e.Update(f.batch(at(now), e.Target()))
				if r.Target < lo || r.Target > hi {
					t.Fatalf("at %v: target %v outside [%v, %v]", now, r.Target, lo, hi)
				}
				p := e.Process(r.Time)
				for _, q := range p.Probes {
					if q.Bitrate > 2*hi {
						t.Fatalf("at %v: probe at %v above twice the max", now, q.Bitrate)
					}
				}
			}
			// The lossy-link preset reads steady loss as random, not as
			// congestion, and may hold its rate; the others must fall to
			// the minimum.
			if loss != "lossy" && (r.Target != lo || r.Limit != LimitMin) {
				t.Errorf("after 30 s of 40 %% loss: target %v (%v), want the min %v", r.Target, r.Limit, lo)
			}
			t.Logf("after 30 s of 40 %% loss: target %v (%v)", r.Target, r.Limit)
		})
	}
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		cfg   Config
		field string
	}{
		{Config{Min: -1}, "Min"},
		{Config{Min: 2 * bwe.Mbps, Max: bwe.Mbps}, "Max"},
		{Config{Start: bwe.Gbps * 2}, "Start"},
		{Config{Sends: 7}, "Sends"},
		{Config{SentRateCap: 0.5}, "SentRateCap"},
		{Config{SentRateWindow: -1}, "SentRateWindow"},
		{Config{FeedbackTimeout: -1}, "FeedbackTimeout"},
		{Config{TimeoutBackoff: 1.5}, "TimeoutBackoff"},
		{Config{TimeoutInterval: -1}, "TimeoutInterval"},
		{Config{RTTWindow: -1}, "RTTWindow"},
		{Config{ALR: ALRConfig{Usage: -1}}, "ALRConfig.Usage"},
		{Config{ALR: ALRConfig{Start: 0.3, Stop: 0.6}}, "ALRConfig.Stop"},
		{Config{ALR: ALRConfig{Window: -1}}, "ALRConfig.Window"},
	}
	for _, tc := range tests {
		_, err := New(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("New(%+v) error = %v, want one naming %s", tc.cfg, err, tc.field)
		}
	}
	// The start rate defaults to 300 kbps, within the bounds.
	e := newEstimator(t, Config{Min: bwe.Mbps, Max: 2 * bwe.Mbps})
	if got := e.Config().Start; got != bwe.Mbps {
		t.Errorf("default start with Min 1 Mbps: %v, want 1 Mbps", got)
	}
}

// steadyEstimator returns an estimator warmed up on a 2 Mbps path with 1 %
// loss, and the feeder that drives it.
func steadyEstimator(t testing.TB, capacity bwe.Bitrate) (*Estimator, *feeder, bwe.Time) {
	e := newEstimator(t, Config{Start: capacity / 2})
	f := newFeeder(capacity, 25*ms, 0.01)
	now := at(0)
	for range 400 {
		now = now.Add(50 * ms)
		r := e.Update(f.batch(now, e.Target()))
		e.Process(r.Time)
	}
	return e, f, now
}

func TestCallsDoNotAllocate(t *testing.T) {
	e, f, now := steadyEstimator(t, 2*bwe.Mbps)
	fb := f.batch(now.Add(50*ms), e.Target())
	allocs := testing.AllocsPerRun(500, func() {
		now = now.Add(50 * ms)
		fb.Time = now
		for i := range fb.Packets {
			fb.Packets[i].Seq += int64(len(fb.Packets))
			fb.Packets[i].SendTime = fb.Packets[i].SendTime.Add(50 * ms)
			fb.Packets[i].Arrival = fb.Packets[i].Arrival.Add(50 * ms)
		}
		e.Update(fb)
		e.Process(now)
	})
	if allocs != 0 {
		t.Errorf("Update + Process allocate %v times per feedback, want 0", allocs)
	}
	o := newEstimator(t, Config{Sends: SendsFromOnSent})
	allocs = testing.AllocsPerRun(1000, func() {
		now = now.Add(ms)
		o.OnSent(now, 1200)
	})
	if allocs != 0 {
		t.Errorf("OnSent allocates %v times per packet, want 0", allocs)
	}
}

// BenchmarkUpdate measures one feedback batch (50 ms of packets) through
// the whole estimator, Process included, and reports the cost per packet.
func BenchmarkUpdate(b *testing.B) {
	for _, capacity := range []bwe.Bitrate{2 * bwe.Mbps, 20 * bwe.Mbps} {
		b.Run(capacity.String(), func(b *testing.B) {
			e, f, now := steadyEstimator(b, capacity)
			fb := f.batch(now.Add(50*ms), e.Target())
			packets := bwe.Feedback{Time: fb.Time, Packets: append([]bwe.PacketResult(nil), fb.Packets...)}
			n := len(packets.Packets)
			b.ReportAllocs()
			for b.Loop() {
				now = now.Add(50 * ms)
				packets.Time = now
				for i := range packets.Packets {
					p := &packets.Packets[i]
					p.Seq += int64(n)
					p.SendTime = p.SendTime.Add(50 * ms)
					p.Arrival = p.Arrival.Add(50 * ms)
				}
				e.Update(packets)
				e.Process(now)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(int64(b.N)*int64(n)), "ns/packet")
			b.ReportMetric(float64(n), "packets/feedback")
		})
	}
}
