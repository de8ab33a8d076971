package trendline

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// A small synthetic path for the detector comparisons: a paced sender of
// fixed-size packets, a bottleneck link with an unbounded FIFO queue, then a
// path adding base delay plus jitter, with arrivals kept in order:
//
//	depart_i  = max(send_i, depart_{i−1}) + size/capacity   (no link: send_i)
//	arrival_i = max(depart_i + base + jitter_i, arrival_{i−1})
//
// The jitter is drawn uniformly in [0, jitter], either afresh for every
// packet (i.i.d.) or, when jitterHold is set, held for an exponentially
// distributed time of mean jitterHold before the next draw (a path whose
// delay steps between levels, as radio links with changing scheduling do).
//
// Packets are grouped into group deltas by sendGrouper, the send-time
// grouping of libwebrtc's InterArrivalDelta.
type scenario struct {
	seed     uint64
	duration time.Duration
	size     bwe.ByteCount
	capacity bwe.Bitrate // 0: no bottleneck, hence no queue
	rate     func(t time.Duration) bwe.Bitrate
	base     time.Duration
	jitter   time.Duration // extra delay uniform in [0, jitter]
	// jitterHold, when positive, holds each jitter draw for Exp(jitterHold).
	jitterHold time.Duration
}

type simPacket struct {
	send, arrival bwe.Time
	size          bwe.ByteCount
}

func constRate(r bwe.Bitrate) func(time.Duration) bwe.Bitrate {
	return func(time.Duration) bwe.Bitrate { return r }
}

func stepRate(before, after bwe.Bitrate, at time.Duration) func(time.Duration) bwe.Bitrate {
	return func(t time.Duration) bwe.Bitrate {
		if t < at {
			return before
		}
		return after
	}
}

// serialization returns how long r takes to carry size bytes.
func serialization(size bwe.ByteCount, r bwe.Bitrate) time.Duration {
	return time.Duration(float64(size.Bits()) / r.Float() * float64(time.Second))
}

func (s scenario) packets() []simPacket {
	rnd := rand.New(rand.NewPCG(s.seed, 0x9e3779b97f4a7c15))
	var out []simPacket
	var linkFree, lastArrival bwe.Time
	var jitter, nextDraw time.Duration
	for t := time.Duration(0); t < s.duration; t += serialization(s.size, s.rate(t)) {
		send := bwe.TimeFromDuration(t)
		depart := send
		if s.capacity > 0 {
			depart = max(send, linkFree).Add(serialization(s.size, s.capacity))
			linkFree = depart
		}
		if s.jitter > 0 && t >= nextDraw {
			jitter = time.Duration(rnd.Int64N(int64(s.jitter) + 1))
			if s.jitterHold > 0 {
				nextDraw = t + time.Duration(rnd.ExpFloat64()*float64(s.jitterHold))
			}
		}
		arrival := max(depart.Add(s.base+jitter), lastArrival)
		lastArrival = arrival
		out = append(out, simPacket{send: send, arrival: arrival, size: s.size})
	}
	return out
}

func (s scenario) deltas() []bwe.GroupDelta {
	var g sendGrouper
	var out []bwe.GroupDelta
	for _, p := range s.packets() {
		if d, ok := g.add(p); ok {
			out = append(out, d)
		}
	}
	return out
}

// sendGrouper is libwebrtc's InterArrivalDelta (goog_cc/inter_arrival_delta.cc)
// with a 5 ms send-time group length (delay_based_bwe.cc:
// kSendTimeGroupLength), reduced to what in-order simulated packets need.
type sendGrouper struct {
	cur, prev         sendGroup
	haveCur, havePrev bool
}

type sendGroup struct {
	firstSend, send bwe.Time
	firstArrival    bwe.Time
	complete        bwe.Time
	size            bwe.ByteCount
}

func (g *sendGrouper) add(p simPacket) (bwe.GroupDelta, bool) {
	var d bwe.GroupDelta
	ok := false
	switch {
	case !g.haveCur:
		g.haveCur = true
		g.cur = sendGroup{firstSend: p.send, send: p.send, firstArrival: p.arrival}
	case p.send < g.cur.firstSend:
		return d, false
	case g.newGroup(p):
		if g.havePrev {
			d = bwe.GroupDelta{
				SendDelta:    g.cur.send.Sub(g.prev.send),
				ArrivalDelta: g.cur.complete.Sub(g.prev.complete),
				SizeDelta:    g.cur.size - g.prev.size,
				Arrival:      p.arrival,
				SendTime:     p.send,
			}
			if d.ArrivalDelta < 0 {
				return bwe.GroupDelta{}, false
			}
			ok = true
		}
		g.prev, g.havePrev = g.cur, true
		g.cur = sendGroup{firstSend: p.send, send: p.send, firstArrival: p.arrival}
	default:
		g.cur.send = max(g.cur.send, p.send)
	}
	g.cur.size += p.size
	g.cur.complete = p.arrival
	return d, ok
}

func (g *sendGrouper) newGroup(p simPacket) bool {
	arrDelta := p.arrival.Sub(g.cur.complete)
	sendDelta := p.send.Sub(g.cur.send)
	if sendDelta == 0 {
		return false
	}
	if arrDelta-sendDelta < 0 && arrDelta <= 5*time.Millisecond &&
		p.arrival.Sub(g.cur.firstArrival) < 100*time.Millisecond {
		return false // burst
	}
	return p.send.Sub(g.cur.firstSend) > 5*time.Millisecond
}

// detectors returns fresh default instances of the three detectors.
func detectors(t testing.TB) []struct {
	name string
	det  bwe.DelayDetector
} {
	t.Helper()
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	k, err := NewKalman(KalmanConfig{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRobust(RobustConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return []struct {
		name string
		det  bwe.DelayDetector
	}{{"Estimator", e}, {"Kalman", k}, {"Robust", r}}
}

// overuseEpisodes counts the deltas at which det enters Overusing.
func overuseEpisodes(det bwe.DelayDetector, ds []bwe.GroupDelta) int {
	n := 0
	prev := bwe.Normal
	for _, d := range ds {
		u := det.Update(d).Usage
		if u == bwe.Overusing && prev != bwe.Overusing {
			n++
		}
		prev = u
	}
	return n
}

// firstOveruseAfter feeds all deltas and returns how long after from the
// first Overusing verdict with Arrival ≥ from came, the number of episodes
// that started before from, and whether overuse was seen after from at all.
func firstOveruseAfter(det bwe.DelayDetector, ds []bwe.GroupDelta, from bwe.Time) (latency time.Duration, before int, found bool) {
	prev := bwe.Normal
	for _, d := range ds {
		u := det.Update(d).Usage
		if u == bwe.Overusing && prev != bwe.Overusing && d.Arrival < from {
			before++
		}
		prev = u
		if !found && u == bwe.Overusing && d.Arrival >= from {
			latency, found = d.Arrival.Sub(from), true
		}
	}
	return latency, before, found
}

// queueStart returns the arrival time of the first packet sent at or after
// at: the instant the receiver starts to see the queue grow.
func queueStart(ps []simPacket, at time.Duration) bwe.Time {
	for _, p := range ps {
		if p.send >= bwe.TimeFromDuration(at) {
			return p.arrival
		}
	}
	return bwe.MaxTime
}

// A clean path at 90 % load has no queue: nobody may call overuse.
func TestCleanPathNoOveruse(t *testing.T) {
	for _, capacity := range []bwe.Bitrate{2 * bwe.Mbps, 20 * bwe.Mbps} {
		s := scenario{seed: 1, duration: 60 * time.Second, size: 1200, capacity: capacity,
			rate: constRate(capacity.Scale(0.9)), base: 40 * time.Millisecond}
		ds := s.deltas()
		for _, d := range detectors(t) {
			if n := overuseEpisodes(d.det, ds); n != 0 {
				t.Errorf("%v link at 90%%, %s: %d overuse episodes in 60 s, want 0", capacity, d.name, n)
			}
		}
	}
}

// jitterEpisodes runs every detector over the jitter-only scenario (no
// bottleneck, so no queue) at each rate and jitter amplitude and returns the
// overuse episodes per case and in total, logging them.
func jitterEpisodes(t *testing.T, hold time.Duration) (perCase []map[string]int, total map[string]int) {
	t.Helper()
	total = map[string]int{}
	for _, rate := range []bwe.Bitrate{1 * bwe.Mbps, 4 * bwe.Mbps} {
		for _, jitter := range []time.Duration{50 * time.Millisecond, 100 * time.Millisecond} {
			s := scenario{seed: 7, duration: 60 * time.Second, size: 1200,
				rate: constRate(rate), base: 40 * time.Millisecond, jitter: jitter, jitterHold: hold}
			ds := s.deltas()
			counts := map[string]int{}
			for _, d := range detectors(t) {
				counts[d.name] = overuseEpisodes(d.det, ds)
				total[d.name] += counts[d.name]
			}
			perCase = append(perCase, counts)
			t.Logf("%v, jitter U[0,%v] held %v, %d deltas in 60 s: overuse episodes Estimator %d, Kalman %d, Robust %d",
				rate, jitter, hold, len(ds), counts["Estimator"], counts["Kalman"], counts["Robust"])
		}
	}
	t.Logf("total: Estimator %d, Kalman %d, Robust %d", total["Estimator"], total["Kalman"], total["Robust"])
	return perCase, total
}

// The reported failure: i.i.d. jitter, no queue, no loss. The libwebrtc
// trendline calls overuse again and again (measured: 4 to 20 episodes a
// minute per case, 50 in all); Robust must call it at most a tenth as often.
func TestJitterFalseOveruse(t *testing.T) {
	perCase, total := jitterEpisodes(t, 0)
	for i, c := range perCase {
		if c["Estimator"] < 3 {
			t.Errorf("case %d: Estimator %d overuse episodes in 60 s, expected the trendline to misfire repeatedly (≥ 3)", i, c["Estimator"])
		}
		if 10*c["Robust"] > c["Estimator"] {
			t.Errorf("case %d: Robust %d overuse episodes, want ≤ 10%% of the trendline's %d", i, c["Robust"], c["Estimator"])
		}
	}
	if total["Estimator"] < 40 {
		t.Errorf("Estimator %d overuse episodes in all, want ≥ 40", total["Estimator"])
	}
}

// Jitter that holds its level for a while (mean 200 ms, then 1 s) before
// stepping: worse for every delay-gradient detector, since a step up looks
// like a burst of queue growth. Robust must still misfire at most a tenth as
// often as the trendline.
func TestSteppedJitterFalseOveruse(t *testing.T) {
	for _, hold := range []time.Duration{200 * time.Millisecond, time.Second} {
		_, total := jitterEpisodes(t, hold)
		if 10*total["Robust"] > total["Estimator"] {
			t.Errorf("held %v: Robust %d overuse episodes, want ≤ 10%% of the trendline's %d", hold, total["Robust"], total["Estimator"])
		}
	}
}

// Saturation: 10 s at 95 % of the link, then 105 %. Every detector must call
// overuse within 1 s of the queue starting to grow, and never before.
func TestSaturationDetected(t *testing.T) {
	const switchAt = 10 * time.Second
	for _, capacity := range []bwe.Bitrate{2 * bwe.Mbps, 20 * bwe.Mbps} {
		s := scenario{seed: 3, duration: switchAt + 3*time.Second, size: 1200, capacity: capacity,
			rate: stepRate(capacity.Scale(0.95), capacity.Scale(1.05), switchAt), base: 40 * time.Millisecond}
		ps := s.packets()
		start := queueStart(ps, switchAt)
		ds := s.deltas()
		for _, d := range detectors(t) {
			lat, before, found := firstOveruseAfter(d.det, ds, start)
			t.Logf("%v link 95%%→105%%, %s: overuse %v after the queue starts", capacity, d.name, lat)
			if before != 0 {
				t.Errorf("%v, %s: %d overuse episodes before the queue grew, want 0", capacity, d.name, before)
			}
			if !found || lat > time.Second {
				t.Errorf("%v, %s: overuse found=%v after %v, want within 1s", capacity, d.name, found, lat)
			}
		}
	}
}

// Jitter plus a real overload: Robust must still see the queue.
func TestJitterPlusOverload(t *testing.T) {
	const switchAt = 10 * time.Second
	for _, jitter := range []time.Duration{50 * time.Millisecond, 100 * time.Millisecond} {
		s := scenario{seed: 11, duration: switchAt + 5*time.Second, size: 1200, capacity: 2 * bwe.Mbps,
			rate:   stepRate(1900*bwe.Kbps, 2100*bwe.Kbps, switchAt),
			base:   40 * time.Millisecond,
			jitter: jitter}
		ps := s.packets()
		start := queueStart(ps, switchAt)
		ds := s.deltas()
		for _, d := range detectors(t) {
			lat, before, found := firstOveruseAfter(d.det, ds, start)
			t.Logf("2 Mbps 95%%→105%%, jitter U[0,%v], %s: %d episodes before, first overuse after the queue starts: %v (found %v)",
				jitter, d.name, before, lat, found)
			if d.name == "Robust" && (before != 0 || !found || lat > 2*time.Second) {
				t.Errorf("jitter %v: Robust %d episodes before the queue grew, overuse found=%v after %v; want 0 before and overuse within 2s",
					jitter, before, found, lat)
			}
		}
	}
}

// Both halves of Robust's design are needed: the lower envelope alone
// (both tests disabled: Z ≈ 0 leaves only MinSlope) and the two tests alone
// (4 ms buckets hold one group each, so there is no envelope) each misfire
// more often under jitter than the combination.
func TestRobustAblation(t *testing.T) {
	variants := []struct {
		name string
		cfg  RobustConfig
	}{
		{"Robust", RobustConfig{}},
		{"envelope only", RobustConfig{Z: 1e-9}},
		{"tests only", RobustConfig{BucketWidth: 4 * time.Millisecond, Buckets: 250}},
	}
	counts := make([]int, len(variants))
	for _, hold := range []time.Duration{0, 200 * time.Millisecond} {
		for _, rate := range []bwe.Bitrate{1 * bwe.Mbps, 4 * bwe.Mbps} {
			for _, jitter := range []time.Duration{100 * time.Millisecond} {
				s := scenario{seed: 7, duration: 60 * time.Second, size: 1200,
					rate: constRate(rate), base: 40 * time.Millisecond, jitter: jitter, jitterHold: hold}
				ds := s.deltas()
				for i, v := range variants {
					r, err := NewRobust(v.cfg)
					if err != nil {
						t.Fatal(err)
					}
					counts[i] += overuseEpisodes(r, ds)
				}
			}
		}
	}
	for i, v := range variants {
		t.Logf("%s: %d overuse episodes over the i.i.d. and 200 ms-held U[0,100ms] jitter cases", v.name, counts[i])
		if i > 0 && counts[i] <= counts[0] {
			t.Errorf("%s: %d overuse episodes, want more than Robust's %d", v.name, counts[i], counts[0])
		}
	}
}
