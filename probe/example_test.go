package probe_test

import (
	"fmt"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/probe"
)

// A cluster of five 1000-byte probes sent 5 ms apart (1.6 Mbps) reaches a
// link that spreads them 7 ms apart: the receive rate, 1143 kbps, is below
// 90 % of the send rate, so the estimate is 95 % of it.
func ExampleEstimator() {
	e, err := probe.NewEstimator(probe.Config{})
	if err != nil {
		panic(err)
	}
	c := probe.Cluster{ID: 1, MinProbes: 5, MinBytes: 5000}
	for i := range 5 {
		p := bwe.PacketResult{
			Seq:          int64(i),
			SendTime:     bwe.TimeFromDuration(time.Duration(5*i) * time.Millisecond),
			Arrival:      bwe.TimeFromDuration(time.Duration(40+7*i) * time.Millisecond),
			Size:         1000,
			Received:     true,
			ProbeCluster: c.ID,
		}
		if r, ok := e.Update(p, c); ok {
			fmt.Printf("packet %d: estimate %v\n", i, r)
		}
	}
	r, ok := e.Fetch()
	fmt.Println("fetched:", r, ok)
	_, ok = e.Fetch()
	fmt.Println("fetched again:", ok)
	// Output:
	// packet 3: estimate 1.085714 Mbps
	// packet 4: estimate 1.085714 Mbps
	// fetched: 1.085714 Mbps true
	// fetched again: false
}
