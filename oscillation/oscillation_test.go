package oscillation

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

func ms(v int64) bwe.Time { return bwe.Time(v * 1000) }

// Resampler: scripted timelines of samples and the bins they complete.
func TestResampler(t *testing.T) {
	type sample struct {
		at bwe.Time
		v  float64
	}
	tests := []struct {
		name     string
		samples  []sample
		want     []float64 // bins, oldest first
		wantObs  []float64
		wantDone []int64 // bins completed by each sample
	}{
		{
			name:     "time-weighted mean within a bin",
			samples:  []sample{{ms(0), 100}, {ms(50), 200}, {ms(250), 0}},
			want:     []float64{180}, // 100·50 ms + 200·200 ms over 250 ms
			wantObs:  []float64{1},
			wantDone: []int64{0, 0, 1},
		},
		{
			name:     "value held across empty bins",
			samples:  []sample{{ms(0), 100}, {ms(100), 300}, {ms(800), 0}},
			want:     []float64{220, 300, 300}, // bins [250, 500) and [500, 750) hold 300 with no sample
			wantObs:  []float64{1, 0, 0},
			wantDone: []int64{0, 0, 3},
		},
		{
			name:     "sample straddling the boundary",
			samples:  []sample{{ms(0), 100}, {ms(200), 200}, {ms(300), 400}, {ms(500), 0}},
			want:     []float64{120, 360}, // [250,300) 200, [300,500) 400
			wantObs:  []float64{1, 1},
			wantDone: []int64{0, 0, 1, 1},
		},
		{
			name:     "out-of-order sample ignored",
			samples:  []sample{{ms(0), 100}, {ms(100), 200}, {ms(50), 9999}, {ms(250), 0}},
			want:     []float64{160},
			wantObs:  []float64{1},
			wantDone: []int64{0, 0, 0, 1},
		},
		{
			name:     "equal times: the later value wins",
			samples:  []sample{{ms(0), 100}, {ms(0), 200}, {ms(250), 0}},
			want:     []float64{200},
			wantObs:  []float64{1},
			wantDone: []int64{0, 0, 1},
		},
		{
			name:     "gap longer than the ring",
			samples:  []sample{{ms(0), 100}, {ms(10_000), 50}},
			want:     []float64{100, 100, 100, 100}, // ring of 4 keeps the last 4 of 40
			wantObs:  []float64{0, 0, 0, 0},
			wantDone: []int64{0, 40},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newResampler(250*time.Millisecond, 4)
			for i, s := range tt.samples {
				if got := r.add(s.at, s.v); got != tt.wantDone[i] {
					t.Errorf("step %d: add(%v, %v) completed %d bins, want %d", i, s.at, s.v, got, tt.wantDone[i])
				}
			}
			got, w := make([]float64, 4), make([]float64, 4)
			n := r.copyTo(got, w)
			if n != len(tt.want) {
				t.Fatalf("%d bins, want %d (%v)", n, len(tt.want), got[:n])
			}
			for i := range n {
				if math.Abs(got[i]-tt.want[i]) > 1e-9 || w[i] != tt.wantObs[i] {
					t.Errorf("bin %d = %v (weight %v), want %v (weight %v)", i, got[i], w[i], tt.want[i], tt.wantObs[i])
				}
			}
		})
	}
}

func TestDetrend(t *testing.T) {
	tests := []struct {
		name      string
		x, w      []float64
		wantSlope float64
		want      []float64
	}{
		{"line", []float64{1, 3, 5, 7}, []float64{1, 1, 1, 1}, 2, []float64{0, 0, 0, 0}},
		{"constant", []float64{4, 4, 4}, []float64{1, 1, 1}, 0, []float64{0, 0, 0}},
		{"line plus alternation", []float64{1, 0, 3, 2}, []float64{1, 1, 1, 1}, 0.6, []float64{0.4, -1.2, 1.2, -0.4}},
		{"weights skip a held bin", []float64{0, 100, 2, 3}, []float64{1, 0, 1, 1}, 1, []float64{0, 99, 0, 0}},
		{"no weight", []float64{5, 6}, []float64{0, 0}, 0, []float64{5, 6}},
	}
	for _, tt := range tests {
		d := make([]float64, len(tt.x))
		slope := detrend(d, tt.x, tt.w)
		if math.Abs(slope-tt.wantSlope) > 1e-12 {
			t.Errorf("%s: slope %v, want %v", tt.name, slope, tt.wantSlope)
		}
		for i := range d {
			if math.Abs(d[i]-tt.want[i]) > 1e-12 {
				t.Errorf("%s: d = %v, want %v", tt.name, d, tt.want)
				break
			}
		}
	}
}

func TestAmplitudeOfSine(t *testing.T) {
	// 1000 points over whole periods: the percentiles of a sine.
	s := make([]float64, 1000)
	for i := range s {
		s[i] = 3 * math.Sin(2*math.Pi*float64(i)/100)
	}
	if got := amplitude(s); math.Abs(got-3) > 0.01 {
		t.Errorf("amplitude of 3·sin = %v, want 3±0.01", got)
	}
}

func newAll(t testing.TB, cfg Config) map[string]bwe.OscillationDetector {
	t.Helper()
	m := map[string]bwe.OscillationDetector{}
	for _, name := range Names() {
		d, err := NewByName(name, cfg)
		if err != nil {
			t.Fatal(err)
		}
		m[name] = d
	}
	return m
}

// feedSine feeds m + a·sin(2πt/p) sampled every 20–100 ms (a fixed pattern)
// for length and returns the final state.
func feedSine(d bwe.OscillationDetector, m, a float64, p, length time.Duration) bwe.Oscillation {
	var st bwe.Oscillation
	pattern := [...]int64{20, 55, 100, 35, 80, 60, 45, 95, 25, 70}
	var t time.Duration
	for i := 0; t <= length; i++ {
		v := m + a*math.Sin(2*math.Pi*t.Seconds()/p.Seconds())
		st = d.Add(bwe.TimeFromDuration(t), bwe.BitrateFromFloat(v))
		t += time.Duration(pattern[i%len(pattern)]) * time.Millisecond
	}
	return st
}

func TestCleanSine(t *testing.T) {
	for _, p := range []time.Duration{2 * time.Second, 3 * time.Second, 6 * time.Second, 10 * time.Second, 20 * time.Second} {
		for name, d := range newAll(t, Config{}) {
			st := feedSine(d, 2e6, 400e3, p, 40*time.Second+3*p)
			if !st.Detected {
				t.Errorf("%s, period %v: not detected: %+v", name, p, st)
				continue
			}
			if e := math.Abs(st.Period.Seconds()-p.Seconds()) / p.Seconds(); e > 0.03 {
				t.Errorf("%s: period %v, want %v ±3 %%", name, st.Period, p)
			}
			// Binning over 250 ms attenuates a 2 s sine by sinc(π/8) ≈ 2.6 %;
			// the percentiles of a window holding whole cycles sampled at
			// 40 bins per cycle (10 s) fall up to 5 % short.
			if e := math.Abs(st.Amplitude.Float()-400e3) / 400e3; e > 0.05 {
				t.Errorf("%s, period %v: amplitude %v, want 400 kbps ±5 %%", name, p, st.Amplitude)
			}
			if e := math.Abs(st.Mean.Float()-2e6) / 2e6; e > 0.01 {
				t.Errorf("%s, period %v: mean %v, want 2 Mbps ±1 %%", name, p, st.Mean)
			}
			// A window holding exactly two cycles has a least-squares slope
			// that detrending turns into a ramp of ≈ a·3/π across the window,
			// which lowers the strength of acf and spectral at MaxPeriod.
			want := 0.9
			if p == 20*time.Second {
				want = 0.7
			}
			if st.Strength < want {
				t.Errorf("%s, period %v: strength %.3f, want ≥ %v", name, p, st.Strength, want)
			}
			if st != d.(interface{ State() bwe.Oscillation }).State() {
				t.Errorf("%s: State() differs from the last Add", name)
			}
		}
	}
}

func TestSmallWiggleNotDetected(t *testing.T) {
	for name, d := range newAll(t, Config{}) {
		// 1 % of 2 Mbps: below MinRelAmplitude.
		if st := feedSine(d, 2e6, 20e3, 5*time.Second, 60*time.Second); st.Detected {
			t.Errorf("%s: a 1 %% wiggle detected: %+v", name, st)
		}
	}
}

func TestFlatAndReset(t *testing.T) {
	for name, d := range newAll(t, Config{}) {
		st := feedSine(d, 1e6, 0, 5*time.Second, 50*time.Second)
		if st.Detected || st.Strength != 0 || st.Amplitude != 0 || st.Mean != bwe.Mbps {
			t.Errorf("%s: flat 1 Mbps gives %+v", name, st)
		}
		feedSine(d, 2e6, 500e3, 5*time.Second, 60*time.Second)
		d.Reset()
		if st := d.(interface{ State() bwe.Oscillation }).State(); st != (bwe.Oscillation{}) {
			t.Errorf("%s: State after Reset = %+v", name, st)
		}
		// After Reset, time may start over.
		if st := feedSine(d, 2e6, 400e3, 4*time.Second, 50*time.Second); !st.Detected {
			t.Errorf("%s: not detected after Reset: %+v", name, st)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		cfg   Config
		field string
	}{
		{Config{Step: -time.Millisecond}, "Config.Step"},
		{Config{Window: time.Second}, "Config.Window"},
		{Config{Step: time.Millisecond, Window: time.Hour}, "Config.Window"},
		{Config{MinPeriod: 400 * time.Millisecond}, "Config.MinPeriod"},
		{Config{MinPeriod: 5 * time.Second, MaxPeriod: 4 * time.Second}, "Config.MaxPeriod"},
		{Config{Threshold: 1.5}, "Config.Threshold"},
		{Config{Threshold: math.NaN()}, "Config.Threshold"},
		{Config{MinCycles: 0.5}, "Config.MinCycles"},
		{Config{MinCycles: math.Inf(1)}, "Config.MinCycles"},
		{Config{MinRelAmplitude: -0.1}, "Config.MinRelAmplitude"},
		{Config{Confirm: -time.Second}, "Config.Confirm"},
		{Config{MaxPeriod: 30 * time.Second}, "Config.MaxPeriod"}, // 2·30 s > 40 s
	}
	for _, tt := range tests {
		for _, name := range Names() {
			_, err := NewByName(name, tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.field) || !strings.HasPrefix(err.Error(), "oscillation: ") {
				t.Errorf("%s: NewByName(%+v) error %v, want one naming %s", name, tt.cfg, err, tt.field)
			}
		}
	}
	if _, err := NewByName("nope", Config{}); err == nil || !strings.Contains(err.Error(), "acf, spectral, crossing") {
		t.Errorf("NewByName(nope) error %v, want the list of names", err)
	}
	if d, err := NewByName("acf", Config{Step: -1}); d != nil || err == nil {
		t.Errorf("NewByName with a bad config = %v, %v; want nil interface and an error", d, err)
	}
}

// Add allocates nothing after warm-up, including calls that complete a bin
// and calls that cross a gap.
func TestAddAllocatesNothing(t *testing.T) {
	for name, d := range newAll(t, Config{}) {
		feedSine(d, 2e6, 300e3, 5*time.Second, 45*time.Second)
		at := bwe.TimeFromDuration(46 * time.Second)
		i := 0
		allocs := testing.AllocsPerRun(500, func() {
			i++
			step := 50 * time.Millisecond
			if i%97 == 0 {
				step = 2 * time.Second
			}
			at = at.Add(step)
			d.Add(at, bwe.Bitrate(2e6+3e5*math.Sin(float64(i)/20)))
		})
		if allocs != 0 {
			t.Errorf("%s: Add allocates %v times per call, want 0", name, allocs)
		}
	}
}
