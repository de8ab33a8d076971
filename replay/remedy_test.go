package replay

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/traces"
)

// The live-push remedy (oscillation detector + oscillation-aware smoother
// + encoder rate controller, preset "smooth") against the plain
// libwebrtc-equivalent pipeline (preset "plain"), closed loop, several
// seeds. docs/oscillation.md reports the table this test prints with -v:
//
//	go test ./replay -run TestRemedy -v
//
// Problem cases: the RTT-jitter scenarios where the plain trendline reads
// periodic delay variation as overuse, and the Poisson-fluctuating
// capacity. There the remedy must deliver ≥ 10 % more and cut the
// oscillation metrics (oscillation index and windowed CV of the encoder
// target) by ≥ 50 %, with p95 queuing delay and loss no worse.
//
// Guard cases: a clean link, RFC 8867 5.1 (capacity steps) and the
// weak-network grid. There the remedy must cost ≤ 2 % of the delivered
// bitrate and add no delay or loss.
var (
	remedySeeds   = []uint64{1, 2, 3, 4, 5}
	remedyProblem = []string{"jitter-4mbps-swing-4s", "jitter-2mbps-swing-2s", "jitter-4mbps-walk-fast", "jitter-4mbps-poisson"}
	remedyGuard   = []string{
		"rfc8868-d50ms-loss0-q400ms", "jitter-4mbps-pdv", "rfc8867-5.1", "rfc8867-5.1-uncapped",
		"weak-2mbps-loss5", "weak-2mbps-loss10", "weak-2mbps-loss15", "weak-2mbps-loss20",
		"weak-4mbps-loss5", "weak-4mbps-loss10", "weak-4mbps-loss15", "weak-4mbps-loss20",
	}
)

// Acceptance bounds of the remedy.
const (
	remedyMinGain      = 1.10 // delivered bitrate, problem cases
	remedyMaxOsc       = 0.50 // oscillation metrics, problem cases
	remedyMaxLoss      = 0.98 // delivered bitrate kept, guard cases
	remedyDelaySlack   = 0    // added p95 queuing delay allowed
	remedyLossSlackPct = 0    // added loss allowed, percentage points
)

// remedyStats are one estimator's metrics on one scenario, averaged over
// the seeds.
type remedyStats struct {
	delivered bwe.Bitrate // mean delivered rate in the steady part
	osc, cv   float64     // oscillation index and windowed CV of the encoder target
	q95       time.Duration
	lossPct   float64
}

func remedyRun(t *testing.T, name, preset string) remedyStats {
	t.Helper()
	est, err := ParseEstimator(preset)
	if err != nil {
		t.Fatal(err)
	}
	var out remedyStats
	var delivered float64
	for _, seed := range remedySeeds {
		s, err := traces.ScenarioByName(name, seed)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Run(s, est)
		if err != nil {
			t.Fatalf("%s seed %d with %s: %v", name, seed, preset, err)
		}
		f := r.Flows[0]
		var sum float64
		n := 0
		for _, x := range f.Series {
			if time.Duration(x.At)*time.Microsecond >= r.Scenario.Warmup {
				sum += x.Delivered.Float()
				n++
			}
		}
		delivered += sum / float64(max(n, 1))
		out.osc += f.Metrics.Oscillation
		out.cv += f.Metrics.TargetCV
		out.q95 += f.Metrics.QueueP95
		out.lossPct += 100 * f.Metrics.LossRate
	}
	k := float64(len(remedySeeds))
	out.delivered = bwe.BitrateFromFloat(delivered / k)
	out.osc /= k
	out.cv /= k
	out.q95 /= time.Duration(len(remedySeeds))
	out.lossPct /= k
	return out
}

// remedyMeetsAcceptance records whether the remedy meets every bound
// above. It does not yet (docs/oscillation.md, "Where it falls short"):
// on the swing cases the plain estimate does not oscillate around a level
// but collapses in a staircase (one overuse per delay swing, too little
// increase between them), which the detectors, looking for a periodic
// component around a linear trend, do not call oscillation, so the
// smoother never holds. Until it does, the test reports every miss and
// fails only if all bounds are met, so that this flag cannot go stale.
const remedyMeetsAcceptance = false

func TestRemedy(t *testing.T) {
	if testing.Short() {
		t.Skip("closed-loop comparison over many scenarios and seeds")
	}
	var misses []string
	miss := func(format string, args ...any) { misses = append(misses, fmt.Sprintf(format, args...)) }
	var table strings.Builder
	fmt.Fprintf(&table, "| scenario | kind | Mbps plain | Mbps smooth | gain | osc plain | osc smooth | CV plain | CV smooth | p95 ms plain | p95 ms smooth | loss %% plain | loss %% smooth |\n")
	fmt.Fprintf(&table, "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	check := func(name string, problem bool) {
		p, s := remedyRun(t, name, "plain"), remedyRun(t, name, "smooth")
		gain := s.delivered.Float() / math.Max(p.delivered.Float(), 1)
		kind := "guard"
		if problem {
			kind = "problem"
		}
		fmt.Fprintf(&table, "| %s | %s | %.3f | %.3f | %+.1f %% | %.3f | %.3f | %.3f | %.3f | %.1f | %.1f | %.2f | %.2f |\n",
			name, kind, p.delivered.Float()/1e6, s.delivered.Float()/1e6, 100*(gain-1), p.osc, s.osc, p.cv, s.cv,
			bwe.Millis(p.q95), bwe.Millis(s.q95), p.lossPct, s.lossPct)
		if problem {
			if gain < remedyMinGain {
				miss("%s: smooth delivers %v, plain %v: gain %.3f, want ≥ %.2f", name, s.delivered, p.delivered, gain, remedyMinGain)
			}
			if s.osc > remedyMaxOsc*p.osc {
				miss("%s: oscillation index %.3f, plain %.3f: want ≤ %.0f %% of plain", name, s.osc, p.osc, 100*remedyMaxOsc)
			}
			if s.cv > remedyMaxOsc*p.cv {
				miss("%s: target CV %.3f, plain %.3f: want ≤ %.0f %% of plain", name, s.cv, p.cv, 100*remedyMaxOsc)
			}
		} else if gain < remedyMaxLoss {
			miss("%s: smooth delivers %v, plain %v: ratio %.3f, want ≥ %.2f", name, s.delivered, p.delivered, gain, remedyMaxLoss)
		}
		if s.q95 > p.q95+remedyDelaySlack {
			miss("%s: p95 queuing delay %v, plain %v: want no more", name, s.q95, p.q95)
		}
		if s.lossPct > p.lossPct+remedyLossSlackPct {
			miss("%s: loss %.3f %%, plain %.3f %%: want no more", name, s.lossPct, p.lossPct)
		}
	}
	for _, name := range remedyProblem {
		check(name, true)
	}
	for _, name := range remedyGuard {
		check(name, false)
	}
	t.Logf("seeds %v, means over seeds:\n%s", remedySeeds, table.String())
	switch {
	case remedyMeetsAcceptance:
		for _, m := range misses {
			t.Error(m)
		}
	case len(misses) == 0:
		t.Errorf("the remedy now meets every bound: set remedyMeetsAcceptance and update docs/oscillation.md")
	default:
		t.Logf("known shortfall, %d bounds missed:\n%s", len(misses), strings.Join(misses, "\n"))
	}
}
