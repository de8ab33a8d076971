package lossbased

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// The reference: derivatives, objective and the choice of candidate as
// libwebrtc computes them, one candidate and one observation at a time,
// every loss probability and logarithm computed for its observation. The
// estimator shares them between observations and scores candidates side
// by side; it must find the same numbers, bit for bit.

func refLostReceived(l *Likelihood, o *observation) (lost, recv float64) {
	if l.cfg.UseByteLossRate {
		return kilobytes(o.lostSize), kilobytes(o.size - o.lostSize)
	}
	return float64(o.lost), float64(o.packets - o.lost)
}

func refDerivatives(l *Likelihood, c channel) (d1, d2 float64) {
	for i := range l.obs {
		o := &l.obs[i]
		if o.id < 0 {
			continue
		}
		lost, recv := refLostReceived(l, o)
		p, w := lossProbability(c, o.rate), l.weights[l.numObs-1-o.id]
		d1 += w * (lost/p - recv/(1-p))
		d2 -= w * (lost/(p*p) + recv/((1-p)*(1-p)))
	}
	if !(d2 < 0) {
		d2 = minSecondDerivative
	}
	return d1, d2
}

func refObjective(l *Likelihood, c channel) float64 {
	k := kbpsRounded(c.bw)
	bias := l.adjustBias(l.cfg.HigherBwBiasFactor)*k + l.adjustBias(l.cfg.HigherLogBwBiasFactor)*math.Log(1+k)
	var obj float64
	for i := range l.obs {
		o := &l.obs[i]
		if o.id < 0 {
			continue
		}
		lost, recv := refLostReceived(l, o)
		p, w := lossProbability(c, o.rate), l.weights[l.numObs-1-o.id]
		obj += w * (lost*math.Log(p) + recv*math.Log(1-p))
		if l.cfg.UseByteLossRate {
			obj += w * bias * kilobytes(o.size)
		} else {
			obj += w * bias * float64(o.packets)
		}
	}
	return obj
}

func refBestCandidate(l *Likelihood, inALR bool) channel {
	best := l.cur
	bestObj := -math.MaxFloat64
	l.candidates(inALR)
	for _, c := range l.cands {
		if l.numObs > 0 {
			for range l.cfg.NewtonIterations {
				d1, d2 := refDerivatives(l, c)
				c.inherent -= l.cfg.NewtonStepSize * d1 / d2
				c.inherent = l.feasibleInherent(c.inherent, c.bw)
			}
		}
		if obj := refObjective(l, c); obj > bestObj {
			bestObj, best = obj, c
		}
	}
	return best
}

func sameChannel(a, b channel) bool {
	return a.bw == b.bw && math.Float64bits(a.inherent) == math.Float64bits(b.inherent)
}

// laneConfigs are the configurations of TestLanesMatchReference: the fuzz
// set, a window longer than prepare's deduplication depth, and candidate
// factors enough for three groups of lanes (one of them incomplete).
func laneConfigs() []LikelihoodConfig {
	long := DefaultLikelihoodConfig()
	long.ObservationWindowSize = 60
	long.ObservationDurationLowerBound = 60 * time.Millisecond
	many := DefaultLikelihoodConfig()
	many.CandidateFactors = []float64{1.1, 1.05, 1.02, 1.0, 0.98, 0.95, 0.9}
	many.NewtonIterations = 3
	return append(lkFuzzConfigs(), long, many)
}

// TestLanesMatchReference drives each configuration through a session of
// random batches (rates that change or repeat, losses from none to all,
// sizes in packets or bytes) and checks before every Update that the
// chosen candidate, and the derivatives and objectives of random
// candidates scored one to four at a time, are the reference's.
func TestLanesMatchReference(t *testing.T) {
	for ci, cfg := range laneConfigs() {
		t.Run(fmt.Sprintf("config=%d", ci), func(t *testing.T) {
			l, err := NewLikelihood(cfg)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(uint64(ci), 77))
			l.SetEstimate(0, 2*bwe.Mbps)
			var send bwe.Time
			var seq int64
			checked := 0
			for step := range 1500 {
				if l.numObs > 0 {
					inALR := rng.IntN(4) == 0
					if got, want := l.bestCandidate(inALR), refBestCandidate(l, inALR); !sameChannel(got, want) {
						t.Fatalf("step %d: best candidate %+v, reference %+v", step, got, want)
					}
					l.prepare()
					var cs [lanes]channel
					n := 1 + rng.IntN(lanes)
					for j := range n {
						cs[j] = channel{bw: bwe.Bitrate(rng.Int64N(int64(4 * bwe.Mbps))), inherent: rng.Float64() * 0.3}
						if rng.IntN(4) == 0 {
							cs[j] = cs[0] // equal candidates
						}
					}
					d1, d2 := l.derivatives(cs[:n])
					obj := l.objective(cs[:n])
					for j := range n {
						w1, w2 := refDerivatives(l, cs[j])
						if math.Float64bits(d1[j]) != math.Float64bits(w1) || math.Float64bits(d2[j]) != math.Float64bits(w2) {
							t.Fatalf("step %d lane %d of %d: derivatives %v, %v; reference %v, %v", step, j, n, d1[j], d2[j], w1, w2)
						}
						if w := refObjective(l, cs[j]); math.Float64bits(obj[j]) != math.Float64bits(w) {
							t.Fatalf("step %d lane %d of %d: objective %v, reference %v", step, j, n, obj[j], w)
						}
					}
					checked++
				}
				// A batch of 50 ms at a rate that keeps or changes, with
				// a loss share from none to all.
				rate := []int{500, 1000, 1000, 2000, 3000}[rng.IntN(5)]
				loss := []float64{0, 0, 0.02, 0.1, 0.5, 1}[rng.IntN(6)]
				var pk []bwe.PacketResult
				for range rate / 200 {
					send = send.Add(time.Duration(9_600_000/rate) * time.Microsecond)
					pk = append(pk, bwe.PacketResult{Seq: seq, SendTime: send, Arrival: send.Add(30 * time.Millisecond),
						Size: 1200, Received: rng.Float64() >= loss})
					seq++
				}
				l.Update(Input{Time: send, Packets: pk, DelayBased: bwe.Bitrate(rate*(1+rng.IntN(3))) * bwe.Kbps,
					Acked: bwe.Bitrate(rate) * bwe.Kbps, InALR: rng.IntN(8) == 0})
			}
			if checked < 1000 {
				t.Errorf("%d checks, want at least 1000", checked)
			}
		})
	}
}

// A batch that closes no observation only accumulates: packets and lost
// packets counted, sizes summed (negative ones as zero, and counted), the
// lost ones' sizes apart.
func TestPushObservationAccumulates(t *testing.T) {
	l, err := NewLikelihood(DefaultLikelihoodConfig())
	if err != nil {
		t.Fatal(err)
	}
	at := func(ms int64) bwe.Time { return bwe.Time(ms * 1000) }
	batches := []struct {
		pkts []bwe.PacketResult
		want partialObservation
	}{
		{[]bwe.PacketResult{
			{SendTime: at(0), Size: 1000, Received: true},
			{SendTime: at(5), Size: 300},
			{SendTime: at(10), Size: 200, Received: true},
			{SendTime: at(15), Size: -5},
		}, partialObservation{packets: 4, lost: 2, size: 1500, lostSize: 300}},
		{[]bwe.PacketResult{
			{SendTime: at(20), Size: 700},
			{SendTime: at(25), Size: 100, Received: true},
		}, partialObservation{packets: 6, lost: 3, size: 2300, lostSize: 1000}},
	}
	for i, b := range batches {
		if l.pushObservation(b.pkts) {
			t.Fatalf("batch %d: closed an observation within 25 ms", i)
		}
		if l.partial != b.want {
			t.Errorf("batch %d: partial observation %+v, want %+v", i, l.partial, b.want)
		}
	}
	if got := l.Stats().NegativeSizes; got != 1 {
		t.Errorf("NegativeSizes = %d, want 1", got)
	}
}
