package trendline

import (
	"errors"
	"math"
	"strconv"

	"github.com/bwelab/bwe"
)

// maxWindow bounds every window and history length a config may ask for, so
// that a typo cannot make a constructor allocate gigabytes.
const maxWindow = 1 << 16

// Config parameterizes an [Estimator]. A zero field means its default.
type Config struct {
	// WindowSize is the number of (arrival time, smoothed delay) points the
	// slope is fitted to, at least 2. The slope is computed only once the
	// window is full.
	// Default 20 (libwebrtc trendline_estimator.h: kDefaultTrendlineWindowSize = 20).
	WindowSize int
	// SmoothingCoef is the weight of the previous smoothed delay in the
	// exponential filter, in (0, 1); since 0 selects the default, an
	// unsmoothed filter cannot be configured.
	// Default 0.9 (libwebrtc trendline_estimator.cc: kDefaultTrendlineSmoothingCoeff = 0.9).
	SmoothingCoef float64
	// ThresholdGain scales the slope into the statistic m.
	// Default 4 (libwebrtc trendline_estimator.cc: kDefaultTrendlineThresholdGain = 4.0).
	ThresholdGain float64
	// MinNumDeltas caps the delta count in m = min(n, MinNumDeltas)·slope·gain.
	// Default 60 (libwebrtc trendline_estimator.cc: kMinNumDeltas = 60).
	MinNumDeltas int
	// DeltaCounterMax caps the delta counter n.
	// Default 1000 (libwebrtc trendline_estimator.cc: kDeltaCounterMax = 1000).
	DeltaCounterMax int
	// Threshold holds the adaptive-threshold and state-machine parameters.
	Threshold ThresholdConfig
}

// DefaultConfig returns the libwebrtc defaults (no field trials).
func DefaultConfig() Config {
	return Config{
		WindowSize:      20,
		SmoothingCoef:   0.9,
		ThresholdGain:   4,
		MinNumDeltas:    60,
		DeltaCounterMax: 1000,
		Threshold:       DefaultThresholdConfig(),
	}
}

func (c Config) resolve() (Config, error) {
	def := DefaultConfig()
	if c.WindowSize == 0 {
		c.WindowSize = def.WindowSize
	}
	if c.SmoothingCoef == 0 {
		c.SmoothingCoef = def.SmoothingCoef
	}
	if c.ThresholdGain == 0 {
		c.ThresholdGain = def.ThresholdGain
	}
	if c.MinNumDeltas == 0 {
		c.MinNumDeltas = def.MinNumDeltas
	}
	if c.DeltaCounterMax == 0 {
		c.DeltaCounterMax = def.DeltaCounterMax
	}
	switch {
	case c.WindowSize < 2 || c.WindowSize > maxWindow:
		return c, errors.New("trendline: WindowSize must be in [2, " + strconv.Itoa(maxWindow) + "]")
	case !(c.SmoothingCoef > 0 && c.SmoothingCoef < 1):
		return c, errors.New("trendline: SmoothingCoef must be in (0, 1)")
	case math.IsNaN(c.ThresholdGain) || math.IsInf(c.ThresholdGain, 0) || c.ThresholdGain < 0:
		return c, errors.New("trendline: ThresholdGain must be finite and non-negative")
	case c.MinNumDeltas < 0:
		return c, errors.New("trendline: MinNumDeltas must not be negative")
	case c.DeltaCounterMax < 0:
		return c, errors.New("trendline: DeltaCounterMax must not be negative")
	}
	var err error
	c.Threshold, err = c.Threshold.resolve("Threshold.")
	return c, err
}

// Estimator is libwebrtc's TrendlineEstimator (goog_cc), the delay detector
// of today's send-side GCC: a least-squares slope over the last WindowSize
// points of the smoothed accumulated one-way delay variation, compared
// against an adaptive threshold. See the package documentation for the
// model.
//
// Update is meant to be called once per group delta (libwebrtc calls its
// Update per packet but does nothing unless calculated_deltas is true).
// An Estimator is not safe for concurrent use.
type Estimator struct {
	smoothing    float64
	gain         float64
	minNumDeltas int
	maxDeltas    int

	det overuseDetector

	numDeltas   int
	firstArrMs  int64
	haveFirst   bool
	accumulated float64 // ms
	smoothed    float64 // ms
	trend       float64 // last slope; libwebrtc prev_trend_

	// The last points: x in ms since the first arrival, y the smoothed
	// delay in ms. A ring of window+2 slots, so that two new points leave
	// the window before them intact (UpdateBatch fits up to three windows
	// at once), each slot stored twice (at i and at i+window+2), so that a
	// window is always contiguous in pts.
	pts    []point
	window int // points per fit
	next   int // slot of the next point
	size   int // points held, up to window
}

// point is one (x, y) point of the window.
type point struct{ x, y float64 }

var _ bwe.DelayDetector = (*Estimator)(nil)

// New returns an Estimator configured by cfg (zero fields take defaults),
// or an error naming the first invalid field.
func New(cfg Config) (*Estimator, error) {
	c, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	e := &Estimator{
		smoothing:    c.SmoothingCoef,
		gain:         c.ThresholdGain,
		minNumDeltas: c.MinNumDeltas,
		maxDeltas:    c.DeltaCounterMax,
		det:          newOveruseDetector(c.Threshold),
		pts:          make([]point, 2*(c.WindowSize+2)),
		window:       c.WindowSize,
	}
	e.Reset()
	return e, nil
}

// Reset returns e to its state after New.
func (e *Estimator) Reset() {
	e.det.reset()
	e.numDeltas = 0
	e.firstArrMs = 0
	e.haveFirst = false
	e.accumulated = 0
	e.smoothed = 0
	e.trend = 0
	e.next = 0
	e.size = 0
}

// Update consumes one group delta:
//
//	delta       = ArrivalDelta − SendDelta                       (ms)
//	accumulated += delta
//	smoothed    = c·smoothed + (1−c)·accumulated
//	point       = (arrival_ms − first_arrival_ms, smoothed)
//	trend       = OLS slope of the window once it holds WindowSize points
//	m           = min(n, MinNumDeltas)·trend·ThresholdGain
//
// Like libwebrtc, which passes Timestamp::ms() of the arrival, the time axis
// is d.Arrival rounded to the nearest whole millisecond; this is what makes
// the unit-test flip points match to the digit.
func (e *Estimator) Update(d bwe.GroupDelta) bwe.Detection { return e.update(&d) }

// update is Update reading the delta in place.
func (e *Estimator) update(d *bwe.GroupDelta) bwe.Detection {
	st := e.advance(d)
	var k float64
	ok := false
	if st.start >= 0 {
		k, ok = e.slope(st.start)
	}
	return e.detect(st, k, ok)
}

// UpdateBatch is Update for each delta of ds in turn, the detections
// written to out, which must be at least as long as ds. Fitting two
// consecutive windows at once, in one interleaved pass, it lets their
// additions overlap: each fit still adds its terms one after another, in
// Update's order, and every result is the same bit for bit.
func (e *Estimator) UpdateBatch(ds []bwe.GroupDelta, out []bwe.Detection) {
	out = out[:len(ds)]
	i := 0
	if len(ds)%2 == 1 && len(ds) >= 3 {
		// An odd count: three first, then pairs.
		a := e.advance(&ds[0])
		b := e.advance(&ds[1])
		c := e.advance(&ds[2])
		var ka, kb, kc float64
		var oka, okb, okc bool
		switch {
		case a.start >= 0:
			ka, oka, kb, okb, kc, okc = e.slopes3(a.start, b.start, c.start)
		case b.start >= 0:
			kb, okb, kc, okc = e.slopes(b.start, c.start)
		case c.start >= 0:
			kc, okc = e.slope(c.start)
		}
		out[0] = e.detect(a, ka, oka)
		out[1] = e.detect(b, kb, okb)
		out[2] = e.detect(c, kc, okc)
		i = 3
	}
	for ; i+1 < len(ds); i += 2 {
		// A new point leaves the previous two windows in place, and
		// detect reads nothing advance changes: advancing both first is
		// the same as updating one after the other.
		a := e.advance(&ds[i])
		b := e.advance(&ds[i+1])
		var ka, kb float64
		var oka, okb bool
		switch {
		case a.start >= 0:
			ka, oka, kb, okb = e.slopes(a.start, b.start)
		case b.start >= 0:
			kb, okb = e.slope(b.start)
		}
		out[i] = e.detect(a, ka, oka)
		out[i+1] = e.detect(b, kb, okb)
	}
	if i < len(ds) {
		out[i] = e.update(&ds[i])
	}
}

// step is what Update carries from a delta's point to its detection.
// (Four fields at most: the compiler keeps such a struct in registers.)
type step struct {
	nowMs     int64   // arrival, whole ms
	sendMs    float64 // send delta, ms
	numDeltas int     // the delta counter after this delta
	start     int     // where the window starts in pts if full, else −1
}

// advance takes a delta into the accumulated and smoothed delays and adds
// its point to the window.
func (e *Estimator) advance(d *bwe.GroupDelta) step {
	nowMs := roundMillis(d.Arrival)
	sendMs := bwe.Millis(d.SendDelta)
	delta := bwe.Millis(d.ArrivalDelta) - sendMs

	e.numDeltas = min(e.numDeltas+1, e.maxDeltas)
	if !e.haveFirst {
		e.haveFirst = true
		e.firstArrMs = nowMs
	}
	e.accumulated = finite(e.accumulated + delta)
	e.smoothed = finite(float64(e.smoothing*e.smoothed) + float64((1-e.smoothing)*e.accumulated))
	start := e.push(float64(bwe.SatSub(nowMs, e.firstArrMs)), e.smoothed)
	if e.size < e.window {
		start = -1
	}
	return step{nowMs: nowMs, sendMs: sendMs, numDeltas: e.numDeltas, start: start}
}

// detect turns the slope k of a step's window (if ok) into its detection.
func (e *Estimator) detect(st step, k float64, ok bool) bwe.Detection {
	trend := e.trend
	if ok {
		trend = finite(k)
	}
	if st.numDeltas < 2 {
		// libwebrtc: too few deltas to judge; the threshold is left alone.
		e.det.usage = bwe.Normal
		return bwe.Detection{Usage: bwe.Normal, Trend: trend, Threshold: e.det.threshold}
	}
	m := finite(float64(min(st.numDeltas, e.minNumDeltas)) * trend * e.gain)
	usage, thr := e.det.detect(trend, m, st.sendMs, st.nowMs)
	e.trend = trend
	return bwe.Detection{Usage: usage, Trend: trend, Modified: m, Threshold: thr}
}

// push adds a point and returns where the window of the last size points,
// this one the newest, starts in pts.
func (e *Estimator) push(x, y float64) int {
	r := e.window + 2
	i := e.next
	e.pts[i] = point{x, y}
	e.pts[i+r] = point{x, y}
	if e.next++; e.next == r {
		e.next = 0
	}
	e.size = min(e.size+1, e.window)
	start := e.next - e.size
	if start < 0 {
		start += r
	}
	return start
}

// slope is the ordinary least-squares slope of the window that starts at
// pts[start],
//
//	k = Σ(x−x̄)(y−ȳ) / Σ(x−x̄)²
//
// summed oldest to newest in two passes, the order and rounding of
// libwebrtc's LinearFitSlope. ok is false when all x are equal.
func (e *Estimator) slope(start int) (k float64, ok bool) {
	pts := e.pts[start : start+e.window]
	var sumX, sumY float64
	for _, p := range pts {
		sumX += p.x
		sumY += p.y
	}
	avgX := sumX / float64(len(pts))
	avgY := sumY / float64(len(pts))
	var num, den float64
	for _, p := range pts {
		dx := p.x - avgX
		dy := p.y - avgY
		// Conversions stop the compiler from fusing into FMAs.
		num += float64(dx * dy)
		den += float64(dx * dx)
	}
	if den == 0 {
		return 0, false
	}
	return num / den, true
}

// slopes is slope of two full windows, computed side by side: the same
// operations, in the same order for each.
func (e *Estimator) slopes(startA, startB int) (ka float64, oka bool, kb float64, okb bool) {
	a := e.pts[startA : startA+e.window]
	b := e.pts[startB : startB+len(a)]
	var sumXa, sumYa, sumXb, sumYb float64
	for i := range a {
		sumXa += a[i].x
		sumYa += a[i].y
		sumXb += b[i].x
		sumYb += b[i].y
	}
	n := float64(len(a))
	avgXa, avgYa := sumXa/n, sumYa/n
	avgXb, avgYb := sumXb/n, sumYb/n
	var numA, denA, numB, denB float64
	for i := range a {
		dxa := a[i].x - avgXa
		dya := a[i].y - avgYa
		dxb := b[i].x - avgXb
		dyb := b[i].y - avgYb
		numA += float64(dxa * dya)
		denA += float64(dxa * dxa)
		numB += float64(dxb * dyb)
		denB += float64(dxb * dxb)
	}
	if denA != 0 {
		ka, oka = numA/denA, true
	}
	if denB != 0 {
		kb, okb = numB/denB, true
	}
	return ka, oka, kb, okb
}

// slopes3 is slope of three full windows side by side.
func (e *Estimator) slopes3(startA, startB, startC int) (ka float64, oka bool, kb float64, okb bool, kc float64, okc bool) {
	a := e.pts[startA : startA+e.window]
	b := e.pts[startB : startB+len(a)]
	c := e.pts[startC : startC+len(a)]
	var sumXa, sumYa, sumXb, sumYb, sumXc, sumYc float64
	for i := range a {
		sumXa += a[i].x
		sumYa += a[i].y
		sumXb += b[i].x
		sumYb += b[i].y
		sumXc += c[i].x
		sumYc += c[i].y
	}
	n := float64(len(a))
	avgXa, avgYa := sumXa/n, sumYa/n
	avgXb, avgYb := sumXb/n, sumYb/n
	avgXc, avgYc := sumXc/n, sumYc/n
	var numA, denA, numB, denB, numC, denC float64
	for i := range a {
		dxa := a[i].x - avgXa
		dya := a[i].y - avgYa
		dxb := b[i].x - avgXb
		dyb := b[i].y - avgYb
		dxc := c[i].x - avgXc
		dyc := c[i].y - avgYc
		numA += float64(dxa * dya)
		denA += float64(dxa * dxa)
		numB += float64(dxb * dyb)
		denB += float64(dxb * dxb)
		numC += float64(dxc * dyc)
		denC += float64(dxc * dxc)
	}
	if denA != 0 {
		ka, oka = numA/denA, true
	}
	if denB != 0 {
		kb, okb = numB/denB, true
	}
	if denC != 0 {
		kc, okc = numC/denC, true
	}
	return ka, oka, kb, okb, kc, okc
}
