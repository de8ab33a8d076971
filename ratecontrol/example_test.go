package ratecontrol_test

import (
	"fmt"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/ratecontrol"
)

// An estimate climbs from 1 Mbps past the 2 Mbps top of a three-rung
// ladder and settles at 3.5 Mbps; at 24 s a loss burst drops it to
// 1.5 Mbps. The target follows the climb, stops at the top, goes beyond it
// once the estimate has stayed 20 % above for 5 s (keeping 20 % below the
// estimate, at most 1.5 × the top), and falls at once on the loss.
func Example() {
	c, err := ratecontrol.New(ratecontrol.Config{
		Min: 300 * bwe.Kbps,
		Max: 2 * bwe.Mbps,
		Rungs: []ratecontrol.Rung{
			{Bitrate: 300 * bwe.Kbps, Width: 640, Height: 360},
			{Bitrate: bwe.Mbps, Width: 960, Height: 540},
			{Bitrate: 2 * bwe.Mbps, Width: 1280, Height: 720},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for now := time.Duration(0); now <= 26*time.Second; now += 50 * time.Millisecond {
		in := bwe.RateInput{Time: bwe.TimeFromDuration(now)}
		// 1 Mbps + 250 kbps a second, up to 3.5 Mbps.
		in.Estimate = min(bwe.Mbps+bwe.BitrateFromFloat(250e3*now.Seconds()), 3500*bwe.Kbps)
		if now >= 24*time.Second {
			in.Estimate, in.Signals.Loss = 1500*bwe.Kbps, 0.12
		}
		target := c.Update(in)
		if now%(2*time.Second) == 0 {
			st := c.State()
			fmt.Printf("t=%2.0fs  estimate %-9v  target %-13v  rung %d  %v\n", now.Seconds(), in.Estimate, target, st.Rung, st.Reason)
		}
	}
	// Output:
	// t= 0s  estimate 1 Mbps     target 1 Mbps         rung 1  follow
	// t= 2s  estimate 1.5 Mbps   target 1.266016 Mbps  rung 1  rampUp
	// t= 4s  estimate 2 Mbps     target 1.73483 Mbps   rung 1  rampUp
	// t= 6s  estimate 2.5 Mbps   target 1.964113 Mbps  rung 1  rampUp
	// t= 8s  estimate 3 Mbps     target 2 Mbps         rung 1  max
	// t=10s  estimate 3.5 Mbps   target 2 Mbps         rung 1  max
	// t=12s  estimate 3.5 Mbps   target 2.654037 Mbps  rung 1  beyond
	// t=14s  estimate 3.5 Mbps   target 2.916666 Mbps  rung 2  beyond
	// t=16s  estimate 3.5 Mbps   target 2.916666 Mbps  rung 2  beyond
	// t=18s  estimate 3.5 Mbps   target 2.916666 Mbps  rung 2  beyond
	// t=20s  estimate 3.5 Mbps   target 2.916666 Mbps  rung 2  beyond
	// t=22s  estimate 3.5 Mbps   target 2.916666 Mbps  rung 2  beyond
	// t=24s  estimate 1.5 Mbps   target 1.5 Mbps       rung 1  congestion
	// t=26s  estimate 1.5 Mbps   target 1.5 Mbps       rung 1  congestion
}
