package oscillation

import (
	"math"

	"github.com/bwelab/bwe"
)

// DefaultSpectralThreshold is the default Threshold of [Spectral].
const DefaultSpectralThreshold = 0.45

// spectralRatio is the ratio between neighbouring candidate periods of
// the [Spectral] bank (4 %, several candidates per DFT bin of the window).
const spectralRatio = 1.04

// maxCandidates bounds the size of the [Spectral] bank.
const maxCandidates = 512

// Spectral detects oscillation from the power spectrum of the detrended,
// Hann-windowed window, evaluated by a bank of Goertzel filters at
// log-spaced candidate periods. The period is the peak of the bank,
// refined by interpolation; Strength is the share of the detrended
// variance carried by a sinusoid at that period. Each completed bin costs
// O(N·K) for N bins and K candidates. See the package documentation.
//
// A Spectral is not safe for concurrent use.
type Spectral struct {
	c       core
	periods []float64 // candidate periods, s, ascending
	coeffs  []float64 // Goertzel 2·cos(ω) per candidate
	power   []float64 // |X|² per candidate
	hann    []float64 // window for hannN bins
	hannN   int
}

var _ bwe.OscillationDetector = (*Spectral)(nil)

// NewSpectral returns a Spectral configured by cfg (zero fields take
// defaults, Threshold [DefaultSpectralThreshold]), or an error naming the
// first invalid field.
func NewSpectral(cfg Config) (*Spectral, error) {
	c, err := cfg.resolve(DefaultSpectralThreshold)
	if err != nil {
		return nil, err
	}
	s := &Spectral{c: newCore(c)}
	// The bank reaches beyond the searched range, down by periodSlack and
	// up to two thirds of the window, so that a peak can be told from the
	// rising edge of a trend's or a random walk's spectrum, which keeps
	// growing towards long periods.
	lo := max(s.c.minPeriod/(1+periodSlack), 2*s.c.stepSec)
	hi := max(s.c.maxPeriod*(1+periodSlack), float64(len(s.c.x))*s.c.stepSec/1.5)
	ratio := hi / lo
	k := int(math.Ceil(math.Log(ratio)/math.Log(spectralRatio))) + 1
	k = max(3, min(k, maxCandidates))
	s.periods = make([]float64, k)
	s.coeffs = make([]float64, k)
	s.power = make([]float64, k)
	for j := range k {
		p := lo * math.Pow(ratio, float64(j)/float64(k-1))
		s.periods[j] = p
		s.coeffs[j] = 2 * math.Cos(2*math.Pi*s.c.stepSec/p)
	}
	s.hann = make([]float64, len(s.c.x))
	return s, nil
}

// Add consumes the rate value observed at the instant at. Samples older
// than the last one are ignored.
func (s *Spectral) Add(at bwe.Time, value bwe.Bitrate) bwe.Oscillation {
	completed, ready := s.c.ingest(at, value)
	switch {
	case completed == 0:
		return s.c.state
	case !ready || s.c.vard == 0:
		return s.c.noCandidate()
	}
	p, st := s.estimate()
	return s.c.decide(p, st)
}

// State returns the result of the last Add.
func (s *Spectral) State() bwe.Oscillation { return s.c.state }

// Reset forgets every sample.
func (s *Spectral) Reset() { s.c.reset() }

func (s *Spectral) estimate() (period, strength float64) {
	n := s.c.n
	d, dm, wt := s.c.d[:n], s.c.dm[:n], s.c.w[:n]
	if n != s.hannN {
		for i := range n {
			s.hann[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n-1))
		}
		s.hannN = n
	}
	w := s.hann[:n]
	best := 0
	for j, coeff := range s.coeffs {
		var s1, s2 float64
		for i, v := range dm {
			s0 := v*w[i] + coeff*s1 - s2
			s2, s1 = s1, s0
		}
		p := s1*s1 + s2*s2 - coeff*s1*s2
		s.power[j] = max(p, 0)
		if s.power[j] > s.power[best] {
			best = j
		}
	}
	if !(s.power[best] > 0) || best == 0 || best == len(s.power)-1 {
		return 0, 0 // no peak, or the spectrum still rising at an edge
	}
	// Refine on a parabola through the log powers, over log period (the
	// candidates are evenly spaced there).
	logP := math.Log(s.periods[best])
	if s.power[best-1] > 0 && s.power[best+1] > 0 {
		x, _ := parabolicPeak(math.Log(s.power[best-1]), math.Log(s.power[best]), math.Log(s.power[best+1]))
		logP += x * math.Log(s.periods[best+1]/s.periods[best])
	}
	period = math.Exp(logP)
	return period, sineShare(d, wt, 2*math.Pi*s.c.stepSec/period)
}

// sineShare returns the share of the energy of d explained by the
// weighted least-squares sinusoid of angular frequency omega (radians per
// bin), weights w.
func sineShare(d, w []float64, omega float64) float64 {
	cw, sw := math.Cos(omega), math.Sin(omega)
	c, s := 1.0, 0.0
	var cc, ss, cs, yc, ys, yy float64
	for i, v := range d {
		if w[i] > 0 {
			cc += c * c
			ss += s * s
			cs += c * s
			yc += v * c
			ys += v * s
			yy += v * v
		}
		c, s = c*cw-s*sw, s*cw+c*sw
	}
	det := cc*ss - cs*cs
	if !(det > 0) || !(yy > 0) {
		return 0
	}
	a := (yc*ss - ys*cs) / det
	b := (ys*cc - yc*cs) / det
	share := (a*yc + b*ys) / yy
	if !(share > 0) {
		return 0
	}
	return min(share, 1)
}
