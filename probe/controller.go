package probe

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/bwelab/bwe"
)

// Request is one probe cluster for the pacer to send: a burst of at least
// MinProbes packets carrying at least Bitrate·Duration bytes, paced at
// Bitrate in bursts at least MinDelta apart, tagged with ID (libwebrtc
// ProbeClusterConfig: id, target_data_rate, target_duration,
// target_probe_count, min_probe_delta).
type Request struct {
	// ID tags the cluster's packets ([bwe.PacketResult.ProbeCluster]). It is
	// positive; successive requests of a [Controller] carry increasing ids
	// until the int32 range wraps back to 1.
	ID int32
	// At is the time of the call that created the request.
	At bwe.Time
	// Bitrate is the rate the cluster is paced at. It is positive.
	Bitrate bwe.Bitrate
	// Duration is the shortest time the cluster should last. Positive.
	Duration time.Duration
	// MinProbes is the smallest number of packets of the cluster. Positive.
	MinProbes int
	// MinDelta is the shortest interval between the cluster's bursts.
	// Positive.
	MinDelta time.Duration
}

// Cluster returns the request as the [Estimator] expects it: MinBytes is
// Bitrate·Duration rounded to the nearest byte (halves up) as libwebrtc's
// DataRate·TimeDelta is ([bwe.Bitrate.Over]), but at least 1 byte, since the
// estimator ignores clusters that promise no bytes.
func (r Request) Cluster() Cluster {
	return Cluster{ID: r.ID, MinProbes: r.MinProbes, MinBytes: max(r.Bitrate.Over(r.Duration), 1)}
}

// Cause says what currently limits the bandwidth estimate passed to
// [Controller.SetEstimatedBitrate] (libwebrtc BandwidthLimitedCause). It gates
// probing: a probe is pointless, or harmful, while the estimate is held down
// by rising delay, high RTT or a decreasing loss-based estimate. The zero
// value is [CauseDelayBased], the ordinary case.
type Cause uint8

// Causes. Values other than these are treated like [CauseDelayBased], as
// libwebrtc's switch does with its default branch.
const (
	// CauseDelayBased: the delay-based estimate limits the target and the
	// delay detector is normal (libwebrtc kDelayBasedLimited).
	CauseDelayBased Cause = iota
	// CauseDelayIncreased: the delay-based estimate limits the target and
	// the detector is over- or under-using (libwebrtc
	// kDelayBasedLimitedDelayIncreased). No probe is sent.
	CauseDelayIncreased
	// CauseLossIncreasing: the loss-based estimate limits the target and is
	// increasing (libwebrtc kLossLimitedBweIncreasing). Probes are capped at
	// LossLimitedProbeScale times the estimate.
	CauseLossIncreasing
	// CauseLossDecreasing: the loss-based estimate limits the target and is
	// decreasing, or increasing only through padding (libwebrtc
	// kLossLimitedBwe). No probe is sent.
	CauseLossDecreasing
	// CauseRTTBackoff: the target is being backed off because the RTT is
	// above its limit (libwebrtc kRttBasedBackOffHighRtt). No probe is sent.
	CauseRTTBackoff
)

// String returns the cause's name.
func (c Cause) String() string {
	switch c {
	case CauseDelayBased:
		return "delay-based"
	case CauseDelayIncreased:
		return "delay-increased"
	case CauseLossIncreasing:
		return "loss-increasing"
	case CauseLossDecreasing:
		return "loss-decreasing"
	case CauseRTTBackoff:
		return "rtt-backoff"
	}
	return "Cause(" + strconv.Itoa(int(c)) + ")"
}

// State is the phase of a [Controller] (libwebrtc ProbeController::State).
type State uint8

// States.
const (
	// StateInit: no probing has been started since construction or the
	// last [Controller.Reset].
	StateInit State = iota
	// StateWaiting: probes were sent and a result at least
	// FurtherProbeThreshold times the last one would trigger a further,
	// larger probe.
	StateWaiting
	// StateComplete: no further probing is pending; only the max-rate,
	// allocation, periodic and recovery triggers start new probes.
	StateComplete
)

// String returns the state's name.
func (s State) String() string {
	switch s {
	case StateInit:
		return "init"
	case StateWaiting:
		return "waiting"
	case StateComplete:
		return "complete"
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// ControllerConfig tunes a [Controller]. The zero value of every field means
// its default; [DefaultControllerConfig] spells the defaults out. Defaults
// are those of libwebrtc probe_controller.cc (field trial
// WebRTC-Bwe-ProbingConfiguration and file constants).
type ControllerConfig struct {
	// FirstProbeScale times the start rate is the first initial probe.
	// Positive. Default 3 (libwebrtc p1 = 3.0).
	FirstProbeScale float64
	// SecondProbeScale times the start rate is the second initial probe.
	// Positive. Default 6 (libwebrtc p2 = 6.0).
	SecondProbeScale float64
	// NoSecondProbe sends a single initial probe (libwebrtc p2 = 0).
	// Default false.
	NoSecondProbe bool
	// FurtherProbeScale times a sufficient probe result is the next probe
	// of exponential probing. Positive. Default 2 (libwebrtc step_size = 2).
	FurtherProbeScale float64
	// FurtherProbeThreshold: a result above this fraction of the last probe
	// sent continues exponential probing. Positive. Default 0.7 (libwebrtc
	// further_probe_threshold = 0.7).
	FurtherProbeThreshold float64
	// AbortFurtherProbing stops exponential probing once the estimate
	// exceeds the max rate or twice the max total allocated rate. Default
	// false (libwebrtc abort_further = false).
	AbortFurtherProbing bool

	// RepeatedInitialProbing repeats an initial-style probe (FirstProbeScale
	// times the estimate) every MaxWaitForResult during
	// RepeatedInitialPeriod after initial probing starts, unless a max total
	// allocated rate is known. It can also be switched with
	// [Controller.EnableRepeatedInitialProbing]. Default false (libwebrtc
	// leaves it to the application: EnableRepeatedInitialProbing).
	RepeatedInitialProbing bool
	// RepeatedInitialPeriod is how long after initial probing starts the
	// repetition lasts. Positive. Default 5 s (libwebrtc initial_probing =
	// 5 s).
	RepeatedInitialPeriod time.Duration
	// InitialProbeDuration is the Duration of probes sent during that
	// period. Positive. Default 100 ms (libwebrtc initial_probe_duration =
	// 100 ms).
	InitialProbeDuration time.Duration
	// InitialMinProbeDelta is the MinDelta of probes sent during that
	// period. Positive. Default 20 ms (libwebrtc initial_min_probe_delta =
	// 20 ms).
	InitialMinProbeDelta time.Duration

	// PeriodicALRProbing probes at ALRProbeScale times the estimate every
	// ALRProbeInterval while the sender is application-limited. It can
	// also be switched with [Controller.EnablePeriodicALRProbing]. Default
	// false (libwebrtc enable_periodic_alr_probing_ = false; the application
	// turns it on).
	PeriodicALRProbing bool
	// ALRProbeInterval is the period of ALR probes, counted from the later
	// of the ALR start and the last probe. Positive. Default 5 s (libwebrtc
	// alr_interval = 5 s).
	ALRProbeInterval time.Duration
	// ALRProbeScale times the estimate is the ALR probe. Positive.
	// Default 2 (libwebrtc alr_scale = 2).
	ALRProbeScale float64

	// NoAllocationProbing disables probing when the max total allocated
	// rate rises in ALR. Default false (libwebrtc probe_max_allocation =
	// true).
	NoAllocationProbing bool
	// FirstAllocationScale times the new max total allocated rate is the
	// first allocation probe. Positive. Default 1 (libwebrtc alloc_p1 = 1).
	FirstAllocationScale float64
	// SecondAllocationScale times the new max total allocated rate is the
	// second allocation probe. Positive. Default 2 (libwebrtc alloc_p2 = 2).
	SecondAllocationScale float64
	// NoSecondAllocationProbe sends a single allocation probe (libwebrtc
	// alloc_p2 unset). Default false.
	NoSecondAllocationProbe bool
	// AllocationCurrentLimit, when positive, caps allocation probes at this
	// many times the current estimate, and a capped allocation probe
	// continues with exponential probing. Not negative. Default 0: no cap
	// (libwebrtc alloc_current_bwe_limit unset).
	AllocationCurrentLimit float64

	// MinProbePackets is each probe's MinProbes. Positive. Default 5
	// (libwebrtc min_probe_packets_sent = 5).
	MinProbePackets int
	// MinProbeDuration is each probe's Duration outside the repeated
	// initial period. Positive. Default 15 ms (libwebrtc min_probe_duration
	// = 15 ms).
	MinProbeDuration time.Duration
	// MinProbeDelta is each probe's MinDelta outside the repeated initial
	// period. Positive. Default 2 ms (libwebrtc min_probe_delta = 2 ms).
	MinProbeDelta time.Duration

	// LossLimitedProbeScale caps probes at this many times the estimate
	// while the cause is [CauseLossIncreasing]. Positive. Default 1.5
	// (libwebrtc loss_limited_scale = 1.5).
	LossLimitedProbeScale float64
	// SkipAboveFractionOfMax, when positive, suppresses every probe while
	// the estimate exceeds this fraction of the max rate (or of
	// SkipMaxAllocatedScale times the max total allocated rate, if lower),
	// and ends exponential probing. Not negative. Default 0: never
	// (libwebrtc skip_if_est_larger_than_fraction_of_max = 0).
	SkipAboveFractionOfMax float64
	// SkipMaxAllocatedScale scales the max total allocated rate for that
	// test. Positive. Default 1 (libwebrtc skip_max_allocated_scale = 1).
	SkipMaxAllocatedScale float64

	// MaxWaitForResult is how long after a probe exponential probing waits
	// for a sufficient result, and the spacing of repeated initial probes.
	// Positive. Default 1 s (libwebrtc kMaxWaitingTimeForProbingResult =
	// 1 s).
	MaxWaitForResult time.Duration
	// DefaultMaxBitrate caps probes when [Controller.SetBitrates] gives no
	// max rate. Positive. Default 5 Mbps (libwebrtc
	// kDefaultMaxProbingBitrate = 5000 kbps).
	DefaultMaxBitrate bwe.Bitrate

	// DropThreshold: an estimate below this fraction of the previous one is
	// a large drop, remembered for a recovery probe. In (0, 1]. Default
	// 0.66 (libwebrtc kBitrateDropThreshold = 0.66).
	DropThreshold float64
	// DropTimeout is how long after a large drop [Controller.RequestProbe]
	// may still probe. Positive. Default 5 s (libwebrtc kBitrateDropTimeout
	// = 5 s).
	DropTimeout time.Duration
	// RecoveryProbeScale times the estimate before the drop is the recovery
	// probe. Positive. Default 0.85 (libwebrtc kProbeFractionAfterDrop =
	// 0.85).
	RecoveryProbeScale float64
	// ProbeUncertainty: a recovery probe is sent only if (1 −
	// ProbeUncertainty) times its rate exceeds the current estimate. In
	// (0, 1). Default 0.05 (libwebrtc kProbeUncertainty = 0.05).
	ProbeUncertainty float64
	// MinRecoveryInterval is the shortest time between two recovery probes,
	// and after [Controller.Reset]. Positive. Default 5 s (libwebrtc
	// kMinTimeBetweenAlrProbes = 5 s).
	MinRecoveryInterval time.Duration
	// ALREndedTimeout is how long after the end of ALR a recovery probe is
	// still allowed. Positive. Default 3 s (libwebrtc kAlrEndedTimeout =
	// 3 s).
	ALREndedTimeout time.Duration
	// RecoveryOutsideALR allows recovery probes at any time, not only in
	// ALR or within ALREndedTimeout of its end. Default false (libwebrtc
	// WebRTC-BweRapidRecoveryExperiment disabled).
	RecoveryOutsideALR bool
}

// DefaultControllerConfig returns the libwebrtc defaults.
func DefaultControllerConfig() ControllerConfig {
	return ControllerConfig{
		FirstProbeScale:       3,
		SecondProbeScale:      6,
		FurtherProbeScale:     2,
		FurtherProbeThreshold: 0.7,

		RepeatedInitialPeriod: 5 * time.Second,
		InitialProbeDuration:  100 * time.Millisecond,
		InitialMinProbeDelta:  20 * time.Millisecond,

		ALRProbeInterval: 5 * time.Second,
		ALRProbeScale:    2,

		FirstAllocationScale:  1,
		SecondAllocationScale: 2,

		MinProbePackets:  5,
		MinProbeDuration: 15 * time.Millisecond,
		MinProbeDelta:    2 * time.Millisecond,

		LossLimitedProbeScale: 1.5,
		SkipMaxAllocatedScale: 1,

		MaxWaitForResult:  time.Second,
		DefaultMaxBitrate: 5 * bwe.Mbps,

		DropThreshold:       0.66,
		DropTimeout:         5 * time.Second,
		RecoveryProbeScale:  0.85,
		ProbeUncertainty:    0.05,
		MinRecoveryInterval: 5 * time.Second,
		ALREndedTimeout:     3 * time.Second,
	}
}

// withDefaults replaces the zero fields of c by their defaults.
func (c ControllerConfig) withDefaults() ControllerConfig {
	d := DefaultControllerConfig()
	floats := []struct{ v, d *float64 }{
		{&c.FirstProbeScale, &d.FirstProbeScale},
		{&c.SecondProbeScale, &d.SecondProbeScale},
		{&c.FurtherProbeScale, &d.FurtherProbeScale},
		{&c.FurtherProbeThreshold, &d.FurtherProbeThreshold},
		{&c.ALRProbeScale, &d.ALRProbeScale},
		{&c.FirstAllocationScale, &d.FirstAllocationScale},
		{&c.SecondAllocationScale, &d.SecondAllocationScale},
		{&c.LossLimitedProbeScale, &d.LossLimitedProbeScale},
		{&c.SkipMaxAllocatedScale, &d.SkipMaxAllocatedScale},
		{&c.DropThreshold, &d.DropThreshold},
		{&c.RecoveryProbeScale, &d.RecoveryProbeScale},
		{&c.ProbeUncertainty, &d.ProbeUncertainty},
	}
	for _, f := range floats {
		if *f.v == 0 {
			*f.v = *f.d
		}
	}
	durations := []struct{ v, d *time.Duration }{
		{&c.RepeatedInitialPeriod, &d.RepeatedInitialPeriod},
		{&c.InitialProbeDuration, &d.InitialProbeDuration},
		{&c.InitialMinProbeDelta, &d.InitialMinProbeDelta},
		{&c.ALRProbeInterval, &d.ALRProbeInterval},
		{&c.MinProbeDuration, &d.MinProbeDuration},
		{&c.MinProbeDelta, &d.MinProbeDelta},
		{&c.MaxWaitForResult, &d.MaxWaitForResult},
		{&c.DropTimeout, &d.DropTimeout},
		{&c.MinRecoveryInterval, &d.MinRecoveryInterval},
		{&c.ALREndedTimeout, &d.ALREndedTimeout},
	}
	for _, f := range durations {
		if *f.v == 0 {
			*f.v = *f.d
		}
	}
	if c.MinProbePackets == 0 {
		c.MinProbePackets = d.MinProbePackets
	}
	if c.DefaultMaxBitrate == 0 {
		c.DefaultMaxBitrate = d.DefaultMaxBitrate
	}
	return c
}

func (c ControllerConfig) validate() error {
	positive := []struct {
		name string
		v    float64
	}{
		{"FirstProbeScale", c.FirstProbeScale},
		{"SecondProbeScale", c.SecondProbeScale},
		{"FurtherProbeScale", c.FurtherProbeScale},
		{"FurtherProbeThreshold", c.FurtherProbeThreshold},
		{"ALRProbeScale", c.ALRProbeScale},
		{"FirstAllocationScale", c.FirstAllocationScale},
		{"SecondAllocationScale", c.SecondAllocationScale},
		{"LossLimitedProbeScale", c.LossLimitedProbeScale},
		{"SkipMaxAllocatedScale", c.SkipMaxAllocatedScale},
		{"RecoveryProbeScale", c.RecoveryProbeScale},
	}
	for _, f := range positive {
		if !(f.v > 0) || math.IsInf(f.v, 1) {
			return fmt.Errorf("probe: ControllerConfig.%s = %v: must be positive and finite", f.name, f.v)
		}
	}
	nonNegative := []struct {
		name string
		v    float64
	}{
		{"AllocationCurrentLimit", c.AllocationCurrentLimit},
		{"SkipAboveFractionOfMax", c.SkipAboveFractionOfMax},
	}
	for _, f := range nonNegative {
		if !(f.v >= 0) || math.IsInf(f.v, 1) {
			return fmt.Errorf("probe: ControllerConfig.%s = %v: must be finite and not negative", f.name, f.v)
		}
	}
	if !(c.DropThreshold > 0 && c.DropThreshold <= 1) {
		return fmt.Errorf("probe: ControllerConfig.DropThreshold = %v: must be in (0, 1]", c.DropThreshold)
	}
	if !(c.ProbeUncertainty > 0 && c.ProbeUncertainty < 1) {
		return fmt.Errorf("probe: ControllerConfig.ProbeUncertainty = %v: must be in (0, 1)", c.ProbeUncertainty)
	}
	durations := []struct {
		name string
		v    time.Duration
	}{
		{"RepeatedInitialPeriod", c.RepeatedInitialPeriod},
		{"InitialProbeDuration", c.InitialProbeDuration},
		{"InitialMinProbeDelta", c.InitialMinProbeDelta},
		{"ALRProbeInterval", c.ALRProbeInterval},
		{"MinProbeDuration", c.MinProbeDuration},
		{"MinProbeDelta", c.MinProbeDelta},
		{"MaxWaitForResult", c.MaxWaitForResult},
		{"DropTimeout", c.DropTimeout},
		{"MinRecoveryInterval", c.MinRecoveryInterval},
		{"ALREndedTimeout", c.ALREndedTimeout},
	}
	for _, f := range durations {
		// A shorter interval vanishes when added to a bwe.Time, which
		// counts whole microseconds.
		if f.v < time.Microsecond {
			return fmt.Errorf("probe: ControllerConfig.%s = %v: must be at least 1µs", f.name, f.v)
		}
	}
	if c.MinProbePackets < 0 {
		return fmt.Errorf("probe: ControllerConfig.MinProbePackets = %d: must be positive", c.MinProbePackets)
	}
	if c.DefaultMaxBitrate < 0 {
		return fmt.Errorf("probe: ControllerConfig.DefaultMaxBitrate = %v: must be positive", c.DefaultMaxBitrate)
	}
	return nil
}

// ControllerStats counts what a [Controller] did.
type ControllerStats struct {
	// Requests is the number of probe clusters requested.
	Requests int64
	// Suppressed counts probe decisions dropped because the cause was
	// [CauseDelayIncreased], [CauseLossDecreasing] or [CauseRTTBackoff].
	Suppressed int64
	// Skipped counts probe decisions dropped by SkipAboveFractionOfMax.
	Skipped int64
	// NoStartRate counts initial probings not started because neither a
	// start rate nor a min rate was positive.
	NoStartRate int64
}

// never is the instant before every other: "not yet happened".
const never = bwe.MinTime

// Controller decides when to probe and at which rates (libwebrtc
// ProbeController): exponential probing at start, probing when the max rate
// or the allocated rate rises, periodic probing in ALR, and a recovery probe
// after a large drop. Create it with [NewController]. Every method takes the
// current time; methods that may start probing return the clusters to send
// now, in a slice that aliases an internal buffer and is valid until the next
// call on the Controller (copy it to keep it). A Controller is not safe for
// concurrent use.
type Controller struct {
	cfg   ControllerConfig
	buf   [2]Request
	stats ControllerStats

	nextID          int32
	networkUp       bool
	periodicALR     bool
	repeatedInitial bool

	state        State
	cause        Cause
	minToFurther bwe.Bitrate // bwe.MaxBitrate: no further probing
	lastProbeAt  bwe.Time
	repeatUntil  bwe.Time // repeated initial probing allowed before this

	estimate  bwe.Bitrate
	start     bwe.Bitrate
	minRate   bwe.Bitrate
	maxRate   bwe.Bitrate
	allocated bwe.Bitrate // 0: unknown

	inALR    bool
	alrStart bwe.Time
	alrEnded bool
	alrEnd   bwe.Time

	lastDropAt     bwe.Time
	beforeDrop     bwe.Bitrate
	lastRecoveryAt bwe.Time
}

// NewController returns a controller configured by cfg, whose zero fields
// take their defaults. It rejects impossible values with an error naming the
// field. The network is taken to be available (see
// [Controller.SetNetworkAvailable]).
func NewController(cfg ControllerConfig) (*Controller, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c := &Controller{
		cfg:             cfg,
		nextID:          1,
		networkUp:       true,
		periodicALR:     cfg.PeriodicALRProbing,
		repeatedInitial: cfg.RepeatedInitialProbing,
		repeatUntil:     never,
	}
	c.Reset(never)
	return c, nil
}

// Config returns the configuration in use, defaults filled in.
func (c *Controller) Config() ControllerConfig { return c.cfg }

// Stats returns the counters accumulated since construction.
func (c *Controller) Stats() ControllerStats { return c.stats }

// State returns the controller's phase.
func (c *Controller) State() State { return c.state }

// Estimate returns the estimate the controller works from: the start rate
// after [Controller.SetBitrates], then the last [Controller.SetEstimatedBitrate].
func (c *Controller) Estimate() bwe.Bitrate { return c.estimate }

// Reset forgets the rates, the estimate, the probing state and the drop
// history, as after a network route change (libwebrtc ProbeController::Reset).
// It keeps the configuration switches, the network availability, the ALR
// start, the max total allocated rate, the repeated-initial-probing window
// and the id sequence. No recovery probe
// is sent within MinRecoveryInterval of at.
func (c *Controller) Reset(at bwe.Time) {
	c.cause = CauseDelayBased
	c.state = StateInit
	c.minToFurther = bwe.MaxBitrate
	c.lastProbeAt = never
	c.estimate = 0
	c.start = 0
	c.minRate = 0
	c.maxRate = c.cfg.DefaultMaxBitrate
	c.lastRecoveryAt = at
	c.alrEnded = false
	c.lastDropAt = at
	c.beforeDrop = 0
}

// SetNetworkAvailable reports whether the network can carry packets
// (libwebrtc OnNetworkAvailability). While it cannot, no initial probing
// starts and pending exponential probing ends. When it becomes available
// before initial probing has started and a start rate is known, initial
// probing starts now.
func (c *Controller) SetNetworkAvailable(at bwe.Time, available bool) []Request {
	c.networkUp = available
	if !available && c.state == StateWaiting {
		c.complete()
	}
	if available && c.state == StateInit && c.start != 0 {
		return c.initialProbes(at)
	}
	return nil
}

// SetBitrates sets the min, start and max rates. A positive start rate also
// becomes the estimate; otherwise the first call takes min as the start
// rate. A max rate that is not positive, or [bwe.MaxBitrate], means "none":
// probes are then capped at DefaultMaxBitrate. Negative rates count as 0.
//
// Before any probing, with the network available, it starts exponential
// probing at FirstProbeScale and SecondProbeScale times the start rate.
// After probing has completed, a max rate above both the previous max and
// the estimate is probed once.
func (c *Controller) SetBitrates(at bwe.Time, minRate, start, maxRate bwe.Bitrate) []Request {
	minRate = max(minRate, 0)
	if start > 0 {
		c.start = start
		c.estimate = start
	} else if c.start == 0 {
		c.start = minRate
	}
	old := c.maxRate
	if maxRate <= 0 || maxRate == bwe.MaxBitrate {
		maxRate = c.cfg.DefaultMaxBitrate
	}
	c.minRate, c.maxRate = minRate, maxRate
	switch c.state {
	case StateInit:
		if c.networkUp {
			return c.initialProbes(at)
		}
	case StateComplete:
		if c.estimate != 0 && old < c.maxRate && c.estimate < c.maxRate {
			return c.initiate(at, [2]bwe.Bitrate{c.maxRate}, 1, false)
		}
	}
	return nil
}

// OnMaxTotalAllocatedBitrate sets the sum of the max rates of the active
// streams; 0 means unknown. While it is known, probes are capped at twice
// it.
//
// When it changes while probing is complete, the sender is in ALR and the
// estimate is below both it and the max rate, it is probed at
// FirstAllocationScale and SecondAllocationScale times its value. A known
// value also ends repeated initial probing.
func (c *Controller) OnMaxTotalAllocatedBitrate(at bwe.Time, total bwe.Bitrate) []Request {
	total = max(total, 0)
	if !c.cfg.NoAllocationProbing && c.state == StateComplete && total != c.allocated &&
		c.estimate < c.maxRate && c.estimate < total && c.inALR {
		c.allocated = total
		first := total.Scale(c.cfg.FirstAllocationScale)
		limit := bwe.MaxBitrate
		if c.cfg.AllocationCurrentLimit > 0 {
			limit = c.estimate.Scale(c.cfg.AllocationCurrentLimit)
		}
		limited := limit < first
		if limited {
			first = limit
		}
		rates, n := [2]bwe.Bitrate{first}, 1
		if !limited && !c.cfg.NoSecondAllocationProbe {
			second := total.Scale(c.cfg.SecondAllocationScale)
			limited = limit < second
			if limited {
				second = limit
			}
			if second > first {
				rates[1], n = second, 2
			}
		}
		return c.initiate(at, rates, n, limited)
	}
	if total != 0 {
		c.repeatUntil = at
	}
	c.allocated = total
	return nil
}

// SetEstimatedBitrate reports the current estimate (the target rate) and
// what limits it. A negative estimate counts as 0. While exponential probing
// waits for a result, an estimate above FurtherProbeThreshold times the last
// probe triggers a probe at FurtherProbeScale times the estimate. An estimate
// below DropThreshold times the previous one is remembered as a large drop
// for [Controller.RequestProbe]. The cause applies to every later probe
// until the next call.
func (c *Controller) SetEstimatedBitrate(at bwe.Time, estimate bwe.Bitrate, cause Cause) []Request {
	estimate = max(estimate, 0)
	c.cause = cause
	if estimate < c.estimate.Scale(c.cfg.DropThreshold) {
		c.lastDropAt = at
		c.beforeDrop = c.estimate
	}
	c.estimate = estimate
	if c.state != StateWaiting {
		return nil
	}
	if c.cfg.AbortFurtherProbing &&
		(estimate > c.maxRate || (c.allocated != 0 && estimate > bwe.SatAdd(c.allocated, c.allocated))) {
		c.minToFurther = bwe.MaxBitrate
	}
	if estimate > c.minToFurther {
		return c.initiate(at, [2]bwe.Bitrate{estimate.Scale(c.cfg.FurtherProbeScale)}, 1, true)
	}
	return nil
}

// EnablePeriodicALRProbing switches periodic ALR probing on or off.
func (c *Controller) EnablePeriodicALRProbing(enable bool) { c.periodicALR = enable }

// EnableRepeatedInitialProbing switches repeated initial probing on or off.
// It takes effect when initial probing next starts; a repetition already
// under way runs its course, as in libwebrtc.
func (c *Controller) EnableRepeatedInitialProbing(enable bool) { c.repeatedInitial = enable }

// SetALRStartTime reports whether the sender is application-limited and, if
// it is, since when (libwebrtc SetAlrStartTimeMs; libwebrtc passes whole
// milliseconds, here the time is kept to the microsecond). start is ignored
// when inALR is false.
func (c *Controller) SetALRStartTime(start bwe.Time, inALR bool) {
	c.inALR, c.alrStart = inALR, start
}

// SetALREndedTime reports that the application-limited region ended at end.
// For ALREndedTimeout after it, a recovery probe is still allowed.
func (c *Controller) SetALREndedTime(end bwe.Time) {
	c.alrEnded, c.alrEnd = true, end
}

// RequestProbe asks for a recovery probe after the estimate has recovered
// from overuse (libwebrtc RequestProbe, called by GoogCcNetworkController
// when the delay-based estimator reports recovery). A probe at
// RecoveryProbeScale times the estimate before the last large drop is sent
// if probing is complete, the sender is in ALR or left it less than
// ALREndedTimeout ago (or RecoveryOutsideALR is set), the drop happened less
// than DropTimeout ago, the last recovery probe is more than
// MinRecoveryInterval old, and (1 − ProbeUncertainty) times the probe rate
// is above the current estimate.
func (c *Controller) RequestProbe(at bwe.Time) []Request {
	endedRecently := c.alrEnded && at.Sub(c.alrEnd) < c.cfg.ALREndedTimeout
	if !(c.inALR || endedRecently || c.cfg.RecoveryOutsideALR) || c.state != StateComplete {
		return nil
	}
	suggested := c.beforeDrop.Scale(c.cfg.RecoveryProbeScale)
	minExpected := suggested.Scale(1 - c.cfg.ProbeUncertainty)
	if minExpected > c.estimate &&
		at.Sub(c.lastDropAt) < c.cfg.DropTimeout &&
		at.Sub(c.lastRecoveryAt) > c.cfg.MinRecoveryInterval {
		c.lastRecoveryAt = at
		return c.initiate(at, [2]bwe.Bitrate{suggested}, 1, false)
	}
	return nil
}

// Process runs the timers; call it periodically (GoogCcNetworkController
// calls it on every process interval, typically 25 ms). Exponential probing
// that got no sufficient result within MaxWaitForResult completes. Then, if
// probing is complete and the estimate is positive, it sends the next
// repeated initial probe or periodic ALR probe when one is due.
func (c *Controller) Process(at bwe.Time) []Request {
	if at.Sub(c.lastProbeAt) > c.cfg.MaxWaitForResult && c.state == StateWaiting {
		c.complete()
	}
	if c.estimate == 0 || c.state != StateComplete {
		return nil
	}
	if c.repeatUntil > at && at >= c.lastProbeAt.Add(c.cfg.MaxWaitForResult) {
		return c.initiate(at, [2]bwe.Bitrate{c.estimate.Scale(c.cfg.FirstProbeScale)}, 1, true)
	}
	if c.periodicALR && c.inALR && at >= max(c.alrStart, c.lastProbeAt).Add(c.cfg.ALRProbeInterval) {
		return c.initiate(at, [2]bwe.Bitrate{c.estimate.Scale(c.cfg.ALRProbeScale)}, 1, true)
	}
	return nil
}

// initialProbes starts exponential probing from the start rate.
func (c *Controller) initialProbes(at bwe.Time) []Request {
	if c.start <= 0 {
		c.stats.NoStartRate++
		return nil
	}
	rates, n := [2]bwe.Bitrate{c.start.Scale(c.cfg.FirstProbeScale)}, 1
	if !c.cfg.NoSecondProbe {
		rates[1], n = c.start.Scale(c.cfg.SecondProbeScale), 2
	}
	if c.repeatedInitial && c.allocated == 0 {
		c.repeatUntil = at.Add(c.cfg.RepeatedInitialPeriod)
	}
	return c.initiate(at, rates, n, true)
}

// complete ends exponential probing.
func (c *Controller) complete() {
	c.state = StateComplete
	c.minToFurther = bwe.MaxBitrate
}

// initiate turns up to two probe rates into requests (libwebrtc
// InitiateProbing). A rate at or above the cap is lowered to it, which ends
// exponential probing; with further set and no rate capped, a later estimate
// above FurtherProbeThreshold times the last rate continues it.
func (c *Controller) initiate(at bwe.Time, rates [2]bwe.Bitrate, n int, further bool) []Request {
	if c.cfg.SkipAboveFractionOfMax > 0 {
		ref := c.maxRate
		if c.allocated != 0 {
			ref = min(c.allocated.Scale(c.cfg.SkipMaxAllocatedScale), c.maxRate)
		}
		if c.estimate > ref.Scale(c.cfg.SkipAboveFractionOfMax) {
			c.stats.Skipped++
			c.complete()
			return nil
		}
	}
	hardCap := c.maxRate
	if c.allocated != 0 {
		hardCap = min(hardCap, bwe.SatAdd(c.allocated, c.allocated))
	}
	capRate := hardCap
	switch c.cause {
	case CauseDelayIncreased, CauseLossDecreasing, CauseRTTBackoff:
		c.stats.Suppressed++
		return nil
	case CauseLossIncreasing:
		capRate = min(capRate, c.estimate.Scale(c.cfg.LossLimitedProbeScale))
	}
	// hardCap is at least 1 bps: the max rate is positive and so is twice a
	// known allocation.
	floor := min(max(c.minRate, 1), hardCap)
	out := c.buf[:0]
	for _, r := range rates[:n] {
		if r >= capRate {
			r = capRate
			further = false
		}
		out = append(out, c.request(at, r.Clamp(floor, hardCap)))
	}
	c.lastProbeAt = at
	if further {
		c.state = StateWaiting
		c.minToFurther = out[len(out)-1].Bitrate.Scale(c.cfg.FurtherProbeThreshold)
	} else {
		c.complete()
	}
	return out
}

// request builds one cluster at rate r and takes the next id.
func (c *Controller) request(at bwe.Time, r bwe.Bitrate) Request {
	dur, delta := c.cfg.MinProbeDuration, c.cfg.MinProbeDelta
	if at < c.repeatUntil {
		dur, delta = c.cfg.InitialProbeDuration, c.cfg.InitialMinProbeDelta
	}
	id := c.nextID
	if c.nextID == math.MaxInt32 {
		c.nextID = 1
	} else {
		c.nextID++
	}
	c.stats.Requests++
	return Request{ID: id, At: at, Bitrate: r, Duration: dur, MinProbes: c.cfg.MinProbePackets, MinDelta: delta}
}
