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

	// Window of points, oldest at head. xs are ms since the first arrival,
	// ys smoothed delays in ms.
	xs, ys []float64
	head   int
	size   int
}

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
		xs:           make([]float64, c.WindowSize),
		ys:           make([]float64, c.WindowSize),
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
	e.head = 0
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
func (e *Estimator) Update(d bwe.GroupDelta) bwe.Detection {
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
	e.push(float64(bwe.SatSub(nowMs, e.firstArrMs)), e.smoothed)

	trend := e.trend
	if e.size == len(e.xs) {
		if s, ok := e.slope(); ok {
			trend = finite(s)
		}
	}

	if e.numDeltas < 2 {
		// libwebrtc: too few deltas to judge; the threshold is left alone.
		e.det.usage = bwe.Normal
		return bwe.Detection{Usage: bwe.Normal, Trend: trend, Threshold: e.det.threshold}
	}
	m := finite(float64(min(e.numDeltas, e.minNumDeltas)) * trend * e.gain)
	usage, thr := e.det.detect(trend, m, sendMs, nowMs)
	e.trend = trend
	return bwe.Detection{Usage: usage, Trend: trend, Modified: m, Threshold: thr}
}

func (e *Estimator) push(x, y float64) {
	n := len(e.xs)
	if e.size < n {
		i := e.head + e.size
		if i >= n {
			i -= n
		}
		e.xs[i], e.ys[i] = x, y
		e.size++
		return
	}
	e.xs[e.head], e.ys[e.head] = x, y
	e.head++
	if e.head == n {
		e.head = 0
	}
}

// slope is the ordinary least-squares slope of the window,
//
//	k = Σ(x−x̄)(y−ȳ) / Σ(x−x̄)²
//
// summed oldest to newest in two passes, the order and rounding of
// libwebrtc's LinearFitSlope. ok is false when all x are equal.
func (e *Estimator) slope() (k float64, ok bool) {
	n := len(e.xs)
	var sumX, sumY float64
	for j, i := 0, e.head; j < e.size; j++ {
		sumX += e.xs[i]
		sumY += e.ys[i]
		if i++; i == n {
			i = 0
		}
	}
	avgX := sumX / float64(e.size)
	avgY := sumY / float64(e.size)
	var num, den float64
	for j, i := 0, e.head; j < e.size; j++ {
		dx := e.xs[i] - avgX
		dy := e.ys[i] - avgY
		// Conversions stop the compiler from fusing into FMAs.
		num += float64(dx * dy)
		den += float64(dx * dx)
		if i++; i == n {
			i = 0
		}
	}
	if den == 0 {
		return 0, false
	}
	return num / den, true
}
