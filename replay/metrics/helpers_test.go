package metrics

import (
	"math"
	"time"

	"github.com/bwelab/bwe"
)

const step = 100 * time.Millisecond

// constant returns n samples of r.
func constant(n int, r bwe.Bitrate) []bwe.Bitrate {
	out := make([]bwe.Bitrate, n)
	for i := range out {
		out[i] = r
	}
	return out
}

// concat joins sample slices.
func concat(parts ...[]bwe.Bitrate) []bwe.Bitrate {
	var out []bwe.Bitrate
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// sine returns n samples of mean + amp·sin(2π·i·step/period + phase).
func sine(n int, mean, amp float64, period time.Duration, phase float64) []bwe.Bitrate {
	out := make([]bwe.Bitrate, n)
	for i := range out {
		x := mean + amp*math.Sin(2*math.Pi*float64(i)*step.Seconds()/period.Seconds()+phase)
		out[i] = bwe.Bitrate(math.Round(x))
	}
	return out
}

// square returns n samples alternating between lo and hi every half
// samples, starting low.
func square(n, half int, lo, hi bwe.Bitrate) []bwe.Bitrate {
	out := make([]bwe.Bitrate, n)
	for i := range out {
		if (i/half)%2 == 0 {
			out[i] = lo
		} else {
			out[i] = hi
		}
	}
	return out
}

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
