package replay

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bwelab/bwe/traces"
)

// The regression gate: a fast subset of the scenario catalogue run with
// the default estimator (and the remedy on the case it is for), whose
// quality may not fall below the baseline recorded in
// testdata/gate.json by more than the margins below. A change that loses
// utilization or adds queuing delay or loss fails CI; a change that
// improves them passes, and `go test ./replay -run TestGate -update`
// records the new baseline (review the diff: it is the quality record).
//
// The runs are deterministic, so the margins are not for noise: they let
// a change trade a little of one metric on one scenario without a
// baseline update, and no more.
const (
	gateUtilMargin  = 0.02 // utilization, absolute
	gateDelayFactor = 1.10 // p95 queuing delay, relative ...
	gateDelaySlack  = 5    // ... plus this many ms
	gateLossMargin  = 0.5  // loss, percentage points
	// gateTargetFactor bounds the media flows' mean target below (a
	// lower target is a regression even where the bottleneck stays full,
	// as with TCP cross traffic) and, for an application-limited sender,
	// above (an estimate that runs away from what is sent).
	gateTargetFactor = 0.10
)

// gateCases are the scenarios of the gate and the estimator spec each
// runs with, seed 1.
var gateCases = []struct{ scenario, estimator string }{
	{"rfc8867-5.1", "plain"},
	{"rfc8867-5.2", "plain"},
	{"rfc8867-5.6", "plain"},
	{"rfc8868-d50ms-loss1-q400ms", "plain"},
	{"rfc8868-jitter30ms-reorder", "plain"},
	{"weak-2mbps-loss5", "plain"},
	{"weak-2mbps-loss10", "plain"},
	{"jitter-4mbps-pdv", "plain"},
	{"jitter-4mbps-swing-4s", "smooth"},
	{"bursty-loss5-burst2", "plain"},
	{"app-limited-800kbps-3mbps", "plain"},
	{"trace-fcc-207336", "plain"},
	{"trace-opennetlab-WIRED_900kbs", "plain"},
}

// gateRow is one case's recorded quality.
type gateRow struct {
	Scenario    string  `json:"scenario"`
	Estimator   string  `json:"estimator"`
	Utilization float64 `json:"utilization"`
	QueueP95Ms  float64 `json:"queue_p95_ms"`
	LossPct     float64 `json:"loss_pct"`
	MeanTarget  float64 `json:"mean_target_mbps"`
}

func gateRun(t *testing.T, scenario, spec string) gateRow {
	t.Helper()
	s, err := traces.ScenarioByName(scenario, 1)
	if err != nil {
		t.Fatal(err)
	}
	est, err := ParseEstimator(spec)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Run(s, est)
	if err != nil {
		t.Fatalf("%s with %s: %v", scenario, spec, err)
	}
	// As the CLI's table (RowOf): utilization of the bottleneck by every
	// flow, the worst media flow's p95, loss and target pooled over the
	// media flows.
	row := RowOf(r)
	return gateRow{
		Scenario: scenario, Estimator: spec,
		Utilization: round3(row.Utilization),
		QueueP95Ms:  round3(row.QueueP95Ms),
		LossPct:     round3(row.LossPct),
		MeanTarget:  round3(row.MeanTargetMbps),
	}
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

func TestGate(t *testing.T) {
	path := filepath.Join("testdata", "gate.json")
	var rows []gateRow
	for _, c := range gateCases {
		rows = append(rows, gateRun(t, c.scenario, c.estimator))
	}
	if *updateGolden {
		b, err := json.MarshalIndent(rows, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./replay -run TestGate -update to record a baseline)", err)
	}
	var base []gateRow
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&base); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	want := map[string]gateRow{}
	for _, r := range base {
		want[r.Scenario+"/"+r.Estimator] = r
	}
	var report strings.Builder
	for _, got := range rows {
		key := got.Scenario + "/" + got.Estimator
		w, ok := want[key]
		if !ok {
			t.Errorf("%s: no baseline in %s (run with -update)", key, path)
			continue
		}
		fmt.Fprintf(&report, "%-40s util %.3f (base %.3f)  p95 %.1f ms (base %.1f)  loss %.2f %% (base %.2f)\n",
			key, got.Utilization, w.Utilization, got.QueueP95Ms, w.QueueP95Ms, got.LossPct, w.LossPct)
		if got.Utilization < w.Utilization-gateUtilMargin {
			t.Errorf("%s: utilization %.3f, baseline %.3f: lost more than %.2f", key, got.Utilization, w.Utilization, gateUtilMargin)
		}
		if limit := w.QueueP95Ms*gateDelayFactor + gateDelaySlack; got.QueueP95Ms > limit {
			t.Errorf("%s: p95 queuing delay %.1f ms, baseline %.1f ms: above %.1f ms", key, got.QueueP95Ms, w.QueueP95Ms, limit)
		}
		if got.MeanTarget < w.MeanTarget*(1-gateTargetFactor) {
			t.Errorf("%s: mean target %.3f Mbps, baseline %.3f: more than %.0f %% lower", key, got.MeanTarget, w.MeanTarget, 100*gateTargetFactor)
		}
		if strings.HasPrefix(got.Scenario, "app-limited") && got.MeanTarget > w.MeanTarget*(1+gateTargetFactor) {
			t.Errorf("%s: mean target %.3f Mbps, baseline %.3f: more than %.0f %% higher for an application-limited sender", key, got.MeanTarget, w.MeanTarget, 100*gateTargetFactor)
		}
		if got.LossPct > w.LossPct+gateLossMargin {
			t.Errorf("%s: loss %.2f %%, baseline %.2f %%: more than %.1f points worse", key, got.LossPct, w.LossPct, gateLossMargin)
		}
	}
	if len(base) != len(rows) {
		t.Errorf("%s holds %d cases, the gate runs %d (run with -update)", path, len(base), len(rows))
	}
	t.Logf("gate:\n%s", report.String())
}
