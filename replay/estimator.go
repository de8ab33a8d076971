package replay

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/bwelab/bwe/lossbased"
	"github.com/bwelab/bwe/sendside"
	"github.com/bwelab/bwe/trendline"
)

// Estimator names an estimator configuration. A run builds one estimator
// from it for every media flow, so that flows never share state; it is a
// plain value that tables, JSON results and command lines can carry.
type Estimator struct {
	// Name labels the configuration in tables and file names. Default:
	// [Estimator.String].
	Name string `json:"name,omitempty"`
	// Detector names the delay detector (trendline.Names()). Default
	// "trendline".
	Detector string `json:"detector,omitempty"`
	// Loss names the loss-based estimator (lossbased.Names()). Default
	// "likelihood".
	Loss string `json:"loss,omitempty"`
	// NoProbing turns the probe controller off.
	NoProbing bool `json:"no_probing,omitempty"`
	// Edit, if set, changes each flow's configuration after the named
	// parts are built (for experiments the names do not cover). It must
	// not store state shared between flows.
	Edit func(*sendside.Config) `json:"-"`
}

// Default estimator part names.
const (
	DefaultDetector = "trendline"
	DefaultLoss     = "likelihood"
)

// WithDefaults returns e with its parts named, or an error naming an
// unknown part.
func (e Estimator) WithDefaults() (Estimator, error) {
	if e.Detector == "" {
		e.Detector = DefaultDetector
	}
	if e.Loss == "" {
		e.Loss = DefaultLoss
	}
	if !slices.Contains(trendline.Names(), e.Detector) {
		return e, fmt.Errorf("replay: estimator %q: unknown detector %q (want %s)", e.Name, e.Detector, strings.Join(trendline.Names(), ", "))
	}
	if !slices.Contains(lossbased.Names(), e.Loss) {
		return e, fmt.Errorf("replay: estimator %q: unknown loss-based estimator %q (want %s)", e.Name, e.Loss, strings.Join(lossbased.Names(), ", "))
	}
	if e.Name == "" {
		e.Name = e.String()
	}
	return e, nil
}

// String returns the parts of e as "detector+loss", with "-noprobe" when
// probing is off.
func (e Estimator) String() string {
	d, l := e.Detector, e.Loss
	if d == "" {
		d = DefaultDetector
	}
	if l == "" {
		l = DefaultLoss
	}
	s := d + "+" + l
	if e.NoProbing {
		s += "-noprobe"
	}
	return s
}

// Config builds a fresh send-side configuration from e.
func (e Estimator) Config() (sendside.Config, error) {
	e, err := e.WithDefaults()
	if err != nil {
		return sendside.Config{}, err
	}
	det, err := trendline.NewByName(e.Detector)
	if err != nil {
		return sendside.Config{}, err
	}
	loss, err := lossbased.NewByName(e.Loss)
	if err != nil {
		return sendside.Config{}, err
	}
	cfg := sendside.Config{Loss: loss, NoProbing: e.NoProbing}
	cfg.Delay.Detector = det
	if e.Edit != nil {
		e.Edit(&cfg)
	}
	return cfg, nil
}

// ParseEstimator parses a comma-separated list of key=value settings:
//
//	name=<label>  detector=<trendline.Names()>  loss=<lossbased.Names()>
//	probing=<true|false>
//
// for example "name=robust,detector=robust,loss=lossy". A bare word is
// taken as the detector ("kalman"). Errors name the setting.
func ParseEstimator(spec string) (Estimator, error) {
	var e Estimator
	if strings.TrimSpace(spec) == "" {
		return e, fmt.Errorf("replay: empty estimator specification")
	}
	for _, kv := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			k, v = "detector", k
		}
		switch k {
		case "name":
			e.Name = v
		case "detector":
			e.Detector = v
		case "loss":
			e.Loss = v
		case "probing":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return e, fmt.Errorf("replay: estimator %q: probing=%q is not true or false", spec, v)
			}
			e.NoProbing = !b
		default:
			return e, fmt.Errorf("replay: estimator %q: unknown setting %q (want name, detector, loss or probing)", spec, k)
		}
	}
	return e.WithDefaults()
}
