package replay

import (
	"strings"
	"testing"

	"github.com/bwelab/bwe/sendside"
)

func TestParseEstimator(t *testing.T) {
	half, zero := 0.5, 0.0
	tests := []struct {
		spec string
		want Estimator
		name string // want String()
	}{
		{"kalman", Estimator{Detector: "kalman", Loss: "likelihood"}, "kalman+likelihood"},
		{"detector=robust,loss=lossy,probing=false", Estimator{Detector: "robust", Loss: "lossy", NoProbing: true}, "robust+lossy-noprobe"},
		{"plain", Estimator{Name: "plain", Detector: "trendline", Loss: "likelihood"}, "trendline+likelihood"},
		{"smooth", Estimator{Name: "smooth", Detector: "trendline", Loss: "likelihood", Oscillation: "acf", Smoother: "oscillation", Rate: true, Smoothness: &zero}, "trendline+likelihood+osc:acf+smooth:oscillation+rate:0"},
		{"smoother=oscillation", Estimator{Detector: "trendline", Loss: "likelihood", Oscillation: DefaultOscillation, Smoother: "oscillation", Rate: true}, ""},
		{"smoother=ewma", Estimator{Detector: "trendline", Loss: "likelihood", Smoother: "ewma", Rate: true}, "trendline+likelihood+smooth:ewma+rate"},
		{"rate=true,smoothness=0.5", Estimator{Detector: "trendline", Loss: "likelihood", Rate: true, Smoothness: &half}, "trendline+likelihood+rate:0.5"},
		{"osc=spectral", Estimator{Detector: "trendline", Loss: "likelihood", Oscillation: "spectral"}, "trendline+likelihood+osc:spectral"},
		{"protect", Estimator{Name: "protect", Detector: "trendline", Loss: "likelihood", Predictor: "default", Protect: 0.5, Rate: true, Smoothness: &zero}, "trendline+likelihood+predict:default+protect:0.5+rate:0"},
		{"predictor=threshold", Estimator{Detector: "trendline", Loss: "likelihood", Predictor: "threshold"}, "trendline+likelihood+predict:threshold"},
		{"live", Estimator{Name: "live", Detector: "robust", Loss: "likelihood", QueuedProbes: true, Backoff: 0.9}, "robust+likelihood+queuedprobes+backoff:0.9"},
		{"backoff=0.8", Estimator{Detector: "trendline", Loss: "likelihood", Backoff: 0.8}, "trendline+likelihood+backoff:0.8"},
		{"probes=queued,probes=cluster", Estimator{Detector: "trendline", Loss: "likelihood"}, "trendline+likelihood"},
	}
	for _, tt := range tests {
		got, err := ParseEstimator(tt.spec)
		if err != nil {
			t.Errorf("ParseEstimator(%q): %v", tt.spec, err)
			continue
		}
		want := tt.want
		if want.Name == "" {
			want.Name = want.String()
		}
		if got.Name != want.Name || got.Detector != want.Detector || got.Loss != want.Loss || got.NoProbing != want.NoProbing ||
			got.Oscillation != want.Oscillation || got.Smoother != want.Smoother || got.Rate != want.Rate ||
			(got.Smoothness == nil) != (want.Smoothness == nil) || (got.Smoothness != nil && *got.Smoothness != *want.Smoothness) ||
			got.Predictor != want.Predictor || got.Protect != want.Protect || got.QueuedProbes != want.QueuedProbes || got.Backoff != want.Backoff {
			t.Errorf("ParseEstimator(%q) = %+v, want %+v", tt.spec, got, want)
		}
		if tt.name != "" && got.String() != tt.name {
			t.Errorf("ParseEstimator(%q).String() = %q, want %q", tt.spec, got.String(), tt.name)
		}
		cfg, err := got.Config()
		if err != nil {
			t.Errorf("ParseEstimator(%q).Config(): %v", tt.spec, err)
			continue
		}
		if (cfg.Predictor != nil) != (want.Predictor != "") {
			t.Errorf("ParseEstimator(%q).Config(): predictor %v, want %v", tt.spec, cfg.Predictor != nil, want.Predictor != "")
		}
		if cfg.ProbeEstimator.QueuedRate != want.QueuedProbes {
			t.Errorf("ParseEstimator(%q).Config(): probe QueuedRate %v, want %v", tt.spec, cfg.ProbeEstimator.QueuedRate, want.QueuedProbes)
		}
		if cfg.Delay.AIMD.Beta != want.Backoff { // 0 keeps the default
			t.Errorf("ParseEstimator(%q).Config(): AIMD Beta %v, want %v", tt.spec, cfg.Delay.AIMD.Beta, want.Backoff)
		}
		if (cfg.Rate != nil) != want.Rate || (cfg.Oscillation != nil) != (want.Oscillation != "") {
			t.Errorf("ParseEstimator(%q).Config(): rate controller %v, detector %v; want %v, %v", tt.spec, cfg.Rate != nil, cfg.Oscillation != nil, want.Rate, want.Oscillation != "")
		}
	}
	for _, bad := range []struct{ spec, msg string }{
		{"", "empty"},
		{"osc=fft", `unknown oscillation detector "fft"`},
		{"smoother=kalman", `unknown smoother "kalman"`},
		{"rate=maybe", `rate="maybe"`},
		{"smoothness=2", `smoothness="2"`},
		{"smoothness=NaN", `smoothness="NaN"`},
		{"colour=red", `unknown setting "colour"`},
		{"probes=some", `probes="some"`},
		{"backoff=1", `backoff="1"`},
		{"backoff=0", `backoff="0"`},
		{"backoff=NaN", `backoff="NaN"`},
		{"backoff=x", `backoff="x"`},
		{"protect=0.5", "needs a predictor"},
		{"predictor=default,protect=2", `protect="2"`},
	} {
		_, err := ParseEstimator(bad.spec)
		if err == nil || !strings.Contains(err.Error(), bad.msg) {
			t.Errorf("ParseEstimator(%q) error %v, want one containing %q", bad.spec, err, bad.msg)
		}
	}
}

// A predictor named by a path that is not a model file fails when the
// configuration is built, naming the file.
func TestPredictorFile(t *testing.T) {
	e, err := ParseEstimator("predictor=testdata/no-such-model.bwens")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Config(); err == nil || !strings.Contains(err.Error(), "no-such-model.bwens") {
		t.Errorf("Config with a missing model file: error %v", err)
	}
}

// FuzzParseEstimator: any specification is either refused with an error
// naming the replay package, or parsed into settings that are in range,
// that WithDefaults leaves as they are, and that build a configuration.
func FuzzParseEstimator(f *testing.F) {
	for _, s := range []string{"plain", "live", "smooth", "protect", "kalman", "backoff=0.9", "name=x,detector=robust,probes=queued",
		"smoother=oscillation,smoothness=0.5", "predictor=threshold,protect=0.5", "backoff=1e-300", ",", "=", "rate=true,rate=false"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		e, err := ParseEstimator(spec)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "replay: ") {
				t.Fatalf("ParseEstimator(%q) error %q does not name the package", spec, err)
			}
			return
		}
		if !(e.Backoff == 0 || e.Backoff > 0 && e.Backoff < 1) || !(e.Protect >= 0 && e.Protect <= 1) ||
			e.Smoothness != nil && !(*e.Smoothness >= 0 && *e.Smoothness <= 1) || e.Name == "" {
			t.Fatalf("ParseEstimator(%q) = %+v: a setting out of range", spec, e)
		}
		again, err := e.WithDefaults()
		if err != nil || again.String() != e.String() || again.Name != e.Name {
			t.Fatalf("ParseEstimator(%q) = %+v; WithDefaults gives %+v, %v", spec, e, again, err)
		}
		switch e.Predictor {
		case "", "threshold", "default", "always":
		default:
			return // a file name: not opened here
		}
		cfg, err := e.Config()
		if err != nil {
			t.Fatalf("ParseEstimator(%q).Config(): %v", spec, err)
		}
		if _, err := sendside.New(cfg); err != nil {
			t.Fatalf("ParseEstimator(%q): sendside.New: %v", spec, err)
		}
	})
}
