package tcp

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// This file holds a tiny bottleneck for the tests: a FIFO served at a
// constant rate behind a drop-tail queue of a fixed number of bytes, with
// a one-way delay each way and optional random loss. As in the emulator,
// a packet's fate is decided when it is sent.

type testLink struct {
	rate  bwe.Bitrate
	queue bwe.ByteCount // bytes the queue holds, the packet in service included
	delay time.Duration // one-way propagation delay, each way
	loss  float64       // probability of a random loss
	rng   *rand.Rand
	busy  bwe.Time // when the last accepted packet leaves the queue
}

// send returns when a packet of size bytes sent at now reaches the
// receiver, or false if it is lost.
func (l *testLink) send(now bwe.Time, size bwe.ByteCount) (bwe.Time, bool) {
	if l.busy < now {
		l.busy = now
	}
	if l.rate.Over(l.busy.Sub(now))+size > l.queue {
		return 0, false
	}
	if l.loss > 0 && l.rng.Float64() < l.loss {
		return 0, false
	}
	l.busy = l.busy.Add(time.Duration(size.Bits()) * time.Second / time.Duration(l.rate))
	return l.busy.Add(l.delay), true
}

// flow is what the simulation drives: a *Sender or an *OnOff.
type flow interface {
	Send(bwe.Time) (Segment, bool)
	OnAck(bwe.Time, int64)
	Deadline() bwe.Time
	OnTimer(bwe.Time)
}

type ackEvent struct {
	at   bwe.Time
	flow int
	seq  int64
}

// sim drives flows over one testLink in time order. Acks return after the
// link's delay without queuing, so they reach the senders in send order.
type sim struct {
	t     *testing.T
	link  *testLink
	flows []flow
	start []bwe.Time // when each flow may start sending
	now   bwe.Time
	acks  []ackEvent
	head  int

	// drop, if set, forces the loss of a segment when it is sent.
	drop func(flow int, seg Segment) bool
	// withhold, if set, loses every acknowledgement.
	withhold bool
	// onAck, if set, runs around each OnAck: before is false then true.
	onAck func(flow int, seq int64, after bool)
	// onEvent, if set, runs after each instant is processed.
	onEvent func()

	// from and to bound the arrival times counted in delivered.
	from, to  bwe.Time
	delivered []bwe.ByteCount
}

func newSim(t *testing.T, link *testLink, flows ...flow) *sim {
	return &sim{
		t: t, link: link, flows: flows,
		start:     make([]bwe.Time, len(flows)),
		from:      0,
		to:        bwe.MaxTime,
		delivered: make([]bwe.ByteCount, len(flows)),
	}
}

// run processes every event up to and including until.
func (m *sim) run(until bwe.Time) {
	for {
		m.sendAll()
		t := bwe.MaxTime
		if m.head < len(m.acks) {
			t = m.acks[m.head].at
		}
		for i, f := range m.flows {
			if m.now < m.start[i] {
				t = min(t, m.start[i])
			} else {
				t = min(t, f.Deadline())
			}
		}
		if t > until {
			m.now = until
			return
		}
		if t < m.now {
			m.t.Fatalf("at %v: next event at %v is in the past", m.now, t)
		}
		m.now = t
		for m.head < len(m.acks) && m.acks[m.head].at == t {
			a := m.acks[m.head]
			m.head++
			if m.onAck != nil {
				m.onAck(a.flow, a.seq, false)
			}
			m.flows[a.flow].OnAck(t, a.seq)
			if m.onAck != nil {
				m.onAck(a.flow, a.seq, true)
			}
		}
		if m.head > 4096 && 2*m.head > len(m.acks) {
			m.acks = append(m.acks[:0], m.acks[m.head:]...)
			m.head = 0
		}
		for i, f := range m.flows {
			if m.now >= m.start[i] && f.Deadline() <= t {
				f.OnTimer(t)
			}
		}
		if m.onEvent != nil {
			m.onEvent()
		}
	}
}

func (m *sim) sendAll() {
	for i, f := range m.flows {
		if m.now < m.start[i] {
			continue
		}
		for {
			seg, ok := f.Send(m.now)
			if !ok {
				break
			}
			if m.drop != nil && m.drop(i, seg) {
				continue
			}
			at, ok := m.link.send(m.now, seg.Size)
			if !ok {
				continue
			}
			if at >= m.from && at < m.to {
				m.delivered[i] += seg.Size
			}
			if !m.withhold {
				m.acks = append(m.acks, ackEvent{at: at.Add(m.link.delay), flow: i, seq: seg.Seq})
			}
		}
	}
}

func sec(s float64) bwe.Time { return bwe.TimeFromDuration(time.Duration(s * float64(time.Second))) }

func mustSender(t testing.TB, cfg Config) *Sender {
	t.Helper()
	s, err := NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rfc8867Link is the RFC 8867 §5.6 bottleneck: 2 Mbps, 50 ms one way,
// 300 ms drop-tail queue.
func rfc8867Link() *testLink {
	return &testLink{rate: 2 * bwe.Mbps, queue: (2 * bwe.Mbps).Over(300 * time.Millisecond), delay: 50 * time.Millisecond}
}
