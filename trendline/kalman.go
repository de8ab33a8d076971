package trendline

import (
	"errors"
	"math"
	"strconv"

	"github.com/bwelab/bwe"
)

// KalmanConfig parameterizes a [Kalman] detector. A zero field means its
// default. The defaults are libwebrtc's OveruseEstimator and
// OveruseDetector (modules/remote_bitrate_estimator).
type KalmanConfig struct {
	// InitialSlope is the initial estimate of the size-dependent delay, in
	// ms per byte (the inverse of the capacity).
	// Default 8/512 (libwebrtc overuse_estimator.h: slope_ = 8.0 / 512.0).
	InitialSlope float64
	// SlopeVariance and OffsetVariance are the initial diagonal of the
	// estimate covariance E, in (ms/byte)² and ms².
	// Defaults 100 and 0.1 (libwebrtc overuse_estimator.h: E_ = {{100, 0}, {0, 1e-1}}).
	SlopeVariance, OffsetVariance float64
	// SlopeProcessNoise and OffsetProcessNoise are added to the diagonal of
	// E at every update.
	// Defaults 1e-13 and 1e-3 (libwebrtc overuse_estimator.h: process_noise_ = {1e-13, 1e-3}).
	SlopeProcessNoise, OffsetProcessNoise float64
	// HypothesisNoiseGain multiplies OffsetProcessNoise into an extra boost
	// of E11 when the detector's hypothesis and the last offset move
	// disagree (overusing while the offset fell, underusing while it rose).
	// Default 10 (libwebrtc overuse_estimator.cc: E_[1][1] += 10 * process_noise_[1]).
	HypothesisNoiseGain float64
	// InitialNoiseVariance is the initial measurement-noise variance, ms².
	// Default 50 (libwebrtc overuse_estimator.h: var_noise_ = 50.0).
	InitialNoiseVariance float64
	// MinNoiseVariance floors the measurement-noise variance, ms².
	// Default 1 (libwebrtc overuse_estimator.cc: if (var_noise_ < 1) var_noise_ = 1).
	MinNoiseVariance float64
	// NoiseAlpha is the noise filter's forgetting factor per 33 ms of frame
	// period during start-up; SteadyNoiseAlpha replaces it once more than
	// SteadyAfterDeltas deltas have been seen.
	// Defaults 0.01, 0.002 and 300 (libwebrtc overuse_estimator.cc: alpha = 0.01;
	// 0.002 when num_of_deltas_ > 10 * 30).
	NoiseAlpha, SteadyNoiseAlpha float64
	SteadyAfterDeltas            int
	// FramePeriodHistory is how many send deltas the minimum frame period is
	// taken over.
	// Default 60 (libwebrtc overuse_estimator.cc: kMinFramePeriodHistoryLength = 60).
	FramePeriodHistory int
	// OutlierSigmas clips residuals fed to the noise filter at this many
	// standard deviations.
	// Default 3 (libwebrtc overuse_estimator.cc: max_residual = 3.0 * sqrt(var_noise_)).
	OutlierSigmas float64
	// MinNumDeltas caps the delta count in T = min(n, MinNumDeltas)·offset.
	// Default 60 (libwebrtc overuse_detector.cc: kMaxNumDeltas = 60).
	MinNumDeltas int
	// DeltaCounterMax caps the delta counter n.
	// Default 1000 (libwebrtc overuse_estimator.cc: kDeltaCounterMax = 1000).
	DeltaCounterMax int
	// Threshold holds the adaptive-threshold and state-machine parameters;
	// the defaults are those of libwebrtc overuse_detector.cc with its
	// adaptive threshold on (k_up 0.0087, k_down 0.039, 12.5 in [6, 600],
	// 10 ms overusing time).
	Threshold ThresholdConfig
}

// DefaultKalmanConfig returns the libwebrtc defaults.
func DefaultKalmanConfig() KalmanConfig {
	return KalmanConfig{
		InitialSlope:         8.0 / 512.0,
		SlopeVariance:        100,
		OffsetVariance:       0.1,
		SlopeProcessNoise:    1e-13,
		OffsetProcessNoise:   1e-3,
		HypothesisNoiseGain:  10,
		InitialNoiseVariance: 50,
		MinNoiseVariance:     1,
		NoiseAlpha:           0.01,
		SteadyNoiseAlpha:     0.002,
		SteadyAfterDeltas:    300,
		FramePeriodHistory:   60,
		OutlierSigmas:        3,
		MinNumDeltas:         60,
		DeltaCounterMax:      1000,
		Threshold:            DefaultThresholdConfig(),
	}
}

func (c KalmanConfig) resolve() (KalmanConfig, error) {
	def := DefaultKalmanConfig()
	floats := []struct {
		name string
		v    *float64
		d    float64
		max  float64 // exclusive upper bound, 0 for none
	}{
		{"InitialSlope", &c.InitialSlope, def.InitialSlope, 0},
		{"SlopeVariance", &c.SlopeVariance, def.SlopeVariance, 0},
		{"OffsetVariance", &c.OffsetVariance, def.OffsetVariance, 0},
		{"SlopeProcessNoise", &c.SlopeProcessNoise, def.SlopeProcessNoise, 0},
		{"OffsetProcessNoise", &c.OffsetProcessNoise, def.OffsetProcessNoise, 0},
		{"HypothesisNoiseGain", &c.HypothesisNoiseGain, def.HypothesisNoiseGain, 0},
		{"InitialNoiseVariance", &c.InitialNoiseVariance, def.InitialNoiseVariance, 0},
		{"MinNoiseVariance", &c.MinNoiseVariance, def.MinNoiseVariance, 0},
		{"NoiseAlpha", &c.NoiseAlpha, def.NoiseAlpha, 1},
		{"SteadyNoiseAlpha", &c.SteadyNoiseAlpha, def.SteadyNoiseAlpha, 1},
		{"OutlierSigmas", &c.OutlierSigmas, def.OutlierSigmas, 0},
	}
	for _, f := range floats {
		if *f.v == 0 {
			*f.v = f.d
		}
		v := *f.v
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || (f.max != 0 && v >= f.max) {
			msg := "finite and non-negative"
			if f.max != 0 {
				msg = "in (0, " + strconv.FormatFloat(f.max, 'g', -1, 64) + ")"
			}
			return c, errors.New("trendline: " + f.name + " must be " + msg)
		}
	}
	ints := []struct {
		name string
		v    *int
		d    int
	}{
		{"SteadyAfterDeltas", &c.SteadyAfterDeltas, def.SteadyAfterDeltas},
		{"FramePeriodHistory", &c.FramePeriodHistory, def.FramePeriodHistory},
		{"MinNumDeltas", &c.MinNumDeltas, def.MinNumDeltas},
		{"DeltaCounterMax", &c.DeltaCounterMax, def.DeltaCounterMax},
	}
	for _, f := range ints {
		if *f.v == 0 {
			*f.v = f.d
		}
		if *f.v < 0 {
			return c, errors.New("trendline: " + f.name + " must not be negative")
		}
	}
	if c.FramePeriodHistory > maxWindow {
		return c, errors.New("trendline: FramePeriodHistory must be at most " + strconv.Itoa(maxWindow))
	}
	if c.InitialNoiseVariance < c.MinNoiseVariance {
		return c, errors.New("trendline: InitialNoiseVariance must not be below MinNoiseVariance")
	}
	var err error
	c.Threshold, err = c.Threshold.resolve("Threshold.")
	return c, err
}

// Kalman is the delay detector of draft-ietf-rmcat-gcc-02 in libwebrtc's
// form: OveruseEstimator, a two-state Kalman filter on
// [slope, offset] of the inter-group delay model
//
//	t_delta − ts_delta = slope·size_delta + offset + noise
//
// followed by OveruseDetector, which compares T = min(n, 60)·offset with the
// same adaptive threshold as the trendline. libwebrtc still runs this pair in
// its receive-side (REMB) estimators. See the package documentation for the
// equations.
//
// A Kalman is not safe for concurrent use.
type Kalman struct {
	cfg KalmanConfig

	det overuseDetector

	numDeltas int
	slope     float64 // ms per byte
	offset    float64 // ms
	prevOff   float64 // offset before the last update
	e00, e01  float64
	e10, e11  float64
	avgNoise  float64 // ms
	varNoise  float64 // ms²

	// Last FramePeriodHistory send deltas (ms), oldest at head.
	tsHist []float64
	tsHead int
	tsSize int

	resets int
}

var _ bwe.DelayDetector = (*Kalman)(nil)

// NewKalman returns a Kalman detector configured by cfg (zero fields take
// defaults), or an error naming the first invalid field.
func NewKalman(cfg KalmanConfig) (*Kalman, error) {
	c, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	k := &Kalman{
		cfg:    c,
		det:    newOveruseDetector(c.Threshold),
		tsHist: make([]float64, c.FramePeriodHistory),
	}
	k.Reset()
	return k, nil
}

// Reset returns k to its state after NewKalman.
func (k *Kalman) Reset() {
	k.det.reset()
	k.numDeltas = 0
	k.resetFilter()
	k.avgNoise = 0
	k.varNoise = k.cfg.InitialNoiseVariance
	k.tsHead = 0
	k.tsSize = 0
	k.resets = 0
}

func (k *Kalman) resetFilter() {
	k.slope = k.cfg.InitialSlope
	k.offset = 0
	k.prevOff = 0
	k.e00, k.e01 = k.cfg.SlopeVariance, 0
	k.e10, k.e11 = 0, k.cfg.OffsetVariance
}

// NoiseVariance returns the filter's current estimate of the measurement
// noise variance (the jitter of t_delta − ts_delta around the model), in ms².
// It starts at InitialNoiseVariance and never falls below MinNoiseVariance.
func (k *Kalman) NoiseVariance() float64 { return k.varNoise }

// FilterResets counts the updates after which the filter state would have
// stopped being finite (only hostile input does that) and was restarted
// from its initial slope, offset and covariance instead.
func (k *Kalman) FilterResets() int { return k.resets }

// Update consumes one group delta: t_delta = ArrivalDelta and ts_delta =
// SendDelta in ms, size_delta = SizeDelta in bytes (saturated to the int32
// range, libwebrtc's int). The filter is updated first with the detector's
// previous hypothesis, then the detector judges the new offset. As in
// [Estimator.Update], the detector's time axis is d.Arrival rounded to whole
// milliseconds.
func (k *Kalman) Update(d bwe.GroupDelta) bwe.Detection {
	nowMs := roundMillis(d.Arrival)
	tDelta := bwe.Millis(d.ArrivalDelta)
	tsDelta := bwe.Millis(d.SendDelta)
	size := float64(max(math.MinInt32, min(int64(d.SizeDelta), math.MaxInt32)))

	k.filter(tDelta, tsDelta, size, k.det.usage)

	if k.numDeltas < 2 {
		k.det.usage = bwe.Normal
		return bwe.Detection{Usage: bwe.Normal, Trend: k.offset, Threshold: k.det.threshold}
	}
	t := finite(float64(min(k.numDeltas, k.cfg.MinNumDeltas)) * k.offset)
	usage, thr := k.det.detect(k.offset, t, tsDelta, nowMs)
	return bwe.Detection{Usage: usage, Trend: k.offset, Modified: t, Threshold: thr}
}

// filter is libwebrtc's OveruseEstimator::Update. Products are wrapped in
// float64(...) so that the compiler cannot fuse them into FMAs, which would
// round differently from the reference.
func (k *Kalman) filter(tDelta, tsDelta, h0 float64, hypothesis bwe.Usage) {
	minPeriod := k.minFramePeriod(tsDelta)
	tTs := tDelta - tsDelta
	k.numDeltas = min(k.numDeltas+1, k.cfg.DeltaCounterMax)

	e00 := k.e00 + k.cfg.SlopeProcessNoise
	e01, e10 := k.e01, k.e10
	e11 := k.e11 + k.cfg.OffsetProcessNoise
	if (hypothesis == bwe.Overusing && k.offset < k.prevOff) ||
		(hypothesis == bwe.Underusing && k.offset > k.prevOff) {
		e11 += float64(k.cfg.HypothesisNoiseGain * k.cfg.OffsetProcessNoise)
	}

	// h = [size_delta, 1]
	eh0 := float64(e00*h0) + e01
	eh1 := float64(e10*h0) + e11
	residual := tTs - float64(k.slope*h0) - k.offset

	if hypothesis == bwe.Normal {
		maxRes := k.cfg.OutlierSigmas * math.Sqrt(k.varNoise)
		r := residual
		if !(math.Abs(r) < maxRes) {
			r = math.Copysign(maxRes, residual)
		}
		k.updateNoise(r, minPeriod)
	}

	denom := k.varNoise + float64(h0*eh0) + eh1
	k0 := eh0 / denom
	k1 := eh1 / denom
	ikh00 := 1 - float64(k0*h0)
	ikh01 := -k0
	ikh10 := -float64(k1 * h0)
	ikh11 := 1 - k1

	n00 := float64(e00*ikh00) + float64(e10*ikh01)
	n01 := float64(e01*ikh00) + float64(e11*ikh01)
	n10 := float64(e00*ikh10) + float64(e10*ikh11)
	n11 := float64(e01*ikh10) + float64(e11*ikh11)
	slope := k.slope + float64(k0*residual)
	offset := k.offset + float64(k1*residual)

	// libwebrtc only logs a covariance that is no longer positive
	// semi-definite and carries on. A state that is no longer finite, or a
	// non-positive innovation variance, only comes from hostile input; it
	// restarts the filter instead of poisoning every later update.
	if !(denom > 0) || !isFinite(n00) || !isFinite(n01) || !isFinite(n10) ||
		!isFinite(n11) || !isFinite(slope) || !isFinite(offset) {
		k.resets++
		k.resetFilter()
		return
	}
	k.e00, k.e01, k.e10, k.e11 = n00, n01, n10, n11
	k.slope = slope
	k.prevOff = k.offset
	k.offset = offset
}

// minFramePeriod records tsDelta and returns the smallest of it and the
// previous FramePeriodHistory−1 send deltas.
func (k *Kalman) minFramePeriod(tsDelta float64) float64 {
	n := len(k.tsHist)
	if k.tsSize == n {
		k.tsHead++
		if k.tsHead == n {
			k.tsHead = 0
		}
		k.tsSize--
	}
	m := tsDelta
	for j, i := 0, k.tsHead; j < k.tsSize; j++ {
		m = min(m, k.tsHist[i])
		if i++; i == n {
			i = 0
		}
	}
	i := k.tsHead + k.tsSize
	if i >= n {
		i -= n
	}
	k.tsHist[i] = tsDelta
	k.tsSize++
	return m
}

// updateNoise is libwebrtc's UpdateNoiseEstimate, run only in the Normal
// hypothesis:
//
//	alpha = NoiseAlpha (SteadyNoiseAlpha after SteadyAfterDeltas deltas)
//	beta  = (1 − alpha)^(min_frame_period_ms · 30/1000)
//	avg   = beta·avg + (1 − beta)·residual
//	var   = max(beta·var + (1 − beta)·(avg − residual)², MinNoiseVariance)
//
// The exponent is in milliseconds: at 30 frames per second (33 ms periods)
// each update forgets about alpha of the past.
func (k *Kalman) updateNoise(residual, minPeriodMs float64) {
	alpha := k.cfg.NoiseAlpha
	if k.numDeltas > k.cfg.SteadyAfterDeltas {
		alpha = k.cfg.SteadyNoiseAlpha
	}
	// A negative period only comes from malformed input (send times going
	// backwards); it would make beta exceed 1 and the filter diverge.
	beta := math.Pow(1-alpha, float64(max(minPeriodMs, 0)*30)/1000)
	k.avgNoise = finite(float64(beta*k.avgNoise) + float64((1-beta)*residual))
	dev := k.avgNoise - residual
	v := float64(beta*k.varNoise) + float64(float64((1-beta)*dev)*dev)
	k.varNoise = finite(max(v, k.cfg.MinNoiseVariance))
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
