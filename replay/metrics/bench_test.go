package metrics

import (
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// TestNoAllocs checks that the metrics allocate nothing once a Spectrum's
// buffers have grown.
func TestNoAllocs(t *testing.T) {
	rate := Series{step, sine(4096, 1e6, 1e5, 7*time.Second, 0)}
	capacity := Series{time.Second, concat(constant(200, 1200*bwe.Kbps), constant(210, 2*bwe.Mbps))}
	frames := frames30(1000, map[int]time.Duration{500: 400 * time.Millisecond})
	sorted := make([]time.Duration, 1000)
	for i := range sorted {
		sorted[i] = time.Duration(i)
	}
	sp, _ := NewSpectrum(SpectrumConfig{})
	sp.Dominant(rate) // warm-up: grow the buffers
	phases := make([]PhaseUtilization, 0, 8)
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"Dominant", func() { sp.Dominant(rate) }},
		{"OscillationIndex", func() { _, _ = sp.OscillationIndex(rate, capacity, DefaultSettle) }},
		{"Utilization", func() { Utilization(rate, capacity) }},
		{"UtilizationByPhase", func() { phases, _ = UtilizationByPhase(phases, rate, capacity, DefaultSettle) }},
		{"ThroughputRatio", func() { RFC8868Fairness(rate, rate) }},
		{"Jain", func() { Jain(rate.Rates) }},
		{"ConvergenceSelf", func() { _, _ = ConvergenceSelf(rate, ConvergenceConfig{}) }},
		{"Swings", func() { RFC8868Swings(rate) }},
		{"WindowedCV", func() { _, _ = WindowedCV(rate, capacity, 10*time.Second) }},
		{"CountReversals", func() { _, _ = CountReversals(rate, 0.1) }},
		{"CountFreezes", func() { CountFreezes(frames) }},
		{"DelayQuantiles", func() { DelayQuantiles(sorted) }},
		{"MMSys21Score", func() { MMSys21Score(ChallengeInputs{DelayP95: 1, ReferenceRate: 1}) }},
	} {
		if a := testing.AllocsPerRun(10, c.f); a != 0 {
			t.Errorf("%s: %v allocations per run, want 0", c.name, a)
		}
	}
}

func BenchmarkDominant4096(b *testing.B) {
	rate := Series{step, sine(4096, 1e6, 1e5, 7*time.Second, 0)}
	sp, _ := NewSpectrum(SpectrumConfig{})
	b.ReportAllocs()
	for b.Loop() {
		sp.Dominant(rate)
	}
}

func BenchmarkOscillationIndex(b *testing.B) {
	// RFC 8867 §5.1 at 100 ms: four phases.
	rate := Series{step, sine(1000, 1e6, 1e5, 3*time.Second, 0)}
	capacity := rfc8867Case51()
	sp, _ := NewSpectrum(SpectrumConfig{})
	b.ReportAllocs()
	for b.Loop() {
		_, _ = sp.OscillationIndex(rate, capacity, DefaultSettle)
	}
}

func BenchmarkWindowedCV(b *testing.B) {
	rate := Series{step, sine(36000, 1e6, 1e5, 3*time.Second, 0)} // one hour
	b.ReportAllocs()
	for b.Loop() {
		_, _ = WindowedCV(rate, Series{}, 10*time.Second)
	}
}

func BenchmarkUtilizationByPhase(b *testing.B) {
	rate := Series{step, sine(1000, 1e6, 1e5, 3*time.Second, 0)}
	capacity := rfc8867Case51()
	dst := make([]PhaseUtilization, 0, 8)
	b.ReportAllocs()
	for b.Loop() {
		dst, _ = UtilizationByPhase(dst, rate, capacity, DefaultSettle)
	}
}

func BenchmarkConvergenceSelf(b *testing.B) {
	rate := Series{step, concat(ramp(100, 500*bwe.Kbps, 5*bwe.Kbps), sine(500, 1e6, 2e4, 3*time.Second, 0))}
	b.ReportAllocs()
	for b.Loop() {
		_, _ = ConvergenceSelf(rate, ConvergenceConfig{})
	}
}

func BenchmarkCountFreezes(b *testing.B) {
	frames := frames30(18000, map[int]time.Duration{9000: 400 * time.Millisecond}) // 10 min at 30 fps
	b.ReportAllocs()
	for b.Loop() {
		CountFreezes(frames)
	}
}

func BenchmarkRFC8868Fairness(b *testing.B) {
	x := Series{step, sine(3000, 1e6, 1e5, 3*time.Second, 0)}
	y := Series{step, sine(3000, 1e6, 3e5, 7*time.Second, 0)}
	b.ReportAllocs()
	for b.Loop() {
		RFC8868Fairness(x, y)
	}
}
