package sendside

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// randomSends returns n packets whose send times mostly move forward by a
// steady or jittered step, sometimes stand still, go back or jump far, and
// whose sizes are usually a packet's but sometimes zero, negative or huge.
func randomSends(rng *rand.Rand, n int, seq *int64, send *bwe.Time) []bwe.PacketResult {
	out := make([]bwe.PacketResult, n)
	for i := range out {
		switch rng.IntN(40) {
		case 0:
			*send = send.Add(-time.Duration(rng.IntN(200)) * time.Millisecond)
		case 1:
			*send = send.Add(time.Duration(rng.IntN(5000)) * time.Millisecond)
		case 2: // same instant
		case 3:
			*send = send.Add(time.Duration(rng.IntN(3000)) * time.Microsecond)
		default:
			*send = send.Add(3840 * time.Microsecond)
		}
		size := bwe.ByteCount(1200)
		switch rng.IntN(30) {
		case 0:
			size = 0
		case 1:
			size = -bwe.ByteCount(rng.IntN(100))
		case 2:
			size = bwe.ByteCount(rng.Int64N(math.MaxInt64))
		case 3:
			size = bwe.ByteCount(rng.IntN(100))
		}
		*seq++
		out[i] = bwe.PacketResult{Seq: *seq, SendTime: *send, Size: size, Received: rng.IntN(5) > 0}
	}
	return out
}

// onSentRun, as sendsFromFeedback uses it, leaves the detector as OnSent
// for each packet in turn does, and stops after the packets that enter or
// leave the region.
func TestALROnSentRunMatchesOnSent(t *testing.T) {
	one, err := NewALRDetector(ALRConfig{})
	if err != nil {
		t.Fatal(err)
	}
	run, _ := NewALRDetector(ALRConfig{})
	rng := rand.New(rand.NewPCG(21, 22))
	var seq int64
	send := bwe.Time(rng.Int64N(1 << 40))
	transitions := 0
	for batch := range 5000 {
		if batch%7 == 0 {
			// Estimates from far below to far above what is sent.
			r := bwe.Bitrate(rng.IntN(6000)) * bwe.Kbps
			one.SetEstimate(r)
			run.SetEstimate(r)
		}
		pkts := randomSends(rng, rng.IntN(20), &seq, &send)
		var want []int // indices after which the region changed
		for i := range pkts {
			was := one.inALR
			if one.OnSent(pkts[i].SendTime, pkts[i].Size) != was {
				want = append(want, i)
			}
		}
		var got []int
		for k := 0; k < len(pkts); {
			was, started := run.inALR, run.started
			n := run.onSentRun(pkts[k:])
			if n < 1 || n > len(pkts)-k {
				t.Fatalf("batch %d: onSentRun of %d packets accounted %d", batch, len(pkts)-k, n)
			}
			// It stops after the packet that changes the region, and
			// after the first packet, which only starts the clock.
			if run.inALR != was {
				got = append(got, k+n-1)
			} else if k+n < len(pkts) && started {
				t.Fatalf("batch %d: onSentRun stopped after %d of %d packets without a change", batch, n, len(pkts)-k)
			}
			k += n
		}
		if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(one, run) || math.Float64bits(one.remaining) != math.Float64bits(run.remaining) {
			t.Fatalf("batch %d: changes after %v, want %v; detector %+v, want %+v", batch, got, want, *run, *one)
		}
		transitions += len(want)
	}
	if transitions < 100 {
		t.Errorf("%d changes of region, want at least 100", transitions)
	}
}

// addRun leaves the sent rate as add for each packet does, and index
// finds the bucket the division finds.
func TestSentRateAddRunMatchesAdd(t *testing.T) {
	for _, window := range []time.Duration{time.Second, 333 * time.Millisecond, 5 * time.Microsecond} {
		one, run := newSentRate(window), newSentRate(window)
		rng := rand.New(rand.NewPCG(uint64(window), 1))
		var seq int64
		send := bwe.Time(rng.Int64N(1<<40) - 1<<39) // negative times too
		for batch := range 3000 {
			pkts := randomSends(rng, rng.IntN(20), &seq, &send)
			for i := range pkts {
				if us := pkts[i].SendTime.Micros(); one.index(pkts[i].SendTime) != us/one.bucketUs {
					t.Fatalf("window %v batch %d: index(%v) = %d, want %d", window, batch, pkts[i].SendTime, one.index(pkts[i].SendTime), us/one.bucketUs)
				}
				one.add(pkts[i].SendTime, pkts[i].Size)
			}
			run.addRun(pkts)
			if !reflect.DeepEqual(withoutMemo(one), withoutMemo(run)) {
				t.Fatalf("window %v batch %d: addRun left %+v, add %+v", window, batch, run, one)
			}
			r1, ok1 := one.rate(window / 10)
			r2, ok2 := run.rate(window / 10)
			if r1 != r2 || ok1 != ok2 || r1 != mustCompute(one, window/10) {
				t.Fatalf("window %v batch %d: rate %v %v, %v %v", window, batch, r1, ok1, r2, ok2)
			}
		}
	}
}

// withoutMemo returns s without its memo, which add and addRun both only
// invalidate.
func withoutMemo(s sentRate) sentRate {
	s.memo.valid, s.memo.capValid = false, false
	s.memo.minSpan, s.memo.rate, s.memo.ok, s.memo.cap, s.memo.capOK = 0, 0, false, 0, false
	return s
}

// Runs that start a bucket, continue it, reach back before the first
// packet within the newest bucket, or jump buckets, each checked against
// add.
func TestSentRateRuns(t *testing.T) {
	ms := func(v int64) bwe.Time { return bwe.Time(v * 1000) }
	tests := []struct {
		name string
		runs [][]bwe.Time // send times; every packet 1000 bytes
	}{
		{"one bucket", [][]bwe.Time{{ms(130), ms(131), ms(140)}}},
		{"earlier than the first, same bucket", [][]bwe.Time{{ms(130)}, {ms(110), ms(120)}}},
		{"next buckets", [][]bwe.Time{{ms(130)}, {ms(149), ms(150), ms(199), ms(200)}}},
		{"back a bucket", [][]bwe.Time{{ms(130), ms(260)}, {ms(240), ms(261)}}},
		{"past the window", [][]bwe.Time{{ms(130)}, {ms(5000), ms(130)}}},
		{"negative times", [][]bwe.Time{{ms(-130), ms(-120)}, {ms(-100), ms(10)}}},
	}
	for _, tc := range tests {
		one, run := newSentRate(time.Second), newSentRate(time.Second)
		for i, times := range tc.runs {
			pkts := make([]bwe.PacketResult, len(times))
			for k, at := range times {
				pkts[k] = bwe.PacketResult{SendTime: at, Size: 1000}
				one.add(at, 1000)
			}
			run.addRun(pkts)
			if !reflect.DeepEqual(withoutMemo(one), withoutMemo(run)) {
				t.Errorf("%s, run %d: addRun left %+v, add %+v", tc.name, i, run, one)
			}
		}
	}
}

func mustCompute(s sentRate, minSpan time.Duration) bwe.Bitrate {
	r, _ := s.compute(minSpan)
	return r
}

// refMaxRTT is updateRTT's input as first computed: the largest feedback
// time − send time of a received packet, −1 if none is larger.
func refMaxRTT(fb bwe.Feedback) time.Duration {
	maxRTT := time.Duration(-1)
	for _, p := range fb.Packets {
		if p.Received {
			maxRTT = max(maxRTT, fb.Time.Sub(p.SendTime))
		}
	}
	return maxRTT
}

// scanBatch finds what the loops it replaces found, and the RTT taken from
// the earliest send time is the largest, saturation included.
func TestScanBatchMatchesLoops(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	extremes := []bwe.Time{bwe.MinTime, bwe.MinTime + 1, -1, 0, 1, bwe.MaxTime - 1, bwe.MaxTime}
	for trial := range 20000 {
		n := 1 + rng.IntN(12)
		pkts := make([]bwe.PacketResult, n)
		fbTime := bwe.Time(rng.Int64N(1 << 40))
		if rng.IntN(10) == 0 {
			fbTime = extremes[rng.IntN(len(extremes))]
		}
		for i := range pkts {
			p := &pkts[i]
			p.Seq = rng.Int64N(1000) - 500
			p.SendTime = fbTime.Add(-time.Duration(rng.IntN(2000)-100) * time.Millisecond)
			if rng.IntN(10) == 0 {
				p.SendTime = extremes[rng.IntN(len(extremes))]
			}
			p.Received = rng.IntN(3) > 0
			if rng.IntN(4) == 0 {
				p.ProbeCluster = int32(rng.IntN(3) - 1)
			}
		}
		sc := scanBatch(pkts)
		lowest, highest, received, probes := pkts[0].Seq, pkts[0].Seq, false, false
		for _, p := range pkts {
			lowest, highest = min(lowest, p.Seq), max(highest, p.Seq)
			received = received || p.Received
			probes = probes || (p.Received && p.ProbeCluster > 0)
		}
		if sc.lowest != lowest || sc.highest != highest || (sc.flags&scanReceived != 0) != received || (sc.flags&scanProbes != 0) != probes {
			t.Fatalf("trial %d: scan %+v, want lowest %d highest %d received %v probes %v", trial, sc, lowest, highest, received, probes)
		}
		want := refMaxRTT(bwe.Feedback{Time: fbTime, Packets: pkts})
		got := time.Duration(-1)
		if received {
			got = max(got, fbTime.Sub(sc.minSend))
		}
		if got != want {
			t.Fatalf("trial %d: largest RTT %v from the earliest send time, want %v", trial, got, want)
		}
	}
}

// refSendsFromFeedback is sendsFromFeedback as first written: every new
// packet through accountSend.
func refSendsFromFeedback(e *Estimator, packets []bwe.PacketResult) {
	last, seen := e.lastSeq, e.seqSeen
	for i := range packets {
		p := &packets[i]
		if seen && p.Seq <= last {
			continue
		}
		e.accountSend(p.SendTime, p.Size)
		if !e.seqSeen || p.Seq > e.lastSeq {
			e.lastSeq, e.seqSeen = p.Seq, true
		}
	}
}

// sendsFromFeedback leaves the sent rate, the ALR detector, the probe
// controller and the sequence numbers as the per-packet reference leaves
// them, with batches that report only new packets and batches that
// repeat old ones.
func TestSendsFromFeedbackMatchesReference(t *testing.T) {
	a, b := newEstimator(t, DefaultConfig()), newEstimator(t, DefaultConfig())
	a.start(0)
	b.start(0)
	rng := rand.New(rand.NewPCG(41, 42))
	var seq int64
	send := bwe.Time(1_000_000)
	for batch := range 3000 {
		if batch%5 == 0 {
			r := bwe.Bitrate(100+rng.IntN(4000)) * bwe.Kbps
			a.setTarget(r, LimitDelay)
			b.setTarget(r, LimitDelay)
		}
		pkts := randomSends(rng, 1+rng.IntN(20), &seq, &send)
		if rng.IntN(6) == 0 {
			for i := range pkts {
				pkts[i].Seq -= int64(rng.IntN(30)) // already reported, some
			}
		}
		a.sendsFromFeedback(pkts, scanBatch(pkts))
		refSendsFromFeedback(b, pkts)
		where := fmt.Sprintf("batch %d", batch)
		if a.lastSeq != b.lastSeq || a.seqSeen != b.seqSeen || a.inALR != b.inALR {
			t.Fatalf("%s: lastSeq %d %v inALR %v, want %d %v %v", where, a.lastSeq, a.seqSeen, a.inALR, b.lastSeq, b.seqSeen, b.inALR)
		}
		if !reflect.DeepEqual(withoutMemo(a.sent), withoutMemo(b.sent)) || !reflect.DeepEqual(a.alr, b.alr) || !reflect.DeepEqual(a.ctrl, b.ctrl) {
			t.Fatalf("%s: sent rate, ALR detector or probe controller differ", where)
		}
		// The remembered cap is the one computed afresh.
		ra, oka := a.sentCap()
		s, ok := a.sent.compute(a.cfg.SentRateWindow / 10)
		rb, okb := bwe.Bitrate(0), false
		if ok && a.cfg.SentRateCap >= 0 {
			rb, okb = max(s.Scale(a.cfg.SentRateCap), a.cfg.Start), true
		}
		if ra != rb || oka != okb {
			t.Fatalf("%s: cap %v %v, want %v %v", where, ra, oka, rb, okb)
		}
	}
}
