package replay

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/traces"
)

// rfc8867Row formats one flow's RFC 8868 metrics.
func rfc8867Row(s traces.Scenario, r *Result, f FlowResult) string {
	m := f.Metrics
	conv := "-"
	var parts []string
	for _, c := range m.Convergence {
		if c.Converged {
			parts = append(parts, fmt.Sprintf("%.1f", c.Time.Seconds()))
		} else {
			parts = append(parts, "no")
		}
	}
	if len(parts) > 0 {
		conv = strings.Join(parts, "/")
	}
	return fmt.Sprintf("| %s | %s | %.3f | %.3f | %.0f | %.0f | %.0f | %.2f | %s | %.3f | %d | %.2f | %.2f | %.1f |",
		s.Name, f.Name, m.Utilization, r.Summary.Utilization, bwe.Millis(m.QueueP50), bwe.Millis(m.QueueP95), bwe.Millis(m.QueueP99),
		100*m.LossRate, conv, m.Oscillation, m.Swings[0]+m.Swings[1]+m.Swings[2], r.Summary.Jain, r.Summary.Fairness[1], m.Score)
}

// Every RFC 8867 case runs with the default estimator. The test checks
// what each case is about — every flow is served, TCP does not starve
// media nor media TCP, the paused flow resumes — and logs the RFC 8868
// metrics table (go test -run RFC8867 -v).
func TestRFC8867Cases(t *testing.T) {
	if testing.Short() {
		t.Skip("RFC 8867 cases take seconds")
	}
	var rows []string
	for _, s := range traces.RFC8867(1) {
		res, err := Run(s, Estimator{})
		if err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
		for _, f := range res.Flows {
			rows = append(rows, rfc8867Row(s, res, f))
			if f.Feedbacks == 0 || f.Metrics.MeanTarget <= 0 {
				t.Errorf("%s: flow %s got %d feedbacks, mean target %v", s.Name, f.Name, f.Feedbacks, f.Metrics.MeanTarget)
			}
			if u := f.Metrics.Utilization; !(u >= 0 && u <= 1) {
				t.Errorf("%s: flow %s utilization %v", s.Name, f.Name, u)
			}
		}
		for _, c := range res.Cross {
			if c.Kind == "tcp" {
				share := c.Throughput.Float() / res.Flows[0].Metrics.MeanTarget.Float()
				if c.Throughput < 100*bwe.Kbps || share < 0.1 {
					t.Errorf("%s: TCP throughput %v starves", s.Name, c.Throughput)
				}
			}
		}
		if u := res.Summary.Utilization; u < 0.3 {
			t.Errorf("%s: link utilization %.3f", s.Name, u)
		}
	}
	t.Logf("\n| case | flow | utilization | link utilization | queue p50 ms | p95 | p99 | loss %% | convergence s | oscillation | swings | Jain | fair 5 s | score |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n%s", strings.Join(rows, "\n"))
}
