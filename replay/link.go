package replay

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/traces"
)

// Limits that keep a link's arithmetic exact and its work bounded.
const (
	// MaxPacketSize is the largest packet a [Link] accepts (1 MB).
	MaxPacketSize = traces.MaxPacketSize
	// MaxCapacity is the largest capacity a [Link] serves at (1 Tbps).
	// Larger values are served at MaxCapacity; it keeps the link's integer
	// arithmetic far from overflow.
	MaxCapacity = traces.MaxLinkRate
	// maxPieces bounds how many capacity pieces one packet's service may
	// span before the packet is declared stranded; it guards against a
	// [traces.Capacity] that stays at zero through endless changes.
	maxPieces = 1 << 20
	// maxLanes bounds the lanes of a link.
	maxLanes = traces.MaxFlows * 2
)

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

// Link is one direction of an emulated path (a [traces.Path]): packets
// enter a drop-tail FIFO queue served at a time-varying capacity, then
// travel a propagation delay with optional jitter, a slow periodic swing
// and a random walk; they may be lost at random or in bursts when they
// enter. A path without a Capacity has no queue: packets leave as they
// enter.
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
// With a token bucket ([traces.Path].Bucket of B bytes) the server keeps,
// while the queue is empty, the capacity it could not use: tokens accrue
// at the capacity, integrated exactly over its pieces like service, up to
// 8·B·10⁶ micro-bits; the bucket is full when the link is made. A packet
// that finds the queue empty spends tokens first: if they cover it, it
// leaves at the instant it is sent (an infinitely fast line beyond the
// shaper), otherwise it is served for the rest of its micro-bits at the
// capacity, and so are the packets that queue behind it, exactly as
// without a bucket. Tokens are spent as they accrue while a packet waits,
// so a busy period delivers the integrated capacity plus at most B bytes.
// A packet that leaves on tokens never occupies the queue. B = 0 is the
// plain drop-tail queue, bit for bit.
//
// Flows sharing a link send on lanes ([Link.SendOn]): the queue is shared,
// but each lane adds its own extra propagation delay, and without
// reordering a packet never overtakes an earlier packet of its own lane.
//
// Instants are on the emulation clock (0 at the start of a run); the
// receiver's clock is the same clock. A Link is deterministic for a given
// configuration and seed, and not safe for concurrent use.
type Link struct {
	cfg traces.Path

	loss   *rand.Rand
	burst  *rand.Rand
	jitter *rand.Rand
	walk   *rand.Rand

	queue   []queued // packets not yet departed, in order; queue[head:] is live
	head    int
	backlog bwe.ByteCount

	freeAt   bwe.Time // when the server finishes the last admitted packet
	credit   int64    // micro-bits of capacity left over just before freeAt; with a bucket, its tokens at freeAt
	bucket   int64    // the token bucket's depth in micro-bits, 0 without one
	lastSend bwe.Time
	lanes    []bwe.Time // per lane, the latest arrival so far
	bad      bool       // Gilbert–Elliott state

	walkAt  bwe.Time // instant of the current walk position
	walkPos int64    // random-walk delay, µs
	piece   piece    // the capacity piece last looked up
	stats   LinkStats
}

// piece is a span [from, to) over which the capacity is rate.
type piece struct {
	from, to bwe.Time
	rate     bwe.Bitrate
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
	streamBurst  = 0x62757273 // "burs"
	streamWalk   = 0x77616c6b // "walk"
)

// NewLink returns an empty link configured by p whose random processes
// are seeded with seed, or an error naming the first invalid field.
func NewLink(p traces.Path, seed uint64) (*Link, error) {
	if p.Capacity != nil && p.QueueBytes == 0 && p.QueueDelay == 0 {
		p.QueueDelay = traces.DefaultQueueDelay
	}
	if p.WalkRange > 0 && p.WalkInterval == 0 {
		p.WalkInterval = traces.DefaultWalkInterval
	}
	if err := validatePath(p); err != nil {
		return nil, err
	}
	bucket := p.Bucket.Bits() * 1_000_000 // ≤ 8.6·10¹⁵: MaxBucket bounds it
	return &Link{
		cfg:    p,
		loss:   rand.New(rand.NewPCG(seed, streamLoss)),
		burst:  rand.New(rand.NewPCG(seed, streamBurst)),
		jitter: rand.New(rand.NewPCG(seed, streamJitter)),
		walk:   rand.New(rand.NewPCG(seed, streamWalk)),
		lanes:  make([]bwe.Time, 1, 8),
		bucket: bucket,
		credit: bucket, // the bucket starts full
	}, nil
}

// validatePath checks p as a scenario would.
func validatePath(p traces.Path) error {
	if p.Capacity == nil && (p.QueueBytes != 0 || p.QueueDelay != 0) {
		return errors.New("replay: a path without Capacity has no queue to limit")
	}
	if err := p.Validate(); err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	return nil
}

// Config returns the link's configuration, with the default queue limit
// filled in.
func (l *Link) Config() traces.Path { return l.cfg }

// Stats returns the counts of packets sent and of their outcomes.
func (l *Link) Stats() LinkStats { return l.stats }

// Backlog returns the bytes in the queue at instant at, which must not be
// earlier than the last Send.
func (l *Link) Backlog(at bwe.Time) bwe.ByteCount {
	l.drain(at)
	return l.backlog
}

// CapacityAt returns the capacity in force at t, limited to [0,
// MaxCapacity]; MaxCapacity for a path without a bottleneck.
func (l *Link) CapacityAt(t bwe.Time) bwe.Bitrate {
	if l.cfg.Capacity == nil {
		return MaxCapacity
	}
	return l.pieceAt(t).rate
}

// pieceAt returns the capacity in force at t and the span it holds for,
// from a one-piece cache: packets arrive in time order, so most lookups
// fall in the piece of the previous one.
func (l *Link) pieceAt(t bwe.Time) piece {
	if t >= l.piece.from && t < l.piece.to {
		return l.piece
	}
	next := l.cfg.Capacity.NextChange(t)
	if next <= t {
		next = bwe.MaxTime // a Capacity that does not move forward is taken as constant
	}
	l.piece = piece{from: t, to: next, rate: l.cfg.Capacity.At(t).Clamp(0, MaxCapacity)}
	return l.piece
}

// limit returns the queue limit in bytes at instant t.
func (l *Link) limit(t bwe.Time) bwe.ByteCount {
	if l.cfg.QueueBytes > 0 {
		return l.cfg.QueueBytes
	}
	return l.CapacityAt(t).Over(l.cfg.QueueDelay)
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

// Send puts a packet of size bytes into the link at instant at, on lane 0
// with no extra delay, and returns its fate. See [Link.SendOn].
func (l *Link) Send(at bwe.Time, size bwe.ByteCount) Fate {
	return l.SendOn(0, at, size, 0)
}

// SendOn puts a packet of size bytes into the link at instant at, on the
// given lane, and returns its fate; extra is propagation delay the packet
// takes beyond the path's. Instants start at 0 and must not decrease from
// one call to the next, size must lie in [1, MaxPacketSize], lane in [0,
// 512) and extra must not be negative; SendOn panics otherwise (a
// programming error, not bad data).
func (l *Link) SendOn(lane int, at bwe.Time, size bwe.ByteCount, extra time.Duration) Fate {
	if at < l.lastSend {
		panic("replay: Link.Send at " + at.String() + " is earlier than the previous Send at " + l.lastSend.String())
	}
	if size <= 0 || size > MaxPacketSize {
		panic(fmt.Sprintf("replay: Link.Send of %d bytes, want [1, %d]", size, MaxPacketSize))
	}
	if lane < 0 || lane >= maxLanes || extra < 0 {
		panic(fmt.Sprintf("replay: Link.SendOn lane %d, extra delay %v", lane, extra))
	}
	for lane >= len(l.lanes) {
		l.lanes = append(l.lanes, 0)
	}
	l.lastSend = at
	l.stats.Sent++

	if l.lost(at) {
		l.stats.RandomLosses++
		return Fate{Outcome: RandomLoss}
	}

	departure := at
	if l.cfg.Capacity != nil {
		l.drain(at)
		if l.backlog > 0 && l.backlog+size > l.limit(at) {
			l.stats.TailDrops++
			return Fate{Outcome: TailDrop}
		}
		start, credit := at, int64(0)
		if at < l.freeAt {
			start, credit = l.freeAt, l.credit
		} else if l.bucket > 0 {
			credit = l.tokens(at)
		}
		var left int64
		departure, left = l.serve(start, size.Bits()*1_000_000-credit)
		l.queue = append(l.queue, queued{departure: departure, size: size})
		l.backlog += size
		l.freeAt, l.credit = departure, left
		if departure == bwe.MaxTime {
			l.stats.Stranded++
			return Fate{Outcome: Stranded}
		}
	}

	arrival := departure.Add(l.cfg.Delay + extra + l.extraDelay(departure))
	if !l.cfg.Reorder {
		arrival = max(arrival, l.lanes[lane])
	}
	l.lanes[lane] = max(l.lanes[lane], arrival)
	l.stats.Delivered++
	return Fate{Outcome: Delivered, Departure: departure, Arrival: arrival}
}

// episodeLoss returns the loss rate of the loss episode in force at t, 0
// if none.
func (l *Link) episodeLoss(t bwe.Time) float64 {
	for _, e := range l.cfg.LossEpisodes {
		if d := duration(t); d >= e.From && d < e.To {
			return e.Rate
		}
	}
	return 0
}

// lost draws whether the packet entering at t is lost: Bernoulli loss,
// then the loss episode in force, then the Gilbert–Elliott chain, which
// moves after every packet.
func (l *Link) lost(t bwe.Time) bool {
	lost := l.cfg.Loss > 0 && l.loss.Float64() < l.cfg.Loss
	if p := l.episodeLoss(t); p > 0 && l.loss.Float64() < p {
		lost = true
	}
	if g := l.cfg.Burst; g.Enabled() {
		p := g.LossGood
		if l.bad {
			p = g.LossBad
		}
		if p > 0 && l.burst.Float64() < p {
			lost = true
		}
		if l.bad {
			l.bad = !(g.BadToGood > 0 && l.burst.Float64() < g.BadToGood)
		} else {
			l.bad = g.GoodToBad > 0 && l.burst.Float64() < g.GoodToBad
		}
	}
	return lost
}

// tokens returns the micro-bits in the token bucket at t, at or after
// freeAt: those left at freeAt plus the capacity integrated over
// [freeAt, t), at most the bucket's depth. A span with more than maxPieces
// capacity pieces adds what its first maxPieces pieces carry.
func (l *Link) tokens(t bwe.Time) int64 {
	have := min(l.credit, l.bucket)
	from := l.freeAt
	for range maxPieces {
		if from >= t || have == l.bucket {
			break
		}
		pc := l.pieceAt(from)
		end := min(pc.to, t)
		if r := int64(pc.rate); r > 0 {
			// span·r may overflow, so compare the span with the whole
			// microseconds that fill the room left.
			span, room := int64(end-from), l.bucket-have
			if span >= (room+r-1)/r {
				return l.bucket
			}
			have += span * r // < room: the bucket is not full yet
		}
		from = end
	}
	return have
}

// serve returns when a server that starts at t finishes need micro-bits of
// work, and the micro-bits of capacity left over in the final, partly used
// microsecond. It returns bwe.MaxTime if the work never finishes.
func (l *Link) serve(t bwe.Time, need int64) (bwe.Time, int64) {
	if need <= 0 {
		return t, -need
	}
	for range maxPieces {
		pc := l.pieceAt(t)
		r, next := int64(pc.rate), pc.to
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

// extraDelay returns the jitter, swing and walk added to a packet that
// leaves the queue at departure.
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
	if l.cfg.WalkRange > 0 {
		d += time.Duration(l.walkTo(departure)) * time.Microsecond
	}
	return d
}

// walkTo advances the random walk to the last step at or before t and
// returns its position in µs. Departures do not decrease, so the walk only
// moves forward.
func (l *Link) walkTo(t bwe.Time) int64 {
	step := int64(l.cfg.WalkInterval / time.Microsecond)
	span := int64(l.cfg.WalkStep / time.Microsecond)
	top := int64(l.cfg.WalkRange / time.Microsecond)
	// A long idle gap moves the walk many steps; beyond 4·(range/step)²
	// steps its position is mixed, so the remaining steps are skipped.
	mix := 4*(top/span+1)*(top/span+1) + 1
	n := int64(0)
	for l.walkAt+bwe.Time(step) <= t {
		l.walkAt += bwe.Time(step)
		if n++; n > mix {
			skip := (int64(t-l.walkAt) / step) * step
			l.walkAt += bwe.Time(skip)
			continue
		}
		p := l.walkPos + l.walk.Int64N(2*span+1) - span
		if p < 0 {
			p = -p
		}
		if p > top {
			p = 2*top - p
		}
		l.walkPos = p
	}
	return l.walkPos
}
