package oscillation

import (
	"math"

	"github.com/bwelab/bwe"
)

// DefaultCrossingThreshold is the default Threshold of [Crossing].
const DefaultCrossingThreshold = 0.6

// Constants of [Crossing].
const (
	// crossCycles is how many intervals between upward crossings (and
	// swings of the cycles they bound) the period and strength are
	// computed from.
	crossCycles = 4
	// crossHistory is how many intervals are remembered: intervals
	// spanning a gap are skipped, older ones may stand in.
	crossHistory = 6
	// crossMinCycles is how many such intervals a candidate needs.
	crossMinCycles = 3
	// crossBand is the half-width of the hysteresis band, as a fraction
	// of the window's Amplitude.
	crossBand = 0.4
	// crossStale is how many mean periods may pass after the last upward
	// crossing before the candidate is dropped.
	crossStale = 1.5
)

// Crossing detects oscillation from the instants the high-pass-filtered
// series crosses its mean upward, with a hysteresis band: the period is
// the mean interval between the last few upward crossings, Strength the
// product of their regularity (1 − coefficient of variation of the
// intervals) and the consistency of the swings (1 − coefficient of
// variation of each cycle's peak-to-trough). Each completed bin costs
// O(1) beyond the bookkeeping shared by all detectors. See the package
// documentation.
//
// A Crossing is not safe for concurrent use.
type Crossing struct {
	c     core
	alpha float64 // high-pass smoothing factor per bin

	started bool
	lowpass float64 // the series' slow level
	prevHP  float64
	side    int8    // −1 below the band, +1 above, 0 unknown
	zeroUp  float64 // bin index of the last upward zero crossing
	cycMax  float64
	cycMin  float64

	cycGap bool // the cycle in progress spans bins held across a gap

	ups    [crossHistory + 1]float64 // bin indices of upward crossings, ring
	swings [crossHistory + 1]float64 // peak-to-trough of the cycle ending at ups[i]
	gapped [crossHistory + 1]bool    // whether the cycle ending at ups[i] spans a gap
	nUps   int
	headUp int
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
	x.started = false
	x.lowpass, x.prevHP = 0, 0
	x.side = 0
	x.zeroUp, x.cycMax, x.cycMin = 0, 0, 0
	x.cycGap = false
	x.nUps, x.headUp = 0, 0
}

// step consumes the bin of index idx and value v; observed is false for a
// bin held across a gap.
func (x *Crossing) step(idx, v float64, observed bool) {
	x.cycGap = x.cycGap || !observed
	if !x.started {
		x.started = true
		x.lowpass = v
		x.prevHP = 0
		return
	}
	x.lowpass += x.alpha * (v - x.lowpass)
	hp := v - x.lowpass
	if x.prevHP <= 0 && hp > 0 {
		x.zeroUp = idx - hp/(hp-x.prevHP)
	}
	x.prevHP = hp
	x.cycMax = max(x.cycMax, hp)
	x.cycMin = min(x.cycMin, hp)
	band := crossBand * x.c.ampA
	switch {
	case hp > band && x.side != 1:
		if x.side == -1 {
			x.ups[x.headUp] = x.zeroUp
			x.swings[x.headUp] = x.cycMax - x.cycMin
			x.gapped[x.headUp] = x.cycGap
			x.headUp = (x.headUp + 1) % len(x.ups)
			x.nUps = min(x.nUps+1, len(x.ups))
			x.cycMax, x.cycMin = hp, hp
			x.cycGap = !observed
		}
		x.side = 1
	case hp < -band && x.side != -1:
		x.side = -1
	}
}

// estimate returns the period (s) and strength at bin index now.
func (x *Crossing) estimate(now float64) (period, strength float64) {
	if x.nUps < 2 {
		return 0, 0
	}
	// The last crossCycles intervals that span no gap, among those
	// remembered; failing enough of them, the last intervals gaps or not.
	last := (x.headUp - 1 + len(x.ups)) % len(x.ups)
	sum, sum2, sw, sw2, m := x.intervals(last, true)
	if m < crossMinCycles {
		sum, sum2, sw, sw2, m = x.intervals(last, false)
	}
	if m < crossMinCycles {
		return 0, 0
	}
	fm := float64(m)
	mean := sum / fm
	if !(mean > 0) || now-x.ups[last] > crossStale*mean {
		return 0, 0
	}
	regular := 1 - cv(sum, sum2, fm)
	steady := 1 - cv(sw, sw2, fm)
	if !(regular > 0) || !(steady > 0) {
		return mean * x.c.stepSec, 0
	}
	return mean * x.c.stepSec, regular * steady
}

// intervals sums the last crossCycles intervals before the crossing at
// ring index last, and their cycles' swings, skipping the cycles that span
// a gap when clean is set; it returns the sums and the count.
func (x *Crossing) intervals(last int, clean bool) (sum, sum2, sw, sw2 float64, m int) {
	for i := 0; i < x.nUps-1 && m < crossCycles; i++ {
		j := (last - i + len(x.ups)) % len(x.ups)
		if clean && x.gapped[j] {
			continue
		}
		p := (j - 1 + len(x.ups)) % len(x.ups)
		iv := x.ups[j] - x.ups[p]
		sum += iv
		sum2 += iv * iv
		s := x.swings[j]
		sw += s
		sw2 += s * s
		m++
	}
	return sum, sum2, sw, sw2, m
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
