package replay

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bwelab/bwe/lossbased"
	"github.com/bwelab/bwe/netstate"
	"github.com/bwelab/bwe/oscillation"
	"github.com/bwelab/bwe/ratecontrol"
	"github.com/bwelab/bwe/sendside"
	"github.com/bwelab/bwe/smoothing"
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
	// QueuedProbes measures probe clusters over their queued packets only
	// (probe.Config.QueuedRate), so that a token bucket's burst does not
	// inflate them.
	QueuedProbes bool `json:"queued_probes,omitempty"`
	// Backoff, if set, is the delay-based AIMD's multiplicative decrease:
	// on overuse the estimate drops to Backoff × the acknowledged rate
	// (less 5 kbps). It must lie in (0, 1); 0 keeps libwebrtc's 0.85
	// (delaybased.AIMDConfig.Beta, libwebrtc field trial
	// WebRTC-BweBackOffFactor).
	Backoff float64 `json:"backoff,omitempty"`
	// Oscillation names an oscillation detector run on the target
	// (oscillation.Names()). Default: none, or [DefaultOscillation] when
	// Smoother is "oscillation", which needs one.
	Oscillation string `json:"oscillation,omitempty"`
	// Smoother names the smoother of the encoder's rate controller
	// (smoothing.Names()). Setting it turns Rate on. Default: none.
	Smoother string `json:"smoother,omitempty"`
	// Rate puts an encoder rate controller (ratecontrol.Controller, its
	// defaults, no ladder bounds but the estimator's) between the target
	// and the emulated encoder.
	Rate bool `json:"rate,omitempty"`
	// Smoothness sets the rate controller's preference between sharpness
	// (0) and smoothness (1); nil keeps its default.
	Smoothness *float64 `json:"smoothness,omitempty"`
	// Predictor names a network-state predictor (sendside.Config.Predictor):
	// "threshold" (netstate's heuristic), "default" (netstate's embedded
	// LSTM), "always" (a predictor that always says lossy: FEC all the
	// time), or the path of a model file written by bwe train. Default:
	// none.
	Predictor string `json:"predictor,omitempty"`
	// Protect, if positive, is the predicted risk at or above which the
	// rate controller reserves a share of its target for FEC
	// (ratecontrol.Protection, Reserve 0.2), which the emulated sender
	// spends on parity packets. Setting it turns Rate on; it needs a
	// Predictor.
	Protect float64 `json:"protect,omitempty"`
	// Edit, if set, changes each flow's configuration after the named
	// parts are built (for experiments the names do not cover). It must
	// not store state shared between flows.
	Edit func(*sendside.Config) `json:"-"`
	// New, if set, builds each flow's estimator from the configuration
	// in place of sendside.New: an estimator that is not this module's
	// composed one (for example another implementation behind an
	// adapter). It receives the configuration the named parts give, with
	// Start set to the flow's start rate; it may use only what applies
	// to it (the start rate and bounds). Name must then be set.
	New func(sendside.Config) (FlowEstimator, error) `json:"-"`
}

// Default estimator part names.
const (
	DefaultDetector = "trendline"
	DefaultLoss     = "likelihood"
	// DefaultOscillation is the detector the oscillation-aware smoother
	// gets when none is named.
	DefaultOscillation = "acf"
)

// The composed pipeline's settings of the remedy's parts, where they
// differ from the packages' defaults (measured in docs/oscillation.md):
var (
	// RemedyDetector configures the oscillation detector: a 12 s window
	// searching periods of 1–6 s. The swings RTT jitter drives are acted
	// on one window after they start, where the package default (40 s,
	// 2–20 s) waits until the estimate has collapsed; and over 12 s the
	// staircase the plain estimate falls in is close to a line in the
	// log domain. With a 20 s window jitter-4mbps-swing-4s gained +19 %
	// instead of +142 %.
	RemedyDetector = oscillation.Config{Window: 12 * time.Second, MinPeriod: time.Second, MaxPeriod: 6 * time.Second}
	// RemedyLinger keeps the smoother's hold for a minute after the last
	// detection: once the encoder holds, the estimator measures the held
	// rate and its swings change shape, while the delay swing that drives
	// them goes on. Only corroborated congestion (the estimator's verdict,
	// a sustained RTT rise) ends a hold sooner. Without it the hold
	// dropped every few seconds and the estimate went on down its
	// staircase (+1 % instead of +97 % with a 20 s window).
	RemedyLinger = time.Minute
)

// Presets are estimator specifications known by a single word in
// [ParseEstimator]:
//
//	plain   the libwebrtc-equivalent pipeline: trendline, likelihood
//	        loss-based estimator, probing; the encoder follows the target
//	smooth  the same estimator with the live-push remedy on top: the
//	        autocorrelation oscillation detector, the oscillation-aware
//	        smoother and the encoder rate controller, sharp (Smoothness
//	        0): in closed loop a lagging encoder costs bitrate, because
//	        the estimator bounds its increases by the acknowledged rate
//	        (1.5 × acked) and decreases to 0.85 × acked; at Smoothness
//	        0.25 the weak-network grid lost 1–28 % of its bitrate
//	        (docs/oscillation.md)
//	protect the plain estimator with netstate's embedded LSTM predicting
//	        lossy periods and a sharp rate controller that reserves 20 %
//	        of the target for parity FEC while the predicted risk is at
//	        least 0.5 (and 5 s after)
//	live    for a live pusher: the robust detector, which reads neither
//	        RTT jitter nor the queue a keyframe builds as overuse; probe
//	        clusters measured over their queued packets, which a
//	        token-bucket shaper's burst does not inflate; and a backoff
//	        to 0.9 × the acknowledged rate instead of 0.85, so that the
//	        sawtooth's low point (less 5 kbps) stays within 15 % of the
//	        capacity it found, at some more queuing after an overuse
//	        (the two-peer test of package pionbwe, docs/pion.md)
var Presets = map[string]string{
	"plain":   "name=plain",
	"live":    "name=live,detector=robust,probes=queued,backoff=0.9",
	"smooth":  "name=smooth,osc=acf,smoother=oscillation,rate=true,smoothness=0",
	"protect": "name=protect,predictor=default,protect=0.5,smoothness=0",
}

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
	if e.Smoother == "oscillation" && e.Oscillation == "" {
		e.Oscillation = DefaultOscillation
	}
	if e.Oscillation != "" && !slices.Contains(oscillation.Names(), e.Oscillation) {
		return e, fmt.Errorf("replay: estimator %q: unknown oscillation detector %q (want %s)", e.Name, e.Oscillation, strings.Join(oscillation.Names(), ", "))
	}
	if e.Smoother != "" {
		if !slices.Contains(smoothing.Names(), e.Smoother) {
			return e, fmt.Errorf("replay: estimator %q: unknown smoother %q (want %s)", e.Name, e.Smoother, strings.Join(smoothing.Names(), ", "))
		}
		e.Rate = true
	}
	if !(e.Protect >= 0 && e.Protect <= 1) {
		return e, fmt.Errorf("replay: estimator %q: protect %v is outside [0, 1]", e.Name, e.Protect)
	}
	if e.Protect > 0 {
		if e.Predictor == "" {
			return e, fmt.Errorf("replay: estimator %q: protect=%v needs a predictor", e.Name, e.Protect)
		}
		e.Rate = true
	}
	if e.Backoff != 0 && !(e.Backoff > 0 && e.Backoff < 1) {
		return e, fmt.Errorf("replay: estimator %q: backoff %v is outside (0, 1)", e.Name, e.Backoff)
	}
	if e.Smoothness != nil && !(*e.Smoothness >= 0 && *e.Smoothness <= 1) {
		return e, fmt.Errorf("replay: estimator %q: smoothness %v is outside [0, 1]", e.Name, *e.Smoothness)
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
	if e.QueuedProbes {
		s += "+queuedprobes"
	}
	if e.Backoff != 0 {
		s += "+backoff:" + strconv.FormatFloat(e.Backoff, 'g', -1, 64)
	}
	if e.Oscillation != "" {
		s += "+osc:" + e.Oscillation
	}
	if e.Smoother != "" {
		s += "+smooth:" + e.Smoother
	}
	if e.Predictor != "" {
		s += "+predict:" + e.Predictor
	}
	if e.Protect > 0 {
		s += "+protect:" + strconv.FormatFloat(e.Protect, 'g', -1, 64)
	}
	if e.Rate || e.Smoother != "" {
		s += "+rate"
		if e.Smoothness != nil {
			s += ":" + strconv.FormatFloat(*e.Smoothness, 'g', -1, 64)
		}
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
	cfg.ProbeEstimator.QueuedRate = e.QueuedProbes
	cfg.Delay.AIMD.Beta = e.Backoff
	if e.Oscillation != "" {
		if cfg.Oscillation, err = oscillation.NewByName(e.Oscillation, RemedyDetector); err != nil {
			return sendside.Config{}, err
		}
	}
	if e.Rate {
		// The loss-based estimator judges whether loss is congestion
		// (random loss is not); its verdict reaches the smoother and the
		// rate controller as Signals.Congested. Their own rules on the
		// raw loss fraction are therefore kept for total loss only.
		// For the same reason, increases after a congestion are left to
		// the estimator: a second hold here (1 µs is the shortest the
		// controller accepts) would only make the encoder lag it.
		rc := ratecontrol.Config{LossThreshold: 1, CongestionHold: time.Microsecond}
		switch e.Smoother {
		case "":
		case "oscillation":
			oc := smoothing.DefaultOscillationAwareConfig()
			oc.LossThreshold = 1
			// The plain estimate falls a step per cycle: without the
			// ratchet the hold follows it down a cycle late (+66 %
			// instead of +142 % on jitter-4mbps-swing-4s).
			oc.Ratchet = true
			oc.Linger = RemedyLinger
			if rc.Smoother, err = smoothing.NewOscillationAware(oc); err != nil {
				return sendside.Config{}, err
			}
		default:
			if rc.Smoother, err = smoothing.NewByName(e.Smoother); err != nil {
				return sendside.Config{}, err
			}
		}
		if e.Smoothness != nil {
			rc.Smoothness = *e.Smoothness
			rc.Sharp = rc.Smoothness == 0
		}
		if e.Protect > 0 {
			rc.Protect = ratecontrol.Protection{Threshold: e.Protect}
		}
		if cfg.Rate, err = ratecontrol.New(rc); err != nil {
			return sendside.Config{}, err
		}
	}
	if e.Predictor != "" {
		if cfg.Predictor, err = newPredictor(e.Predictor); err != nil {
			return sendside.Config{}, fmt.Errorf("replay: estimator %q: %w", e.Name, err)
		}
	}
	if e.Edit != nil {
		e.Edit(&cfg)
	}
	return cfg, nil
}

// newPredictor builds the network-state predictor called name (see
// Estimator.Predictor).
func newPredictor(name string) (netstate.Predictor, error) {
	switch name {
	case "threshold":
		return netstate.NewThreshold(netstate.ThresholdConfig{})
	case "default":
		return netstate.DefaultModel()
	case "always":
		return alwaysLossy{}, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("predictor %q is neither threshold, default, always nor a readable model file: %w", name, err)
	}
	defer f.Close()
	p, err := netstate.ReadModel(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("predictor %q: %w", name, err)
	}
	return p, nil
}

// alwaysLossy predicts a lossy next window every second: with a
// protecting rate controller, FEC all the time.
type alwaysLossy struct{}

func (alwaysLossy) Observe(netstate.Features) netstate.Prediction {
	return netstate.Prediction{Lossy: 1, Ready: true}
}
func (alwaysLossy) Reset() {}

// ParseEstimator parses a comma-separated list of key=value settings:
//
//	name=<label>  detector=<trendline.Names()>  loss=<lossbased.Names()>
//	probing=<true|false>  probes=<queued|cluster>  backoff=<factor in (0, 1)>
//	osc=<oscillation.Names()>
//	smoother=<smoothing.Names()>  rate=<true|false>  smoothness=<0..1>
//	predictor=<threshold|default|always|model file>  protect=<risk in (0, 1]>
//
// for example "name=robust,detector=robust,loss=lossy". A bare word is a
// preset ([Presets]: "plain", "smooth", "protect", "live") or else the
// detector ("kalman").
// Errors name the setting.
func ParseEstimator(spec string) (Estimator, error) {
	var e Estimator
	if strings.TrimSpace(spec) == "" {
		return e, fmt.Errorf("replay: empty estimator specification")
	}
	if p, ok := Presets[strings.TrimSpace(spec)]; ok {
		spec = p
	}
	for _, kv := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			k, v = "detector", k
		}
		switch k {
		case "osc", "oscillation":
			e.Oscillation = v
		case "smoother":
			e.Smoother = v
		case "rate":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return e, fmt.Errorf("replay: estimator %q: rate=%q is not true or false", spec, v)
			}
			e.Rate = b
		case "smoothness":
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || !(f >= 0 && f <= 1) {
				return e, fmt.Errorf("replay: estimator %q: smoothness=%q is not a number in [0, 1]", spec, v)
			}
			e.Smoothness = &f
		case "predictor":
			e.Predictor = v
		case "protect":
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || !(f > 0 && f <= 1) {
				return e, fmt.Errorf("replay: estimator %q: protect=%q is not a risk in (0, 1]", spec, v)
			}
			e.Protect = f
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
		case "backoff":
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || !(f > 0 && f < 1) {
				return e, fmt.Errorf("replay: estimator %q: backoff=%q is not a factor in (0, 1)", spec, v)
			}
			e.Backoff = f
		case "probes":
			switch v {
			case "queued":
				e.QueuedProbes = true
			case "cluster":
				e.QueuedProbes = false
			default:
				return e, fmt.Errorf("replay: estimator %q: probes=%q is not queued or cluster", spec, v)
			}
		default:
			return e, fmt.Errorf("replay: estimator %q: unknown setting %q (want name, detector, loss, probing, probes, backoff, osc, smoother, rate, smoothness, predictor or protect)", spec, k)
		}
	}
	return e.WithDefaults()
}
