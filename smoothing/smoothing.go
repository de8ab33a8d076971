package smoothing

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/bwelab/bwe"
)

// maxRing bounds the MaxSamples of every config, so that a mistyped value
// cannot ask for gigabytes of ring buffer.
const maxRing = 1 << 20

// names lists the smoothers of this package by name, in a stable order.
var names = []string{"none", "ewma", "asymmetric", "percentile", "hysteresis", "oscillation"}

// Names returns the names [NewByName] accepts: "none" ([Identity]), "ewma"
// ([EWMA]), "asymmetric" ([Asymmetric]), "percentile" ([Percentile]),
// "hysteresis" ([Hysteresis]) and "oscillation" ([OscillationAware], which
// then reads [bwe.Signals.Oscillation]).
func Names() []string { return append([]string(nil), names...) }

// NewByName returns a fresh smoother with its default configuration, for
// tools that select smoothers by name.
func NewByName(name string) (bwe.Smoother, error) {
	switch name {
	case "none":
		return &Identity{}, nil
	case "ewma":
		return NewEWMA(EWMAConfig{})
	case "asymmetric":
		return NewAsymmetric(AsymmetricConfig{})
	case "percentile":
		return NewPercentile(PercentileConfig{})
	case "hysteresis":
		return NewHysteresis(HysteresisConfig{})
	case "oscillation":
		return NewOscillationAware(OscillationAwareConfig{})
	}
	return nil, fmt.Errorf("smoothing: unknown smoother %q (want %s)", name, strings.Join(names, ", "))
}

// Identity is the pass-through smoother: it returns the estimate itself
// (a negative estimate as 0). It is the "no smoothing" baseline.
type Identity struct{}

var (
	_ bwe.Smoother = (*Identity)(nil)
	_ bwe.Smoother = (*EWMA)(nil)
	_ bwe.Smoother = (*Asymmetric)(nil)
	_ bwe.Smoother = (*Percentile)(nil)
	_ bwe.Smoother = (*Hysteresis)(nil)
	_ bwe.Smoother = (*OscillationAware)(nil)
)

// Smooth returns estimate, or 0 if it is negative.
func (Identity) Smooth(_ bwe.Time, estimate bwe.Bitrate, _ bwe.Signals) bwe.Bitrate {
	return max(estimate, 0)
}

// Reset does nothing: Identity has no state.
func (Identity) Reset() {}

// alpha returns the weight 1 − exp(−dt/tau) that a first-order low-pass
// filter with time constant tau gives a sample arriving dt after the
// previous one. A tau of 0 or less means "no filtering" (weight 1); a dt of
// 0 or less leaves the state as it is (weight 0).
func alpha(dt, tau time.Duration) float64 {
	switch {
	case tau <= 0:
		return 1
	case dt <= 0:
		return 0
	}
	return -math.Expm1(-float64(dt) / float64(tau))
}

// blend moves a low-pass state y (bps, float) toward x with weight a and
// returns the new state and its rate. The rate is y rounded, kept between
// the previous output prev and x: the filter is a convex combination of
// what it has seen, so rounding must not carry it outside that range (nor
// above the largest estimate seen).
func blend(prev bwe.Bitrate, y float64, x bwe.Bitrate, a float64) (bwe.Bitrate, float64) {
	switch {
	case a >= 1:
		return x, x.Float()
	case a <= 0:
		return prev, y
	}
	lo, hi := min(prev, x), max(prev, x)
	y += a * (x.Float() - y)
	y = max(lo.Float(), min(y, hi.Float()))
	return bwe.BitrateFromFloat(math.Round(y)).Clamp(lo, hi), y
}

// monotone is the clock discipline every smoother shares: the first instant
// is taken as given, and an instant earlier than the last one is taken as
// the last one (Δt = 0).
type monotone struct {
	last bwe.Time
	init bool
}

// step records at and returns the time since the previous call (0 on the
// first call and when at goes backwards) and the instant to use.
func (m *monotone) step(at bwe.Time) (time.Duration, bwe.Time) {
	if !m.init {
		m.init, m.last = true, at
		return 0, at
	}
	if at < m.last {
		return 0, m.last
	}
	dt := at.Sub(m.last)
	m.last = at
	return dt, at
}

// quantileSorted returns the q-quantile of the ascending values v by linear
// interpolation between order statistics (R's type 7, NumPy's default):
// h = q·(n−1), v[⌊h⌋] + (h−⌊h⌋)·(v[⌊h⌋+1] − v[⌊h⌋]), rounded to the
// nearest bps and kept between the two order statistics. v must not be
// empty.
func quantileSorted(v []bwe.Bitrate, q float64) bwe.Bitrate {
	i, f := rank(len(v), q)
	if f == 0 || i+1 >= len(v) {
		return v[i]
	}
	return interpolate(v[i], v[i+1], f)
}

// rank splits the type-7 position q·(n−1) into its whole and fractional
// parts.
func rank(n int, q float64) (int, float64) {
	h := q * float64(n-1)
	i := int(h)
	if i >= n-1 {
		return n - 1, 0
	}
	return i, h - float64(i)
}

// interpolate returns a + f·(b − a) rounded, within [a, b].
func interpolate(a, b bwe.Bitrate, f float64) bwe.Bitrate {
	r := a.Float() + f*(b.Float()-a.Float())
	return bwe.BitrateFromFloat(math.Round(r)).Clamp(a, b)
}

// checkQuantile validates a quantile field.
func checkQuantile(typ, field string, q float64) error {
	if !(q >= 0 && q <= 1) {
		return fmt.Errorf("smoothing: %s.%s %v is not in [0, 1]", typ, field, q)
	}
	return nil
}

// checkSamples validates a MaxSamples field.
func checkSamples(typ string, n int) error {
	switch {
	case n < 0:
		return fmt.Errorf("smoothing: %s.MaxSamples %d is negative", typ, n)
	case n > maxRing:
		return fmt.Errorf("smoothing: %s.MaxSamples %d exceeds %d", typ, n, maxRing)
	}
	return nil
}

// checkDuration validates a duration field that must not be negative.
func checkDuration(typ, field string, d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("smoothing: %s.%s %v is negative", typ, field, d)
	}
	return nil
}
