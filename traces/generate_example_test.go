package traces_test

import (
	"fmt"

	"github.com/bwelab/bwe/traces"
)

// The RFC 8867 wired test cases, with their durations and media flows.
func ExampleRFC8867() {
	for _, s := range traces.RFC8867(1) {
		fmt.Printf("%-22s %v, %d flows, %d cross\n", s.Name, s.Duration, len(s.Flows), len(s.Cross))
	}
	// Output:
	// rfc8867-5.1            1m40s, 1 flows, 0 cross
	// rfc8867-5.1-100ms      1m40s, 1 flows, 0 cross
	// rfc8867-5.1-uncapped   1m40s, 1 flows, 0 cross
	// rfc8867-5.2            2m5s, 2 flows, 0 cross
	// rfc8867-5.2-uncapped   2m5s, 2 flows, 0 cross
	// rfc8867-5.3            1m40s, 2 flows, 0 cross
	// rfc8867-5.3-uncapped   1m40s, 2 flows, 0 cross
	// rfc8867-5.4            2m0s, 3 flows, 0 cross
	// rfc8867-5.5            5m0s, 5 flows, 0 cross
	// rfc8867-5.6            2m0s, 1 flows, 1 cross
	// rfc8867-5.6-1000ms     2m0s, 1 flows, 1 cross
	// rfc8867-5.7            5m0s, 2 flows, 10 cross
	// rfc8867-5.8            2m0s, 3 flows, 0 cross
}

// A Gilbert–Elliott model losing 5 % of packets in bursts of 8 on average.
func ExampleGilbertElliottFromMean() {
	g, err := traces.GilbertElliottFromMean(0.05, 8)
	if err != nil {
		panic(err)
	}
	fmt.Printf("good→bad %.6f, bad→good %.3f, mean loss %.3f, burst %.0f packets\n", g.GoodToBad, g.BadToGood, g.MeanLoss(), 1/g.BadToGood)
	// Output:
	// good→bad 0.006579, bad→good 0.125, mean loss 0.050, burst 8 packets
}

// The scenario families and how many scenarios each generated family
// holds (the other two depend on the embedded traces).
func ExampleFamilies() {
	for _, name := range traces.Families() {
		if name == "traces" || name == "corpus" {
			fmt.Println(name)
			continue
		}
		ss, err := traces.Family(name, 1)
		if err != nil {
			panic(err)
		}
		fmt.Println(name, len(ss))
	}
	// Output:
	// rfc8867 13
	// rfc8868 62
	// weak 8
	// jitter 10
	// bursty 6
	// episodes 6
	// app-limited 3
	// shaped 4
	// reference 7
	// traces
	// corpus
}
