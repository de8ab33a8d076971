package netstate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/bwelab/bwe"
)

// Step is one interval of a run's series, as the data generator records
// it: the features, and the loss used to label the windows before it.
type Step struct {
	// At is the end of the interval (sender clock).
	At bwe.Time
	// F holds the interval's features.
	F Features
	// Loss is the interval's actual loss fraction (lost ÷ reported).
	Loss float64
	// Packets is the number of packets reported in the interval.
	Packets int
}

// Window is one labelled training or evaluation example.
type Window struct {
	// X holds the window's steps, oldest first. Windows made by [Windows]
	// from one series share one backing array: treat X as read-only.
	X []Features
	// Label reports whether the window that follows X was lossy.
	Label bool
	// Group names the run or trace the window comes from; splits keep a
	// group on one side.
	Group string
	// At is the end of the window's last step, when the prediction is
	// made.
	At bwe.Time
}

// WindowConfig configures [Windows]. Zero fields take the defaults of
// [DefaultWindowConfig].
type WindowConfig struct {
	// Steps is the number of steps in a window, 1 to 256. Default 15.
	Steps int
	// Horizon is the number of steps after the window whose loss gives
	// the label. Default 5 (the next 5 s at 1 s steps).
	Horizon int
	// Stride is the distance in steps between the starts of consecutive
	// windows. Default 1.
	Stride int
	// LossRate is the loss fraction above which the horizon is lossy.
	// Default 0.02 (the 2 % below which libwebrtc
	// send_side_bandwidth_estimation.cc kDefaultLowLossThreshold = 0.02
	// treats loss as harmless).
	LossRate float64
	// MinPackets is the least number of packets the horizon must report
	// for the window to be labelled; windows with fewer are skipped.
	// Default 1.
	MinPackets int
}

// DefaultWindowConfig returns the defaults: 15 steps, a 5-step horizon,
// stride 1, lossy above 2 % loss, at least one packet reported.
func DefaultWindowConfig() WindowConfig {
	return WindowConfig{Steps: 15, Horizon: 5, Stride: 1, LossRate: 0.02, MinPackets: 1}
}

func (c WindowConfig) withDefaults() WindowConfig {
	d := DefaultWindowConfig()
	if c.Steps == 0 {
		c.Steps = d.Steps
	}
	if c.Horizon == 0 {
		c.Horizon = d.Horizon
	}
	if c.Stride == 0 {
		c.Stride = d.Stride
	}
	if c.LossRate == 0 {
		c.LossRate = d.LossRate
	}
	if c.MinPackets == 0 {
		c.MinPackets = d.MinPackets
	}
	return c
}

func (c WindowConfig) validate() error {
	switch {
	case c.Steps < 1 || c.Steps > maxSteps:
		return fmt.Errorf("netstate: WindowConfig.Steps %d is not in [1, %d]", c.Steps, maxSteps)
	case c.Horizon < 1:
		return fmt.Errorf("netstate: WindowConfig.Horizon %d is below 1", c.Horizon)
	case c.Stride < 1:
		return fmt.Errorf("netstate: WindowConfig.Stride %d is below 1", c.Stride)
	case !(c.LossRate > 0 && c.LossRate < 1):
		return fmt.Errorf("netstate: WindowConfig.LossRate %v is not in (0, 1)", c.LossRate)
	case c.MinPackets < 1:
		return fmt.Errorf("netstate: WindowConfig.MinPackets %d is below 1", c.MinPackets)
	}
	return nil
}

// Windows slides over one run's series of steps and returns its labelled
// windows: the window starting at step i holds steps i … i+Steps−1, and its
// label is whether the loss of the Horizon steps after it,
//
//	Σ Loss_j·Packets_j / Σ Packets_j   (j = i+Steps … i+Steps+Horizon−1)
//
// is above LossRate. Windows whose horizon runs past the end of the series
// or reports fewer than MinPackets packets are skipped; starts advance by
// Stride. Features are sanitized; loss is clamped to [0, 1] (NaN counts as
// 0) and negative packet counts as 0. The windows share one copy of the
// series' features.
func Windows(series []Step, group string, cfg WindowConfig) ([]Window, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	span := cfg.Steps + cfg.Horizon
	if len(series) < span {
		return nil, nil
	}
	feats := make([]Features, len(series))
	for i := range series {
		feats[i] = series[i].F.Sanitize()
	}
	ws := make([]Window, 0, (len(series)-span)/cfg.Stride+1)
	for i := 0; i+span <= len(series); i += cfg.Stride {
		lost, reported := 0.0, 0.0
		for _, s := range series[i+cfg.Steps : i+span] {
			n := float64(max(s.Packets, 0))
			lost += clampFeature(FeatLoss, s.Loss) * n
			reported += n
		}
		if reported < float64(cfg.MinPackets) {
			continue
		}
		ws = append(ws, Window{
			X:     feats[i : i+cfg.Steps : i+cfg.Steps],
			Label: lost/reported > cfg.LossRate,
			Group: group,
			At:    series[i+cfg.Steps-1].At,
		})
	}
	return ws, nil
}

// Labels returns the windows' labels, in order.
func Labels(ws []Window) []bool {
	ys := make([]bool, len(ws))
	for i := range ws {
		ys[i] = ws[i].Label
	}
	return ys
}

// SplitByGroup splits windows into training and validation sets by group:
// all windows of a group land on the same side. It is
// [SplitTrainValTest] with no test set.
func SplitByGroup(ws []Window, valFraction float64, seed uint64) (train, val []Window) {
	train, val, _ = SplitTrainValTest(ws, valFraction, 0, seed)
	return train, val
}

// SplitTrainValTest splits windows into training, validation and test sets
// by group. The distinct groups are sorted by name and shuffled with a PCG
// generator seeded by seed; the first round(testFraction·n) of them form
// the test set, the next round(valFraction·n) the validation set, the rest
// the training set. Windows keep their order within each set. The result
// depends only on the windows and the seed. It panics if a fraction is
// outside [0, 1] or their sum exceeds 1.
func SplitTrainValTest(ws []Window, valFraction, testFraction float64, seed uint64) (train, val, test []Window) {
	if !(valFraction >= 0 && valFraction <= 1) || !(testFraction >= 0 && testFraction <= 1) || valFraction+testFraction > 1 {
		panic("netstate: SplitTrainValTest fractions outside [0, 1]")
	}
	var groups []string
	for i := range ws {
		groups = append(groups, ws[i].Group)
	}
	slices.Sort(groups)
	groups = slices.Compact(groups)
	rng := rand.New(rand.NewPCG(seed, seedStreamSplit))
	rng.Shuffle(len(groups), func(i, j int) { groups[i], groups[j] = groups[j], groups[i] })
	n := float64(len(groups))
	nTest := int(math.Round(testFraction * n))
	nVal := min(int(math.Round(valFraction*n)), len(groups)-nTest)
	side := make(map[string]int, len(groups)) // 0 train, 1 val, 2 test
	for i, g := range groups {
		switch {
		case i < nTest:
			side[g] = 2
		case i < nTest+nVal:
			side[g] = 1
		}
	}
	for _, w := range ws {
		switch side[w.Group] {
		case 0:
			train = append(train, w)
		case 1:
			val = append(val, w)
		default:
			test = append(test, w)
		}
	}
	return train, val, test
}

// seedStreamSplit is the PCG stream of the group shuffle.
const seedStreamSplit = 0x6e6574737461_03
