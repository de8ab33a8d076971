package piongcc

import (
	"math"
	"strings"
	"testing"

	"github.com/bwelab/bwe/internal/bubble"
	"github.com/bwelab/bwe/replay"
	"github.com/bwelab/bwe/sendside"
	"github.com/bwelab/bwe/traces"
)

// runRows runs pion's gcc on scenarios, each in a bubble of its own.
func runRows(t *testing.T, ss []traces.Scenario) map[string]replay.Row {
	t.Helper()
	run := bubble.Test(t)
	rows := map[string]replay.Row{}
	for _, s := range ss {
		run(func() {
			r, err := replay.Run(s, Estimator())
			if err != nil {
				t.Errorf("%s: %v", s.Name, err)
				return
			}
			rows[s.Name] = replay.RowOf(r)
		})
	}
	return rows
}

func opt(p *float64) float64 {
	if p == nil {
		return -1
	}
	return *p
}

// TestIncumbentBehaviour drives pion's gcc through the emulator in the
// setting in which its behaviour was measured (traces.Reference) and
// checks that the measured behaviour reappears: if the driver fed pion
// wrong times or feedback, these would not.
func TestIncumbentBehaviour(t *testing.T) {
	ss, err := traces.Family("reference", 1)
	if err != nil {
		t.Fatal(err)
	}
	rows := runRows(t, ss)
	for _, name := range []string{"reference-1mbps", "reference-2mbps", "reference-3mbps", "reference-2mbps-start10kbps",
		"reference-3mbps-loss6", "reference-app-limited-800kbps-3mbps", "reference-20mbps-100ms"} {
		r := rows[name]
		t.Logf("%-37s util %.3f  p95 %5.1f ms  loss %.2f %%  mean %.3f Mbps  max %.3f Mbps  ramp-up %.1f s",
			name, r.Utilization, r.QueueP95Ms, r.LossPct, r.MeanTargetMbps, r.MaxEstimateMbps, opt(r.RampUpS))
	}
	for _, c := range []struct {
		name, what string
		got        float64
		lo, hi     float64
	}{
		// Ramp-up from 300 kbps on 2 Mbps: 21.2 s to 0.8 × capacity, an
		// 8 %/s increase and no probing (ln(1.6/0.3) / ln(1.08) ≈ 21.7 s).
		{"reference-2mbps", "ramp-up s", opt(rows["reference-2mbps"].RampUpS), 19, 24},
		// Saturated 2 Mbps: the estimate freezes while the queue grows to
		// 277 ms.
		{"reference-2mbps", "p95 queuing ms", rows["reference-2mbps"].QueueP95Ms, 200, 300},
		// 10 kbps start on 2 Mbps: 0.22 Mbps after 40 s.
		{"reference-2mbps-start10kbps", "mean target Mbps", rows["reference-2mbps-start10kbps"].MeanTargetMbps, 0, 0.5},
		// App-limited 0.8 Mbps on 3 Mbps: 31 Mbps after 60 s.
		{"reference-app-limited-800kbps-3mbps", "max estimate Mbps", rows["reference-app-limited-800kbps-3mbps"].MaxEstimateMbps, 20, 50},
		// 6 % random loss on 3 Mbps: the target collapses to about 0.14
		// of the capacity.
		{"reference-3mbps-loss6", "mean target / capacity", rows["reference-3mbps-loss6"].MeanTargetMbps / 3, 0, 0.25},
		// 20 Mbps, 100 ms one-way: stuck near 12 Mbps, its 250-packet send
		// history shorter than the round trip.
		{"reference-20mbps-100ms", "max estimate Mbps", rows["reference-20mbps-100ms"].MaxEstimateMbps, 8, 13},
	} {
		if !(c.got >= c.lo && c.got <= c.hi) {
			t.Errorf("%s: %s = %.3f, want [%g, %g] as measured of pion's gcc", c.name, c.what, c.got, c.lo, c.hi)
		}
	}
}

// TestRepeatable: pion's delay controller hands each feedback to two
// goroutines (arrival groups → detector → rate controller, and the
// receive-rate calculator) whose order varies from run to run, so its runs
// are not bit-reproducible as ours are. Utilization and mean target must
// still agree closely across repetitions for the comparison to mean
// anything; the queuing delay of a sawtooth can vary more, and is logged.
func TestRepeatable(t *testing.T) {
	ss, err := traces.Family("reference", 1)
	if err != nil {
		t.Fatal(err)
	}
	first := runRows(t, ss)
	for rep := 1; rep < 3; rep++ {
		rows := runRows(t, ss)
		for _, s := range ss {
			a, b := first[s.Name], rows[s.Name]
			if math.Abs(a.Utilization-b.Utilization) > 0.02 || math.Abs(a.MeanTargetMbps-b.MeanTargetMbps) > 0.05*a.MeanTargetMbps {
				t.Errorf("%s, repetition %d: utilization %.3f, mean target %.3f Mbps; first run %.3f, %.3f Mbps",
					s.Name, rep, b.Utilization, b.MeanTargetMbps, a.Utilization, a.MeanTargetMbps)
			}
			if a.QueueP95Ms != b.QueueP95Ms {
				t.Logf("%s, repetition %d: p95 queuing %.1f ms, first run %.1f ms", s.Name, rep, b.QueueP95Ms, a.QueueP95Ms)
			}
		}
	}
}

func TestNewOutsideBubble(t *testing.T) {
	_, err := New(sendside.Config{})
	if err == nil || !strings.Contains(err.Error(), "synctest bubble") {
		t.Errorf("New outside a bubble: error %v, want one naming the bubble", err)
	}
	// Inside a bubble whose clock has moved, too: the emulation's time 0
	// must be the bubble's start.
	bubble.Test(t)(func() {
		f, err := New(sendside.Config{})
		if err != nil {
			t.Fatalf("New at a bubble's start: %v", err)
		}
		if err := f.(*Flow).Close(); err != nil {
			t.Error(err)
		}
		s, err := traces.ScenarioByName("reference-1mbps", 1)
		if err != nil {
			t.Fatal(err)
		}
		s.Duration, s.Warmup = 2e9, 0
		if _, err := replay.Run(s, Estimator()); err != nil {
			t.Fatal(err)
		}
		if _, err := replay.Run(s, Estimator()); err == nil || !strings.Contains(err.Error(), "new synctest bubble") {
			t.Errorf("a second run in the same bubble: error %v, want one naming the bubble", err)
		}
	})
}
