package probe_test

import (
	"fmt"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/probe"
)

// A call starts at 300 kbps with a 2 Mbps max. The controller asks for two
// probe clusters at 3× and 6× the start rate; the estimate that comes back,
// 1.5 Mbps, is above 0.7 of the larger probe, so it probes again at twice the
// estimate, capped at the max, which ends exponential probing. Each request
// tells the pacer what to send and the estimator what to expect.
func ExampleController() {
	c, err := probe.NewController(probe.ControllerConfig{})
	if err != nil {
		panic(err)
	}
	show := func(rs []probe.Request) {
		for _, r := range rs {
			cl := r.Cluster()
			fmt.Printf("  probe %d: %v for %v, %d packets, %d bytes\n", r.ID, r.Bitrate, r.Duration, cl.MinProbes, cl.MinBytes)
		}
	}
	at := bwe.Time(0)
	fmt.Println("start:")
	show(c.SetBitrates(at, 30*bwe.Kbps, 300*bwe.Kbps, 2*bwe.Mbps))
	fmt.Println("state:", c.State())

	at = at.Add(300 * time.Millisecond)
	fmt.Println("estimate 1.5 Mbps:")
	show(c.SetEstimatedBitrate(at, 1500*bwe.Kbps, probe.CauseDelayBased))
	fmt.Println("state:", c.State())

	at = at.Add(5 * time.Second)
	fmt.Println("process:", len(c.Process(at)), "probes")
	// Output:
	// start:
	//   probe 1: 900 kbps for 15ms, 5 packets, 1688 bytes
	//   probe 2: 1.8 Mbps for 15ms, 5 packets, 3375 bytes
	// state: waiting
	// estimate 1.5 Mbps:
	//   probe 3: 2 Mbps for 15ms, 5 packets, 3750 bytes
	// state: complete
	// process: 0 probes
}
