package metrics_test

import (
	"fmt"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/replay/metrics"
)

// A target that ramps up to a 1 Mbps link and then saws between 0.9 and
// 1.05 Mbps, scored against the capacity.
func Example() {
	const step = 100 * time.Millisecond
	target := make([]bwe.Bitrate, 600) // 60 s
	for i := range target {
		switch {
		case i < 100: // 10 s ramp from 0.3 Mbps
			target[i] = 300*bwe.Kbps + bwe.Bitrate(i)*6*bwe.Kbps
		default: // a 2 s sawtooth: +15 kbps per sample, then back down
			target[i] = 900*bwe.Kbps + bwe.Bitrate((i-100)%20)*15*bwe.Kbps/2
		}
	}
	capacity := make([]bwe.Bitrate, 600)
	for i := range capacity {
		capacity[i] = bwe.Mbps
	}
	rate := metrics.Series{Step: step, Rates: target}
	link := metrics.Series{Step: step, Rates: capacity}

	u, n := metrics.Utilization(rate, link)
	fmt.Printf("utilization %.3f over %d samples\n", u, n)

	c, _ := metrics.ConvergenceTo(rate, bwe.Mbps, metrics.ConvergenceConfig{})
	fmt.Printf("converged %v after %v\n", c.Converged, c.Time)

	sp, _ := metrics.NewSpectrum(metrics.DefaultSpectrumConfig())
	o, _ := sp.OscillationIndex(rate, link, metrics.DefaultSettle)
	fmt.Printf("oscillation index %.3f, period %.1f s\n", o.Index, o.Period.Seconds())

	fmt.Printf("Jain %.2f\n", metrics.Jain([]bwe.Bitrate{bwe.Mbps, 500 * bwe.Kbps}))
	// Output:
	// utilization 0.905 over 300 samples
	// converged true after 10s
	// oscillation index 0.101, period 2.0 s
	// Jain 0.90
}
