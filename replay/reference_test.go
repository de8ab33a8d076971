package replay

import (
	"testing"

	"github.com/bwelab/bwe/traces"
)

// referenceShortfall records the acceptance bound the default estimator
// does not meet on the reference cases: on 20 Mbps with 100 ms one-way
// and a 75 KB (30 ms) queue it reaches utilization 0.23, not 0.9 (the
// loss-based estimator's step to 1.3 × the acknowledged rate overflows
// the short queue, 27 % of the packets are lost for half a second, and
// the loss-based estimate falls to about 1.4 Mbps and takes seconds to
// climb back; docs/results.md). The test fails once it is met, so that
// the record is updated.
var referenceShortfall = map[string]bool{"reference-20mbps-100ms utilization": true}

// TestReferenceAcceptance judges the default estimator on the cases in
// which pion's gcc was measured, with the bounds it is compared by
// (docs/results.md), over seeds 1–3.
func TestReferenceAcceptance(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		ss, err := traces.Family("reference", seed)
		if err != nil {
			t.Fatal(err)
		}
		rows := map[string]Row{}
		for _, s := range ss {
			r, err := Run(s, Estimator{})
			if err != nil {
				t.Fatal(err)
			}
			rows[s.Name] = RowOf(r)
		}
		ramp := -1.0
		if p := rows["reference-2mbps"].RampUpS; p != nil {
			ramp = *p
		}
		for _, c := range []struct {
			key   string
			got   float64
			ok    bool
			bound string
		}{
			{"reference-2mbps ramp-up s", ramp, ramp >= 0 && ramp <= 4, "≤ 4"},
			{"reference-2mbps utilization", rows["reference-2mbps"].Utilization, rows["reference-2mbps"].Utilization >= 0.9, "≥ 0.9"},
			{"reference-2mbps p95 ms", rows["reference-2mbps"].QueueP95Ms, rows["reference-2mbps"].QueueP95Ms <= 100, "≤ 100"},
			{"reference-3mbps utilization", rows["reference-3mbps"].Utilization, rows["reference-3mbps"].Utilization >= 0.9, "≥ 0.9"},
			{"reference-3mbps p95 ms", rows["reference-3mbps"].QueueP95Ms, rows["reference-3mbps"].QueueP95Ms <= 100, "≤ 100"},
			{"reference-3mbps-loss6 target/capacity", rows["reference-3mbps-loss6"].MeanTargetMbps / 3, rows["reference-3mbps-loss6"].MeanTargetMbps >= 0.7*3, "≥ 0.7"},
			{"reference-app-limited-800kbps-3mbps max estimate Mbps", rows["reference-app-limited-800kbps-3mbps"].MaxEstimateMbps,
				rows["reference-app-limited-800kbps-3mbps"].MaxEstimateMbps <= 1.6, "≤ 1.6"},
			{"reference-20mbps-100ms utilization", rows["reference-20mbps-100ms"].Utilization, rows["reference-20mbps-100ms"].Utilization >= 0.9, "≥ 0.9"},
		} {
			switch {
			case !c.ok && !referenceShortfall[c.key]:
				t.Errorf("seed %d: %s = %.3f, want %s", seed, c.key, c.got, c.bound)
			case c.ok && referenceShortfall[c.key]:
				t.Errorf("seed %d: %s = %.3f meets %s: remove it from referenceShortfall", seed, c.key, c.got, c.bound)
			case !c.ok:
				t.Logf("seed %d: known shortfall: %s = %.3f, want %s", seed, c.key, c.got, c.bound)
			}
		}
	}
}
