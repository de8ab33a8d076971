package oscillation

import (
	"math"
	"slices"
	"time"

	"github.com/bwelab/bwe"
)

// ampScale turns half the 10th–90th percentile spread into the amplitude
// of a sine: the 90th percentile of a·sin is a·sin(0.4π).
var ampScale = 1 / math.Sin(0.4*math.Pi)

// periodSlack is how far outside [MinPeriod, MaxPeriod] a raw period
// estimate may fall and still be confined to the nearer bound (grid edges,
// interpolation overshoot); beyond it a detector has no candidate.
const periodSlack = 0.1

// periodStability is the relative change of period allowed between two
// consecutive evaluations counted towards Confirm.
const periodStability = 0.15

// core is the bookkeeping the detectors share: the resampler, the
// detrended window, its mean and amplitude, and the decision rule.
type core struct {
	cfg       Config
	stepSec   float64
	minPeriod float64 // s
	maxPeriod float64 // s
	confirm   int     // evaluations
	minEval   int     // bins needed before a detector is consulted

	rs resampler

	x      []float64 // window, oldest first
	lx     []float64 // the window in the analysis domain (log of x by default)
	w      []float64 // weight of each bin: 1 observed, 0 held across a gap
	d      []float64 // detrended window, analysis domain
	dm     []float64 // detrended window times weight
	nObs   int       // observed bins in the window
	sorted []float64 // scratch for percentiles
	n      int       // bins in x and d
	mean   float64
	vard   float64 // Σd²/n, analysis domain
	amp    float64 // amplitude in rate units (reported)
	ampA   float64 // amplitude in the analysis domain
	floor  float64 // smallest rate taken in the log domain

	streak     int
	lastPeriod float64
	state      bwe.Oscillation
}

func newCore(cfg Config) core {
	n := int(cfg.Window / cfg.Step)
	c := core{
		cfg:       cfg,
		stepSec:   cfg.Step.Seconds(),
		minPeriod: cfg.MinPeriod.Seconds(),
		maxPeriod: cfg.MaxPeriod.Seconds(),
		confirm:   max(1, int((cfg.Confirm+cfg.Step-1)/cfg.Step)),
		rs:        newResampler(cfg.Step, n),
		x:         make([]float64, n),
		lx:        make([]float64, n),
		w:         make([]float64, n),
		d:         make([]float64, n),
		dm:        make([]float64, n),
		sorted:    make([]float64, n),
	}
	c.minEval = max(minBins, int(math.Ceil(cfg.MinCycles*c.minPeriod/c.stepSec)))
	return c
}

func (c *core) reset() {
	c.rs.reset()
	c.n, c.nObs = 0, 0
	c.mean, c.vard, c.amp, c.ampA, c.floor = 0, 0, 0, 0, 0
	c.streak, c.lastPeriod = 0, 0
	c.state = bwe.Oscillation{}
}

// sampleValue converts an input rate to the float the analysis works in;
// negative rates count as zero.
func sampleValue(v bwe.Bitrate) float64 { return max(v, 0).Float() }

// ingest feeds one sample to the resampler and returns the number of bins
// it completed. When that is not zero it refreshes the window, its mean,
// detrended copy and amplitude, and reports in ready whether the window
// holds enough bins for a detector to be consulted.
func (c *core) ingest(at bwe.Time, v bwe.Bitrate) (completed int64, ready bool) {
	completed = c.rs.add(at, sampleValue(v))
	if completed == 0 {
		return 0, false
	}
	c.analyse()
	c.state.Mean = rateOf(c.mean)
	c.state.Amplitude = rateOf(c.amp)
	return completed, c.n >= c.minEval && c.nObs >= c.minEval
}

// analyse refreshes the window statistics: mean, least-squares line,
// detrended values and amplitude.
func (c *core) analyse() {
	n := c.rs.copyTo(c.x, c.w)
	c.n = n
	var sum float64
	for _, v := range c.x[:n] {
		sum += v
	}
	c.mean = sum / float64(n)
	// The reported amplitude, in rate units.
	detrend(c.d[:n], c.x[:n], c.w[:n])
	var ss float64
	m := c.observed(n)
	for _, v := range c.sorted[:m] {
		ss += v * v
	}
	c.amp = amplitude(c.sorted[:m])
	// A window flat up to rounding has no swing at all.
	if m == 0 || !(ss/float64(m) > 1e-18*(c.mean*c.mean+1)) {
		c.nObs, c.vard, c.amp, c.ampA = m, 0, 0, 0
		return
	}
	if !c.cfg.Linear {
		// The analysis domain: c.d is redone on the logarithms.
		c.floor = c.logFloor()
		for i, v := range c.x[:n] {
			c.lx[i] = math.Log(max(v, c.floor))
		}
		detrend(c.d[:n], c.lx[:n], c.w[:n])
		m = c.observed(n)
	}
	ss = 0
	for i, v := range c.d[:n] {
		c.dm[i] = v * c.w[i]
		if c.w[i] > 0 {
			ss += v * v
		}
	}
	c.nObs = m
	c.vard = ss / float64(m)
	c.ampA = c.amp
	if !c.cfg.Linear {
		c.ampA = amplitude(c.sorted[:m])
	}
}

// observed copies the detrended values of the observed bins into
// c.sorted and returns their count.
func (c *core) observed(n int) int {
	m := 0
	for i, v := range c.d[:n] {
		if c.w[i] > 0 {
			c.sorted[m] = v
			m++
		}
	}
	return m
}

// logFloor is the smallest rate the log domain distinguishes: a
// thousandth of the window's mean (a rate of 0, an outage, would
// otherwise be minus infinity), and at least 1 bit/s.
func (c *core) logFloor() float64 { return max(c.mean*1e-3, 1) }

// value returns a bin's value in the analysis domain.
func (c *core) value(v float64) float64 {
	if c.cfg.Linear {
		return v
	}
	return math.Log(max(v, c.floor, 1))
}

// detrend writes into d the residuals of x around its weighted
// least-squares line over the bin index (weights w, 0 or 1) and returns
// the slope per bin. With no weight at all it removes nothing.
func detrend(d, x, w []float64) (slope float64) {
	var sw, st, sx float64
	for i, v := range x {
		sw += w[i]
		st += w[i] * float64(i)
		sx += w[i] * v
	}
	if !(sw > 0) {
		copy(d, x)
		return 0
	}
	tm, xm := st/sw, sx/sw
	var sxy, stt float64
	for i, v := range x {
		t := float64(i) - tm
		sxy += w[i] * t * (v - xm)
		stt += w[i] * t * t
	}
	if stt > 0 {
		slope = sxy / stt
	}
	for i, v := range x {
		d[i] = v - xm - slope*(float64(i)-tm)
	}
	return slope
}

// amplitude returns half the spread between the 10th and 90th percentiles
// of the values in scratch, which it sorts, scaled so that a sine of
// amplitude a gives a.
func amplitude(scratch []float64) float64 {
	if len(scratch) < 2 {
		return 0
	}
	slices.Sort(scratch)
	a := (percentile(scratch, 0.9) - percentile(scratch, 0.1)) / 2 * ampScale
	if !(a > 0) || math.IsInf(a, 0) {
		return 0
	}
	return a
}

// percentile interpolates linearly between the order statistics of the
// sorted s (the "type 7" rule of R and NumPy).
func percentile(s []float64, q float64) float64 {
	h := q * float64(len(s)-1)
	i := int(h)
	if i >= len(s)-1 {
		return s[len(s)-1]
	}
	f := h - float64(i)
	return s[i] + f*(s[i+1]-s[i])
}

// rateOf converts a non-negative float rate to a Bitrate.
func rateOf(bps float64) bwe.Bitrate {
	if !(bps > 0) {
		return 0
	}
	return bwe.BitrateFromFloat(bps)
}

// confine maps a raw period estimate (s) to the reported one: inside
// [minPeriod, maxPeriod] as is, up to periodSlack outside clamped to the
// nearer bound, further out (or not positive, or NaN) 0 for "no candidate".
func (c *core) confine(p float64) float64 {
	switch {
	case !(p > 0):
		return 0
	case p < c.minPeriod:
		if p >= c.minPeriod*(1-periodSlack) {
			return c.minPeriod
		}
		return 0
	case p > c.maxPeriod:
		if p <= c.maxPeriod*(1+periodSlack) {
			return c.maxPeriod
		}
		return 0
	}
	return p
}

// decide applies the decision rule to a detector's candidate (period in
// seconds, 0 for none) and records the result.
func (c *core) decide(period, strength float64) bwe.Oscillation {
	p := c.confine(period)
	if !(strength > 0) || p == 0 {
		strength = 0
	}
	strength = min(strength, 1)
	ok := p > 0 &&
		strength >= c.cfg.Threshold &&
		float64(c.n)*c.stepSec >= c.cfg.MinCycles*p*(1-1e-9) &&
		c.amp > 0 && c.amp >= c.cfg.MinRelAmplitude*c.mean
	switch {
	case !ok:
		c.streak = 0
	case c.streak > 0 && math.Abs(p-c.lastPeriod) <= periodStability*c.lastPeriod:
		c.streak = min(c.streak+1, c.confirm)
	default:
		c.streak = 1
	}
	c.lastPeriod = p
	c.state.Detected = ok && c.streak >= c.confirm
	c.state.Period = durationOf(p)
	c.state.Strength = strength
	return c.state
}

// noCandidate records a window too short to analyse.
func (c *core) noCandidate() bwe.Oscillation {
	c.streak, c.lastPeriod = 0, 0
	c.state.Detected = false
	c.state.Period = 0
	c.state.Strength = 0
	return c.state
}

func durationOf(sec float64) time.Duration {
	return time.Duration(math.Round(sec * float64(time.Second)))
}
