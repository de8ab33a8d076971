package replay

import (
	"fmt"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/traces"
)

// CrossResult is the outcome of one cross-traffic flow.
type CrossResult struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Sent and Lost count the flow's packets (retransmissions included),
	// Delivered the bytes that reached the receiver, all over the whole
	// run.
	Sent      int           `json:"sent"`
	Lost      int           `json:"lost"`
	Delivered bwe.ByteCount `json:"delivered_bytes"`
	// Throughput is the rate at which the flow's packets left the
	// bottleneck during the steady part of the run.
	Throughput bwe.Bitrate `json:"throughput_bps"`
	// Series samples the flow's delivered rate, like [Sample].Delivered.
	Series []CrossSample `json:"-"`
	// TCP holds the sender's statistics for TCP flows.
	TCP *TCPStats `json:"tcp,omitempty"`
}

// CrossSample is the state of a cross-traffic flow at one instant.
type CrossSample struct {
	At        bwe.Time
	Delivered bwe.Bitrate
}

// arrival is one delivered packet of a cross flow.
type arrival struct {
	departure, at bwe.Time
	size          bwe.ByteCount
}

// crossFlow is one cross-traffic flow.
type crossFlow struct {
	e     *emulation
	cfg   traces.Cross
	index int
	out   *Link
	lane  int
	start bwe.Time
	stop  bwe.Time

	next     bwe.Time
	nextSend bwe.Time
	tcp      *tcpFlow

	sent, lost int
	arrivals   []arrival
	samples    []CrossSample
}

func newCrossFlow(e *emulation, i int, c traces.Cross) (*crossFlow, error) {
	out, back := e.paths(c.Reverse)
	x := &crossFlow{
		e:        e,
		cfg:      c,
		index:    i,
		out:      out,
		lane:     len(e.s.Flows) + i,
		start:    bwe.TimeFromDuration(c.Start),
		stop:     e.end,
		nextSend: bwe.TimeFromDuration(c.Start),
		samples:  make([]CrossSample, 0, int(e.s.Duration/e.s.SampleInterval)+1),
	}
	if c.Stop > 0 {
		x.stop = bwe.TimeFromDuration(c.Stop)
	}
	switch c.Kind {
	case traces.CBR:
	case traces.TCP, traces.ShortTCP:
		t, err := newTCPFlow(x, back, e.s.Seed)
		if err != nil {
			return nil, err
		}
		x.tcp = t
		x.nextSend = bwe.MaxTime // the TCP sender decides
	default:
		return nil, fmt.Errorf("unknown kind %v", c.Kind)
	}
	x.update()
	return x, nil
}

func (x *crossFlow) update() {
	x.next = x.nextSend
	if x.tcp != nil {
		x.next = min(x.next, x.tcp.next())
	}
}

// step runs the flow's first event due at t.
func (x *crossFlow) step(t bwe.Time) {
	if x.tcp != nil {
		x.tcp.step(t)
	} else {
		x.sendCBR(t)
	}
	x.update()
}

// sendCBR sends one datagram at t and schedules the next.
func (x *crossFlow) sendCBR(t bwe.Time) {
	if t >= x.stop {
		x.nextSend = bwe.MaxTime
		return
	}
	x.transmit(t, x.cfg.PacketSize)
	rate := int64(x.cfg.Rate)
	us := (x.cfg.PacketSize.Bits()*1_000_000 + rate - 1) / rate
	x.nextSend = t.Add(time.Duration(us) * time.Microsecond)
}

// transmit sends a packet of size bytes at t and records its fate.
func (x *crossFlow) transmit(t bwe.Time, size bwe.ByteCount) Fate {
	f := x.out.SendOn(x.lane, t, size, x.cfg.ExtraDelay)
	x.sent++
	if f.Outcome == Delivered {
		x.arrivals = append(x.arrivals, arrival{departure: f.Departure, at: f.Arrival, size: size})
	} else {
		x.lost++
	}
	return f
}

// sample records the flow at t; finish fills in the rates.
func (x *crossFlow) sample(t bwe.Time) {
	x.samples = append(x.samples, CrossSample{At: t})
}

// finish computes the flow's result.
func (x *crossFlow) finish() CrossResult {
	r := CrossResult{Name: x.cfg.Name, Kind: x.cfg.Kind.String(), Sent: x.sent, Lost: x.lost}
	var steady bwe.ByteCount
	for _, a := range x.arrivals {
		r.Delivered += a.size
		if a.departure >= x.e.warmup && a.departure < x.e.end {
			steady += a.size
		}
	}
	r.Throughput = bwe.RateOf(steady, duration(x.e.end-x.e.warmup))
	// Arrivals of a lane may be out of order only with reordering; the
	// windowed rate below tolerates it by counting each arrival once by
	// its instant.
	byTime := x.arrivals
	if x.out.Config().Reorder {
		byTime = sortedArrivals(x.arrivals)
	}
	var sum bwe.ByteCount
	lo, hi := 0, 0
	for i := range x.samples {
		s := &x.samples[i]
		for ; hi < len(byTime) && byTime[hi].at <= s.At; hi++ {
			sum += byTime[hi].size
		}
		for ; lo < hi && byTime[lo].at <= s.At.Add(-DeliveredWindow); lo++ {
			sum -= byTime[lo].size
		}
		s.Delivered = bwe.RateOf(sum, DeliveredWindow)
	}
	r.Series = x.samples
	if x.tcp != nil {
		st := x.tcp.stats()
		r.TCP = &st
	}
	return r
}
