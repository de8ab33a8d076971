package trendline

import (
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/bwelab/bwe"
)

// RobustConfig parameterizes a [Robust] detector. A zero field means its
// default. The defaults are this package's own choices; the package
// documentation gives the reasoning and the measurements behind them.
type RobustConfig struct {
	// BucketWidth is the span of arrival time whose lowest accumulated
	// delay becomes one point of the lower envelope, at least 1 ms. A point
	// exists only once its bucket has closed, so this is also the latency
	// the envelope adds. Default 100 ms.
	BucketWidth time.Duration
	// Buckets is how many consecutive buckets the envelope is fitted over,
	// in [3, 256]: the window is Buckets·BucketWidth. Default 10 (1 s).
	Buckets int
	// MinBuckets is the fewest envelope points a fit needs, in
	// [3, Buckets]. Default 5 (Buckets if that is fewer).
	MinBuckets int
	// Z is the significance level, in standard deviations, of both tests:
	// the Mann–Kendall trend statistic and the slope against its standard
	// error. Default 3.
	Z float64
	// MinSlope is the smallest slope that counts, whatever the noise (ms of
	// delay per ms of time; 0.02 is the queue growth of a sender 2 % above
	// the capacity). Default 0.02.
	MinSlope float64
	// MaxSlope caps the bound: a slope beyond it counts however noisy or
	// irregular the envelope. Default 1 (a sender at twice the capacity), or
	// MinSlope if that is larger.
	MaxSlope float64
	// NoiseTimeConstant is the time constant of the running average of the
	// envelope's residual variance, the noise level used when it exceeds
	// the current window's. Default 10 s.
	NoiseTimeConstant time.Duration
	// OverusingTime is how much send time the slope must stay significant
	// before overuse is declared, with at least two consecutive updates
	// and a non-decreasing slope, as in libwebrtc.
	// Default 10 ms (libwebrtc trendline_estimator.cc: kOverUsingTimeThreshold = 10).
	OverusingTime time.Duration
}

// DefaultRobustConfig returns the defaults.
func DefaultRobustConfig() RobustConfig {
	return RobustConfig{
		BucketWidth:       100 * time.Millisecond,
		Buckets:           10,
		MinBuckets:        5,
		Z:                 3,
		MinSlope:          0.02,
		MaxSlope:          1,
		NoiseTimeConstant: 10 * time.Second,
		OverusingTime:     10 * time.Millisecond,
	}
}

// maxBuckets bounds RobustConfig.Buckets: the trend test costs Buckets²
// comparisons per closed bucket.
const maxBuckets = 256

func (c RobustConfig) resolve() (RobustConfig, error) {
	def := DefaultRobustConfig()
	if c.BucketWidth == 0 {
		c.BucketWidth = def.BucketWidth
	}
	if c.Buckets == 0 {
		c.Buckets = def.Buckets
	}
	if c.MinBuckets == 0 {
		c.MinBuckets = min(def.MinBuckets, c.Buckets)
	}
	if c.Z == 0 {
		c.Z = def.Z
	}
	if c.MinSlope == 0 {
		c.MinSlope = def.MinSlope
	}
	if c.MaxSlope == 0 {
		c.MaxSlope = max(def.MaxSlope, c.MinSlope)
	}
	if c.NoiseTimeConstant == 0 {
		c.NoiseTimeConstant = def.NoiseTimeConstant
	}
	if c.OverusingTime == 0 {
		c.OverusingTime = def.OverusingTime
	}
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) || v < 0 }
	switch {
	case c.BucketWidth < time.Millisecond:
		return c, errors.New("trendline: BucketWidth must be at least 1ms")
	case c.Buckets < 3 || c.Buckets > maxBuckets:
		return c, errors.New("trendline: Buckets must be in [3, " + strconv.Itoa(maxBuckets) + "]")
	case c.MinBuckets < 3 || c.MinBuckets > c.Buckets:
		return c, errors.New("trendline: MinBuckets must be in [3, Buckets]")
	case bad(c.Z):
		return c, errors.New("trendline: Z must be finite and non-negative")
	case bad(c.MinSlope):
		return c, errors.New("trendline: MinSlope must be finite and non-negative")
	case bad(c.MaxSlope) || c.MaxSlope < c.MinSlope:
		return c, errors.New("trendline: MaxSlope must be finite and at least MinSlope")
	case c.NoiseTimeConstant < 0:
		return c, errors.New("trendline: NoiseTimeConstant must not be negative")
	case c.OverusingTime < 0:
		return c, errors.New("trendline: OverusingTime must not be negative")
	}
	return c, nil
}

// Robust is a delay-gradient detector built to tell queue build-up from
// path jitter. It fits a line to the lower envelope of the accumulated
// one-way delay variation (the lowest value in each BucketWidth of arrival
// time, over the last Buckets buckets), and the slope counts only when the
// envelope rises consistently (a Mann–Kendall trend test) and the slope is
// both above MinSlope and significant against the fit's residual noise.
// Underuse is the mirror image. The package documentation explains the
// model, its cost and its blind spot.
//
// Detection.Trend is the envelope slope (ms per ms); Modified is that slope
// times the window length, the delay growth over the window in ms; Threshold
// is the bound on the same scale: the slope the window must show to count.
// It is MaxSlope·window while the trend test finds no consistent trend.
//
// A Robust is not safe for concurrent use.
type Robust struct {
	bucketMs    float64
	windowMs    float64
	buckets     int64
	minBuckets  int
	z           float64
	minSlope    float64
	maxSlope    float64
	noiseWeight float64 // weight of one closed bucket in the noise average

	det overuseDetector // state machine only; the bound is its threshold

	haveFirst    bool
	firstArrival bwe.Time
	accumulated  float64 // ms

	bucketOpen bool
	bucketIdx  int64
	minX, minY float64 // lowest point of the open bucket

	// Envelope points of closed buckets, oldest at head, with their bucket
	// index; wx, wy are scratch copies of those inside the window.
	px, py []float64
	pidx   []int64
	head   int
	size   int
	wx, wy []float64

	haveNoise bool
	noiseVar  float64 // running average of the residual variance, ms²

	haveFit bool
	slope   float64
	bound   float64 // slope a window must exceed to count
}

var _ bwe.DelayDetector = (*Robust)(nil)

// NewRobust returns a Robust detector configured by cfg (zero fields take
// defaults), or an error naming the first invalid field.
func NewRobust(cfg RobustConfig) (*Robust, error) {
	c, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	bucketMs := bwe.Millis(c.BucketWidth)
	w := 1.0
	if c.NoiseTimeConstant > 0 {
		w = -math.Expm1(-bucketMs / bwe.Millis(c.NoiseTimeConstant))
	}
	thr := DefaultThresholdConfig()
	thr.OverusingTime = c.OverusingTime
	r := &Robust{
		bucketMs:    bucketMs,
		windowMs:    bucketMs * float64(c.Buckets),
		buckets:     int64(c.Buckets),
		minBuckets:  c.MinBuckets,
		z:           c.Z,
		minSlope:    c.MinSlope,
		maxSlope:    c.MaxSlope,
		noiseWeight: w,
		det:         newOveruseDetector(thr),
		px:          make([]float64, c.Buckets),
		py:          make([]float64, c.Buckets),
		pidx:        make([]int64, c.Buckets),
		wx:          make([]float64, c.Buckets),
		wy:          make([]float64, c.Buckets),
	}
	r.Reset()
	return r, nil
}

// Reset returns r to its state after NewRobust.
func (r *Robust) Reset() {
	r.det.reset()
	r.haveFirst = false
	r.firstArrival = 0
	r.accumulated = 0
	r.bucketOpen = false
	r.bucketIdx = 0
	r.head, r.size = 0, 0
	r.haveNoise = false
	r.noiseVar = 0
	r.haveFit = false
	r.slope = 0
	r.bound = r.maxSlope
}

// Update consumes one group delta. The accumulated delay variation
// (ArrivalDelta − SendDelta summed, in ms) is placed at d.Arrival on the
// arrival-time axis; when d.Arrival enters a new bucket, the previous
// bucket's lowest point joins the envelope and the fit is redone. Between
// refits, every delta runs the libwebrtc usage state machine on the latest
// fit, with its send delta as the overuse timer increment.
func (r *Robust) Update(d bwe.GroupDelta) bwe.Detection {
	if !r.haveFirst {
		r.haveFirst = true
		r.firstArrival = d.Arrival
	}
	sendMs := bwe.Millis(d.SendDelta)
	r.accumulated = finite(r.accumulated + (bwe.Millis(d.ArrivalDelta) - sendMs))
	x := bwe.Millis(d.Arrival.Sub(r.firstArrival))
	idx := int64(math.Floor(x / r.bucketMs))

	switch {
	case !r.bucketOpen:
		r.open(idx, x)
	case idx > r.bucketIdx:
		r.closeBucket()
		r.open(idx, x)
	case idx < r.bucketIdx-r.buckets:
		// The arrival clock went back by more than a window: start the
		// envelope afresh on the new clock.
		r.firstArrival = d.Arrival
		r.head, r.size = 0, 0
		r.haveFit = false
		r.bound = r.maxSlope
		r.open(0, 0)
	case r.accumulated < r.minY:
		r.minX, r.minY = x, r.accumulated
	}

	trend, m := 0.0, 0.0
	if r.haveFit {
		trend, m = r.slope, r.slope*r.windowMs
	}
	thr := r.bound * r.windowMs
	u := r.det.classify(trend, m, thr, sendMs)
	return bwe.Detection{Usage: u, Trend: trend, Modified: m, Threshold: thr}
}

func (r *Robust) open(idx int64, x float64) {
	r.bucketOpen = true
	r.bucketIdx = idx
	r.minX, r.minY = x, r.accumulated
}

// closeBucket appends the open bucket's lowest point to the envelope and
// refits over the points of the last Buckets buckets.
func (r *Robust) closeBucket() {
	n := len(r.px)
	i := r.head + r.size
	if r.size == n {
		i = r.head
		if r.head++; r.head == n {
			r.head = 0
		}
	} else {
		r.size++
	}
	if i >= n {
		i -= n
	}
	r.px[i], r.py[i], r.pidx[i] = r.minX, r.minY, r.bucketIdx

	oldest := r.bucketIdx - r.buckets // points at or before it are too old
	k := 0
	for j, i := 0, r.head; j < r.size; j++ {
		if r.pidx[i] > oldest {
			r.wx[k], r.wy[k] = r.px[i], r.py[i]
			k++
		}
		if i++; i == n {
			i = 0
		}
	}
	r.fit(r.wx[:k], r.wy[:k])
}

// fit computes, over the envelope points (x, y) in time order,
//
//	b  = Σ(x−x̄)(y−ȳ) / Σ(x−x̄)²                     OLS slope
//	s² = Σ(y − ȳ − b(x−x̄))² / (k − 2)               residual variance
//	σ² = max(s², running average of s²)
//	Z  = Mann–Kendall statistic of y (see mannKendall)
//
// and sets the bound a slope must exceed to count:
//
//	bound = min(max(MinSlope, Z_level·σ/√Σ(x−x̄)²), MaxSlope)  if |Z| ≥ Z_level with the sign of b
//	bound = MaxSlope                                            otherwise
func (r *Robust) fit(xs, ys []float64) {
	k := len(xs)
	if k < r.minBuckets {
		r.haveFit = false
		r.bound = r.maxSlope
		return
	}
	var sx, sy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
	}
	mx, my := sx/float64(k), sy/float64(k)
	var sxx, sxy float64
	for i := range xs {
		dx, dy := xs[i]-mx, ys[i]-my
		sxx += dx * dx
		sxy += dx * dy
	}
	if !(sxx > 0) || math.IsInf(sxx, 0) {
		r.haveFit = false
		r.bound = r.maxSlope
		return
	}
	b := finite(sxy / sxx)
	var ssr float64
	for i := range xs {
		e := ys[i] - my - b*(xs[i]-mx)
		ssr += e * e
	}
	s2 := finite(ssr / float64(k-2))
	if !r.haveNoise {
		r.haveNoise = true
		r.noiseVar = s2
	} else {
		r.noiseVar = finite(r.noiseVar + r.noiseWeight*(s2-r.noiseVar))
	}
	r.slope = b
	r.haveFit = true
	r.bound = r.maxSlope
	if z := mannKendall(ys); (z >= r.z && b > 0) || (z <= -r.z && b < 0) {
		se := math.Sqrt(max(s2, r.noiseVar) / sxx)
		r.bound = max(r.minSlope, min(finite(r.z*se), r.maxSlope))
	}
}

// mannKendall returns the normalized Mann–Kendall trend statistic of ys, in
// standard deviations of its distribution when ys has no trend:
//
//	S   = Σ_{i<j} sign(y_j − y_i)
//	var = (k(k−1)(2k+5) − Σ_ties t(t−1)(2t+5)) / 18
//	Z   = (S − sign(S)) / √var                       (0 when var = 0)
//
// It counts how consistently the series rises, not by how much: a queue
// that grows raises nearly every later point above every earlier one, while
// a single jump of the path delay orders only the pairs that straddle it.
func mannKendall(ys []float64) float64 {
	k := len(ys)
	s := 0
	ties := 0
	// Counted without branches (the comparisons of a noisy series are
	// unpredictable); NaN compares false and counts nowhere.
	for i, yi := range ys {
		t := 1 // points equal to yi, itself included
		for _, yj := range ys[:i] {
			t += b2i(yj == yi)
		}
		for _, yj := range ys[i+1:] {
			t += b2i(yj == yi)
			s += b2i(yj > yi) - b2i(yj < yi)
		}
		// Summing (t−1)(2t+5) over the t points of each tie group gives
		// Σ_groups t(t−1)(2t+5).
		ties += (t - 1) * (2*t + 5)
	}
	v := float64(k*(k-1)*(2*k+5)-ties) / 18
	switch {
	case v <= 0 || s == 0:
		return 0
	case s > 0:
		return float64(s-1) / math.Sqrt(v)
	}
	return float64(s+1) / math.Sqrt(v)
}

// b2i is 1 for true and 0 for false.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
