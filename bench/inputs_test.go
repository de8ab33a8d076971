package bench

import (
	"bytes"
	"testing"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/sendside"
	"github.com/pion/rtcp"
)

// wire returns the session's packets and feedback as bytes, unshifted.
func wire(t *testing.T, s *session) (rtpBytes, rtcpBytes []byte) {
	t.Helper()
	for i := range s.headers {
		b, err := s.headers[i].Marshal()
		if err != nil {
			t.Fatal(err)
		}
		rtpBytes = append(rtpBytes, b...)
	}
	for _, ev := range s.feedback {
		b, err := rtcp.Marshal(ev.pkts)
		if err != nil {
			t.Fatal(err)
		}
		rtcpBytes = append(rtcpBytes, b...)
	}
	return rtpBytes, rtcpBytes
}

func TestSessionInputsIdentical(t *testing.T) {
	s := getSession(t)

	// The generator is deterministic, and the seed matters.
	a, err := newSession(sessionSeed)
	if err != nil {
		t.Fatal(err)
	}
	b, err := newSession(sessionSeed)
	if err != nil {
		t.Fatal(err)
	}
	other, err := newSession(sessionSeed + 1)
	if err != nil {
		t.Fatal(err)
	}
	ra, fa := wire(t, a)
	rb, fb := wire(t, b)
	_, fo := wire(t, other)
	if !bytes.Equal(ra, rb) || !bytes.Equal(fa, fb) {
		t.Fatalf("two sessions of seed %d differ", sessionSeed)
	}
	if bytes.Equal(fa, fo) {
		t.Errorf("sessions of seeds %d and %d have the same feedback", sessionSeed, sessionSeed+1)
	}
	if !sameBatches(a, b) {
		t.Errorf("two sessions of seed %d have different recorded batches", sessionSeed)
	}

	// The session is what the package documentation says.
	lost := s.statuses - s.received
	t.Logf("session: %d packets over %v, %d feedback events (%d TWCC packets), %d statuses: %d received, %d lost (%.1f %%)",
		sessionPackets, sessionDuration, len(s.feedback), s.twccPackets, s.statuses, s.received, lost, 100*float64(lost)/float64(s.statuses))
	if got, want := len(s.feedback), int((sessionDuration-oneWayDelay)/feedbackInterval); got != want {
		t.Errorf("%d feedback events, want one every %v: %d", got, feedbackInterval, want)
	}
	if s.statuses < sessionPackets*9/10 || s.statuses > sessionPackets {
		t.Errorf("%d statuses reported of %d packets sent", s.statuses, sessionPackets)
	}
	// 2.5 Mbps into 2 Mbps: the drop-tail queue drops about a fifth.
	if lost < s.statuses/10 || lost > s.statuses*3/10 {
		t.Errorf("%d of %d reported lost, want 10-30 %%", lost, s.statuses)
	}

	// Our adapter (pacer off) matches every status of every feedback
	// packet, replay after replay.
	e, clk := newAdapter(t, configs[0], false)
	p := newPlayer(s, e, clk)
	for k := 1; k <= 3; k++ {
		if err := p.replay(); err != nil {
			t.Fatal(err)
		}
		st := e.Stats()
		n := int64(k)
		if st.PacketsSent != n*sessionPackets || st.FeedbackPackets != n*int64(s.twccPackets) ||
			st.Batches != n*int64(len(s.feedback)) || st.Received != n*int64(s.received) || st.Lost != n*int64(lost) {
			t.Errorf("replay %d: sent %d, feedback packets %d, batches %d, received %d, lost %d; want %d, %d, %d, %d, %d",
				k, st.PacketsSent, st.FeedbackPackets, st.Batches, st.Received, st.Lost,
				n*sessionPackets, n*int64(s.twccPackets), n*int64(len(s.feedback)), n*int64(s.received), n*int64(lost))
		}
		if st.Unknown+st.Old+st.Duplicate+st.NoArrival+st.Malformed+st.Overflow+st.EmptyFeedback != 0 {
			t.Errorf("replay %d: skipped reports: %+v", k, st)
		}
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	// The paced adapter consumes every feedback packet too. In a tight
	// loop its pacer lags (see the package documentation): what it
	// matches is logged, not asserted.
	e, clk = newAdapter(t, configs[0], true)
	p = newPlayer(s, e, clk)
	if err := p.replay(); err != nil {
		t.Fatal(err)
	}
	if st := e.Stats(); st.FeedbackPackets != int64(s.twccPackets) || st.Malformed != 0 {
		t.Errorf("paced: feedback packets %d, malformed %d; want %d, 0", st.FeedbackPackets, st.Malformed, s.twccPackets)
	} else {
		t.Logf("paced: sent %d (%d flushed from a full queue), batches %d, received %d, lost %d, unknown %d",
			st.PacketsSent, st.Pacer.Flushed, st.Batches, st.Received, st.Lost, st.Unknown)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	// pion's gcc (NoOpPacer) records every packet, accepts every
	// feedback packet, and its estimate moves.
	g := newGCC(t, true)
	next := &counter{}
	pp := newPlayerTo(s, g, nil, next)
	// Its departure times are wall-clock readings: an arrival group, and
	// with it an update of its stats, closes every 5 ms of wall time.
	// Replay until they change.
	deadline := time.Now().Add(5 * time.Second)
	replays := 0
	for {
		if err := pp.replay(); err != nil {
			t.Fatal(err)
		}
		replays++
		st := g.GetStats()
		loss, _ := st["averageLoss"].(float64)
		target, _ := st["lossTargetBitrate"].(int)
		if loss > 0 && target > 0 {
			t.Logf("pion-gcc-nopacer after %d replays: %v", replays, st)
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("pion-gcc-nopacer: stats unchanged after %d replays: %v", replays, st)
			break
		}
	}
	if got, want := next.n.Load(), int64(replays)*sessionPackets; got != want {
		t.Errorf("pion-gcc-nopacer sent %d packets, want %d", got, want)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	// With its default pacer, every write and feedback is accepted.
	g = newGCC(t, false)
	pp = newPlayer(s, g, nil)
	if err := pp.replay(); err != nil {
		t.Fatal(err)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
}

// sameBatches reports whether a and b recorded the same batches.
func sameBatches(a, b *session) bool {
	if len(a.batches) != len(b.batches) || a.start.Time != b.start.Time {
		return false
	}
	for i := range a.batches {
		x, y := a.batches[i], b.batches[i]
		if x.Time != y.Time || len(x.Packets) != len(y.Packets) {
			return false
		}
		for j := range x.Packets {
			if x.Packets[j] != y.Packets[j] {
				return false
			}
		}
	}
	return true
}

// TestCoreSeesAdapterBatches checks that the bare estimator given the
// recorded batches follows the adapter's estimator exactly: the same
// target after every batch, over three replays, for every configuration.
func TestCoreSeesAdapterBatches(t *testing.T) {
	s := getSession(t)
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			var want, got []bwe.Bitrate
			e, clk := newAdapter(t, c, false)
			p := newPlayer(s, e, clk)
			p.onFeed = func() { want = append(want, e.Stats().Last.Target) }
			cp := newCorePlayer(s, newCore(t, c))
			cp.onFeed = func(r sendside.Result) { got = append(got, r.Target) }
			for range 3 {
				if err := p.replay(); err != nil {
					t.Fatal(err)
				}
				cp.replay()
			}
			if err := e.Close(); err != nil {
				t.Fatal(err)
			}
			// The core's first result is the starting batch's, which
			// the adapter gives at the first packet.
			if len(got) != len(want)+1 {
				t.Fatalf("core: %d results, adapter: %d batches (+1 start)", len(got), len(want))
			}
			for i := range want {
				if got[i+1] != want[i] {
					t.Fatalf("batch %d (replay %d): core target %v, adapter %v", i, i/len(s.feedback), got[i+1], want[i])
				}
			}
			t.Logf("%s: %d batches, last target %v", c.name, len(want), want[len(want)-1])
		})
	}
}

// TestSteadyStateAllocs asserts that a replay of the whole session
// allocates nothing once the estimator is warm: our adapter with the
// pacer off, and the bare estimator of every configuration.
func TestSteadyStateAllocs(t *testing.T) {
	s := getSession(t)
	t.Run("bwe-plain", func(t *testing.T) {
		e, clk := newAdapter(t, configs[0], false)
		p := newPlayer(s, e, clk)
		replay := func() {
			if err := p.replay(); err != nil {
				t.Fatal(err)
			}
		}
		for range warmups {
			replay()
		}
		for i := range 3 {
			if n := testing.AllocsPerRun(1, replay); n != 0 {
				t.Errorf("run %d: %v allocations per replay of %d packets, want 0", i, n, sessionPackets)
			}
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	})
	for _, c := range configs {
		t.Run("core-"+c.name, func(t *testing.T) {
			p := newCorePlayer(s, newCore(t, c))
			for range warmups {
				p.replay()
			}
			for i := range 3 {
				if n := testing.AllocsPerRun(1, p.replay); n != 0 {
					t.Errorf("run %d: %v allocations per replay of %d packets, want 0", i, n, sessionPackets)
				}
			}
		})
	}
}
