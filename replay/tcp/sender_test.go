package tcp

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

func TestNewSenderRejects(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		field string
	}{
		{"unknown variant", Config{Variant: 7}, "Variant"},
		{"negative segment", Config{SegmentSize: -1}, "SegmentSize"},
		{"huge segment", Config{SegmentSize: MaxSegmentSize + 1}, "SegmentSize"},
		{"negative max window", Config{MaxWindow: -1}, "MaxWindow"},
		{"huge max window", Config{MaxWindow: MaxWindowLimit + 1}, "MaxWindow"},
		{"initial window above max", Config{InitialWindow: 11, MaxWindow: 10}, "InitialWindow"},
		{"negative initial window", Config{InitialWindow: -3}, "InitialWindow"},
		{"negative dupthresh", Config{DupThresh: -1}, "DupThresh"},
		{"huge dupthresh", Config{DupThresh: 65}, "DupThresh"},
		{"negative min RTO", Config{MinRTO: -time.Second}, "MinRTO"},
		{"max RTO below min", Config{MinRTO: time.Second, MaxRTO: time.Millisecond}, "MaxRTO"},
		{"initial RTO above max", Config{InitialRTO: 2 * time.Minute}, "InitialRTO"},
		{"negative initial RTO", Config{InitialRTO: -1}, "InitialRTO"},
		{"beta one", Config{CubicBeta: 1}, "CubicBeta"},
		{"beta NaN", Config{CubicBeta: math.NaN()}, "CubicBeta"},
		{"C negative", Config{CubicC: -0.4}, "CubicC"},
		{"C infinite", Config{CubicC: math.Inf(1)}, "CubicC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSender(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), "Config."+tt.field) {
				t.Fatalf("NewSender(%+v) error = %v, want one naming %s", tt.cfg, err, tt.field)
			}
		})
	}
	if _, err := NewSender(Config{}); err != nil {
		t.Fatalf("NewSender(zero Config) = %v", err)
	}
}

func TestDefaultConfig(t *testing.T) {
	if got, want := (Config{}).withDefaults(), DefaultConfig(); got != want {
		t.Errorf("zero Config with defaults = %+v, want %+v", got, want)
	}
	s := mustSender(t, Config{})
	st := s.Stats()
	if st.Cwnd != 10_000 || st.Ssthresh != math.MaxInt64 || st.RTO != time.Second || st.InFlight != 0 {
		t.Errorf("initial Stats = %+v, want Cwnd 10000 (RFC 6928 IW 10 × 1000 B), Ssthresh max, RTO 1s (RFC 6298)", st)
	}
	if s.Deadline() != bwe.MaxTime || s.CanSend(0) {
		t.Errorf("a sender without data: Deadline %v, CanSend %v; want MaxTime, false", s.Deadline(), s.CanSend(0))
	}
}

// Scenario (1): a bulk flow alone on the RFC 8867 §5.6 bottleneck
// (2 Mbps, 50 ms one way, 300 ms drop-tail queue) fills the link and
// shows its sawtooth: each loss episode cuts the window by the variant's
// factor.
func TestBulkSawtooth(t *testing.T) {
	const smss = 1000
	tests := []struct {
		v Variant
		// cutOK checks one window reduction, in bytes.
		cutOK            func(before, after bwe.ByteCount) bool
		cutRule          string
		minCuts, maxCuts int
	}{
		{
			// Reno halves the data in flight, which is the window less at
			// most two segments (the one just acknowledged and the room
			// short of a full segment): after ∈ [before/2 − SMSS, before/2].
			// Between episodes it climbs from W/2 to W ≈ BDP + queue = 100
			// segments at one segment per RTT, the RTT growing 4 ms per
			// segment queued: ∫ RTT dW = (100² − 50²)·4 ms / 2 = 15 s per
			// cycle, so 65 s hold the slow-start exit and about 4 more.
			v:       Reno,
			cutOK:   func(b, a bwe.ByteCount) bool { return a >= b/2-smss && a <= b/2 },
			cutRule: "[before/2 − 1 segment, before/2]",
			minCuts: 4, maxCuts: 7,
		},
		{
			// CUBIC multiplies the window by β = 0.7 (to the byte). Its
			// window is back at W_max ≈ 100 segments K = ∛(100·0.3/0.4) =
			// 4.2 s after each epoch starts; the loss is detected about
			// one RTT (0.4 s) later and recovery takes another, so a cycle
			// lasts about 5 s on average (fast convergence makes short and
			// long cycles alternate): 60 s hold 10 to 16.
			v: Cubic,
			cutOK: func(b, a bwe.ByteCount) bool {
				want := bwe.ByteCount(math.Round(float64(b) * 0.7))
				return a >= want-1 && a <= want+1
			},
			cutRule: "0.7 × before ± 1 B",
			minCuts: 10, maxCuts: 16,
		},
	}
	for _, tt := range tests {
		t.Run(tt.v.String(), func(t *testing.T) {
			s := mustSender(t, Config{Variant: tt.v})
			s.SetUnlimited()
			link := rfc8867Link()
			m := newSim(t, link, s)
			m.from, m.to = sec(5), sec(65)

			type cut struct {
				at            bwe.Time
				before, after bwe.ByteCount
			}
			var cuts []cut
			var before Stats
			m.onAck = func(_ int, _ int64, after bool) {
				if !after {
					before = s.Stats()
					return
				}
				if st := s.Stats(); st.Reductions > before.Reductions {
					cuts = append(cuts, cut{m.now, before.Cwnd, st.Cwnd})
				}
			}
			m.run(sec(65))

			util := float64(m.delivered[0]) / float64(link.rate.Over(60*time.Second))
			st := s.Stats()
			t.Logf("utilization %.4f over [5 s, 65 s); %d loss episodes, %d timeouts, %d lost, %d retransmitted; srtt %v",
				util, st.Reductions, st.Timeouts, st.Lost, st.Retransmitted, st.SRTT)
			if util < 0.90 {
				t.Errorf("utilization over [5 s, 65 s) = %.4f, want >= 0.90", util)
			}
			for i, c := range cuts {
				t.Logf("episode %d at %v: cwnd %.1f -> %.1f segments", i, c.at, s.segments(c.before), s.segments(c.after))
				if !tt.cutOK(c.before, c.after) {
					t.Errorf("episode %d at %v: cwnd %d -> %d B, want %s", i, c.at, c.before, c.after, tt.cutRule)
				}
			}
			if n := len(cuts); n < tt.minCuts || n > tt.maxCuts {
				t.Errorf("loss episodes in 65 s = %d, want %d..%d", n, tt.minCuts, tt.maxCuts)
			}
			if st.Timeouts != 0 {
				t.Errorf("timeouts = %d, want 0: SACK recovery repairs every loss of a bulk flow", st.Timeouts)
			}
		})
	}
}

// Scenario (3): without loss the window doubles every round trip.
func TestSlowStartDoubles(t *testing.T) {
	for _, v := range []Variant{Reno, Cubic} {
		t.Run(v.String(), func(t *testing.T) {
			s := mustSender(t, Config{Variant: v})
			s.SetUnlimited()
			link := &testLink{rate: bwe.Gbps, queue: 1 << 30, delay: 50 * time.Millisecond}
			m := newSim(t, link, s)
			// Round k's acknowledgements arrive within a millisecond
			// after k·100 ms; read the window half-way between rounds.
			for k, want := range []int64{10, 20, 40, 80, 160, 320, 640} {
				m.run(sec(0.1*float64(k) + 0.05))
				st := s.Stats()
				if got := int64(st.Cwnd / s.smss); got != want {
					t.Errorf("round %d: cwnd = %d segments, want %d", k, got, want)
				}
				if st.Lost != 0 || st.InFlight != st.Cwnd {
					t.Errorf("round %d: lost %d, in flight %d, cwnd %d; want no loss and a full window", k, st.Lost, st.InFlight, st.Cwnd)
				}
			}
		})
	}
}

// Scenario (4): with every acknowledgement lost, the timer fires at the
// RTO, the window falls to one segment and the timeout doubles each time
// up to MaxRTO (RFC 6298 §5, RFC 5681 §3.1).
func TestTimeoutBackoff(t *testing.T) {
	s := mustSender(t, Config{})
	s.SetUnlimited()
	var sent []Segment
	sendAll := func(now bwe.Time) {
		sent = sent[:0]
		for {
			seg, ok := s.Send(now)
			if !ok {
				return
			}
			sent = append(sent, seg)
		}
	}
	sendAll(0)
	if len(sent) != 10 {
		t.Fatalf("initial window: sent %d segments, want 10", len(sent))
	}
	steps := []struct {
		at           bwe.Time // OnTimer at this instant
		wantTimeouts int64
		wantRTO      time.Duration
		wantDeadline bwe.Time
	}{
		{sec(0.5), 0, time.Second, sec(1)}, // early: nothing happens
		{sec(1), 1, 2 * time.Second, sec(3)},
		{sec(3), 2, 4 * time.Second, sec(7)},
		{sec(7), 3, 8 * time.Second, sec(15)},
		{sec(15), 4, 16 * time.Second, sec(31)},
		{sec(31), 5, 32 * time.Second, sec(63)},
		{sec(63), 6, 60 * time.Second, sec(123)}, // capped at MaxRTO
		{sec(123), 7, 60 * time.Second, sec(183)},
	}
	for i, st := range steps {
		s.OnTimer(st.at)
		sendAll(st.at)
		got := s.Stats()
		if got.Timeouts != st.wantTimeouts || got.RTO != st.wantRTO || s.Deadline() != st.wantDeadline {
			t.Errorf("step %d: OnTimer(%v): timeouts %d, RTO %v, deadline %v; want %d, %v, %v",
				i, st.at, got.Timeouts, got.RTO, s.Deadline(), st.wantTimeouts, st.wantRTO, st.wantDeadline)
		}
		if st.wantTimeouts == 0 {
			continue
		}
		if got.Cwnd != 1000 || len(sent) != 1 || !sent[0].Retransmission || sent[0].Seq != 0 {
			t.Errorf("step %d: after the timeout cwnd %d B, sent %+v; want 1000 B and one retransmission of segment 0", i, got.Cwnd, sent)
		}
		// ssthresh = FlightSize/2 at the first timeout (10 segments in
		// flight), then held (RFC 5681 §3.1).
		if got.Ssthresh != 5000 {
			t.Errorf("step %d: ssthresh = %d, want 5000", i, got.Ssthresh)
		}
	}

	// With an RTT sample of 100 ms the timeout is SRTT + 4·RTTVAR =
	// 100 + 4·50 = 300 ms (RFC 6298 §2.2).
	s = mustSender(t, Config{})
	s.SetUnlimited()
	sendAll(0)
	s.OnAck(sec(0.1), 0)
	if got := s.Stats(); got.SRTT != 100*time.Millisecond || got.RTTVar != 50*time.Millisecond || got.RTO != 300*time.Millisecond {
		t.Errorf("after a 100 ms sample: SRTT %v RTTVAR %v RTO %v, want 100ms 50ms 300ms", got.SRTT, got.RTTVar, got.RTO)
	}
	if want := sec(0.4); s.Deadline() != want {
		t.Errorf("deadline after the cumulative ack at 100 ms = %v, want %v", s.Deadline(), want)
	}
	sendAll(sec(0.1)) // segments 10 and 11 fill the window of 11
	if len(sent) != 2 || sent[0].Seq != 10 || sent[1].Seq != 11 {
		t.Fatalf("sent %+v at 100 ms, want segments 10 and 11", sent)
	}
	s.OnTimer(sec(0.4))
	if got := s.Stats(); got.Timeouts != 1 || got.RTO != 600*time.Millisecond || got.Cwnd != 1000 {
		t.Errorf("timeout at 400 ms: timeouts %d RTO %v cwnd %d, want 1, 600ms, 1000", got.Timeouts, got.RTO, got.Cwnd)
	}
	// The first timeout's ssthresh is half the 11 segments then in flight.
	if got := s.Stats().Ssthresh; got != 5500 {
		t.Errorf("ssthresh after the timeout = %d, want 5500", got)
	}
	sendAll(sec(0.4))
	if len(sent) != 1 || sent[0].Seq != 1 {
		t.Fatalf("sent %+v after the timeout, want segment 1 again", sent)
	}
	// Segment 10's first transmission arrives late: it was never
	// retransmitted, so it is a valid 350 ms sample and ends the backoff
	// (RFC 6298 (5.7)): RTTVAR = 50 + (250−50)/4 = 100 ms,
	// SRTT = 100 + 250/8 = 131.25 ms, RTO = 531.25 ms.
	s.OnAck(sec(0.45), 10)
	if got := s.Stats(); got.RTO != 531250*time.Microsecond || got.SRTT != 131250*time.Microsecond || got.RTTVar != 100*time.Millisecond {
		t.Errorf("after a 350 ms sample: SRTT %v RTTVAR %v RTO %v; want 131.25ms 100ms 531.25ms", got.SRTT, got.RTTVar, got.RTO)
	}
	// Segment 1's acknowledgement may come from either transmission: no
	// sample (Karn's rule).
	s.OnAck(sec(0.46), 1)
	if got := s.Stats(); got.SRTT != 131250*time.Microsecond {
		t.Errorf("SRTT after the ack of a retransmitted segment = %v, want unchanged 131.25ms", got.SRTT)
	}
}

// Scenario (5): with 20 % random loss every byte of a finite file is
// eventually acknowledged.
func TestFiniteFileUnderRandomLoss(t *testing.T) {
	for _, v := range []Variant{Reno, Cubic} {
		for _, seed := range []uint64{1, 2, 3} {
			t.Run(v.String(), func(t *testing.T) {
				s := mustSender(t, Config{Variant: v})
				const size = 200_000
				s.AddData(size)
				link := rfc8867Link()
				link.loss, link.rng = 0.2, rand.New(rand.NewPCG(seed, 1))
				m := newSim(t, link, s)
				// A timeout is spurious if the oldest segment's
				// acknowledgement is already on its way.
				spurious, timeouts := 0, int64(0)
				m.onEvent = func() {
					if st := s.Stats(); st.Timeouts > timeouts {
						timeouts = st.Timeouts
						for _, a := range m.acks[m.head:] {
							if a.seq == s.una {
								spurious++
							}
						}
					}
				}
				end := sec(3600)
				for !s.Complete() && m.now < end {
					m.run(min(m.now.Add(time.Second), end))
				}
				st := s.Stats()
				t.Logf("seed %d: complete at %v; %d sent, %d lost, %d timeouts", seed, m.now, st.Sent, st.Lost, st.Timeouts)
				if !s.Complete() || st.AckedBytes != size || st.Acked != 200 {
					t.Fatalf("seed %d after %v: complete %v, acked %d B in %d segments; want all %d B in 200", seed, m.now, s.Complete(), st.AckedBytes, st.Acked, size)
				}
				// Every segment is sent once as new data; the rest are
				// retransmissions.
				if st.Retransmitted == 0 || st.Sent != 200+st.Retransmitted {
					t.Errorf("seed %d: sent %d, retransmitted %d; want retransmissions and sent = 200 + retransmitted", seed, st.Sent, st.Retransmitted)
				}
				if spurious != 0 {
					t.Errorf("seed %d: %d of %d timeouts fired while the oldest segment's ack was on its way", seed, spurious, st.Timeouts)
				}
				if s.Deadline() != bwe.MaxTime || st.InFlight != 0 {
					t.Errorf("seed %d: finished sender has deadline %v and %d B in flight", seed, s.Deadline(), st.InFlight)
				}
			})
		}
	}
}

// Scenario (6): two Reno flows with the same RTT share the RFC 8867
// bottleneck fairly.
func TestRenoFairness(t *testing.T) {
	a, b := mustSender(t, Config{}), mustSender(t, Config{})
	a.SetUnlimited()
	b.SetUnlimited()
	m := newSim(t, rfc8867Link(), a, b)
	m.start[1] = sec(2)
	m.from, m.to = sec(10), sec(70)
	m.run(sec(70))
	x, y := float64(m.delivered[0]), float64(m.delivered[1])
	jain := (x + y) * (x + y) / (2 * (x*x + y*y))
	t.Logf("delivered over [10 s, 70 s): %.0f B and %.0f B; Jain index %.4f", x, y, jain)
	if jain < 0.9 {
		t.Errorf("Jain index = %.4f, want >= 0.9", jain)
	}
	if util := (x + y) / float64((2 * bwe.Mbps).Over(60*time.Second)); util < 0.9 {
		t.Errorf("utilization = %.4f, want >= 0.9", util)
	}
}

// Scenario (2): after a loss, CUBIC's window follows
// W_cubic(t) = C·(t−K)³ + W_max, K = ∛((W_max − cwnd_epoch)/C), from the
// start of congestion avoidance (RFC 9438 §4.2).
func TestCubicFollowsCubic(t *testing.T) {
	s := mustSender(t, Config{Variant: Cubic})
	s.SetUnlimited()
	// 100 Mbps, 50 ms each way, no queue limit: the window, not the link,
	// limits the flow, and one forced loss makes one episode.
	link := &testLink{rate: 100 * bwe.Mbps, queue: 1 << 30, delay: 50 * time.Millisecond}
	m := newSim(t, link, s)
	dropped := false
	m.drop = func(_ int, seg Segment) bool {
		if seg.Seq == 300 && !dropped {
			dropped = true
			return true
		}
		return false
	}
	var wmax, cwndEpoch float64
	var epoch bwe.Time
	var before Stats
	m.onAck = func(_ int, _ int64, after bool) {
		if !after {
			before = s.Stats()
			return
		}
		st := s.Stats()
		if st.Reductions == 1 && before.Reductions == 0 {
			wmax = s.segments(before.Cwnd)
			cwndEpoch = s.segments(st.Cwnd)
		}
		if wmax > 0 && epoch == 0 && !s.InRecovery() {
			epoch = m.now // first acknowledgement in congestion avoidance
		}
	}
	for epoch == 0 && m.now < sec(3) {
		m.run(m.now.Add(10 * time.Millisecond))
	}
	if epoch == 0 {
		t.Fatal("no loss episode ended in the first 3 s")
	}
	const beta, c = 0.7, 0.4
	if want := wmax * beta; math.Abs(cwndEpoch-want) > 1e-3 {
		t.Errorf("window after the loss = %.3f segments, want β·W_max = 0.7 × %.3f = %.3f", cwndEpoch, wmax, want)
	}
	k := math.Cbrt((wmax - cwndEpoch) / c)
	w := func(t float64) float64 { return c*math.Pow(t-k, 3) + wmax }
	rtt := s.Stats().SRTT.Seconds()
	t.Logf("W_max %.2f, cwnd_epoch %.2f, K %.3f s, epoch at %v, SRTT %.1f ms", wmax, cwndEpoch, k, epoch, rtt*1e3)
	for _, dt := range []float64{0.5, k / 2, k - 1, k, k + 1, k + 2, k + 3} {
		m.run(epoch.Add(time.Duration(dt * float64(time.Second))))
		got := s.segments(s.Stats().Cwnd)
		want := w(dt)
		// Each ack moves cwnd by (W_cubic(t+RTT) − cwnd)/cwnd (RFC 9438
		// §4.4), so cwnd lags its target W_cubic(t+RTT) by up to about one
		// RTT of growth: allow that much plus one segment of rounding.
		tol := math.Abs(w(dt+rtt)-w(dt)) + 1
		t.Logf("t = K%+.3f s: cwnd %.2f, W_cubic %.2f, tolerance %.2f segments", dt-k, got, want, tol)
		if math.Abs(got-want) > tol || s.Stats().Reductions != 1 {
			t.Errorf("t = K%+.3f s: cwnd = %.2f segments, want W_cubic = %.2f ± %.2f (reductions %d)", dt-k, got, want, tol, s.Stats().Reductions)
		}
	}
}

// CUBIC fast convergence (RFC 8312 §4.6): a loss at a window below the
// previous W_max sets W_max = cwnd·(1+β)/2.
func TestCubicFastConvergence(t *testing.T) {
	s := mustSender(t, Config{Variant: Cubic})
	s.cwnd = 100_000
	s.reduce(100_000)
	if s.cub.wmax != 100 || s.Stats().Cwnd != 70_000 || s.Stats().Ssthresh != 70_000 {
		t.Fatalf("first loss at 100 segments: W_max %v, cwnd %d, ssthresh %d; want 100, 70000, 70000", s.cub.wmax, s.Stats().Cwnd, s.Stats().Ssthresh)
	}
	s.cwnd = 80_000
	s.reduce(80_000)
	if want := 80 * 1.7 / 2; math.Abs(s.cub.wmax-want) > 1e-9 || s.Stats().Cwnd != 56_000 {
		t.Errorf("second loss at 80 < W_max: W_max %v, cwnd %d; want %v, 56000", s.cub.wmax, s.Stats().Cwnd, want)
	}
}

// A lost retransmission is found like any loss, from later
// acknowledgements, without waiting for the timer.
func TestLostRetransmissionDetected(t *testing.T) {
	s := mustSender(t, Config{})
	s.SetUnlimited()
	link := &testLink{rate: 10 * bwe.Mbps, queue: 1 << 30, delay: 20 * time.Millisecond}
	m := newSim(t, link, s)
	drops := 0
	m.drop = func(_ int, seg Segment) bool {
		if seg.Seq == 50 && drops < 2 { // the original and the first retransmission
			drops++
			return true
		}
		return false
	}
	m.run(sec(2))
	st := s.Stats()
	if drops != 2 || st.Timeouts != 0 || st.Retransmitted != 2 || st.Reductions != 1 {
		t.Errorf("drops %d, timeouts %d, retransmitted %d, reductions %d; want 2, 0, 2, 1", drops, st.Timeouts, st.Retransmitted, st.Reductions)
	}
}

// Acknowledgements of unknown or already acknowledged segments change
// nothing but a counter.
func TestIgnoredAcks(t *testing.T) {
	s := mustSender(t, Config{})
	s.AddData(3500)
	var segs []Segment
	for {
		seg, ok := s.Send(0)
		if !ok {
			break
		}
		segs = append(segs, seg)
	}
	if len(segs) != 4 || segs[3].Size != 500 {
		t.Fatalf("sent %+v, want 3 full segments and one of 500 B", segs)
	}
	s.OnAck(sec(0.1), 1)
	before := s.Stats()
	for _, seq := range []int64{1, -1, 4, 1 << 40} {
		s.OnAck(sec(0.1), seq)
	}
	after := s.Stats()
	if after.IgnoredAcks != 4 || after.Acked != before.Acked || after.Cwnd != before.Cwnd {
		t.Errorf("after 4 bogus acks: %+v; before %+v", after, before)
	}
	for _, seq := range []int64{0, 2, 3} {
		s.OnAck(sec(0.1), seq)
	}
	if !s.Complete() || s.Stats().AckedBytes != 3500 {
		t.Errorf("all acknowledged: complete %v, acked %d B; want true, 3500", s.Complete(), s.Stats().AckedBytes)
	}
}
