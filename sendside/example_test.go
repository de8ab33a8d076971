package sendside_test

import (
	"fmt"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/sendside"
)

// Feed the estimator one feedback batch every 50 ms from a sender pacing
// 1200-byte packets at its target through a loss-free 2 Mbps bottleneck.
// The estimator asks for its initial probe clusters at the first call; this
// sender ignores them, so the target grows from the start rate by the
// delay-based rate control alone.
func Example() {
	est, err := sendside.New(sendside.Config{Start: 500 * bwe.Kbps, Max: 10 * bwe.Mbps})
	if err != nil {
		fmt.Println(err)
		return
	}
	first := est.Process(0)
	for _, p := range first.Probes {
		fmt.Printf("probe cluster %d at %v\n", p.ID, p.Bitrate)
	}

	var seq int64
	var batch []bwe.PacketResult
	queueFree := bwe.Time(0) // when the 2 Mbps bottleneck is next idle
	for now := 50 * time.Millisecond; now <= 30*time.Second; now += 50 * time.Millisecond {
		at := bwe.TimeFromDuration(now)
		batch = batch[:0]
		n := int(est.Target().Over(50*time.Millisecond) / 1200)
		for i := range n {
			send := at.Add(-50 * time.Millisecond).Add(time.Duration(i) * 50 * time.Millisecond / time.Duration(n))
			queueFree = max(queueFree, send).Add(4800 * time.Microsecond) // 1200 B at 2 Mbps
			batch = append(batch, bwe.PacketResult{Seq: seq, SendTime: send, Arrival: queueFree.Add(20 * time.Millisecond), Size: 1200, Received: true})
			seq++
		}
		est.Update(bwe.Feedback{Time: at, Packets: batch})
		est.Process(at)
	}
	fmt.Println("target after 30 s within 25 % of 2 Mbps:", est.Target() > 1500*bwe.Kbps && est.Target() < 2500*bwe.Kbps)
	// Output:
	// probe cluster 1 at 1.5 Mbps
	// probe cluster 2 at 3 Mbps
	// target after 30 s within 25 % of 2 Mbps: true
}
