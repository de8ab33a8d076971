package delaybased

import (
	"math"

	"github.com/bwelab/bwe"
)

// Constants of the link-capacity tracker, from libwebrtc
// goog_cc/link_capacity_estimator.cc.
const (
	// overuseAlpha is the weight of a throughput sample taken at an
	// overuse: low, because such a sample only says that the capacity was
	// exceeded, not where it lies. libwebrtc: OnOveruseDetected alpha = 0.05.
	overuseAlpha = 0.05
	// probeAlpha is the weight of a probe result, which measures the
	// capacity directly. libwebrtc: OnProbeRate alpha = 0.5.
	probeAlpha = 0.5
	// initialDeviation is the normalised variance before any sample.
	// libwebrtc: deviation_kbps_ = 0.4.
	initialDeviation = 0.4
	// boundSigmas is how many standard deviations the bounds lie from the
	// estimate. libwebrtc: UpperBound/LowerBound use 3·deviation.
	boundSigmas = 3
)

// Clamp of the normalised variance. libwebrtc clamps with float literals
// (0.4f, 2.5f), so the lower limit is the float32 nearest to 0.4 widened to
// float64 (0.4000000059604645), not 0.4. They are variables so that the
// widening happens exactly as in the reference.
var (
	minDeviation = float64(float32(0.4))
	maxDeviation = float64(float32(2.5))
)

// LinkCapacity tracks the capacity of the bottleneck link from the
// throughputs measured when the delay detector signals overuse (and from
// probe results): an exponentially weighted mean in kbps with a normalised
// variance. The AIMD controller uses it to choose between multiplicative
// increase (capacity unknown) and additive increase (capacity known and the
// current throughput within ±3σ of it). It is libwebrtc's
// LinkCapacityEstimator (goog_cc/link_capacity_estimator.cc).
//
// Model, with α = 0.05 for overuse samples and 0.5 for probe samples, and
// the sample s rounded to whole kbps as libwebrtc's DataRate::kbps() does:
//
//	est  = s                                  (first sample)
//	est  = (1−α)·est + α·s                    (afterwards)
//	dev  = (1−α)·dev + α·(est−s)²/max(est, 1), clamped to [0.4, 2.5]
//	σ    = sqrt(dev·est)                      (kbps)
//	bounds = est ± 3σ                         (lower bound floored at 0)
//
// The zero value has no estimate and is ready to use. LinkCapacity is a
// small value type: copying it copies the whole state, and its read-only
// methods have value receivers so that a copy (such as the one
// [AIMD.LinkCapacity] returns) can be queried directly. Not safe for
// concurrent use.
type LinkCapacity struct {
	estKbps float64
	dev     float64 // normalised variance; 0 stands for initialDeviation
	has     bool
}

// OnOveruseDetected adds the acknowledged throughput measured when an
// overuse was detected, with weight 0.05 (libwebrtc
// LinkCapacityEstimator::OnOveruseDetected). A negative rate counts as 0.
func (l *LinkCapacity) OnOveruseDetected(acked bwe.Bitrate) { l.update(acked, overuseAlpha) }

// OnProbeRate adds a probe result, with weight 0.5 (libwebrtc
// LinkCapacityEstimator::OnProbeRate). A negative rate counts as 0.
func (l *LinkCapacity) OnProbeRate(r bwe.Bitrate) { l.update(r, probeAlpha) }

func (l *LinkCapacity) update(sample bwe.Bitrate, alpha float64) {
	s := roundedKbps(sample)
	if !l.has {
		l.estKbps = s
		l.has = true
	} else {
		// Explicit conversions keep each product rounded on its own, as in
		// the reference (no fused multiply-add).
		l.estKbps = float64((1-alpha)*l.estKbps) + float64(alpha*s)
	}
	norm := max(l.estKbps, 1)
	e := l.estKbps - s
	dev := l.dev
	if dev == 0 {
		dev = initialDeviation
	}
	dev = float64((1-alpha)*dev) + float64(alpha*e*e)/norm
	if dev != dev { // NaN cannot arise from finite inputs; stay defined anyway.
		dev = minDeviation
	}
	l.dev = min(max(dev, minDeviation), maxDeviation)
}

// roundedKbps returns r in whole kilobits per second, rounded half up, as
// libwebrtc's integer DataRate::kbps() does; negative rates count as 0.
func roundedKbps(r bwe.Bitrate) float64 {
	if r <= 0 {
		return 0
	}
	if r > bwe.MaxBitrate-500 {
		return float64(bwe.MaxBitrate / 1000)
	}
	return float64((r + 500) / 1000)
}

// Reset forgets the estimate but keeps the variance, as libwebrtc's
// LinkCapacityEstimator::Reset does: the next sample becomes the estimate.
// The AIMD controller resets when the throughput leaves the ±3σ band.
func (l *LinkCapacity) Reset() { l.has = false }

// HasEstimate reports whether a sample has arrived since the zero value or
// the last Reset.
func (l LinkCapacity) HasEstimate() bool { return l.has }

// Estimate returns the capacity estimate, truncated to whole bits per
// second (libwebrtc DataRate::KilobitsPerSec of a double), or 0 without an
// estimate.
func (l LinkCapacity) Estimate() bwe.Bitrate {
	if !l.has {
		return 0
	}
	return kbpsToBitrate(l.estKbps)
}

// UpperBound returns est + 3σ, or [bwe.MaxBitrate] ("no bound") without an
// estimate (libwebrtc: DataRate::Infinity()).
func (l LinkCapacity) UpperBound() bwe.Bitrate {
	if !l.has {
		return bwe.MaxBitrate
	}
	return kbpsToBitrate(l.estKbps + float64(boundSigmas*l.sigmaKbps()))
}

// LowerBound returns max(0, est − 3σ), or 0 without an estimate.
func (l LinkCapacity) LowerBound() bwe.Bitrate {
	if !l.has {
		return 0
	}
	return kbpsToBitrate(max(0, l.estKbps-float64(boundSigmas*l.sigmaKbps())))
}

// Deviation returns the normalised variance dev (unitless, in [0.4, 2.5]
// once a sample has arrived); σ = sqrt(dev·est) in kbps. For plots.
func (l LinkCapacity) Deviation() float64 {
	if l.dev == 0 {
		return initialDeviation
	}
	return l.dev
}

func (l LinkCapacity) sigmaKbps() float64 {
	return math.Sqrt(l.Deviation() * l.estKbps)
}

// kbpsToBitrate converts kilobits per second to a Bitrate, truncating as
// libwebrtc's DataRate::KilobitsPerSec(double) does.
func kbpsToBitrate(kbps float64) bwe.Bitrate { return bwe.BitrateFromFloat(kbps * 1000) }
