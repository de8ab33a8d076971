package delaybased_test

import (
	"fmt"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/delaybased"
)

// A sender pushes 1200-byte packets every 10 ms (960 kbps) through a path
// whose queue does not grow. Started at 300 kbps, with no link capacity
// known yet, the estimate climbs by the multiplicative 8 % per second; the
// cap of 1.5 × acknowledged throughput + 10 kbps (1.45 Mbps) is far away.
func Example() {
	e, err := delaybased.New(delaybased.Config{})
	if err != nil {
		panic(err)
	}
	e.SetStartBitrate(300 * bwe.Kbps)

	var seq int64
	var res delaybased.Result
	for batch := range 100 { // 5 s of feedback, one batch per 50 ms
		var packets []bwe.PacketResult
		for range 5 {
			send := bwe.Time(seq * 10_000)
			packets = append(packets, bwe.PacketResult{
				Seq: seq, SendTime: send, Size: 1200,
				Received: true, Arrival: send.Add(40 * time.Millisecond),
			})
			seq++
		}
		at := bwe.Time(batch+1) * 50_000
		res = e.Update(bwe.Feedback{Time: at.Add(80 * time.Millisecond), Packets: packets}, 0, false)
		if batch%25 == 24 {
			fmt.Printf("t=%v estimate %v, acked %v, usage %v, state %v\n",
				at, res.Target, res.Acked, res.Detection.Usage, res.State)
		}
	}
	// Output:
	// t=1.250000s estimate 330.121 kbps, acked 960 kbps, usage normal, state increase
	// t=2.500000s estimate 363.462 kbps, acked 960 kbps, usage normal, state increase
	// t=3.750000s estimate 400.166 kbps, acked 960 kbps, usage normal, state increase
	// t=5.000000s estimate 440.577 kbps, acked 960 kbps, usage normal, state increase
}
