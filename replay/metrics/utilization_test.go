package metrics

import (
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// rfc8867Case51 is the capacity of RFC 8867 §5.1 (1 Mbps × 1.0, 2.5, 0.6,
// 1.0 at 0, 40, 60, 80 s; 100 s), sampled every 100 ms.
func rfc8867Case51() Series {
	return Series{Step: step, Rates: concat(
		constant(400, bwe.Mbps), constant(200, 2500*bwe.Kbps),
		constant(200, 600*bwe.Kbps), constant(200, bwe.Mbps))}
}

func TestUtilizationByPhase(t *testing.T) {
	capacity := rfc8867Case51()
	// A flat 0.9 Mbps, except 0 during the first 5 s of every phase: the
	// settle time must hide the dips.
	r := constant(1000, 900*bwe.Kbps)
	for _, start := range []int{0, 400, 600, 800} {
		copy(r[start:start+50], constant(50, 0))
	}
	rate := Series{Step: step, Rates: r}

	phases, err := UtilizationByPhase(nil, rate, capacity, DefaultSettle)
	if err != nil {
		t.Fatal(err)
	}
	want := []PhaseUtilization{
		{Phase{0, 40 * time.Second, bwe.Mbps}, 0.9, 175},
		{Phase{40 * time.Second, 60 * time.Second, 2500 * bwe.Kbps}, 0.36, 75},
		{Phase{60 * time.Second, 80 * time.Second, 600 * bwe.Kbps}, 1.5, 75},
		{Phase{80 * time.Second, 100 * time.Second, bwe.Mbps}, 0.9, 75},
	}
	if len(phases) != len(want) {
		t.Fatalf("UtilizationByPhase gave %d phases, want %d: %+v", len(phases), len(want), phases)
	}
	for i := range want {
		g, w := phases[i], want[i]
		if g.Phase != w.Phase || g.Samples != w.Samples || !near(g.Utilization, w.Utilization, 1e-12) {
			t.Errorf("phase %d = %+v, want %+v", i, g, w)
		}
	}
	// Pooled: (175·0.9 + 75·0.36 + 75·1.5 + 75·0.9) / 400 = 0.91125.
	if u, n := SteadyUtilization(phases); n != 400 || !near(u, 0.91125, 1e-12) {
		t.Errorf("SteadyUtilization = %v over %d, want 0.91125 over 400", u, n)
	}
	// Whole run, dips included: 500 samples at 200 ms; the dips cover 25 of
	// each phase's samples. (175·0.9 + 75·0.36 + 75·1.5 + 75·0.9)/500.
	if u, n := Utilization(rate, capacity); n != 500 || !near(u, 364.5/500, 1e-12) {
		t.Errorf("Utilization = %v over %d, want %v over 500", u, n, 364.5/500)
	}
	// No settle: the dips count.
	phases, _ = UtilizationByPhase(phases, rate, capacity, 0)
	if phases[0].Samples != 200 || !near(phases[0].Utilization, 0.9*175/200, 1e-12) {
		t.Errorf("settle 0, phase 0 = %+v, want 0.7875 over 200", phases[0])
	}
	if _, err := UtilizationByPhase(nil, rate, capacity, -time.Second); err == nil {
		t.Error("negative settle accepted")
	}
}

func TestUtilizationEdges(t *testing.T) {
	for _, c := range []struct {
		name           string
		rate, capacity Series
		want           float64
		samples        int
	}{
		{"empty", Series{}, Series{}, 0, 0},
		{"zero capacity skipped", Series{step, constant(10, bwe.Mbps)},
			Series{step, concat(constant(5, 0), constant(5, 2*bwe.Mbps))}, 0.5, 2},
		// Different steps: capacity per second, rate per 100 ms; the rate
		// series is shorter and ends the sampling.
		{"mixed steps", Series{step, constant(10, bwe.Mbps)},
			Series{time.Second, []bwe.Bitrate{4 * bwe.Mbps, bwe.Mbps}}, 0.25, 5},
		{"above capacity", Series{step, constant(10, 3*bwe.Mbps)}, Series{step, constant(10, bwe.Mbps)}, 3, 5},
		// Long steps: two hours hold 36 000 instants, counted without
		// visiting them one by one.
		{"hour steps", Series{time.Hour, []bwe.Bitrate{bwe.Mbps, 3 * bwe.Mbps}},
			Series{time.Hour, constant(2, 2*bwe.Mbps)}, 1, 36000},
		{"longest steps", Series{1 << 62, constant(2, 5)}, Series{1 << 62, constant(2, 5)}, 1, 46116860185},
	} {
		u, n := Utilization(c.rate, c.capacity)
		if !near(u, c.want, 1e-12) || n != c.samples {
			t.Errorf("%s: Utilization = %v over %d, want %v over %d", c.name, u, n, c.want, c.samples)
		}
	}
}

func TestLossRate(t *testing.T) {
	for _, c := range []struct {
		lost, received int
		want           float64
	}{
		{0, 0, 0}, {0, 10, 0}, {1, 99, 0.01}, {5, 0, 1}, {-3, 10, 0}, {3, -10, 1},
	} {
		if got := LossRate(c.lost, c.received); !near(got, c.want, 1e-15) {
			t.Errorf("LossRate(%d, %d) = %v, want %v", c.lost, c.received, got, c.want)
		}
	}
}
