package replay

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/bwelab/bwe"
)

// Limits that keep a link's arithmetic exact and its work bounded.
const (
	// MaxPacketSize is the largest packet a [Link] accepts (1 MB).
	MaxPacketSize bwe.ByteCount = 1 << 20
	// maxPieces bounds how many capacity pieces one packet's service may
	// span before the packet is declared stranded; it guards against a
	// [Capacity] that stays at zero through endless changes.
	maxPieces = 1 << 20
)

// DefaultQueueDelay is the queue limit used when a [LinkConfig] sets
// neither QueueBytes nor QueueDelay: 300 ms at the current capacity (RFC
// 8867 §4.2 common path default: drop-tail queue of 300 ms).
const DefaultQueueDelay = 300 * time.Millisecond

// LinkConfig describes a bottleneck link: a drop-tail FIFO queue served at
// a time-varying capacity, followed by a propagation delay with optional
// random loss and delay variation. Zero fields mean "none" (no delay, no
// loss, no jitter), except for the queue limit (see QueueDelay).
type LinkConfig struct {
	// Capacity is the rate the queue is served at, over time. Required.
	Capacity Capacity
	// QueueBytes limits the queue to this many bytes. At most one of
	// QueueBytes and QueueDelay may be set.
	QueueBytes bwe.ByteCount
	// QueueDelay limits the queue to the bytes the capacity in force when
	// a packet arrives drains in this time (300 ms at 2 Mbps is 75 000
	// bytes). If neither limit is set, QueueDelay is [DefaultQueueDelay].
	QueueDelay time.Duration
	// Delay is the one-way propagation delay, the same in each direction:
	// packets take it after the queue, feedback takes it on the way back.
	Delay time.Duration
	// Loss is the probability, in [0, 1], that a packet is lost when it
	// enters the link, independently of every other packet (Bernoulli). A
	// lost packet never reaches the queue.
	Loss float64
	// Jitter adds to each delivered packet an extra delay drawn uniformly
	// from [0, Jitter] (whole microseconds). Packets never overtake each
	// other: a packet that would arrive before its predecessor arrives with
	// it instead.
	Jitter time.Duration
	// SwingAmplitude and SwingPeriod add a slow sinusoidal delay variation
	// to every packet, SwingAmplitude·sin(2π·t/SwingPeriod) at the instant t
	// the packet leaves the queue, like the RTT drift of a mobile link.
	// SwingAmplitude must not exceed Delay, so that the delay never turns
	// negative; SwingPeriod is required when SwingAmplitude is set.
	SwingAmplitude time.Duration
	SwingPeriod    time.Duration
}

// validate reports the first invalid field of c.
func (c LinkConfig) validate() error {
	if c.Capacity == nil {
		return errors.New("replay: LinkConfig.Capacity is nil")
	}
	if v, ok := c.Capacity.(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			return fmt.Errorf("replay: LinkConfig.Capacity: %w", err)
		}
	}
	switch {
	case c.QueueBytes < 0:
		return fmt.Errorf("replay: LinkConfig.QueueBytes %d is negative", c.QueueBytes)
	case c.QueueDelay < 0:
		return fmt.Errorf("replay: LinkConfig.QueueDelay %v is negative", c.QueueDelay)
	case c.QueueBytes > 0 && c.QueueDelay > 0:
		return errors.New("replay: LinkConfig sets both QueueBytes and QueueDelay")
	case c.Delay < 0:
		return fmt.Errorf("replay: LinkConfig.Delay %v is negative", c.Delay)
	case !(c.Loss >= 0 && c.Loss <= 1): // also rejects NaN
		return fmt.Errorf("replay: LinkConfig.Loss %v is outside [0, 1]", c.Loss)
	case c.Jitter < 0:
		return fmt.Errorf("replay: LinkConfig.Jitter %v is negative", c.Jitter)
	case c.SwingAmplitude < 0:
		return fmt.Errorf("replay: LinkConfig.SwingAmplitude %v is negative", c.SwingAmplitude)
	case c.SwingAmplitude > c.Delay:
		return fmt.Errorf("replay: LinkConfig.SwingAmplitude %v exceeds Delay %v", c.SwingAmplitude, c.Delay)
	case c.SwingPeriod < 0:
		return fmt.Errorf("replay: LinkConfig.SwingPeriod %v is negative", c.SwingPeriod)
	case c.SwingAmplitude > 0 && c.SwingPeriod < time.Microsecond:
		return fmt.Errorf("replay: LinkConfig.SwingPeriod %v must be at least 1µs when SwingAmplitude is set", c.SwingPeriod)
	}
	return nil
}

// Outcome is what became of a packet sent into a [Link].
type Outcome uint8

const (
	// Delivered: the packet reached the receiver.
	Delivered Outcome = iota
	// TailDrop: the queue was full when the packet arrived.
	TailDrop
	// RandomLoss: the packet was lost at random (LinkConfig.Loss).
	RandomLoss
	// Stranded: the capacity stays at zero for ever, so the packet never
	// leaves the queue.
	Stranded
)

// String returns "delivered", "tail-drop", "random-loss" or "stranded".
func (o Outcome) String() string {
	switch o {
	case Delivered:
		return "delivered"
	case TailDrop:
		return "tail-drop"
	case RandomLoss:
		return "random-loss"
	case Stranded:
		return "stranded"
	}
	return fmt.Sprintf("outcome(%d)", uint8(o))
}

// Fate is what a [Link] does with one packet, decided when it is sent.
type Fate struct {
	Outcome Outcome
	// Departure is when the packet's last bit left the queue; valid when
	// Outcome is Delivered.
	Departure bwe.Time
	// Arrival is when the packet reached the receiver; valid when Outcome
	// is Delivered.
	Arrival bwe.Time
}

// LinkStats counts what a [Link] did with the packets sent into it.
type LinkStats struct {
	Sent, Delivered, TailDrops, RandomLosses, Stranded int64
}

// Link is an emulated bottleneck: packets enter a drop-tail FIFO queue
// served at a time-varying [Capacity], then travel a propagation delay with
// optional random loss, jitter and a slow delay swing.
//
// Because the capacity does not depend on the traffic and the queue is
// FIFO, a packet's fate is fully decided when it is sent: [Link.Send]
// returns its departure and arrival times at once. Service integrates the
// capacity exactly over its constant pieces, in integer arithmetic: a
// packet of B bytes needs 8·B·10⁶ "micro-bits" and a capacity of r bit/s
// serves r of them per microsecond. A departure is rounded up to the next
// whole microsecond and the fraction of capacity left over by the rounding
// is credited to the next packet of the same busy period, so no capacity is
// lost or created by rounding, across capacity changes included.
//
// A packet occupies the queue, for the purpose of the limit, from its
// arrival until its last bit has left. A packet that finds the queue empty
// is always admitted, whatever the limit.
//
// Instants are on the emulation clock (0 at the start of a run); the
// receiver's clock is the same clock. A Link is deterministic for a given
// configuration and seed, and not safe for concurrent use.
type Link struct {
	cfg LinkConfig

	loss   *rand.Rand
	jitter *rand.Rand

	queue   []queued // packets not yet departed, in order; queue[head:] is live
	head    int
	backlog bwe.ByteCount

	freeAt      bwe.Time // when the server finishes the last admitted packet
	credit      int64    // micro-bits of capacity left over just before freeAt
	lastSend    bwe.Time
	lastArrival bwe.Time
	stats       LinkStats
}

type queued struct {
	departure bwe.Time
	size      bwe.ByteCount
}

// PCG stream identifiers: each random process draws from its own stream,
// so that enabling one does not shift the draws of another.
const (
	streamLoss   = 0x6c6f7373 // "loss"
	streamJitter = 0x6a697474 // "jitt"
)

// NewLink returns an empty link configured by cfg whose random processes
// are seeded with seed, or an error naming the first invalid field.
func NewLink(cfg LinkConfig, seed uint64) (*Link, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.QueueBytes == 0 && cfg.QueueDelay == 0 {
		cfg.QueueDelay = DefaultQueueDelay
	}
	return &Link{
		cfg:    cfg,
		loss:   rand.New(rand.NewPCG(seed, streamLoss)),
		jitter: rand.New(rand.NewPCG(seed, streamJitter)),
	}, nil
}

// Config returns the link's configuration, with the default queue limit
// filled in.
func (l *Link) Config() LinkConfig { return l.cfg }

// Stats returns the counts of packets sent and of their outcomes.
func (l *Link) Stats() LinkStats { return l.stats }

// Backlog returns the bytes in the queue at instant at, which must not be
// earlier than the last Send.
func (l *Link) Backlog(at bwe.Time) bwe.ByteCount {
	l.drain(at)
	return l.backlog
}

// capacityAt returns the capacity in force at t, limited to [0, MaxCapacity].
func (l *Link) capacityAt(t bwe.Time) bwe.Bitrate {
	return l.cfg.Capacity.At(t).Clamp(0, MaxCapacity)
}

// limit returns the queue limit in bytes at instant t.
func (l *Link) limit(t bwe.Time) bwe.ByteCount {
	if l.cfg.QueueBytes > 0 {
		return l.cfg.QueueBytes
	}
	return l.capacityAt(t).Over(l.cfg.QueueDelay)
}

// drain removes from the queue the packets that have left by at.
func (l *Link) drain(at bwe.Time) {
	for l.head < len(l.queue) && l.queue[l.head].departure <= at {
		l.backlog -= l.queue[l.head].size
		l.head++
	}
	if l.head == len(l.queue) {
		l.queue, l.head = l.queue[:0], 0
	} else if l.head > 1024 && l.head > len(l.queue)/2 {
		n := copy(l.queue, l.queue[l.head:])
		l.queue, l.head = l.queue[:n], 0
	}
}

// Send puts a packet of size bytes into the link at instant at and returns
// its fate. Instants start at 0 and must not decrease from one call to the
// next, and size must lie in [1, MaxPacketSize]; Send panics otherwise (a
// programming error, not bad data).
func (l *Link) Send(at bwe.Time, size bwe.ByteCount) Fate {
	if at < l.lastSend {
		panic("replay: Link.Send at " + at.String() + " is earlier than the previous Send at " + l.lastSend.String())
	}
	if size <= 0 || size > MaxPacketSize {
		panic(fmt.Sprintf("replay: Link.Send of %d bytes, want [1, %d]", size, MaxPacketSize))
	}
	l.lastSend = at
	l.stats.Sent++

	if l.cfg.Loss > 0 && l.loss.Float64() < l.cfg.Loss {
		l.stats.RandomLosses++
		return Fate{Outcome: RandomLoss}
	}

	l.drain(at)
	if l.backlog > 0 && l.backlog+size > l.limit(at) {
		l.stats.TailDrops++
		return Fate{Outcome: TailDrop}
	}

	start, credit := at, int64(0)
	if at < l.freeAt {
		start, credit = l.freeAt, l.credit
	}
	departure, left := l.serve(start, size.Bits()*1_000_000-credit)
	l.queue = append(l.queue, queued{departure: departure, size: size})
	l.backlog += size
	l.freeAt, l.credit = departure, left
	if departure == bwe.MaxTime {
		l.stats.Stranded++
		return Fate{Outcome: Stranded}
	}

	arrival := departure.Add(l.cfg.Delay + l.extraDelay(departure))
	arrival = max(arrival, l.lastArrival)
	l.lastArrival = arrival
	l.stats.Delivered++
	return Fate{Outcome: Delivered, Departure: departure, Arrival: arrival}
}

// serve returns when a server that starts at t finishes need micro-bits of
// work, and the micro-bits of capacity left over in the final, partly used
// microsecond. It returns bwe.MaxTime if the work never finishes.
func (l *Link) serve(t bwe.Time, need int64) (bwe.Time, int64) {
	if need <= 0 {
		return t, -need
	}
	for range maxPieces {
		r := int64(l.capacityAt(t))
		next := l.cfg.Capacity.NextChange(t)
		if next <= t {
			next = bwe.MaxTime // a Capacity that does not move forward is taken as constant
		}
		if r > 0 {
			// need ≤ 8e12 and r ≤ 1e12: none of these products overflows.
			dt := (need + r - 1) / r // whole microseconds to finish at rate r
			if next == bwe.MaxTime || dt <= int64(next-t) {
				return t.Add(time.Duration(dt) * time.Microsecond), dt*r - need
			}
			need -= r * int64(next-t) // less than need: the piece ends first
		}
		if next == bwe.MaxTime {
			return bwe.MaxTime, 0
		}
		t = next
	}
	return bwe.MaxTime, 0
}

// extraDelay returns the jitter and swing added to a packet that leaves the
// queue at departure.
func (l *Link) extraDelay(departure bwe.Time) time.Duration {
	var d time.Duration
	if j := l.cfg.Jitter / time.Microsecond; j > 0 {
		d += time.Duration(l.jitter.Int64N(int64(j)+1)) * time.Microsecond
	}
	if a := l.cfg.SwingAmplitude; a > 0 {
		period := float64(l.cfg.SwingPeriod / time.Microsecond)
		phase := 2 * math.Pi * math.Mod(float64(departure), period) / period
		d += time.Duration(math.Round(float64(a/time.Microsecond)*math.Sin(phase))) * time.Microsecond
	}
	return d
}
