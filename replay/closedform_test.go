package replay

import (
	"bytes"
	"errors"
	"io"
	"math"
	"testing"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/sendside"
	"github.com/bwelab/bwe/traces"
)

// fixedRate is an estimator pinned at r: its bounds leave it no choice,
// so a greedy sender paces at exactly r.
func fixedRate(r bwe.Bitrate) Estimator {
	return Estimator{Name: "fixed", NoProbing: true, Edit: func(c *sendside.Config) { c.Min, c.Start, c.Max = r, r, r }}
}

// constantSender is a scenario with one greedy flow pinned at rate on a
// link of the given capacity, 20 ms one-way and a 300 ms queue.
func constantSender(rate, capacity bwe.Bitrate, d time.Duration) traces.Scenario {
	return traces.Scenario{
		Name:     "constant",
		Duration: d,
		Forward:  traces.Path{Capacity: traces.Constant(capacity), Delay: 20 * ms, QueueDelay: 300 * ms},
		Flows:    []traces.Flow{{StartRate: rate, MinRate: rate, Source: traces.Greedy}},
	}
}

func emulate(t *testing.T, s traces.Scenario, est Estimator) *emulation {
	t.Helper()
	e, err := newEmulation(s, est)
	if err != nil {
		t.Fatal(err)
	}
	e.loop()
	return e
}

// A constant-rate sender below capacity never queues: every packet takes
// exactly its service time and the propagation delay.
func TestClosedFormBelowCapacity(t *testing.T) {
	const rate, capacity = 1 * bwe.Mbps, 2 * bwe.Mbps
	e := emulate(t, constantSender(rate, capacity, 10*time.Second), fixedRate(rate))
	m := e.flows[0]
	service := time.Duration(1200*8*1e6/int64(capacity)) * time.Microsecond // 4.8 ms
	interval := 1200 * 8 * time.Second / time.Duration(rate)                // 9.6 ms
	want := int((10*time.Second-1)/interval) + 1                            // at 0, 9.6 ms, …, 9993.6 ms
	if len(m.packets) != want {
		t.Errorf("sent %d packets in 10 s at %v, want %d", len(m.packets), rate, want)
	}
	for k, p := range m.packets {
		if p.fate.Outcome != Delivered || p.fate.Departure.Sub(p.send) != service || p.fate.Arrival.Sub(p.fate.Departure) != 20*ms {
			t.Fatalf("packet %d sent at %v: %+v, want departure after %v and arrival 20ms later", k, p.send, p.fate, service)
		}
	}
	if r := m.finish().Metrics; r.QueueP99 != 0 || r.Lost != 0 {
		t.Errorf("queuing p99 %v, lost %d; want 0, 0", r.QueueP99, r.Lost)
	}
}

// Above capacity the queue grows at (rate − capacity) until it holds
// 300 ms at the capacity; from then on the link drops the excess, a share
// (rate − capacity)/rate of the packets.
func TestClosedFormAboveCapacity(t *testing.T) {
	const rate, capacity = 3 * bwe.Mbps, 2 * bwe.Mbps
	e := emulate(t, constantSender(rate, capacity, 10*time.Second), fixedRate(rate))
	m := e.flows[0]
	// Queuing delay of a packet sent at t before the queue fills:
	// (rate − capacity)·t / capacity, here t/2; the queue is full (300 ms)
	// at t = 0.6 s. A packet is admitted while the backlog plus itself
	// fits in 75 000 bytes: while (rate − capacity)·t/8 ≤ 73 800 bytes,
	// t ≤ 590.4 ms, give or take one packet in service (9.6 ms).
	full := 580 * ms
	var drops, after int
	for k, p := range m.packets {
		at := duration(p.send)
		if at < full {
			if p.fate.Outcome != Delivered {
				t.Fatalf("packet %d sent at %v dropped before the queue is full", k, at)
			}
			queued := p.fate.Departure.Sub(p.send) - 4800*time.Microsecond
			if want := at / 2; queued < want-5*ms || queued > want+5*ms {
				t.Fatalf("packet %d sent at %v queued %v, want %v ± one packet", k, at, queued, want)
			}
		}
		if at >= time.Second {
			after++
			if p.fate.Outcome == TailDrop {
				drops++
			}
			if p.fate.Outcome == Delivered && p.fate.Departure.Sub(p.send) > 300*ms+5*ms {
				t.Fatalf("packet %d waited %v in a 300 ms queue", k, p.fate.Departure.Sub(p.send))
			}
		}
	}
	if got, want := float64(drops)/float64(after), (rate-capacity).Float()/rate.Float(); math.Abs(got-want) > 0.01 {
		t.Errorf("drop rate once full %.4f, want %.4f", got, want)
	}
}

// A capacity of N delivery opportunities in a period delivers exactly N
// MTU-sized packets when the link is saturated.
func TestClosedFormDeliveryOpportunities(t *testing.T) {
	// One opportunity per ms for 100 ms, three at ms 150, none after
	// (Mahimahi-style: each opportunity carries 1500 bytes within its ms).
	var steps traces.Steps
	steps = append(steps, traces.Step{At: 0, Capacity: 12 * bwe.Mbps})
	steps = append(steps, traces.Step{At: 100 * ms, Capacity: 0})
	steps = append(steps, traces.Step{At: 150 * ms, Capacity: 36 * bwe.Mbps})
	steps = append(steps, traces.Step{At: 151 * ms, Capacity: 0})
	l, err := NewLink(traces.Path{Capacity: steps, QueueBytes: 1 << 30}, 1)
	if err != nil {
		t.Fatal(err)
	}
	delivered, stranded := 0, 0
	for k := range 500 { // 500 packets at once: far more than the link carries
		switch f := l.Send(at(time.Duration(k)*time.Microsecond), 1500); f.Outcome {
		case Delivered:
			delivered++
			if f.Departure > at(151*ms) {
				t.Fatalf("packet %d left at %v, after the last opportunity", k, f.Departure)
			}
		case Stranded:
			stranded++
		}
	}
	if delivered != 103 || stranded != 397 {
		t.Errorf("delivered %d, stranded %d; want 103 and 397", delivered, stranded)
	}
}

// Feedback reaches the sender one return-path delay after the receiver
// sends it: on an uncongested return path exactly that delay, on a slow
// one that delay plus the report's own service time.
func TestClosedFormFeedbackReturnDelay(t *testing.T) {
	for _, tc := range []struct {
		name     string
		backward traces.Path
		service  func(n int) time.Duration
	}{
		{"uncongested", traces.Path{Delay: 80 * ms}, func(int) time.Duration { return 0 }},
		{"64 kbps", traces.Path{Delay: 80 * ms, Capacity: traces.Constant(64 * bwe.Kbps)}, func(n int) time.Duration {
			return time.Duration(feedbackSize(n).Bits()*1e6/64_000) * time.Microsecond
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := constantSender(500*bwe.Kbps, 2*bwe.Mbps, 5*time.Second)
			s.Backward = tc.backward
			var buf bytes.Buffer
			w, err := traces.NewFeedbackWriter(&buf, traces.FeedbackHeader{Version: 1})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := RunRecord(s, fixedRate(500*bwe.Kbps), w); err != nil {
				t.Fatal(err)
			}
			r, err := traces.NewFeedbackReader(&buf, "recorded")
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for ; ; n++ {
				fb, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				// Reports leave every 50 ms from the start; the last packet
				// of a report arrived before it left.
				want := 80*ms + tc.service(len(fb.Packets))
				tick := duration(fb.Time) - want
				if tick%(50*ms) != 0 {
					t.Fatalf("batch %d at %v: minus the return delay %v gives %v, not a 50 ms tick", n, duration(fb.Time), want, tick)
				}
				if last := fb.Packets[len(fb.Packets)-1]; duration(last.Arrival) > tick {
					t.Fatalf("batch %d reports a packet that arrived at %v, after its tick %v", n, duration(last.Arrival), tick)
				}
			}
			if n < 90 {
				t.Errorf("%d batches in 5 s, want about 100", n)
			}
		})
	}
}
