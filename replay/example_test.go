package replay_test

import (
	"fmt"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/replay"
	"github.com/bwelab/bwe/traces"
)

// A 1 Mbps bottleneck that speeds up to 2 Mbps at 10 ms, with 50 ms of
// propagation delay: three 1200-byte packets sent at once queue behind each
// other, and the second one is served partly at each rate.
func ExampleLink() {
	link, err := replay.NewLink(traces.Path{
		Capacity: traces.Steps{{At: 0, Capacity: 1 * bwe.Mbps}, {At: 10 * time.Millisecond, Capacity: 2 * bwe.Mbps}},
		Delay:    50 * time.Millisecond,
	}, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	for range 3 {
		f := link.Send(0, 1200)
		fmt.Println(f.Outcome, "left at", f.Departure, "arrived at", f.Arrival)
	}
	// Output:
	// delivered left at 0.009600s arrived at 0.059600s
	// delivered left at 0.014600s arrived at 0.064600s
	// delivered left at 0.019400s arrived at 0.069400s
}

// Run the built-in capacity-drop scenario with the default send-side
// estimator (libwebrtc's trendline detector, LossBasedBweV2-style loss
// estimator, probing) and look at the target after the capacity halves at
// 20 s.
func ExampleRun() {
	s, err := replay.ScenarioByName("drop-1M-0.5M")
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := replay.Run(s, replay.Estimator{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(res.Flows[0].Series), "samples, one every", res.Scenario.SampleInterval)
	for _, x := range res.Flows[0].Series {
		if x.At >= bwe.TimeFromDuration(20*time.Second) && x.Target < 600*bwe.Kbps {
			fmt.Println("target below 600 kbps within 2 s of the drop:", x.At < bwe.TimeFromDuration(22*time.Second))
			break
		}
	}
	fmt.Println("queuing delay p95 below the 300 ms queue:", res.Flows[0].Metrics.QueueP95 < 300*time.Millisecond)
	// Output:
	// 600 samples, one every 100ms
	// target below 600 kbps within 2 s of the drop: true
	// queuing delay p95 below the 300 ms queue: true
}
