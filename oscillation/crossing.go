package oscillation

import (
	"math"

	"github.com/bwelab/bwe"
)

// DefaultCrossingThreshold is the default Threshold of [Crossing].
const DefaultCrossingThreshold = 0.6

// Constants of [Crossing].
const (
	// crossCycles is how many cycles, in each direction, the period and
	// strength are computed from.
	crossCycles = 4
	// crossHistory is how many crossings are remembered in each
	// direction: cycles that cannot be measured are skipped, older ones
	// may stand in.
	crossHistory = 8
	// crossMinCycles is how many measured cycles, in one direction at
	// least, a candidate needs.
	crossMinCycles = 3
	// crossMinSafe is how many cycles, both directions together, the
	// reference period is taken from; they must be free of gaps long
	// enough to swallow a cycle.
	crossMinSafe = 3
	// crossBand is the half-width of the hysteresis band, as a fraction
	// of the window's Amplitude.
	crossBand = 0.4
	// crossStale is how many periods may pass after the last crossing,
	// not counting bins held across gaps, before the candidate is
	// dropped.
	crossStale = 1.5
	// crossWarm is the span of series, as a fraction of MaxPeriod, the
	// detector sees before it counts crossings: until then the window's
	// Amplitude, hence the band, understates the swing.
	crossWarm = 0.5
	// crossFit is how close, relative to the reference period, the
	// cycles of a stretch spanning a gap must come to it to count.
	crossFit = 0.2
	// crossSwallow is the shortest gap, as a fraction of the period,
	// that may hide a whole cycle: the time the series spends beyond one
	// side of the band (about 0.3 of the period for a sawtooth, less
	// under noise).
	crossSwallow = 0.25
)

// Crossing detects oscillation from the instants the high-pass-filtered
// series crosses its mean, upward and downward, with a hysteresis band.
// A cycle runs from one crossing to the next in the same direction. The
// period is the median length of the last few measured cycles of both
// directions, Strength the product of their regularity (1 − coefficient
// of variation of the lengths) and the consistency of their swings (1 −
// coefficient of variation of each cycle's peak-to-trough).
//
// Gaps are handled so that they neither lengthen a cycle nor hide the
// oscillation: a crossing seen right after a gap may have happened
// anywhere in it and bounds no cycle (its neighbours span two); a stretch
// between crossings that spans a gap long enough to have swallowed cycles
// counts as the whole number of reference periods it holds (the reference
// being the median length of the cycles no such gap interrupts), or not
// at all if it holds none; held bins do not count towards staleness.
//
// Each completed bin costs O(1) beyond the bookkeeping shared by all
// detectors. See the package documentation.
//
// A Crossing is not safe for concurrent use.
type Crossing struct {
	c     core
	alpha float64 // high-pass smoothing factor per bin
	warm  int     // bins to see before counting crossings

	bins    int // bins stepped since the crossings were reset
	lowpass float64
	prevHP  float64
	// prevLate: a zero crossing between the last bin and the next may
	// have happened anywhere in a gap (the last bin was held across a
	// gap, or was the first after one: its mean is mostly the held
	// value).
	prevLate bool
	lastHeld bool // the last bin was held across a gap
	side     int8 // −1 below the band, +1 above, 0 unknown

	up, down crossRing
}

var _ bwe.OscillationDetector = (*Crossing)(nil)

// NewCrossing returns a Crossing configured by cfg (zero fields take
// defaults, Threshold [DefaultCrossingThreshold]), or an error naming the
// first invalid field.
func NewCrossing(cfg Config) (*Crossing, error) {
	c, err := cfg.resolve(DefaultCrossingThreshold)
	if err != nil {
		return nil, err
	}
	x := &Crossing{c: newCore(c)}
	// High-pass time constant MaxPeriod/π: the slowest period searched
	// keeps 89 % of its amplitude, a ramp becomes a constant offset.
	tau := x.c.maxPeriod / math.Pi
	x.alpha = 1 - math.Exp(-x.c.stepSec/tau)
	x.warm = int(math.Ceil(crossWarm * x.c.maxPeriod / x.c.stepSec))
	return x, nil
}

// Add consumes the rate value observed at the instant at. Samples older
// than the last one are ignored.
func (x *Crossing) Add(at bwe.Time, value bwe.Bitrate) bwe.Oscillation {
	completed, ready := x.c.ingest(at, value)
	if completed == 0 {
		return x.c.state
	}
	k := int(min(completed, int64(x.c.rs.count)))
	if completed > int64(len(x.c.x)) {
		x.resetCrossings() // a gap longer than the window
		k = 1
	}
	for j := k - 1; j >= 0; j-- {
		v, observed := x.c.rs.at(j)
		x.step(float64(x.c.rs.seen-int64(j)), x.c.value(v), observed)
	}
	if !ready || x.c.vard == 0 {
		return x.c.noCandidate()
	}
	p, s := x.estimate(float64(x.c.rs.seen))
	return x.c.decide(p, s)
}

// State returns the result of the last Add.
func (x *Crossing) State() bwe.Oscillation { return x.c.state }

// Reset forgets every sample.
func (x *Crossing) Reset() {
	x.c.reset()
	x.resetCrossings()
}

func (x *Crossing) resetCrossings() {
	x.bins = 0
	x.lowpass, x.prevHP = 0, 0
	x.prevLate, x.lastHeld = false, false
	x.side = 0
	x.up.reset()
	x.down.reset()
}

// step consumes the bin of index idx and value v; observed is false for a
// bin held across a gap.
func (x *Crossing) step(idx, v float64, observed bool) {
	held := !observed
	late := held || x.lastHeld
	x.lastHeld = held
	x.bins++
	if x.bins == 1 {
		x.lowpass = v
		x.prevHP = 0
		x.prevLate = late
		return
	}
	x.lowpass += x.alpha * (v - x.lowpass)
	hp := v - x.lowpass
	switch {
	case x.prevHP <= 0 && hp > 0:
		x.up.cross(idx-hp/(hp-x.prevHP), x.prevLate)
	case x.prevHP > 0 && hp <= 0:
		x.down.cross(idx-hp/(hp-x.prevHP), x.prevLate)
	}
	x.prevHP, x.prevLate = hp, late
	x.up.track(hp, held)
	x.down.track(hp, held)
	if x.bins < x.warm {
		return
	}
	band := crossBand * x.c.ampA
	switch {
	case hp > band && x.side != 1:
		if x.side == -1 {
			x.up.record(hp)
		}
		x.side = 1
	case hp < -band && x.side != -1:
		if x.side == 1 {
			x.down.record(hp)
		}
		x.side = -1
	}
}

// estimate returns the period (s) and strength at bin index now, from the
// latest cycles between upward crossings and between downward crossings
// (crossRing.cycles), measured against the reference period: the median
// length of the latest cycles no gap long enough to swallow one
// interrupts (crossRing.safe).
func (x *Crossing) estimate(now float64) (period, strength float64) {
	var buf [2 * crossHistory]float64
	k, safeUp := x.up.safe(buf[:], 0)
	k, safeDown := x.down.safe(buf[:], k)
	if safeUp+safeDown < crossMinSafe {
		return 0, 0
	}
	ref := median(buf[:k])
	if !(ref > 0) || min(x.up.since(now), x.down.since(now)) > crossStale*ref {
		return 0, 0
	}
	var s cycleSums
	cycles := max(x.up.cycles(ref, &s), x.down.cycles(ref, &s))
	if cycles < crossMinCycles || s.m < 2 {
		return 0, 0
	}
	fm := float64(s.m)
	period = median(s.lengths[:min(s.m, len(s.lengths))]) * x.c.stepSec
	regular := 1 - cv(s.sum, s.sum2, fm)
	steady := 1 - cv(s.sw, s.sw2, fm)
	if !(regular > 0) || !(steady > 0) {
		return period, 0
	}
	return period, regular * steady
}

// cv returns the coefficient of variation (sample standard deviation over
// mean) of m values with sum s and sum of squares s2.
func cv(s, s2, m float64) float64 {
	mean := s / m
	if !(mean > 0) || m < 2 {
		return 1
	}
	v := (s2 - s*mean) / (m - 1)
	if !(v > 0) {
		return 0
	}
	return math.Sqrt(v) / mean
}
