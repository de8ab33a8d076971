package traces

import (
	"testing"
	"time"
)

// TestLossEpisodes: the schedule is a sequence of disjoint spans after
// the warm-up, within the run, each at least 2 s unless cut by the run's
// end, covering on average about 8 / (20 + 8) of the time.
func TestLossEpisodes(t *testing.T) {
	const d, from = 120 * time.Second, 10 * time.Second
	var covered time.Duration
	for seed := range uint64(40) {
		eps := LossEpisodes(0.1, from, d, seed)
		prev := from
		for i, e := range eps {
			if e.From < prev+episodesMinSpan || e.To > d || e.Rate != 0.1 {
				t.Fatalf("seed %d episode %d: %+v after %v", seed, i, e, prev)
			}
			if e.To-e.From < episodesMinSpan && e.To != d {
				t.Fatalf("seed %d episode %d: %v long", seed, i, e.To-e.From)
			}
			covered += e.To - e.From
			prev = e.To
		}
		s := Scenario{Name: "e", Duration: d, Forward: Path{Capacity: Constant(1e6), LossEpisodes: eps}, Flows: []Flow{{}}}
		if _, err := s.WithDefaults(); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
	share := covered.Seconds() / (40 * (d - from).Seconds())
	if share < 0.18 || share > 0.38 {
		t.Errorf("episodes cover %.2f of the time after the warm-up, want about 0.29", share)
	}
	bad := Scenario{Name: "e", Duration: d, Forward: Path{Capacity: Constant(1e6), LossEpisodes: []LossEpisode{{From: 5e9, To: 9e9, Rate: 0.1}, {From: 8e9, To: 10e9, Rate: 0.1}}}, Flows: []Flow{{}}}
	if _, err := bad.WithDefaults(); err == nil {
		t.Error("overlapping episodes accepted")
	}
}
