package replay

import (
	"fmt"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/traces"
)

// Scenarios returns the built-in scenarios, all with seed 1, a greedy
// sender and a 10 s warm-up:
//
//	steady-2M     2 Mbps, 50 ms one-way, 300 ms queue, 60 s, start 300 kbps
//	drop-1M-0.5M  1 Mbps, 0.5 Mbps from 20 s to 40 s, otherwise as steady-2M
//	steady-20M    20 Mbps, 100 ms one-way, 300 ms queue, 60 s, start 1 Mbps
//	jitter-4M     4 Mbps, 50 ms one-way, 300 ms queue, extra delay uniform in
//	              [0, 60 ms] (FIFO) plus a ±20 ms swing with an 8 s period,
//	              no loss, 60 s, start 300 kbps
//
// The 50 ms one-way delay and the 300 ms drop-tail queue are RFC 8867's
// common path defaults; the drop follows RFC 8867 §5.1's variable-capacity
// case; 20 Mbps at 100 ms and the RTT-jitter case come from the scenario
// families of the evaluation notes. Package traces generates the full
// families.
func Scenarios() []traces.Scenario {
	base := func(name string, c traces.Capacity, delay time.Duration, start bwe.Bitrate) traces.Scenario {
		return traces.Scenario{
			Name:     name,
			Seed:     1,
			Duration: 60 * time.Second,
			Warmup:   10 * time.Second,
			Forward: traces.Path{
				Capacity:   c,
				QueueDelay: 300 * time.Millisecond,
				Delay:      delay,
			},
			Flows: []traces.Flow{{StartRate: start, Source: traces.Greedy}},
		}
	}
	jitter := base("jitter-4M", traces.Constant(4*bwe.Mbps), 50*time.Millisecond, 300*bwe.Kbps)
	jitter.Forward.Jitter = 60 * time.Millisecond
	jitter.Forward.SwingAmplitude = 20 * time.Millisecond
	jitter.Forward.SwingPeriod = 8 * time.Second
	return []traces.Scenario{
		base("steady-2M", traces.Constant(2*bwe.Mbps), 50*time.Millisecond, 300*bwe.Kbps),
		base("drop-1M-0.5M", traces.Steps{
			{At: 0, Capacity: 1 * bwe.Mbps},
			{At: 20 * time.Second, Capacity: 500 * bwe.Kbps},
			{At: 40 * time.Second, Capacity: 1 * bwe.Mbps},
		}, 50*time.Millisecond, 300*bwe.Kbps),
		base("steady-20M", traces.Constant(20*bwe.Mbps), 100*time.Millisecond, 1*bwe.Mbps),
		jitter,
	}
}

// ScenarioByName returns the built-in scenario called name.
func ScenarioByName(name string) (traces.Scenario, error) {
	for _, s := range Scenarios() {
		if s.Name == name {
			return s, nil
		}
	}
	return traces.Scenario{}, fmt.Errorf("replay: no built-in scenario named %q", name)
}
