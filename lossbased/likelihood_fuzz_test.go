package lossbased

import (
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// lkFuzzConfigs are the configurations FuzzLikelihood picks from: the two
// presets and the libwebrtc test fixtures with every optional mechanism on.
func lkFuzzConfigs() []LikelihoodConfig {
	short := v2Short(func(c *LikelihoodConfig) {
		c.PaddingDuration = time.Second
		c.HoldDurationFactor = 10
		c.LowerBoundByAckedRateFactor = 1
		c.BwRampupAccelMaxFactor = 0.5
		c.UpperBoundCandidateInALR = true
		c.PaceAtLossBasedEstimate = true
		c.BwRampupUpperBoundFactor = 1.2
	})
	bytes := v2Short(func(c *LikelihoodConfig) {
		c.UseByteLossRate = true
		c.BoundBestCandidate = true
		c.RandomLossWindow = 2 * time.Second
		c.SendingRateSmoothingFactor = 0.5
	})
	return []LikelihoodConfig{DefaultLikelihoodConfig(), LossyLinkLikelihoodConfig(), v2Config(), short, bytes}
}

// FuzzLikelihood decodes bytes into a sequence of SetEstimate, SetLimits,
// Reset and Update calls with arbitrary batches (lost, reordered and
// duplicate packets, zero and negative sizes and times, huge values), and
// checks every result: an estimate within the limits and not above a
// positive delay-based estimate (unless the minimum is), a valid state, a
// loss fraction in [0, 1], no NaN in the statistics, and the candidate the
// estimator would choose is the one-at-a-time reference's.
func FuzzLikelihood(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	f.Add([]byte("\x01\x02\x10\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\x7f\x00\x05"))
	f.Add([]byte("\x03\x00\x00\x10\x27\x00\x00\x00\x00\x00\x02\x08\x00\x00\x01\x00\xfa\x00\x03\x02\x00\x00\x01\x00\x00\xa0\x86\x01\x00\x00\x00\x00\x00\x40\x42\x0f\x00\x00\x02\x04\x00\x00\x00"))
	f.Add([]byte("\x04\x02\x7f\xff\xff\xff\xff\xff\xff\xff\x7f\x00\x80\xff\xff\x01\x80\x00\x00\x00\x00\x00\x00\x00\x80\xff\xff\xff\x7f\x01"))
	configs := lkFuzzConfigs()
	f.Fuzz(func(t *testing.T, data []byte) {
		next := func(n int) uint64 {
			var b [8]byte
			k := copy(b[:], data[:min(n, len(data))])
			data = data[k:]
			return binary.LittleEndian.Uint64(b[:])
		}
		cfg := configs[next(1)%uint64(len(configs))]
		l, err := NewLikelihood(cfg)
		if err != nil {
			t.Fatal(err)
		}
		lo, hi := cfg.Min, cfg.Max
		pk := make([]bwe.PacketResult, 0, 64)
		var (
			at    bwe.Time
			seq   int64
			send  bwe.Time
			delay bwe.Bitrate
		)
		check := func(step int, r Result) {
			t.Helper()
			if r.Estimate < 0 || r.Estimate < lo || r.Estimate > hi {
				t.Fatalf("step %d: Estimate %v outside [%v, %v]", step, r.Estimate, lo, hi)
			}
			if delay > 0 && r.Estimate > max(delay, lo) {
				t.Fatalf("step %d: Estimate %v above delay-based %v (min %v)", step, r.Estimate, delay, lo)
			}
			if r.State > Decreasing {
				t.Fatalf("step %d: invalid state %v", step, r.State)
			}
			if !(r.Loss >= 0 && r.Loss <= 1) {
				t.Fatalf("step %d: Loss %v outside [0, 1]", step, r.Loss)
			}
			s := l.Stats()
			for _, v := range []float64{s.AverageLoss, s.RandomLoss, s.InherentLoss} {
				if !(v >= 0 && v <= 1) {
					t.Fatalf("step %d: stats %+v hold a value outside [0, 1]", step, s)
				}
			}
			if s.LossLimited < 0 || s.InstantUpperBound < 0 || s.InstantLowerBound < 0 {
				t.Fatalf("step %d: stats %+v hold a negative rate", step, s)
			}
			// The candidates scored side by side, with shared terms, as
			// the reference scores them one at a time.
			if l.numObs > 0 && l.curValid {
				if got, want := l.bestCandidate(step%2 == 0), refBestCandidate(l, step%2 == 0); !sameChannel(got, want) {
					t.Fatalf("step %d: best candidate %+v, reference %+v", step, got, want)
				}
			}
		}
		for step := 0; len(data) > 0; step++ {
			switch next(1) % 6 {
			case 0:
				l.SetEstimate(at, bwe.Bitrate(int64(next(8))))
			case 1:
				lo, hi = bwe.Bitrate(int64(next(4))), bwe.Bitrate(int64(next(8)))
				l.SetLimits(lo, hi)
				lo = max(lo, 0)
				if hi == 0 {
					hi = cfg.Max
				}
				hi = max(hi, lo)
			case 2:
				l.Reset() // forgets the delay-based estimate too
				delay = 0
			default:
				at = at.Add(time.Duration(int64(int16(next(2)))) * time.Millisecond)
				n := int(next(1) % 64)
				pk = pk[:0]
				for range n {
					ctl := next(1)
					switch ctl % 8 {
					case 0: // huge jump
						send = bwe.Time(int64(next(8)))
					case 1: // reordered, duplicate sequence number
						seq -= int64(next(1) % 8)
					default:
						send = send.Add(time.Duration(int64(int16(next(2)))) * 100 * time.Microsecond)
						seq++
					}
					size := bwe.ByteCount(int64(int16(next(2))))
					if ctl%16 == 15 {
						size = bwe.ByteCount(int64(next(8)))
					}
					pk = append(pk, bwe.PacketResult{
						Seq:      seq,
						SendTime: send,
						Arrival:  send.Add(20 * time.Millisecond),
						Size:     size,
						Received: ctl%3 != 0,
					})
				}
				delay = bwe.Bitrate(int64(next(8)) >> (next(1) % 64))
				in := Input{
					Time:       at,
					Packets:    pk,
					DelayBased: delay,
					Acked:      bwe.Bitrate(int64(next(8)) >> (next(1) % 64)),
					InALR:      next(1)%2 == 0,
					RTT:        time.Duration(int64(int32(next(4)))),
				}
				check(step, l.Update(in))
				continue
			}
			check(step, l.Result())
		}
	})
}

// TestLikelihoodDegenerateInput drives the estimator with batches a
// fuzzer would find: all lost, zero sizes, one send time, negative times,
// huge rates; it checks the same invariants as FuzzLikelihood on a fixed
// script.
func TestLikelihoodDegenerateInput(t *testing.T) {
	for ci, cfg := range lkFuzzConfigs() {
		l, err := NewLikelihood(cfg)
		if err != nil {
			t.Fatal(err)
		}
		l.SetEstimate(0, 500*bwe.Kbps)
		batches := []struct {
			name  string
			pkts  []bwe.PacketResult
			delay bwe.Bitrate
			acked bwe.Bitrate
		}{
			{"all lost", v2Loss100(0), 0, 0},
			{"zero sizes", []bwe.PacketResult{{SendTime: v2At(time.Second)}, {Seq: 1, SendTime: v2At(2 * time.Second)}}, 0, 0},
			{"one send time", []bwe.PacketResult{{SendTime: v2At(2 * time.Second), Size: 100}, {SendTime: v2At(2 * time.Second), Size: 100}}, 0, 0},
			{"negative times", []bwe.PacketResult{{SendTime: bwe.MinTime, Size: -5}, {SendTime: -1, Size: 1, Received: true}}, bwe.Kbps, bwe.MaxBitrate},
			{"max times", []bwe.PacketResult{{SendTime: bwe.MaxTime, Size: math.MaxInt64}, {SendTime: bwe.MaxTime, Size: math.MaxInt64, Received: true}}, bwe.MaxBitrate, bwe.MaxBitrate},
			{"back to normal", v2Received(10 * time.Second), 300 * bwe.Kbps, 200 * bwe.Kbps},
		}
		for _, b := range batches {
			r := l.Update(Input{Packets: b.pkts, DelayBased: b.delay, Acked: b.acked})
			min, max := cfg.Min, cfg.Max
			if r.Estimate < min || r.Estimate > max || (b.delay > 0 && r.Estimate > b.delay && r.Estimate > min) ||
				!(r.Loss >= 0 && r.Loss <= 1) || r.State > Decreasing {
				t.Errorf("config %d, %s: result %+v out of bounds (limits [%v, %v], delay-based %v)", ci, b.name, r, min, max, b.delay)
			}
			s := l.Stats()
			if math.IsNaN(s.AverageLoss) || math.IsNaN(s.InherentLoss) || math.IsNaN(s.RandomLoss) {
				t.Errorf("config %d, %s: NaN in stats %+v", ci, b.name, s)
			}
		}
	}
}
