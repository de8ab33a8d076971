package lossbased_test

import (
	"fmt"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/lossbased"
)

// Feed both estimators the same five seconds of feedback from a 2 Mbps
// sender that loses one packet in four, with a 3 Mbps delay-based
// estimate. Both back off; neither leaves its limits.
func Example() {
	for _, name := range []string{"classic", "likelihood"} {
		est, err := lossbased.NewByName(name)
		if err != nil {
			fmt.Println(err)
			return
		}
		est.SetLimits(100*bwe.Kbps, 10*bwe.Mbps)
		est.SetEstimate(0, 2*bwe.Mbps)
		var r lossbased.Result
		batch := make([]bwe.PacketResult, 10) // 50 ms at 2 Mbps
		var seq int64
		for now := 50 * time.Millisecond; now <= 5*time.Second; now += 50 * time.Millisecond {
			at := bwe.TimeFromDuration(now)
			for i := range batch {
				send := at.Add(-time.Duration(10-i) * 5 * time.Millisecond)
				batch[i] = bwe.PacketResult{Seq: seq, SendTime: send, Size: 1250, Received: seq%4 != 0}
				if batch[i].Received {
					batch[i].Arrival = send.Add(40 * time.Millisecond)
				}
				seq++
			}
			r = est.Update(lossbased.Input{Time: at, Packets: batch, DelayBased: 3 * bwe.Mbps, Acked: 1500 * bwe.Kbps, RTT: 80 * time.Millisecond})
		}
		fmt.Printf("%s: %v, loss-limited %v, below 2 Mbps %v\n", name, r.State, r.State.LossLimited(), r.Estimate < 2*bwe.Mbps)
	}
	// Output:
	// classic: decreasing, loss-limited true, below 2 Mbps true
	// likelihood: increasing, loss-limited true, below 2 Mbps true
}
