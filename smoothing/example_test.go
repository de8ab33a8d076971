package smoothing_test

import (
	"fmt"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/smoothing"
)

// An estimate that swings between 1 and 2 Mbps every 4 s, with the swing
// detected and nothing corroborating a congestion, is held at the upper
// part of the cycle; loss of 12 % lets go at once.
func ExampleOscillationAware() {
	o, err := smoothing.NewOscillationAware(smoothing.OscillationAwareConfig{})
	if err != nil {
		panic(err)
	}
	swing := bwe.Oscillation{Detected: true, Period: 4 * time.Second}
	estimate := func(at bwe.Time) bwe.Bitrate {
		if at.Sub(0)%(4*time.Second) < 2*time.Second {
			return 2 * bwe.Mbps
		}
		return bwe.Mbps
	}
	var at bwe.Time
	for ; at < bwe.TimeFromDuration(10*time.Second); at = at.Add(50 * time.Millisecond) {
		o.Smooth(at, estimate(at), bwe.Signals{RTT: 60 * time.Millisecond, Oscillation: swing})
	}
	// 10.5 s is in a trough: the estimate is 1 Mbps.
	at = bwe.TimeFromDuration(10500 * time.Millisecond)
	out := o.Smooth(at, estimate(at), bwe.Signals{RTT: 60 * time.Millisecond, Usage: bwe.Overusing, Oscillation: swing})
	fmt.Println("trough, overusing:", estimate(at), "->", out, "holding:", o.State().Holding)

	at = at.Add(50 * time.Millisecond)
	out = o.Smooth(at, 900*bwe.Kbps, bwe.Signals{RTT: 60 * time.Millisecond, Loss: 0.12, Oscillation: swing})
	fmt.Println("12 % loss:", 900*bwe.Kbps, "->", out, "holding:", o.State().Holding, "reason:", o.State().Reason)
	// Output:
	// trough, overusing: 1 Mbps -> 2 Mbps holding: true
	// 12 % loss: 900 kbps -> 900 kbps holding: false reason: loss
}

// After one time constant an EWMA has covered 63.2 % of a step.
func ExampleEWMA() {
	e, _ := smoothing.NewEWMA(smoothing.EWMAConfig{TimeConstant: time.Second})
	fmt.Println(e.Smooth(0, bwe.Mbps, bwe.Signals{}))
	fmt.Println(e.Smooth(bwe.TimeFromDuration(time.Second), 2*bwe.Mbps, bwe.Signals{}))
	// Output:
	// 1 Mbps
	// 1.632121 Mbps
}

// Smoothers are chosen by name, each with its defaults.
func ExampleNewByName() {
	for _, name := range smoothing.Names() {
		sm, _ := smoothing.NewByName(name)
		var at bwe.Time
		var out bwe.Bitrate
		for _, x := range []bwe.Bitrate{2 * bwe.Mbps, 2 * bwe.Mbps, 1700 * bwe.Kbps} {
			out = sm.Smooth(at, x, bwe.Signals{})
			at = at.Add(500 * time.Millisecond)
		}
		fmt.Printf("%-11s 2, 2, then 1.7 Mbps -> %v\n", name, out)
	}
	// Output:
	// none        2, 2, then 1.7 Mbps -> 1.7 Mbps
	// ewma        2, 2, then 1.7 Mbps -> 1.881959 Mbps
	// asymmetric  2, 2, then 1.7 Mbps -> 1.7 Mbps
	// percentile  2, 2, then 1.7 Mbps -> 2 Mbps
	// hysteresis  2, 2, then 1.7 Mbps -> 2 Mbps
	// oscillation 2, 2, then 1.7 Mbps -> 1.7 Mbps
}
