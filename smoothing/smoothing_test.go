package smoothing

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// ms returns the instant d after the origin.
func ms(d float64) bwe.Time { return bwe.TimeFromDuration(bwe.DurationFromMillis(d)) }

// step is one call of a scripted timeline.
type step struct {
	atMs float64
	est  bwe.Bitrate
	s    bwe.Signals
	want bwe.Bitrate
}

// runSteps feeds the steps to sm and checks every output.
func runSteps(t *testing.T, sm bwe.Smoother, steps []step) {
	t.Helper()
	for i, st := range steps {
		if got := sm.Smooth(ms(st.atMs), st.est, st.s); got != st.want {
			t.Errorf("step %d: Smooth(%vms, %v) = %d bps, want %d bps", i, st.atMs, st.est, got, st.want)
		}
	}
}

// lowpass returns the exact first-order filter response from y toward x
// after dt with time constant tau, rounded to the nearest bps: the oracle
// for EWMA and Asymmetric.
func lowpass(y, x bwe.Bitrate, dt, tau time.Duration) bwe.Bitrate {
	a := 1 - math.Exp(-dt.Seconds()/tau.Seconds())
	return bwe.Bitrate(math.Round(y.Float() + a*(x.Float()-y.Float())))
}

func TestIdentity(t *testing.T) {
	runSteps(t, &Identity{}, []step{
		{0, bwe.Mbps, bwe.Signals{}, bwe.Mbps},
		{50, 300 * bwe.Kbps, bwe.Signals{Congested: true}, 300 * bwe.Kbps},
		{40, -5, bwe.Signals{}, 0}, // negative estimate, time backwards
	})
}

func TestEWMA(t *testing.T) {
	const M = bwe.Mbps
	tau := time.Second
	// After one τ a step is covered to 1 − 1/e ≈ 63.2 %.
	oneTau := lowpass(M, 2*M, tau, tau)
	if oneTau != 1_632_121 {
		t.Fatalf("oracle: one τ from 1 to 2 Mbps = %d, want 1632121 (1 + 0.632120559)", oneTau)
	}
	tests := []struct {
		name  string
		cfg   EWMAConfig
		steps []step
	}{
		{"first call returns the estimate", EWMAConfig{}, []step{{0, 3 * M, bwe.Signals{}, 3 * M}}},
		{"one sample after one τ: 63.2 %", EWMAConfig{}, []step{
			{0, M, bwe.Signals{}, M},
			{1000, 2 * M, bwe.Signals{}, oneTau},
		}},
		{"two τ in two samples: 86.5 %", EWMAConfig{}, []step{
			{0, M, bwe.Signals{}, M},
			{1000, 2 * M, bwe.Signals{}, oneTau},
			{2000, 2 * M, bwe.Signals{}, lowpass(M, 2*M, 2*tau, tau)},
		}},
		{"fall with τ = 500 ms", EWMAConfig{TimeConstant: 500 * time.Millisecond}, []step{
			{0, 2 * M, bwe.Signals{}, 2 * M},
			{250, M, bwe.Signals{}, lowpass(2*M, M, 250*time.Millisecond, 500*time.Millisecond)},
		}},
		{"Δt = 0 and time going backwards leave the output alone", EWMAConfig{}, []step{
			{0, M, bwe.Signals{}, M},
			{1000, 2 * M, bwe.Signals{}, oneTau},
			{1000, 5 * M, bwe.Signals{}, oneTau},
			{500, 0, bwe.Signals{}, oneTau},
		}},
		{"negative estimate counts as 0", EWMAConfig{}, []step{
			{0, -M, bwe.Signals{}, 0},
			{1000, 0, bwe.Signals{}, 0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := NewEWMA(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			runSteps(t, e, tt.steps)
		})
	}
}

// TestEWMAIrregularSamples checks that the response depends on elapsed
// time, not on the number of estimates: a step covered by irregular
// samples spanning one τ ends where a single sample one τ later does.
func TestEWMAIrregularSamples(t *testing.T) {
	e, _ := NewEWMA(EWMAConfig{})
	e.Smooth(0, bwe.Mbps, bwe.Signals{})
	var got bwe.Bitrate
	for _, at := range []float64{20, 120, 130, 400, 410, 700, 780, 1000} {
		got = e.Smooth(ms(at), 2*bwe.Mbps, bwe.Signals{})
	}
	want := lowpass(bwe.Mbps, 2*bwe.Mbps, time.Second, time.Second)
	if d := got - want; d < -1 || d > 1 {
		t.Errorf("after 8 irregular samples over 1 s: %d bps, want %d ± 1 (one sample one τ later)", got, want)
	}
}

func TestAsymmetric(t *testing.T) {
	const M = bwe.Mbps
	up := 2 * time.Second
	tests := []struct {
		name  string
		cfg   AsymmetricConfig
		steps []step
	}{
		{"a drop is followed at once", AsymmetricConfig{}, []step{
			{0, 2 * M, bwe.Signals{}, 2 * M},
			{50, M, bwe.Signals{}, M},
			{50, 500 * bwe.Kbps, bwe.Signals{}, 500 * bwe.Kbps}, // even at Δt = 0
		}},
		{"a rise follows the Up τ: 63.2 % after 2 s", AsymmetricConfig{}, []step{
			{0, M, bwe.Signals{}, M},
			{2000, 2 * M, bwe.Signals{}, lowpass(M, 2*M, up, up)},
		}},
		{"rise then drop below the output", AsymmetricConfig{}, []step{
			{0, M, bwe.Signals{}, M},
			{1000, 2 * M, bwe.Signals{}, lowpass(M, 2*M, time.Second, up)},
			{1100, 1200 * bwe.Kbps, bwe.Signals{}, 1200 * bwe.Kbps},
		}},
		{"Down τ = 1 s smooths a drop", AsymmetricConfig{Down: time.Second}, []step{
			{0, 2 * M, bwe.Signals{}, 2 * M},
			{1000, M, bwe.Signals{}, lowpass(2*M, M, time.Second, time.Second)},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := NewAsymmetric(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			runSteps(t, a, tt.steps)
		})
	}
}

func TestPercentile(t *testing.T) {
	const M = bwe.Mbps
	tests := []struct {
		name  string
		cfg   PercentileConfig
		steps []step
	}{
		{"median of a known window, then the window slides", PercentileConfig{}, []step{
			{0, 5 * M, bwe.Signals{}, 5 * M},
			{500, 1 * M, bwe.Signals{}, 3 * M},     // {1, 5}: mean of the middle two
			{1000, 4 * M, bwe.Signals{}, 4 * M},    // {1, 4, 5}
			{1500, 2 * M, bwe.Signals{}, 3 * M},    // {1, 2, 4, 5}
			{2000, 3 * M, bwe.Signals{}, 2500_000}, // 5 Mbps of t=0 is 2 s old: out; {1, 2, 3, 4}
			{2100, 9 * M, bwe.Signals{}, 3 * M},    // {1, 2, 3, 4, 9}
			{2600, 9 * M, bwe.Signals{}, 4 * M},    // 1 Mbps of t=0.5 s out; {2, 3, 4, 9, 9}
			{4500, 7 * M, bwe.Signals{}, 8 * M},    // {9 (t=2.6), 7}
			{9000, 6 * M, bwe.Signals{}, 6 * M},    // a gap: everything else left
			{8000, 2 * M, bwe.Signals{}, 4 * M},    // time backwards: taken at 9 s; {6, 2}
			{9000, 4 * M, bwe.Signals{}, 4 * M},    // {2, 4, 6}
			{11000, 100 * bwe.Kbps, bwe.Signals{}, 100 * bwe.Kbps},
		}},
		{"MaxSamples evicts the oldest early", PercentileConfig{MaxSamples: 3}, []step{
			{0, 1 * M, bwe.Signals{}, 1 * M},
			{10, 2 * M, bwe.Signals{}, 1500_000},
			{20, 3 * M, bwe.Signals{}, 2 * M},
			{30, 4 * M, bwe.Signals{}, 3 * M}, // {2, 3, 4}
			{40, 5 * M, bwe.Signals{}, 4 * M}, // {3, 4, 5}
		}},
		{"quantile 0.9 interpolates between order statistics", PercentileConfig{Quantile: 0.9}, []step{
			{0, 1 * M, bwe.Signals{}, 1 * M},
			{10, 2 * M, bwe.Signals{}, 1900_000}, // h = 0.9: 1 + 0.9·1
			{20, 4 * M, bwe.Signals{}, 3600_000}, // h = 1.8: 2 + 0.8·2
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPercentile(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			runSteps(t, p, tt.steps)
		})
	}
}

func TestHysteresis(t *testing.T) {
	const M = bwe.Mbps
	k := bwe.Kbps
	tests := []struct {
		name  string
		cfg   HysteresisConfig
		steps []step
	}{
		{"inside the band: no change", HysteresisConfig{}, []step{
			{0, M, bwe.Signals{}, M},
			{100, 1099 * k, bwe.Signals{}, M},
			{2000, 901 * k, bwe.Signals{}, M},
			{4000, 1100 * k, bwe.Signals{}, M}, // the edge is inside
		}},
		{"above the band for Hold: jump to the estimate", HysteresisConfig{}, []step{
			{0, M, bwe.Signals{}, M},
			{100, 1200 * k, bwe.Signals{}, M},
			{600, 1300 * k, bwe.Signals{}, M},
			{1099, 1250 * k, bwe.Signals{}, M},
			{1100, 1150 * k, bwe.Signals{}, 1150 * k}, // 1 s outside: move
			{1200, 1200 * k, bwe.Signals{}, 1150 * k}, // new band ±115 kbps
		}},
		{"back inside restarts the hold", HysteresisConfig{}, []step{
			{0, M, bwe.Signals{}, M},
			{100, 1200 * k, bwe.Signals{}, M},
			{900, 1000 * k, bwe.Signals{}, M},
			{1100, 1200 * k, bwe.Signals{}, M},
			{2000, 1200 * k, bwe.Signals{}, M},
			{2100, 1200 * k, bwe.Signals{}, 1200 * k},
		}},
		{"switching sides restarts the hold", HysteresisConfig{}, []step{
			{0, M, bwe.Signals{}, M},
			{100, 1200 * k, bwe.Signals{}, M},
			{800, 800 * k, bwe.Signals{}, M},
			{1100, 800 * k, bwe.Signals{}, M},
			{1800, 850 * k, bwe.Signals{}, 850 * k},
		}},
		{"a shallow drop waits, a deep drop is followed at once", HysteresisConfig{}, []step{
			{0, M, bwe.Signals{}, M},
			{100, 800 * k, bwe.Signals{}, M}, // 20 % below: within DeepDrop 25 %
			{200, 750 * k, bwe.Signals{}, M}, // exactly 75 %: not deeper
			{300, 749 * k, bwe.Signals{}, 749 * k},
		}},
		{"Band 0.2, Hold 300 ms, DeepDrop 0.5", HysteresisConfig{Band: 0.2, Hold: 300 * time.Millisecond, DeepDrop: 0.5}, []step{
			{0, M, bwe.Signals{}, M},
			{100, 1150 * k, bwe.Signals{}, M},
			{200, 700 * k, bwe.Signals{}, M},
			{500, 700 * k, bwe.Signals{}, 700 * k},
			{600, 300 * k, bwe.Signals{}, 300 * k},
		}},
		{"time going backwards does not advance the hold", HysteresisConfig{}, []step{
			{0, M, bwe.Signals{}, M},
			{1000, 2 * M, bwe.Signals{}, M},
			{500, 2 * M, bwe.Signals{}, M},
			{1999, 2 * M, bwe.Signals{}, M},
			{2000, 2 * M, bwe.Signals{}, 2 * M},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := NewHysteresis(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			runSteps(t, h, tt.steps)
		})
	}
}

func TestConfigErrors(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name string
		new  func() error
		want string
	}{
		{"ewma tau", func() error { _, err := NewEWMA(EWMAConfig{TimeConstant: -time.Second}); return err },
			"smoothing: EWMAConfig.TimeConstant -1s is negative"},
		{"asym down", func() error { _, err := NewAsymmetric(AsymmetricConfig{Down: -1}); return err },
			"smoothing: AsymmetricConfig.Down -1ns is negative"},
		{"asym up", func() error { _, err := NewAsymmetric(AsymmetricConfig{Up: -time.Second}); return err },
			"smoothing: AsymmetricConfig.Up -1s is negative"},
		{"pct window", func() error { _, err := NewPercentile(PercentileConfig{Window: -time.Second}); return err },
			"smoothing: PercentileConfig.Window -1s is negative"},
		{"pct quantile NaN", func() error { _, err := NewPercentile(PercentileConfig{Quantile: nan}); return err },
			"smoothing: PercentileConfig.Quantile NaN is not in [0, 1]"},
		{"pct quantile", func() error { _, err := NewPercentile(PercentileConfig{Quantile: 1.5}); return err },
			"smoothing: PercentileConfig.Quantile 1.5 is not in [0, 1]"},
		{"pct samples", func() error { _, err := NewPercentile(PercentileConfig{MaxSamples: -1}); return err },
			"smoothing: PercentileConfig.MaxSamples -1 is negative"},
		{"pct samples huge", func() error { _, err := NewPercentile(PercentileConfig{MaxSamples: 1 << 30}); return err },
			"smoothing: PercentileConfig.MaxSamples 1073741824 exceeds 1048576"},
		{"hyst band", func() error { _, err := NewHysteresis(HysteresisConfig{Band: 1}); return err },
			"smoothing: HysteresisConfig.Band 1 is not in (0, 1)"},
		{"hyst deep drop NaN", func() error { _, err := NewHysteresis(HysteresisConfig{DeepDrop: nan}); return err },
			"smoothing: HysteresisConfig.DeepDrop NaN is not in (0, 1)"},
		{"hyst deep drop below band", func() error {
			_, err := NewHysteresis(HysteresisConfig{Band: 0.3, DeepDrop: 0.2})
			return err
		}, "smoothing: HysteresisConfig.DeepDrop 0.2 is below Band 0.3"},
		{"hyst hold", func() error { _, err := NewHysteresis(HysteresisConfig{Hold: -time.Second}); return err },
			"smoothing: HysteresisConfig.Hold -1s is negative"},
		{"osc quantile", func() error { _, err := NewOscillationAware(OscillationAwareConfig{Quantile: -0.1}); return err },
			"smoothing: OscillationAwareConfig.Quantile -0.1 is not in [0, 1]"},
		{"osc cycles", func() error { _, err := NewOscillationAware(OscillationAwareConfig{Cycles: -1}); return err },
			"smoothing: OscillationAwareConfig.Cycles -1 is not in (0, 1000]"},
		{"osc cycles inf", func() error {
			_, err := NewOscillationAware(OscillationAwareConfig{Cycles: math.Inf(1)})
			return err
		}, "smoothing: OscillationAwareConfig.Cycles +Inf is not in (0, 1000]"},
		{"osc loss", func() error { _, err := NewOscillationAware(OscillationAwareConfig{LossThreshold: nan}); return err },
			"smoothing: OscillationAwareConfig.LossThreshold NaN is not in (0, 1]"},
		{"osc rtt window", func() error {
			_, err := NewOscillationAware(OscillationAwareConfig{RTTWindow: -time.Second})
			return err
		}, "smoothing: OscillationAwareConfig.RTTWindow -1s is negative"},
		{"osc rtt window short", func() error {
			_, err := NewOscillationAware(OscillationAwareConfig{RTTWindow: 50 * time.Millisecond})
			return err
		}, "smoothing: OscillationAwareConfig.RTTWindow 50ms is shorter than 100ms"},
		{"osc rtt window huge", func() error {
			_, err := NewOscillationAware(OscillationAwareConfig{RTTWindow: 2 * time.Hour})
			return err
		}, "smoothing: OscillationAwareConfig.RTTWindow 2h0m0s exceeds 1h0m0s"},
		{"osc rtt rise", func() error {
			_, err := NewOscillationAware(OscillationAwareConfig{RTTRise: -time.Millisecond})
			return err
		}, "smoothing: OscillationAwareConfig.RTTRise -1ms is negative"},
		{"osc max period", func() error {
			_, err := NewOscillationAware(OscillationAwareConfig{MaxPeriod: -time.Second})
			return err
		}, "smoothing: OscillationAwareConfig.MaxPeriod -1s is negative"},
		{"osc rearm", func() error { _, err := NewOscillationAware(OscillationAwareConfig{Rearm: -time.Second}); return err },
			"smoothing: OscillationAwareConfig.Rearm -1s is negative"},
		{"osc samples", func() error { _, err := NewOscillationAware(OscillationAwareConfig{MaxSamples: -3}); return err },
			"smoothing: OscillationAwareConfig.MaxSamples -3 is negative"},
	}
	for _, tt := range tests {
		err := tt.new()
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestDefaultConfigsAreValid(t *testing.T) {
	if _, err := NewEWMA(DefaultEWMAConfig()); err != nil {
		t.Error(err)
	}
	if _, err := NewAsymmetric(DefaultAsymmetricConfig()); err != nil {
		t.Error(err)
	}
	if _, err := NewPercentile(DefaultPercentileConfig()); err != nil {
		t.Error(err)
	}
	if _, err := NewHysteresis(DefaultHysteresisConfig()); err != nil {
		t.Error(err)
	}
	if _, err := NewOscillationAware(DefaultOscillationAwareConfig()); err != nil {
		t.Error(err)
	}
	// The zero config is the default config.
	if got, want := (OscillationAwareConfig{}).withDefaults(), DefaultOscillationAwareConfig(); got != want {
		t.Errorf("OscillationAwareConfig{}.withDefaults() = %+v, want %+v", got, want)
	}
	if got, want := (PercentileConfig{}).withDefaults(), DefaultPercentileConfig(); got != want {
		t.Errorf("PercentileConfig{}.withDefaults() = %+v, want %+v", got, want)
	}
	if got, want := (HysteresisConfig{}).withDefaults(), DefaultHysteresisConfig(); got != want {
		t.Errorf("HysteresisConfig{}.withDefaults() = %+v, want %+v", got, want)
	}
}

func TestNewByName(t *testing.T) {
	want := []string{"none", "ewma", "asymmetric", "percentile", "hysteresis", "oscillation"}
	got := Names()
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
	got[0] = "mutated"
	if Names()[0] != "none" {
		t.Error("Names() shares its slice with the caller")
	}
	types := map[string]string{
		"none": "*smoothing.Identity", "ewma": "*smoothing.EWMA", "asymmetric": "*smoothing.Asymmetric",
		"percentile": "*smoothing.Percentile", "hysteresis": "*smoothing.Hysteresis", "oscillation": "*smoothing.OscillationAware",
	}
	for _, name := range want {
		sm, err := NewByName(name)
		if err != nil {
			t.Fatalf("NewByName(%q): %v", name, err)
		}
		if typ := typeName(sm); typ != types[name] {
			t.Errorf("NewByName(%q) is %s, want %s", name, typ, types[name])
		}
	}
	_, err := NewByName("kalman")
	if err == nil || !strings.Contains(err.Error(), `"kalman"`) || !strings.Contains(err.Error(), "none, ewma, asymmetric, percentile, hysteresis, oscillation") {
		t.Errorf("NewByName(kalman) error %v, want one naming it and listing the valid names", err)
	}
}

func typeName(sm bwe.Smoother) string {
	switch sm.(type) {
	case *Identity:
		return "*smoothing.Identity"
	case *EWMA:
		return "*smoothing.EWMA"
	case *Asymmetric:
		return "*smoothing.Asymmetric"
	case *Percentile:
		return "*smoothing.Percentile"
	case *Hysteresis:
		return "*smoothing.Hysteresis"
	case *OscillationAware:
		return "*smoothing.OscillationAware"
	}
	return "?"
}

// TestReset checks that every smoother forgets its history on Reset: the
// next call returns the estimate itself, as a first call does.
func TestReset(t *testing.T) {
	for _, name := range Names() {
		sm, _ := NewByName(name)
		for i := range 200 {
			sm.Smooth(ms(float64(50*i)), bwe.Bitrate(1+i%7)*bwe.Mbps, bwe.Signals{
				Oscillation: bwe.Oscillation{Detected: true, Period: 2 * time.Second}, RTT: 40 * time.Millisecond,
			})
		}
		sm.Reset()
		if got := sm.Smooth(ms(1), 123*bwe.Kbps, bwe.Signals{}); got != 123*bwe.Kbps {
			t.Errorf("%s: first Smooth after Reset = %v, want 123 kbps", name, got)
		}
	}
}

func TestSelectKth(t *testing.T) {
	vals := []bwe.Bitrate{5, 1, 1, 9, 3, 3, 3, 7, 1, 9, 0, 2}
	sorted := append([]bwe.Bitrate(nil), vals...)
	slicesSort(sorted)
	for k := range vals {
		v := append([]bwe.Bitrate(nil), vals...)
		if got := selectKth(v, k); got != sorted[k] {
			t.Errorf("selectKth(%v, %d) = %d, want %d", vals, k, got, sorted[k])
		}
		for i := range v {
			if (i < k && v[i] > v[k]) || (i > k && v[i] < v[k]) {
				t.Errorf("selectKth(_, %d) left %v unpartitioned at %d", k, v, i)
				break
			}
		}
	}
}

// slicesSort is an insertion sort: an oracle independent of the code
// under test.
func slicesSort(v []bwe.Bitrate) {
	for i := 1; i < len(v); i++ {
		for j := i; j > 0 && v[j] < v[j-1]; j-- {
			v[j], v[j-1] = v[j-1], v[j]
		}
	}
}
