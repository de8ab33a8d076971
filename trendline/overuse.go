package trendline

import (
	"errors"
	"math"
	"time"

	"github.com/bwelab/bwe"
)

// ThresholdConfig parameterizes the adaptive threshold and the usage state
// machine shared by [Estimator] and [Kalman] (libwebrtc
// TrendlineEstimator::Detect/UpdateThreshold and OveruseDetector, which
// carry the same constants). A zero field means its default.
type ThresholdConfig struct {
	// Initial is the threshold before any adaptation, in ms.
	// Default 12.5 (libwebrtc trendline_estimator.cc: threshold_ = 12.5).
	Initial float64
	// Min and Max clamp the adapted threshold, in ms.
	// Defaults 6 and 600 (libwebrtc trendline_estimator.cc: SafeClamp(threshold_, 6.f, 600.f)).
	Min, Max float64
	// KUp is the adaptation gain, per ms, when |m| is above the threshold.
	// Default 0.0087 (libwebrtc trendline_estimator.cc: k_up_ = 0.0087).
	KUp float64
	// KDown is the adaptation gain, per ms, when |m| is below the threshold.
	// Default 0.039 (libwebrtc trendline_estimator.cc: k_down_ = 0.039).
	KDown float64
	// MaxAdaptOffset: the threshold does not adapt to samples with
	// |m| > threshold + MaxAdaptOffset (latency spikes), in ms.
	// Default 15 (libwebrtc trendline_estimator.cc: kMaxAdaptOffsetMs = 15.0).
	MaxAdaptOffset float64
	// MaxTimeDelta caps the time step of one threshold update.
	// Default 100 ms (libwebrtc trendline_estimator.cc: kMaxTimeDeltaMs = 100).
	MaxTimeDelta time.Duration
	// OverusingTime is how much send time (sum of send deltas) the statistic
	// must stay above the threshold before overuse is declared.
	// Default 10 ms (libwebrtc trendline_estimator.cc: kOverUsingTimeThreshold = 10).
	OverusingTime time.Duration
}

// DefaultThresholdConfig returns the libwebrtc values.
func DefaultThresholdConfig() ThresholdConfig {
	return ThresholdConfig{
		Initial:        12.5,
		Min:            6,
		Max:            600,
		KUp:            0.0087,
		KDown:          0.039,
		MaxAdaptOffset: 15,
		MaxTimeDelta:   100 * time.Millisecond,
		OverusingTime:  10 * time.Millisecond,
	}
}

// resolve fills zero fields with defaults and validates the result. prefix
// names the enclosing field in error messages.
func (c ThresholdConfig) resolve(prefix string) (ThresholdConfig, error) {
	def := DefaultThresholdConfig()
	pick := func(v, d float64) float64 {
		if v == 0 {
			return d
		}
		return v
	}
	c.Initial = pick(c.Initial, def.Initial)
	c.Min = pick(c.Min, def.Min)
	c.Max = pick(c.Max, def.Max)
	c.KUp = pick(c.KUp, def.KUp)
	c.KDown = pick(c.KDown, def.KDown)
	c.MaxAdaptOffset = pick(c.MaxAdaptOffset, def.MaxAdaptOffset)
	if c.MaxTimeDelta == 0 {
		c.MaxTimeDelta = def.MaxTimeDelta
	}
	if c.OverusingTime == 0 {
		c.OverusingTime = def.OverusingTime
	}
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"Initial", c.Initial}, {"Min", c.Min}, {"Max", c.Max},
		{"KUp", c.KUp}, {"KDown", c.KDown}, {"MaxAdaptOffset", c.MaxAdaptOffset},
	} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) || f.v < 0 {
			return c, errors.New("trendline: " + prefix + f.name + " must be finite and non-negative")
		}
	}
	switch {
	case c.Max < c.Min:
		return c, errors.New("trendline: " + prefix + "Max must not be below Min")
	case c.Initial < c.Min || c.Initial > c.Max:
		return c, errors.New("trendline: " + prefix + "Initial must lie in [Min, Max]")
	case c.MaxTimeDelta < 0:
		return c, errors.New("trendline: " + prefix + "MaxTimeDelta must not be negative")
	case c.OverusingTime < 0:
		return c, errors.New("trendline: " + prefix + "OverusingTime must not be negative")
	}
	return c, nil
}

// overuseDetector is the usage state machine with libwebrtc's adaptive
// threshold. It is fed a trend (for the "not decreasing" test), the
// statistic m compared with the threshold, the send-time delta of the sample
// and the time axis in whole milliseconds.
type overuseDetector struct {
	initial, min, max float64
	kUp, kDown        float64
	maxAdaptOffset    float64
	maxTimeDeltaMs    float64
	overusingTimeMs   float64

	threshold     float64
	lastUpdateMs  int64
	haveUpdate    bool
	prevTrend     float64
	overTiming    bool    // libwebrtc: time_over_using_ != -1
	timeOverUsing float64 // ms of send time spent above the threshold
	overuseCount  int
	usage         bwe.Usage
}

func newOveruseDetector(c ThresholdConfig) overuseDetector {
	o := overuseDetector{
		initial:         c.Initial,
		min:             c.Min,
		max:             c.Max,
		kUp:             c.KUp,
		kDown:           c.KDown,
		maxAdaptOffset:  c.MaxAdaptOffset,
		maxTimeDeltaMs:  bwe.Millis(c.MaxTimeDelta),
		overusingTimeMs: bwe.Millis(c.OverusingTime),
	}
	o.reset()
	return o
}

func (o *overuseDetector) reset() {
	o.threshold = o.initial
	o.lastUpdateMs = 0
	o.haveUpdate = false
	o.prevTrend = 0
	o.overTiming = false
	o.timeOverUsing = 0
	o.overuseCount = 0
	o.usage = bwe.Normal
}

// classify runs one step of the state machine against threshold thr:
//
//	m >  thr: timer += tsDelta (tsDelta/2 on the first excursion), count++;
//	          Overusing once timer > OverusingTime, count > 1 and
//	          trend >= previous trend; otherwise the state is kept
//	m < −thr: Underusing
//	else:     Normal
//
// It then remembers trend as the previous trend.
func (o *overuseDetector) classify(trend, m, thr, tsDeltaMs float64) bwe.Usage {
	switch {
	case m > thr:
		if !o.overTiming {
			o.overTiming = true
			o.timeOverUsing = tsDeltaMs / 2
		} else {
			o.timeOverUsing += tsDeltaMs
		}
		o.overuseCount++
		if o.timeOverUsing > o.overusingTimeMs && o.overuseCount > 1 && trend >= o.prevTrend {
			o.timeOverUsing = 0
			o.overuseCount = 0
			o.usage = bwe.Overusing
		}
	case m < -thr:
		o.overTiming = false
		o.overuseCount = 0
		o.usage = bwe.Underusing
	default:
		o.overTiming = false
		o.overuseCount = 0
		o.usage = bwe.Normal
	}
	o.prevTrend = trend
	return o.usage
}

// detect is classify against the adaptive threshold followed by the
// threshold update, libwebrtc's Detect. It returns the usage and the
// threshold m was compared with.
func (o *overuseDetector) detect(trend, m, tsDeltaMs float64, nowMs int64) (bwe.Usage, float64) {
	thr := o.threshold
	u := o.classify(trend, m, thr, tsDeltaMs)
	o.adapt(m, nowMs)
	return u, thr
}

// adapt moves the threshold toward |m|:
//
//	skip if |m| > thr + MaxAdaptOffset
//	k   = KDown if |m| < thr, else KUp
//	thr += k·(|m| − thr)·min(now − last, MaxTimeDelta), clamped to [Min, Max]
func (o *overuseDetector) adapt(m float64, nowMs int64) {
	if !o.haveUpdate {
		o.haveUpdate = true
		o.lastUpdateMs = nowMs
	}
	am := math.Abs(m)
	if am > o.threshold+o.maxAdaptOffset {
		o.lastUpdateMs = nowMs
		return
	}
	k := o.kUp
	if am < o.threshold {
		k = o.kDown
	}
	// Like libwebrtc, a step backwards in time gives a negative dt; the
	// clamp below keeps the threshold in bounds whatever it is.
	dt := min(float64(bwe.SatSub(nowMs, o.lastUpdateMs)), o.maxTimeDeltaMs)
	// float64(...) forbids fusing the product into the sum (an FMA would
	// round differently from libwebrtc's separate multiply and add).
	thr := o.threshold + float64(k*(am-o.threshold)*dt)
	// The built-in min and max treat NaN, infinities and signed zeros as
	// math.Min and math.Max do, without a call.
	o.threshold = max(o.min, min(thr, o.max))
	o.lastUpdateMs = nowMs
}

// roundMillis returns t in whole milliseconds, rounded to nearest with ties
// toward +∞: libwebrtc Timestamp::ms() (rtc_base/units/unit_base.h, through
// DivideRoundToNearest).
func roundMillis(t bwe.Time) int64 {
	us := t.Micros()
	q, r := us/1000, us%1000
	switch {
	case us >= 0 && r > 499:
		q++
	case us < 0 && -r > 500:
		q--
	}
	return q
}

// finite maps ±Inf to ±MaxFloat64 and NaN to 0, so that hostile input can
// never push a non-finite number into the state or the output.
func finite(v float64) float64 {
	switch {
	case v != v:
		return 0
	case v > math.MaxFloat64:
		return math.MaxFloat64
	case v < -math.MaxFloat64:
		return -math.MaxFloat64
	}
	return v
}
