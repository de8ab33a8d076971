package replay

import (
	"strings"
	"testing"
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
			(got.Smoothness == nil) != (want.Smoothness == nil) || (got.Smoothness != nil && *got.Smoothness != *want.Smoothness) {
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
	} {
		_, err := ParseEstimator(bad.spec)
		if err == nil || !strings.Contains(err.Error(), bad.msg) {
			t.Errorf("ParseEstimator(%q) error %v, want one containing %q", bad.spec, err, bad.msg)
		}
	}
}
