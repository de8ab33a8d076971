package oscillation

import (
	"math"

	"github.com/bwelab/bwe"
)

// DefaultACFThreshold is the default Threshold of [Autocorrelation].
const DefaultACFThreshold = 0.55

// subharmonicRatio is how strong, relative to the chosen peak, a peak at a
// submultiple of its lag must be to be preferred.
const subharmonicRatio = 0.85

// Autocorrelation detects oscillation from the autocorrelation of the
// detrended window: the period is the lag of the strongest peak after the
// first zero crossing, Strength the correlation there. Each completed bin
// costs O(N·L) for N bins and L lags. See the package documentation.
//
// An Autocorrelation is not safe for concurrent use.
type Autocorrelation struct {
	c      core
	minLag int
	maxLag int
	r      []float64 // normalised autocorrelation for lags 0..maxLag+1
	b      []float64 // plain autocorrelation for the same lags
	sq     []float64 // squared weighted residuals
}

var _ bwe.OscillationDetector = (*Autocorrelation)(nil)

// NewAutocorrelation returns an Autocorrelation configured by cfg (zero
// fields take defaults, Threshold [DefaultACFThreshold]), or an error
// naming the first invalid field.
func NewAutocorrelation(cfg Config) (*Autocorrelation, error) {
	c, err := cfg.resolve(DefaultACFThreshold)
	if err != nil {
		return nil, err
	}
	a := &Autocorrelation{c: newCore(c)}
	n := len(a.c.x)
	a.minLag = int(math.Ceil(a.c.minPeriod / a.c.stepSec))
	a.maxLag = min(int(a.c.maxPeriod*(1+periodSlack)/a.c.stepSec), n-2)
	a.r = make([]float64, a.maxLag+2)
	a.b = make([]float64, a.maxLag+2)
	a.sq = make([]float64, n)
	return a, nil
}

// Add consumes the rate value observed at the instant at. Samples older
// than the last one are ignored.
func (a *Autocorrelation) Add(at bwe.Time, value bwe.Bitrate) bwe.Oscillation {
	completed, ready := a.c.ingest(at, value)
	switch {
	case completed == 0:
		return a.c.state
	case !ready || a.c.vard == 0:
		return a.c.noCandidate()
	}
	p, s := a.estimate()
	return a.c.decide(p, s)
}

// State returns the result of the last Add.
func (a *Autocorrelation) State() bwe.Oscillation { return a.c.state }

// Reset forgets every sample.
func (a *Autocorrelation) Reset() { a.c.reset() }

// estimate returns the period (s) and strength of the best candidate, or
// zeros.
func (a *Autocorrelation) estimate() (period, strength float64) {
	n := a.c.n
	dm, w := a.c.dm[:n], a.c.w[:n]
	sq := a.sq[:n]
	var total float64
	for i, v := range dm {
		sq[i] = v * v
		total += sq[i]
	}
	top := min(a.maxLag+1, n-minBins/2)
	if top < a.minLag+1 || !(total > 0) {
		return 0, 0
	}
	// r is the correlation of the overlapping parts, each normalised by
	// its own energy, over the pairs of observed bins: a periodic series
	// scores 1 at its period whatever the overlap. b is the plain (biased)
	// autocorrelation, which favours short lags: it picks the peak, since a
	// series of period P also correlates at 2P, 3P...
	r, b := a.r[:top+1], a.b[:top+1]
	r[0], b[0] = 1, 1
	zero := 0
	for k := 1; k <= top; k++ {
		var s, e1, e2 float64
		for i := 0; i+k < n; i++ {
			s += dm[i] * dm[i+k]
			e1 += sq[i] * w[i+k]
			e2 += w[i] * sq[i+k]
		}
		r[k], b[k] = 0, s/total
		if den := math.Sqrt(e1 * e2); den > 0 {
			r[k] = s / den
		}
		if zero == 0 && r[k] <= 0 {
			zero = k
		}
	}
	if zero == 0 {
		return 0, 0 // no zero crossing: a trend or a walk, not a swing
	}
	best, bestVal := 0, 0.0
	for k := max(zero+1, a.minLag); k < top; k++ {
		if r[k] >= r[k-1] && r[k] > r[k+1] && b[k] > bestVal {
			best, bestVal = k, b[k]
		}
	}
	if best == 0 {
		return 0, 0
	}
	// Prefer a peak near a submultiple of the chosen lag when it is nearly
	// as strong: gaps can make a multiple of the period win.
sub:
	for m := best / a.minLag; m >= 2; m-- {
		l := int(math.Round(float64(best) / float64(m)))
		for k := max(l-1, a.minLag, zero+1); k <= min(l+1, top-1); k++ {
			if r[k] >= r[k-1] && r[k] > r[k+1] && r[k] >= subharmonicRatio*r[best] {
				best = k
				break sub
			}
		}
	}
	lag, peak := parabolicPeak(r[best-1], r[best], r[best+1])
	return (float64(best) + lag) * a.c.stepSec, peak
}

// parabolicPeak fits a parabola through (−1, a), (0, b), (1, c) with b the
// largest and returns the abscissa of its vertex, in [−0.5, 0.5], and the
// value there.
func parabolicPeak(a, b, c float64) (x, y float64) {
	den := a - 2*b + c
	if !(den < 0) {
		return 0, b
	}
	x = 0.5 * (a - c) / den
	x = max(-0.5, min(0.5, x))
	return x, b - 0.25*(a-c)*x
}
