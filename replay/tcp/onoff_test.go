package tcp

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

func mustOnOff(t testing.TB, cfg OnOffConfig, seed uint64) *OnOff {
	t.Helper()
	f, err := NewOnOff(cfg, seed)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestNewOnOffRejects(t *testing.T) {
	tests := []struct {
		name  string
		cfg   OnOffConfig
		field string
	}{
		{"negative min file", OnOffConfig{MinFile: -1}, "OnOffConfig.MinFile"},
		{"max below min", OnOffConfig{MinFile: 10_000, MaxFile: 5_000}, "OnOffConfig.MaxFile"},
		{"max file huge", OnOffConfig{MaxFile: math.MaxInt64}, "OnOffConfig.MaxFile"},
		{"negative idle", OnOffConfig{MeanIdle: -time.Second}, "OnOffConfig.MeanIdle"},
		{"huge idle", OnOffConfig{MeanIdle: 2000 * time.Hour}, "OnOffConfig.MeanIdle"},
		{"bad sender", OnOffConfig{Sender: Config{SegmentSize: -5}}, "Config.SegmentSize"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewOnOff(tt.cfg, 1)
			if err == nil || !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("NewOnOff(%+v) error = %v, want one naming %s", tt.cfg, err, tt.field)
			}
		})
	}
	if got, want := (OnOffConfig{}).withDefaults(), DefaultOnOffConfig(); got.MinFile != want.MinFile || got.MaxFile != want.MaxFile || got.MeanIdle != want.MeanIdle {
		t.Errorf("zero OnOffConfig with defaults = %+v, want %+v", got, want)
	}
}

// RFC 8867 §5.7 starts 2 short flows ON and 8 OFF.
func TestOnOffStart(t *testing.T) {
	tests := []struct {
		startOn      bool
		wantSend     bool // at Start
		wantDeadline func(bwe.Time) bool
	}{
		{true, true, func(d bwe.Time) bool { return d == bwe.MaxTime }},
		{false, false, func(d bwe.Time) bool { return d > sec(5) && d < sec(5+400) }},
	}
	for _, tt := range tests {
		f := mustOnOff(t, OnOffConfig{StartOn: tt.startOn, Start: sec(5)}, 7)
		if got := f.CanSend(sec(4)); got {
			t.Errorf("StartOn %v: CanSend before Start = true", tt.startOn)
		}
		if got := f.CanSend(sec(5)); got != tt.wantSend || f.On() != tt.wantSend {
			t.Errorf("StartOn %v: CanSend(Start) = %v, On %v; want %v", tt.startOn, got, f.On(), tt.wantSend)
		}
		if d := f.Deadline(); !tt.wantDeadline(d) {
			t.Errorf("StartOn %v: Deadline() = %v", tt.startOn, d)
		}
	}
}

// Scenario (7): over many files, file sizes and idle times follow the
// configured distributions, and each file is a new connection.
func TestOnOffDistribution(t *testing.T) {
	const n = 2000
	cfg := DefaultOnOffConfig()
	f := mustOnOff(t, cfg, 42)
	// 100 Mbps, 10 ms each way: a file of 31–52 segments takes three
	// round trips from a fresh initial window of 10 (10 + 20 + up to 40).
	link := &testLink{rate: 100 * bwe.Mbps, queue: 1 << 30, delay: 10 * time.Millisecond}
	m := newSim(t, link, f)
	var sizes []float64
	var idles []float64
	var prev OnOffStats
	m.onEvent = func() {
		st := f.Stats()
		if st.FilesStarted > prev.FilesStarted {
			sizes = append(sizes, float64(st.FileBytes-prev.FileBytes))
		}
		if st.IdlePeriods > prev.IdlePeriods {
			idles = append(idles, (st.IdleTime - prev.IdleTime).Seconds())
		}
		prev = st
	}
	for f.Stats().FilesCompleted < n {
		m.run(m.now.Add(100 * time.Second))
	}
	st := f.Stats()
	if len(sizes) != int(st.FilesStarted) || len(idles) != int(st.IdlePeriods) {
		t.Fatalf("observed %d starts and %d idle periods, stats say %d and %d", len(sizes), len(idles), st.FilesStarted, st.IdlePeriods)
	}
	mean := func(x []float64) float64 {
		s := 0.0
		for _, v := range x {
			s += v
		}
		return s / float64(len(x))
	}
	// Tolerances are four standard errors of the sample statistic.
	// Uniform integers on [a, b]: mean (a+b)/2, variance ((b−a+1)²−1)/12.
	a, b := float64(cfg.MinFile), float64(cfg.MaxFile)
	sd := math.Sqrt(((b-a+1)*(b-a+1) - 1) / 12)
	if got, want, tol := mean(sizes), (a+b)/2, 4*sd/math.Sqrt(float64(len(sizes))); math.Abs(got-want) > tol {
		t.Errorf("mean file size over %d files = %.0f B, want %.0f ± %.0f", len(sizes), got, want, tol)
	}
	below := 0
	for _, v := range sizes {
		if v < a || v > b {
			t.Fatalf("file size %v outside [%v, %v]", v, a, b)
		}
		if v < (a+b)/2 {
			below++
		}
	}
	p := float64(below) / float64(len(sizes))
	if tol := 4 * math.Sqrt(0.25/float64(len(sizes))); math.Abs(p-0.5) > tol {
		t.Errorf("fraction of files below the midpoint = %.4f, want 0.5 ± %.4f", p, tol)
	}
	// Exponential with mean μ: standard deviation μ; P(X > μ) = 1/e.
	mu := cfg.MeanIdle.Seconds()
	if got, tol := mean(idles), 4*mu/math.Sqrt(float64(len(idles))); math.Abs(got-mu) > tol {
		t.Errorf("mean idle over %d periods = %.3f s, want %.3f ± %.3f", len(idles), got, mu, tol)
	}
	above := 0
	for _, v := range idles {
		if v > mu {
			above++
		}
	}
	q := float64(above) / float64(len(idles))
	if pe, tol := math.Exp(-1), 4*math.Sqrt(math.Exp(-1)*(1-math.Exp(-1))/float64(len(idles))); math.Abs(q-pe) > tol {
		t.Errorf("fraction of idle times above the mean = %.4f, want 1/e = %.4f ± %.4f", q, pe, tol)
	}
	// Three round trips of 20 ms, plus at most 52 segments' serialization
	// (52 × 80 µs) and the propagation rounding: [60 ms, 65 ms].
	if fct := st.MeanCompletionTime(); fct < 60*time.Millisecond || fct > 65*time.Millisecond {
		t.Errorf("mean completion time = %v, want in [60ms, 65ms] (a fresh slow start per file)", fct)
	}
	t.Logf("%d files: mean size %.0f B, mean idle %.3f s, P(idle > mean) %.4f, mean FCT %v",
		len(sizes), mean(sizes), mean(idles), q, st.MeanCompletionTime())
}

// Scenario (5), on/off flavour: under 20 % random loss every file is
// completed and every byte acknowledged.
func TestOnOffUnderRandomLoss(t *testing.T) {
	f := mustOnOff(t, OnOffConfig{StartOn: true, MeanIdle: time.Second}, 3)
	link := rfc8867Link()
	link.loss, link.rng = 0.2, rand.New(rand.NewPCG(3, 1))
	m := newSim(t, link, f)
	for (f.Stats().FilesCompleted < 10 || f.On()) && m.now < sec(3600) {
		m.run(m.now.Add(10 * time.Millisecond))
	}
	st := f.Stats()
	t.Logf("after %v: %d files, mean FCT %v, %d timeouts", m.now, st.FilesCompleted, st.MeanCompletionTime(), st.Sender.Timeouts)
	if st.FilesCompleted < 10 || st.FilesStarted != st.FilesCompleted || st.Sender.AckedBytes != st.FileBytes {
		t.Errorf("files started %d, completed %d; acked %d B of %d B; want >= 10 files, all complete, every byte acked",
			st.FilesStarted, st.FilesCompleted, st.Sender.AckedBytes, st.FileBytes)
	}
}
