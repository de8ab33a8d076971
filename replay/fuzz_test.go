package replay

import (
	"encoding/binary"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/sendside"
	"github.com/bwelab/bwe/traces"
)

// FuzzRun runs scenarios built from arbitrary parameters, negative and
// absurd ones included: Run must either reject the scenario with an error
// (exactly when WithDefaults does) or return finite, in-range metrics and
// samples. Runs whose packet count could exceed a budget are validated
// but not run, to keep each input fast.
// fuzzMax bounds the target of fuzzed runs, to bound their packet count.
const fuzzMax = 30 * bwe.Mbps

func FuzzRun(f *testing.F) {
	f.Add(uint64(1), uint8(100), int16(1000), int32(2000), int32(500), int32(2000), int16(50), int16(300), int32(0),
		int16(0), int16(0), int16(0), int32(0), int32(300), int16(0), int16(1200), int16(50), int16(100))
	f.Add(uint64(7), uint8(60), int16(0), int32(4000), int32(0), int32(1000), int16(50), int16(0), int32(0),
		int16(100), int16(60), int16(20), int32(8000), int32(0), int16(0), int16(0), int16(0), int16(0))
	f.Add(uint64(3), uint8(40), int16(-1), int32(-5), int32(1), int32(0), int16(-1), int16(-1), int32(-1),
		int16(2000), int16(-1), int16(100), int32(-1), int32(-1), int16(-1), int16(-1), int16(-1), int16(-1))
	f.Add(uint64(9), uint8(30), int16(500), int32(1000), int32(0), int32(100), int16(10), int16(0), int32(1500),
		int16(500), int16(5), int16(5), int32(1000), int32(30000), int16(1000), int16(200), int16(20), int16(10))
	f.Fuzz(func(t *testing.T, seed uint64, dur100ms uint8, warmMs int16, cap1Kbps, cap2Kbps, changeMs int32,
		delayMs, queueMs int16, queueBytes int32, lossPermille, jitterMs, swingMs int16, periodMs int32,
		startKbps int32, minKbps, packet, feedbackMs, sampleMs int16) {
		s := traces.Scenario{
			Name:     "fuzz",
			Seed:     seed,
			Duration: time.Duration(dur100ms) * 50 * time.Millisecond,
			Warmup:   time.Duration(warmMs) * time.Millisecond,
			Forward: traces.Path{
				Capacity: traces.Steps{
					{At: 0, Capacity: bwe.Bitrate(cap1Kbps) * bwe.Kbps},
					{At: time.Duration(changeMs) * time.Millisecond, Capacity: bwe.Bitrate(cap2Kbps) * bwe.Kbps},
				},
				QueueBytes:     bwe.ByteCount(queueBytes),
				QueueDelay:     time.Duration(queueMs) * time.Millisecond,
				Delay:          time.Duration(delayMs) * time.Millisecond,
				Loss:           float64(lossPermille) / 1000,
				Jitter:         time.Duration(jitterMs) * time.Millisecond,
				SwingAmplitude: time.Duration(swingMs) * time.Millisecond,
				SwingPeriod:    time.Duration(periodMs) * time.Millisecond,
			},
			Flows: []traces.Flow{{
				StartRate:  bwe.Bitrate(startKbps) * bwe.Kbps,
				MinRate:    bwe.Bitrate(minKbps) * bwe.Kbps,
				PacketSize: bwe.ByteCount(packet),
				Source:     traces.Source(seed % 2),
			}},
			FeedbackInterval: time.Duration(feedbackMs) * time.Millisecond,
			SampleInterval:   time.Duration(sampleMs) * time.Millisecond,
		}
		full, verr := s.WithDefaults()
		if verr == nil {
			// Media never exceeds max(target, MinRate), and the target
			// never exceeds the configured 30 Mbps maximum.
			f := full.Flows[0]
			rate := max(f.MinRate, fuzzMax).Scale(f.Video.PacingFactor)
			if packets := int64(rate.Over(full.Duration) / f.PacketSize); packets > 200_000 {
				return
			}
		}
		est := Estimator{Edit: func(c *sendside.Config) { c.Max = fuzzMax }}
		// The estimator rejects a start rate outside its bounds.
		startErr := verr == nil && (full.Flows[0].StartRate < sendside.DefaultConfig().Min || full.Flows[0].StartRate > fuzzMax)
		res, err := Run(s, est)
		if startErr {
			if err == nil || !strings.Contains(err.Error(), "Config.Start") {
				t.Fatalf("start rate %v outside [%v, %v]: Run error %v", full.Flows[0].StartRate, sendside.DefaultConfig().Min, fuzzMax, err)
			}
			return
		}
		if (err == nil) != (verr == nil) {
			t.Fatalf("Run error %v, WithDefaults error %v", err, verr)
		}
		if err != nil {
			return
		}
		m := res.Flows[0].Metrics
		if !(m.Utilization >= 0 && m.Utilization <= 1) || !(m.LossRate >= 0 && m.LossRate <= 1) {
			t.Fatalf("utilization %v, loss rate %v", m.Utilization, m.LossRate)
		}
		if m.QueueP50 < 0 || m.QueueP95 < m.QueueP50 || m.BaseDelay < 0 || m.MeanTarget < 0 || m.Lost > m.Sent || m.Overuses < 0 {
			t.Fatalf("metrics %+v", m)
		}
		if want := int((full.Duration + full.SampleInterval - 1) / full.SampleInterval); len(res.Flows[0].Series) != want {
			t.Fatalf("%d samples, want %d", len(res.Flows[0].Series), want)
		}
		for i, x := range res.Flows[0].Series {
			if x.Target < 0 || x.Delivered < 0 || x.QueueDelay < 0 || x.Capacity < 0 {
				t.Fatalf("sample %d = %+v", i, x)
			}
		}
		l := res.Forward
		if l.Sent != l.Delivered+l.TailDrops+l.RandomLosses+l.Stranded {
			t.Fatalf("link stats %+v do not add up", l)
		}
	})
}

// FuzzLink decodes arbitrary bytes into a link configuration, with or
// without a token bucket, and a sequence of sends, and checks the link's
// invariants: packets leave in order, no earlier than they were sent (at
// the very instant only on a bucket's tokens, onto an empty queue), arrive
// in order no earlier than their departure plus the smallest possible
// delay, the queue respects its limit, the bytes that have left by any
// departure never exceed the capacity integrated up to it plus the
// bucket, and the counts add up.
func FuzzLink(f *testing.F) {
	f.Add([]byte("\x00\x10\x00\x00\x00\x20\x05\x00\x40\x00\x10\x01\x04\xb0\x00\x00\x04\xb0\x10\x00\x00\x01"))
	f.Add([]byte("\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	// 1.5 Mbps, then 4 Mbps from 65 ms; 20 ms delay; 3000-byte bucket;
	// bursts of 1201-byte packets with pauses.
	f.Add([]byte("\x00\x96\x00\x41\x01\x90\x14\x00\x00\x10\x00\x17\x71\x00\x00\x07\x00\x07" +
		"\x00\x00\x04\xb0\x00\x00\x04\xb0\x00\x00\x04\xb0\x00\x00\x04\xb0\x4e\x20\x04\xb0\x00\x00\x04\xb0" +
		"\x03\xe8\x00\x64\xea\x60\x04\xb0\x00\x00\x04\xb0\x00\x00\x04\xb0"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := reader{data: data}
		cfg := traces.Path{
			Capacity: traces.Steps{
				{At: 0, Capacity: bwe.Bitrate(r.u16()) * 10 * bwe.Kbps},
				{At: time.Duration(r.u16()) * time.Millisecond, Capacity: bwe.Bitrate(r.u16()) * 10 * bwe.Kbps},
			},
			Delay:  time.Duration(r.u8()) * time.Millisecond,
			Loss:   float64(r.u8()) / 256,
			Jitter: time.Duration(r.u8()) * time.Millisecond,
		}
		if q := r.u16(); q%2 == 0 {
			cfg.QueueBytes = bwe.ByteCount(q)
		} else {
			cfg.QueueDelay = time.Duration(q) * time.Millisecond
		}
		if b := r.u16(); b%2 == 1 {
			cfg.Bucket = bwe.ByteCount(b / 2)
		}
		if a := time.Duration(r.u8()) * time.Millisecond; a <= cfg.Delay {
			cfg.SwingAmplitude, cfg.SwingPeriod = a, time.Duration(r.u16()+1)*time.Millisecond
		}
		l, err := NewLink(cfg, uint64(r.u16()))
		if err != nil {
			return // e.g. a second step at 0
		}
		steps := cfg.Capacity.(traces.Steps)
		bucket := big.NewInt(cfg.Bucket.Bits() * 1_000_000)
		var now, lastArrival, lastDeparture bwe.Time
		// The service of the packets delivered i to j (in order of
		// departure) starts once packet i is sent, at s(i), and packet i−1
		// has left, at d(i−1), with the capacity of the microsecond before
		// it: from t(i) = max(s(i), d(i−1) − 1) on, they take the tokens
		// then in the bucket, at most B, and the capacity C(t(i), d(j)).
		// With D the micro-bits delivered so far, D(j) − C(d(j)) ≤ B +
		// min over i of D(i−1) − C(t(i)). The products may exceed int64.
		done := new(big.Int)  // D: micro-bits delivered so far
		slack := new(big.Int) // the minimum over i, 0 for the first packet
		for !r.done() {
			now = now.Add(time.Duration(r.u16()) * time.Microsecond)
			size := bwe.ByteCount(r.u16()%2000) + 1
			before := l.Backlog(now)
			limit := l.limit(now)
			f := l.Send(now, size)
			switch f.Outcome {
			case Delivered:
				if f.Departure < now || f.Departure < lastDeparture || f.Arrival < f.Departure.Add(cfg.Delay-cfg.SwingAmplitude) || f.Arrival < lastArrival {
					t.Fatalf("sent at %v: %+v after departure %v, arrival %v", now, f, lastDeparture, lastArrival)
				}
				if f.Departure == now && (cfg.Bucket == 0 || before > 0) {
					t.Fatalf("sent at %v onto a backlog of %d bytes with a %d-byte bucket: left at once", now, before, cfg.Bucket)
				}
				if s := new(big.Int).Sub(done, capacityUntil(steps, max(now, lastDeparture-1))); s.Cmp(slack) < 0 {
					slack = s
				}
				lastArrival, lastDeparture = f.Arrival, f.Departure
				done.Add(done, big.NewInt(size.Bits()*1_000_000))
				excess := new(big.Int).Sub(done, capacityUntil(steps, f.Departure))
				if excess.Sub(excess, slack).Cmp(bucket) > 0 {
					t.Fatalf("by %v, %s micro-bits left since some earlier departure: more than the capacity plus the %d-byte bucket", f.Departure, excess, cfg.Bucket)
				}
				fallthrough
			case Stranded:
				if before > 0 && before+size > limit {
					t.Fatalf("admitted %d bytes onto a backlog of %d with limit %d", size, before, limit)
				}
			case TailDrop:
				if before == 0 || before+size <= limit {
					t.Fatalf("dropped %d bytes with backlog %d and limit %d", size, before, limit)
				}
			}
		}
		s := l.Stats()
		if s.Sent != s.Delivered+s.TailDrops+s.RandomLosses+s.Stranded {
			t.Fatalf("stats %+v do not add up", s)
		}
	})
}

// capacityUntil returns the micro-bits s carries over [0, t).
func capacityUntil(s traces.Steps, t bwe.Time) *big.Int {
	sum := new(big.Int)
	for i, st := range s {
		from := bwe.TimeFromDuration(st.At)
		if from >= t {
			break
		}
		to := t
		if i+1 < len(s) {
			to = min(to, bwe.TimeFromDuration(s[i+1].At))
		}
		sum.Add(sum, new(big.Int).Mul(big.NewInt(int64(min(st.Capacity, MaxCapacity))), big.NewInt(int64(to-from))))
	}
	return sum
}

// reader decodes fuzz bytes, yielding zeros once they run out.
type reader struct {
	data []byte
	off  int
}

func (r *reader) done() bool { return r.off >= len(r.data) }

func (r *reader) u8() uint8 {
	if r.done() {
		return 0
	}
	r.off++
	return r.data[r.off-1]
}

func (r *reader) u16() uint16 {
	var b [2]byte
	b[0], b[1] = r.u8(), r.u8()
	return binary.BigEndian.Uint16(b[:])
}
