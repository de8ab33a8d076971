package smoothing

import (
	"fmt"
	"slices"
	"time"

	"github.com/bwelab/bwe"
)

// PercentileConfig configures a [Percentile]. Zero fields take the defaults
// of [DefaultPercentileConfig].
type PercentileConfig struct {
	// Window is how far back estimates count: an estimate made at t is in
	// the window at instant now while now − t < Window. Default 2 s
	// (this package's choice: about the shortest swing period it damps).
	Window time.Duration
	// Quantile is the quantile of the window that is output, in [0, 1].
	// Default 0.5, the median. Zero means the default; for the windowed
	// minimum use a tiny positive value.
	Quantile float64
	// MaxSamples bounds the ring of estimates; when it is full the oldest
	// estimate leaves the window early. Default 256 (a 2 s window holds
	// 20–100 estimates at the usual feedback rate of one per 20–100 ms).
	MaxSamples int
}

// DefaultPercentileConfig returns the defaults: the median of the last 2 s,
// at most 256 estimates.
func DefaultPercentileConfig() PercentileConfig {
	return PercentileConfig{Window: 2 * time.Second, Quantile: 0.5, MaxSamples: 256}
}

func (c PercentileConfig) withDefaults() PercentileConfig {
	d := DefaultPercentileConfig()
	if c.Window == 0 {
		c.Window = d.Window
	}
	if c.Quantile == 0 {
		c.Quantile = d.Quantile
	}
	if c.MaxSamples == 0 {
		c.MaxSamples = d.MaxSamples
	}
	return c
}

func (c PercentileConfig) validate() error {
	const typ = "PercentileConfig"
	if err := checkDuration(typ, "Window", c.Window); err != nil {
		return err
	}
	if err := checkQuantile(typ, "Quantile", c.Quantile); err != nil {
		return err
	}
	return checkSamples(typ, c.MaxSamples)
}

// Percentile outputs a quantile of the estimates of a sliding time window
// (by default the median of the last 2 s): a rank filter, which ignores
// short spikes and dips entirely instead of averaging them in. It follows a
// lasting rise once the new level fills a fraction 1 − Quantile of the
// window, and a lasting fall once it fills a fraction Quantile: half the
// window either way for the median.
//
// The estimates live in a ring of MaxSamples entries, with a sorted copy
// kept up to date by binary search and one copy per insertion or removal,
// O(MaxSamples) per estimate and no allocation. The quantile interpolates
// linearly between order statistics (R's type 7): the median of an even
// count is the mean of the two middle estimates, rounded to the nearest
// bps. An instant earlier than the last counts as the last.
//
// Not safe for concurrent use.
type Percentile struct {
	window time.Duration
	q      float64

	clk    monotone
	times  []bwe.Time
	vals   []bwe.Bitrate
	head   int // index of the oldest estimate
	n      int
	sorted []bwe.Bitrate
}

// NewPercentile returns a Percentile, or an error naming the invalid field
// of cfg.
func NewPercentile(cfg PercentileConfig) (*Percentile, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Percentile{
		window: cfg.Window,
		q:      cfg.Quantile,
		times:  make([]bwe.Time, cfg.MaxSamples),
		vals:   make([]bwe.Bitrate, cfg.MaxSamples),
		sorted: make([]bwe.Bitrate, 0, cfg.MaxSamples),
	}, nil
}

// Smooth consumes an estimate (a negative one counts as 0) and returns the
// quantile of the window, this estimate included. The first call returns
// the estimate itself.
func (p *Percentile) Smooth(at bwe.Time, estimate bwe.Bitrate, _ bwe.Signals) bwe.Bitrate {
	x := max(estimate, 0)
	_, at = p.clk.step(at)
	for p.n > 0 && at.Sub(p.times[p.head]) >= p.window {
		p.pop()
	}
	if p.n == len(p.vals) {
		p.pop()
	}
	i := p.head + p.n
	if i >= len(p.vals) {
		i -= len(p.vals)
	}
	p.times[i], p.vals[i] = at, x
	p.n++
	j, _ := slices.BinarySearch(p.sorted, x)
	p.sorted = slices.Insert(p.sorted, j, x)
	return quantileSorted(p.sorted, p.q)
}

// pop removes the oldest estimate.
func (p *Percentile) pop() {
	v := p.vals[p.head]
	p.head++
	if p.head == len(p.vals) {
		p.head = 0
	}
	p.n--
	j, found := slices.BinarySearch(p.sorted, v)
	if !found {
		panic(fmt.Sprintf("smoothing: Percentile lost track of %v", v))
	}
	p.sorted = slices.Delete(p.sorted, j, j+1)
}

// Len returns the number of estimates in the window.
func (p *Percentile) Len() int { return p.n }

// Reset forgets the history.
func (p *Percentile) Reset() {
	p.clk = monotone{}
	p.head, p.n = 0, 0
	p.sorted = p.sorted[:0]
}
