package replay

import (
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/replay/tcp"
	"github.com/bwelab/bwe/traces"
)

// TCPStats is a TCP cross flow's account of itself: its sender's counters
// and, for a ShortTCP flow, its files.
type TCPStats struct {
	tcp.Stats
	FilesStarted   int64         `json:",omitempty"`
	FilesCompleted int64         `json:",omitempty"`
	MeanCompletion time.Duration `json:",omitempty"`
}

// tcpSender is what [tcp.Sender] and [tcp.OnOff] have in common.
type tcpSender interface {
	CanSend(now bwe.Time) bool
	Send(now bwe.Time) (tcp.Segment, bool)
	OnAck(now bwe.Time, seq int64)
	Deadline() bwe.Time
	OnTimer(now bwe.Time)
}

// ack is an acknowledgement on its way back to a TCP sender.
type ack struct {
	at  bwe.Time
	seq int64
}

// tcpFlow drives a TCP sender model for a cross flow. The receiver
// acknowledges every segment that arrives (SACK-style, by segment); the
// acknowledgement reaches the sender one reverse propagation delay (the
// return path's Delay plus the flow's ExtraDelay) later, never lost and
// never queued: acknowledgements are small.
type tcpFlow struct {
	x        *crossFlow
	s        tcpSender
	bulk     *tcp.Sender
	onoff    *tcp.OnOff
	ackDelay time.Duration
	acks     []ack // in order of arrival; acks[head:] are on their way
	head     int
	wake     bwe.Time // when to try sending without an ack or timer
}

func newTCPFlow(x *crossFlow, back *Link, seed uint64) (*tcpFlow, error) {
	c := x.cfg
	cfg := tcp.Config{SegmentSize: c.PacketSize, Variant: tcp.Reno}
	if c.Variant == traces.Cubic {
		cfg.Variant = tcp.Cubic
	}
	t := &tcpFlow{x: x, ackDelay: back.Config().Delay + c.ExtraDelay, wake: x.start, acks: make([]ack, 0, 256)}
	if c.Kind == traces.ShortTCP {
		o, err := tcp.NewOnOff(tcp.OnOffConfig{
			Sender:   cfg,
			MinFile:  c.MinFile,
			MaxFile:  c.MaxFile,
			MeanIdle: c.MeanIdle,
			StartOn:  c.StartOn,
			Start:    x.start,
		}, seed^uint64(0x746370)<<16^uint64(x.index))
		if err != nil {
			return nil, err
		}
		t.s, t.onoff = o, o
		return t, nil
	}
	s, err := tcp.NewSender(cfg)
	if err != nil {
		return nil, err
	}
	s.SetUnlimited()
	t.s, t.bulk = s, s
	return t, nil
}

// next returns the flow's next event.
func (t *tcpFlow) next() bwe.Time {
	n := min(t.wake, t.s.Deadline())
	if t.head < len(t.acks) {
		n = min(n, t.acks[t.head].at)
	}
	if n >= t.x.stop {
		return bwe.MaxTime // the flow's life is over
	}
	return n
}

// step runs the flow's first event due at now, then sends what the
// window allows.
func (t *tcpFlow) step(now bwe.Time) {
	switch {
	case t.head < len(t.acks) && t.acks[t.head].at == now:
		a := t.acks[t.head]
		t.head++
		if t.head == len(t.acks) {
			t.acks, t.head = t.acks[:0], 0
		} else if t.head > 1024 && t.head > len(t.acks)/2 {
			k := copy(t.acks, t.acks[t.head:])
			t.acks, t.head = t.acks[:k], 0
		}
		t.s.OnAck(now, a.seq)
	case t.wake == now:
		t.wake = bwe.MaxTime
	default:
		t.s.OnTimer(now)
	}
	for t.s.CanSend(now) {
		seg, ok := t.s.Send(now)
		if !ok {
			break
		}
		f := t.x.transmit(now, max(seg.Size, 1))
		if f.Outcome == Delivered {
			t.push(ack{at: f.Arrival.Add(t.ackDelay), seq: seg.Seq})
		}
	}
}

// push queues an acknowledgement in order of arrival (acks arrive in
// order unless the path reorders).
func (t *tcpFlow) push(a ack) {
	i := len(t.acks)
	for i > t.head && t.acks[i-1].at > a.at {
		i--
	}
	t.acks = append(t.acks, ack{})
	copy(t.acks[i+1:], t.acks[i:])
	t.acks[i] = a
}

func (t *tcpFlow) stats() TCPStats {
	if t.onoff != nil {
		st := t.onoff.Stats()
		return TCPStats{Stats: st.Sender, FilesStarted: st.FilesStarted, FilesCompleted: st.FilesCompleted, MeanCompletion: st.MeanCompletionTime()}
	}
	return TCPStats{Stats: t.bulk.Stats()}
}
