package trendline_test

import (
	"fmt"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/trendline"
)

// The fixture of libwebrtc's trendline_estimator_unittest Overusing case:
// packets sent 20 ms apart and received 22 ms apart. The trendline needs a
// full window of 20 deltas before it has a slope, and calls overuse at the
// 24th delta.
func Example() {
	est, err := trendline.New(trendline.Config{})
	if err != nil {
		panic(err)
	}
	const sendStart, recvStart = 123456789, 987654321 // ms
	prev := bwe.Normal
	for n := 1; n <= 24; n++ {
		det := est.Update(bwe.GroupDelta{
			SendDelta:    20 * time.Millisecond,
			ArrivalDelta: 22 * time.Millisecond,
			Arrival:      bwe.Time((recvStart + 22*n) * 1000),
			SendTime:     bwe.Time((sendStart + 20*n) * 1000),
		})
		if det.Usage != prev {
			fmt.Printf("delta %d: %v (slope %.5f, m %.2f > threshold %.2f)\n",
				n, det.Usage, det.Trend, det.Modified, det.Threshold)
			prev = det.Usage
		}
	}
	// Output:
	// delta 24: overusing (slope 0.07005, m 6.73 > threshold 6.04)
}

// A Robust detector on a path whose delay steps up once (a route change, a
// radio switching cells) and later on a queue that grows steadily: only the
// queue is overuse.
func ExampleRobust() {
	r, err := trendline.NewRobust(trendline.RobustConfig{})
	if err != nil {
		panic(err)
	}
	arrival := bwe.Time(0)
	prev := bwe.Normal
	feed := func(what string, n int, extra time.Duration) {
		for i := 0; i < n; i++ {
			ad := 20*time.Millisecond + extra
			if what == "step" && i > 0 {
				ad = 20 * time.Millisecond // one jump, then flat again
			}
			arrival = arrival.Add(ad)
			det := r.Update(bwe.GroupDelta{SendDelta: 20 * time.Millisecond, ArrivalDelta: ad, Arrival: arrival})
			if det.Usage != prev {
				fmt.Printf("%s, delta %d: %v (delay growth %.0f ms per second)\n", what, i+1, det.Usage, det.Modified)
				prev = det.Usage
			}
		}
	}
	feed("flat", 100, 0)
	feed("step", 150, 60*time.Millisecond)
	feed("queue", 100, 2*time.Millisecond) // +2 ms per 20 ms: slope 0.1
	fmt.Println("final:", prev)
	// Output:
	// queue, delta 27: overusing (delay growth 47 ms per second)
	// final: overusing
}
