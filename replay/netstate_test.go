package replay

import (
	"math"
	"testing"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/netstate"
	"github.com/bwelab/bwe/traces"
)

// TestRunNetState: a 40 s run gives about 40 one-second steps per flow,
// whose loss tracks the link's: none before a loss episode, about its
// rate during it; and the run's result is the same as Run's.
func TestRunNetState(t *testing.T) {
	s := traces.Scenario{
		Name:     "episode",
		Duration: 40 * time.Second,
		Warmup:   5 * time.Second,
		Forward: traces.Path{Capacity: traces.Constant(2 * bwe.Mbps), Delay: 25 * ms, QueueDelay: 300 * ms,
			LossEpisodes: []traces.LossEpisode{{From: 20 * time.Second, To: 30 * time.Second, Rate: 0.1}}},
		Flows: []traces.Flow{{StartRate: bwe.Mbps, MinRate: bwe.Mbps}},
	}
	r, steps, err := RunNetState(s, fixedRate(bwe.Mbps), netstate.ExtractorConfig{})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := Run(s, fixedRate(bwe.Mbps))
	if err != nil {
		t.Fatal(err)
	}
	if r.Flows[0].Metrics.LossRate != plain.Flows[0].Metrics.LossRate || r.Flows[0].Packets != plain.Flows[0].Packets {
		t.Errorf("RunNetState's run differs from Run's")
	}
	if len(steps) != 1 || len(steps[0]) < 38 || len(steps[0]) > 40 {
		t.Fatalf("%d flows, %d steps; want 1 flow, about 40 steps", len(steps), len(steps[0]))
	}
	var before, during float64
	var nb, nd int
	for i, st := range steps[0] {
		at := duration(st.At)
		if i > 0 && st.At <= steps[0][i-1].At {
			t.Fatalf("step %d at %v after %v", i, at, duration(steps[0][i-1].At))
		}
		for j, f := range st.F {
			if math.IsNaN(f) {
				t.Fatalf("step %d feature %d is NaN", i, j)
			}
		}
		switch {
		case at > 3*time.Second && at < 19*time.Second:
			before += st.Loss
			nb++
		case at > 22*time.Second && at < 29*time.Second:
			during += st.Loss
			nd++
		}
	}
	if before/float64(nb) != 0 || math.Abs(during/float64(nd)-0.1) > 0.03 {
		t.Errorf("mean step loss %.3f before the episode, %.3f during it; want 0 and about 0.1", before/float64(nb), during/float64(nd))
	}
}
