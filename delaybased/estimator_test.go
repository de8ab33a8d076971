package delaybased

import (
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/trendline"
)

// link is a minimal open-loop bottleneck for tests: a FIFO served at a fixed
// capacity, a fixed one-way delay, and a receiver that reports every packet
// arrived in each feedback interval, the report reaching the sender after
// the return delay. It is deliberately tiny; the emulator proper lives in
// package replay.
type link struct {
	capacity  bwe.Bitrate
	delay     time.Duration // one-way propagation delay, each direction
	interval  time.Duration // feedback interval
	free      bwe.Time      // when the bottleneck finishes its backlog
	seq       int64
	pending   []bwe.PacketResult
	nextBatch bwe.Time
}

// send puts one packet of size bytes on the link at time at.
func (l *link) send(at bwe.Time, size bwe.ByteCount) {
	service := time.Duration(float64(size.Bits()) / l.capacity.Float() * float64(time.Second))
	start := max(at, l.free)
	l.free = start.Add(service)
	l.pending = append(l.pending, bwe.PacketResult{
		Seq: l.seq, SendTime: at, Size: size, Received: true, Arrival: l.free.Add(l.delay),
	})
	l.seq++
}

// queueDelay is the queuing delay a packet sent at at would see.
func (l *link) queueDelay(at bwe.Time) time.Duration { return max(l.free.Sub(at), 0) }

// feedback returns the batch the receiver sends at its next report time if
// that time is ≤ until, with the time it reaches the sender.
func (l *link) feedback(until bwe.Time, dst []bwe.PacketResult) (bwe.Feedback, bool) {
	if l.nextBatch == 0 {
		l.nextBatch = bwe.Time(0).Add(l.interval)
	}
	if l.nextBatch > until {
		return bwe.Feedback{}, false
	}
	report := l.nextBatch
	l.nextBatch = l.nextBatch.Add(l.interval)
	dst = dst[:0]
	n := 0
	for _, p := range l.pending {
		if p.Arrival <= report {
			dst = append(dst, p)
		} else {
			l.pending[n] = p
			n++
		}
	}
	l.pending = l.pending[:n]
	return bwe.Feedback{Time: report.Add(l.delay), Packets: dst}, true
}

// TestSaturationDetected feeds a bottleneck at 95 % of its capacity for 10 s
// and then at 105 %: the queue starts growing at the switch, and the
// delay-based path must signal overuse within 1 s of it (and never before).
// Groups close on send time, so back-to-back arrivals keep producing deltas.
func TestSaturationDetected(t *testing.T) {
	for _, capacity := range []bwe.Bitrate{2 * bwe.Mbps, 20 * bwe.Mbps} {
		t.Run(capacity.String(), func(t *testing.T) {
			e, err := New(Config{})
			if err != nil {
				t.Fatal(err)
			}
			l := &link{capacity: capacity, delay: 25 * time.Millisecond, interval: 50 * time.Millisecond}
			const size = 1200
			switchAt := bwe.TimeFromDuration(10 * time.Second)
			var buf []bwe.PacketResult
			var next bwe.Time
			detected, queue := time.Duration(-1), time.Duration(0)
			for next < switchAt.Add(3*time.Second) {
				load := 0.95
				if next >= switchAt {
					load = 1.05
				}
				l.send(next, size)
				next = next.Add(time.Duration(float64(size*8) / (capacity.Float() * load) * float64(time.Second)))
				for {
					fb, ok := l.feedback(next, buf)
					if !ok {
						break
					}
					buf = fb.Packets
					res := e.Update(fb, 0, false)
					if res.Detection.Usage != bwe.Overusing {
						continue
					}
					if fb.Time < switchAt {
						t.Fatalf("overuse at %v with the link at 95 %% load (queue %v)", fb.Time, l.queueDelay(fb.Time))
					}
					if detected < 0 {
						detected, queue = fb.Time.Sub(switchAt), l.queueDelay(next)
					}
				}
			}
			if detected < 0 || detected > time.Second {
				t.Fatalf("overuse signalled %v after the queue started to grow, want within 1 s", detected)
			}
			if s := e.Stats(); s.Deltas == 0 || s.GroupResets != 0 {
				t.Fatalf("stats %+v: want deltas and no group resets", s)
			}
			t.Logf("%v at 105 %%: overuse after %v (queue then %v)", capacity, detected, queue)
		})
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{StreamTimeout: -time.Second},
		{Groups: GroupConfig{GroupLength: -1}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) = nil error, want one", cfg)
		}
	}
}

func TestEmptyAndLostFeedback(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	res := e.Update(bwe.Feedback{Time: 1000}, 0, false)
	if res.Updated || res.Valid {
		t.Fatalf("empty feedback: %+v, want no estimate", res)
	}
	res = e.Update(bwe.Feedback{Time: 2000, Packets: []bwe.PacketResult{{Seq: 1, Size: 1200}}}, 0, false)
	if res.Updated || res.Valid {
		t.Fatalf("all-lost feedback: %+v, want no estimate", res)
	}
	if s := e.Stats(); s.EmptyFeedbacks != 2 || s.Lost != 1 || s.Feedbacks != 2 {
		t.Fatalf("stats %+v, want 2 empty feedbacks and 1 lost packet", s)
	}
}

// TestStreamTimeoutResetsDetector checks that a feedback gap longer than
// StreamTimeout drops grouping and detector state: after the gap the
// estimator's detection is that of a fresh estimator fed the same packets.
func TestStreamTimeoutResetsDetector(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	l := &link{capacity: bwe.Mbps, delay: 25 * time.Millisecond, interval: 50 * time.Millisecond}
	var buf []bwe.PacketResult
	var at bwe.Time
	sawOveruse := false
	for at < bwe.TimeFromDuration(5*time.Second) { // 120 % load
		l.send(at, 1200)
		at = at.Add(8 * time.Millisecond)
		if fb, ok := l.feedback(at, buf); ok {
			buf = fb.Packets
			sawOveruse = sawOveruse || e.Update(fb, 0, false).Detection.Usage == bwe.Overusing
		}
	}
	if !sawOveruse {
		t.Fatal("no overuse at 120 % load")
	}
	gap := at.Add(10 * time.Second)
	var after []bwe.PacketResult
	for i := range 40 { // 40 packets 20 ms apart, delay growing 2 ms each
		send := gap.Add(time.Duration(i) * 20 * time.Millisecond)
		after = append(after, bwe.PacketResult{
			Seq: int64(1<<20 + i), SendTime: send, Size: 1200, Received: true,
			Arrival: send.Add(time.Duration(50+2*i) * time.Millisecond),
		})
	}
	fb := bwe.Feedback{Time: after[len(after)-1].Arrival, Packets: after}
	got := e.Update(fb, 0, false)
	fresh, _ := New(Config{})
	want := fresh.Update(fb, 0, false)
	if got.Detection != want.Detection || got.Deltas != want.Deltas || e.Stats().StreamResets != 1 {
		t.Fatalf("after a 10 s gap: detection %+v (%d deltas), stream resets %d; want %+v (%d deltas) and 1",
			got.Detection, got.Deltas, e.Stats().StreamResets, want.Detection, want.Deltas)
	}
}

// saturatedFeedback returns n feedback batches of a 2 Mbps bottleneck fed
// at 105 %, for allocation tests and benchmarks.
func saturatedFeedback(n int, capacity bwe.Bitrate) ([]bwe.Feedback, int) {
	l := &link{capacity: capacity, delay: 25 * time.Millisecond, interval: 50 * time.Millisecond}
	gap := time.Duration(1200 * 8 / (capacity.Float() * 1.05) * float64(time.Second))
	var out []bwe.Feedback
	var at bwe.Time
	packets := 0
	for len(out) < n {
		l.send(at, 1200)
		at = at.Add(gap)
		if fb, ok := l.feedback(at, nil); ok {
			out = append(out, fb)
			packets += len(fb.Packets)
		}
	}
	return out, packets
}

// shifted copies fb into dst with every time moved by d, so a fixed series
// can be replayed as if it continued.
func shifted(dst []bwe.PacketResult, fb bwe.Feedback, d time.Duration) bwe.Feedback {
	dst = dst[:0]
	for _, p := range fb.Packets {
		p.SendTime = p.SendTime.Add(d)
		p.Arrival = p.Arrival.Add(d)
		dst = append(dst, p)
	}
	return bwe.Feedback{Time: fb.Time.Add(d), Packets: dst}
}

// detectors returns one fresh instance of each detector in package
// trendline, by name.
func detectors(tb testing.TB) map[string]bwe.DelayDetector {
	tb.Helper()
	out := map[string]bwe.DelayDetector{}
	for _, name := range trendline.Names() {
		d, err := trendline.NewByName(name)
		if err != nil {
			tb.Fatal(err)
		}
		out[name] = d
	}
	return out
}

func TestUpdateDoesNotAllocate(t *testing.T) {
	series, _ := saturatedFeedback(400, 2*bwe.Mbps)
	for name, det := range detectors(t) {
		e, err := New(Config{Detector: det})
		if err != nil {
			t.Fatal(err)
		}
		for _, fb := range series[:200] {
			e.Update(fb, 0, false)
		}
		buf := make([]bwe.PacketResult, 0, 1024)
		i := 200
		allocs := testing.AllocsPerRun(150, func() {
			e.Update(shifted(buf, series[i], 0), 0, false)
			i++
		})
		if allocs != 0 {
			t.Errorf("%s: Update allocates %v times per feedback, want 0", name, allocs)
		}
	}
}

// BenchmarkUpdate measures the full delay-based path per feedback and per
// packet, with each detector, on a bottleneck fed at 105 % (feedback every
// 50 ms: about 10 packets per batch at 2 Mbps, 110 at 20 Mbps).
func BenchmarkUpdate(b *testing.B) {
	for _, capacity := range []bwe.Bitrate{2 * bwe.Mbps, 20 * bwe.Mbps} {
		series, packets := saturatedFeedback(1200, capacity) // 60 s
		span := series[len(series)-1].Time.Sub(series[0].Time) + 50*time.Millisecond
		for _, name := range trendline.Names() {
			b.Run(capacity.String()+"/"+name, func(b *testing.B) {
				det, err := trendline.NewByName(name)
				if err != nil {
					b.Fatal(err)
				}
				e, err := New(Config{Detector: det})
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				n := 0
				for b.Loop() {
					if n > 0 && n%len(series) == 0 {
						// Move the series one lap later, off the clock, so
						// that time keeps running forward.
						b.StopTimer()
						for i := range series {
							series[i] = shifted(series[i].Packets, series[i], span)
						}
						b.StartTimer()
					}
					e.Update(series[n%len(series)], 0, false)
					n++
				}
				perPacket := float64(b.Elapsed().Nanoseconds()) / (float64(n) * float64(packets) / float64(len(series)))
				b.ReportMetric(perPacket, "ns/packet")
			})
		}
	}
}

// FuzzUpdate drives the estimator with arbitrary feedback: reordered,
// duplicated, wrapped, lost, with zero, negative and huge deltas, clock
// jumps and empty batches. It must never panic and never report a rate
// that is negative or outside the configured bounds, nor a non-finite
// detector signal; and giving the trendline its deltas a batch at a time
// must give the results of giving them one at a time.
func FuzzUpdate(f *testing.F) {
	f.Add([]byte{0x10, 1, 0, 20, 0, 30, 4, 176, 1, 0, 0, 1, 0, 20, 0, 30, 4, 176, 1, 0})
	f.Add(make([]byte, 64))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := DefaultConfig()
		e, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		d, err := trendline.New(trendline.DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		single, err := New(Config{Detector: oneByOne{d}})
		if err != nil {
			t.Fatal(err)
		}
		var send, arrival, fbTime bwe.Time
		var seq int64
		var packets []bwe.PacketResult
		for len(data) >= 2 {
			ctl := data[0]
			n := int(data[1] % 32)
			data = data[2:]
			packets = packets[:0]
			for range n {
				if len(data) < 8 {
					break
				}
				// Deltas in µs scaled by a per-packet shift so both tiny
				// and huge values occur.
				shift := uint(data[7] % 40)
				sd := int64(int16(binary.LittleEndian.Uint16(data[0:]))) << shift
				ad := int64(int16(binary.LittleEndian.Uint16(data[2:]))) << shift
				seq += int64(int8(data[4]))
				send = bwe.Time(int64(send) + sd)
				arrival = bwe.Time(int64(arrival) + ad)
				packets = append(packets, bwe.PacketResult{
					Seq: seq, SendTime: send, Arrival: arrival,
					Size:     bwe.ByteCount(binary.LittleEndian.Uint16(data[5:])) << (shift % 8),
					Received: data[7]&0x80 == 0,
				})
				data = data[8:]
			}
			fbTime = fbTime.Add(time.Duration(int8(ctl)) * 10 * time.Millisecond)
			if ctl&0x80 != 0 {
				fbTime = arrival
			}
			probe := bwe.Bitrate(0)
			if ctl&0x40 != 0 {
				probe = bwe.Bitrate(ctl) * 10 * bwe.Kbps
			}
			if ctl&0x20 != 0 {
				e.SetRTT(time.Duration(ctl) * time.Millisecond)
			}
			if ctl&0x20 != 0 {
				single.SetRTT(time.Duration(ctl) * time.Millisecond)
			}
			fb := bwe.Feedback{Time: fbTime, Packets: packets}
			res := e.Update(fb, probe, ctl&0x10 != 0)
			checkResult(t, cfg, res)
			if want := single.Update(fb, probe, ctl&0x10 != 0); !sameResult(res, want) {
				t.Fatalf("batched %+v, one by one %+v", res, want)
			}
		}
	})
}

func checkResult(t *testing.T, cfg Config, r Result) {
	t.Helper()
	if r.Target < 0 || r.Acked < 0 {
		t.Fatalf("negative rate in %+v", r)
	}
	if r.Valid && (r.Target < cfg.AIMD.MinBitrate || r.Target > cfg.AIMD.MaxBitrate) {
		t.Fatalf("target %v outside [%v, %v]", r.Target, cfg.AIMD.MinBitrate, cfg.AIMD.MaxBitrate)
	}
	for _, v := range []float64{r.Detection.Trend, r.Detection.Modified, r.Detection.Threshold} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("non-finite detector signal in %+v", r.Detection)
		}
	}
	if r.Detection.Usage > bwe.Overusing {
		t.Fatalf("invalid usage %d", r.Detection.Usage)
	}
}
