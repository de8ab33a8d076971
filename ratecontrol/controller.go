package ratecontrol

import (
	"math"
	"time"

	"github.com/bwelab/bwe"
)

// Reason says which rule set the target at the last update.
type Reason uint8

// Reasons, in the order of precedence in which [Controller.Update] picks
// them (Congestion first, Follow last).
const (
	// ReasonFollow: the target equals its input (the smoothed estimate
	// within the bounds), having followed it down or finished a ramp.
	ReasonFollow Reason = iota
	// ReasonRampUp: the target is climbing towards a higher input.
	ReasonRampUp
	// ReasonHold: the input is above the target by less than the dead
	// band; the target does not move.
	ReasonHold
	// ReasonCongestion: real congestion was signalled at this update (the
	// target fell to the raw estimate if it was above it), or increases
	// are still blocked by CongestionHold.
	ReasonCongestion
	// ReasonBeyond: the target is above the ladder top Max.
	ReasonBeyond
	// ReasonMin: the input is below Min and the target sits at Min.
	ReasonMin
	// ReasonMax: the input is above the cap and the target sits at Max.
	ReasonMax
	// ReasonProtect: increases are held while protecting against a
	// predicted lossy period (Protection.HoldIncreases).
	ReasonProtect
)

var reasonNames = [...]string{
	ReasonFollow:     "follow",
	ReasonRampUp:     "rampUp",
	ReasonHold:       "hold",
	ReasonCongestion: "congestion",
	ReasonBeyond:     "beyond",
	ReasonMin:        "min",
	ReasonMax:        "max",
	ReasonProtect:    "protect",
}

// String returns the reason's name, e.g. "rampUp".
func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "Reason(" + itoa(int(r)) + ")"
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

// State is the controller's view after the last update.
type State struct {
	// Target is the encoder target, as last returned by Update.
	Target bwe.Bitrate
	// Rung is the index in Config.Rungs of the rung the target is on, or
	// −1 without rungs or before the first update.
	Rung int
	// Beyond reports that the estimate has stayed far enough above Max for
	// long enough: the cap is raised above Max.
	Beyond bool
	// Cap is the current upper bound of the target: Max, a value in
	// [Max, Max × BeyondFactor] when Beyond, or [bwe.MaxBitrate] when
	// there is no Max.
	Cap bwe.Bitrate
	// Reason says which rule set Target.
	Reason Reason
	// Smoothed is the smoother's output at the last update (the raw
	// estimate without a smoother), before headroom and bounds.
	Smoothed bwe.Bitrate
	// Reordered counts updates whose time was earlier than a previous
	// one; they were taken as happening at the latest time seen.
	Reordered int
	// Protection is the share of the target reserved for redundancy
	// (Config.Protect), 0 when not protecting; Media is what Update
	// returned: (1 − Protection) × Target, but never below Min.
	Protection float64
	Media      bwe.Bitrate
}

// Controller chooses the encoder's target from the send-side estimate. It
// implements [bwe.RateController]; see the package documentation for the
// model. The zero value is not usable: call [New].
//
// A Controller is deterministic and not safe for concurrent use; Update
// allocates nothing.
type Controller struct {
	cfg      Config
	thr      []bwe.Bitrate // thr[i] = Rungs[i].Bitrate × (1 + RungMargin)
	tau      time.Duration // up-ramp time constant
	deadBand float64       // share of the target
	interval time.Duration // least time between increases
	hi       bwe.Bitrate   // Max, or MaxBitrate without a Max
	beyondOK bool          // Max is set and BeyondFactor > 1
	aboveThr bwe.Bitrate   // Max × (1 + BeyondMargin)
	top      bwe.Bitrate   // Max × BeyondFactor

	started   bool
	last      bwe.Time
	target    bwe.Bitrate
	smoothed  bwe.Bitrate
	cap       bwe.Bitrate
	reason    Reason
	reordered int

	ramping bool     // an increase is under way
	rampAt  bwe.Time // when the ramp last moved the target (or began)

	blocking     bool     // blockedUntil is meaningful
	blockedUntil bwe.Time // no increases before this instant

	above      bool     // the estimate has stayed ≥ aboveThr since aboveSince
	aboveSince bwe.Time // with no congestion
	beyond     bool

	protecting  bool     // a predicted lossy period is being protected against
	protectTill bwe.Time // protection ends at this instant unless renewed
	media       bwe.Bitrate

	rung        int
	rungUp      bool        // the target has stayed ≥ thr[rung+1] since rungUpSince
	rungUpSince bwe.Time    //
	rungUpMin   bwe.Bitrate // least target since rungUpSince
}

var _ bwe.RateController = (*Controller)(nil)

// New returns a controller for cfg, or an error naming the first field
// that holds an impossible value.
func New(cfg Config) (*Controller, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c := &Controller{cfg: cfg}
	if len(cfg.Rungs) > 0 {
		c.cfg.Rungs = append([]Rung(nil), cfg.Rungs...)
		c.thr = make([]bwe.Bitrate, len(cfg.Rungs))
		for i, r := range cfg.Rungs {
			c.thr[i] = r.Bitrate.Scale(1 + cfg.RungMargin)
		}
	}
	s := cfg.Smoothness
	c.tau = time.Duration(s * float64(cfg.MaxRampTime))
	c.deadBand = s * cfg.MaxDeadBand
	c.interval = time.Duration(s * float64(cfg.MaxIncreaseInterval))
	c.hi = bwe.MaxBitrate
	if cfg.Max > 0 {
		c.hi = cfg.Max
		c.beyondOK = cfg.BeyondFactor > 1
		c.aboveThr = cfg.Max.Scale(1 + cfg.BeyondMargin)
		c.top = cfg.Max.Scale(cfg.BeyondFactor)
	}
	c.clear()
	return c, nil
}

// Config returns the configuration in use, defaults filled in. Its Rungs
// slice is shared with the controller and must not be modified.
func (c *Controller) Config() Config { return c.cfg }

// Reset forgets the history, as at the start of a stream, and resets the
// smoother.
func (c *Controller) Reset() {
	c.clear()
	if c.cfg.Smoother != nil {
		c.cfg.Smoother.Reset()
	}
}

// clear puts the controller in its initial state, configuration kept.
func (c *Controller) clear() {
	*c = Controller{
		cfg: c.cfg, thr: c.thr, tau: c.tau, deadBand: c.deadBand, interval: c.interval,
		hi: c.hi, beyondOK: c.beyondOK, aboveThr: c.aboveThr, top: c.top,
		cap: c.hi, rung: -1,
	}
}

// State returns the controller's view after the last update.
func (c *Controller) State() State {
	return State{
		Target:     c.target,
		Rung:       c.rung,
		Beyond:     c.beyond,
		Cap:        c.cap,
		Reason:     c.reason,
		Smoothed:   c.smoothed,
		Reordered:  c.reordered,
		Protection: c.Protection(),
		Media:      c.media,
	}
}

// Protection returns the share of the target reserved for redundancy
// after the last update: Config.Protect.Reserve while protecting against
// a predicted lossy period, else 0.
func (c *Controller) Protection() float64 {
	if c.protecting {
		return c.cfg.Protect.Reserve
	}
	return 0
}

// updateProtection starts, renews or ends protection at now for the
// predicted risk.
func (c *Controller) updateProtection(now bwe.Time, risk float64) {
	p := c.cfg.Protect
	if p.Threshold == 0 {
		return
	}
	if risk >= p.Threshold { // false for NaN
		c.protecting, c.protectTill = true, now.Add(p.Linger)
	} else if c.protecting && now >= c.protectTill {
		c.protecting = false
	}
}

// Target returns the target after the last Update (0 before the first):
// what Update returned, plus the share reserved for redundancy while
// protecting.
func (c *Controller) Target() bwe.Bitrate { return c.target }

// sanitizeLoss makes a loss fraction usable: NaN counts as no loss, and
// values outside [0, 1] are clamped to it.
func sanitizeLoss(l float64) float64 {
	switch {
	case !(l > 0): // NaN, zero or negative
		return 0
	case l > 1:
		return 1
	}
	return l
}

// usable removes the headroom from r.
func (c *Controller) usable(r bwe.Bitrate) bwe.Bitrate {
	if c.cfg.Headroom == 0 {
		return r
	}
	return r.Scale(1 - c.cfg.Headroom)
}

// Update consumes one estimate and returns the encoder target, in
// [Min, cap] (see [State.Cap]). A time earlier than the latest seen is
// taken as the latest (and counted in [State.Reordered]); a negative
// estimate counts as 0; a loss fraction is clamped to [0, 1], NaN
// counting as 0.
func (c *Controller) Update(in bwe.RateInput) bwe.Bitrate {
	now := in.Time
	if c.started && now < c.last {
		c.reordered++
		now = c.last
	}
	c.last = now
	est := max(in.Estimate, 0)
	sig := in.Signals
	sig.Loss = sanitizeLoss(sig.Loss)
	congested := sig.Congested || sig.Loss >= c.cfg.LossThreshold

	smoothed := est
	if c.cfg.Smoother != nil {
		smoothed = max(c.cfg.Smoother.Smooth(now, est, sig), 0)
	}
	c.smoothed = smoothed
	raw := c.usable(est)
	want := c.usable(smoothed)
	if congested {
		// Real congestion: the raw estimate rules, whatever the
		// smoother holds, and increases wait.
		want = min(want, raw)
		c.blocking, c.blockedUntil = true, now.Add(c.cfg.CongestionHold)
	}
	c.updateCap(now, raw, congested)
	c.updateProtection(now, sig.LossRisk)
	desired := want.Clamp(c.cfg.Min, c.cap)
	congestionHold := c.blocking && now < c.blockedUntil
	protectHold := c.protecting && c.cfg.Protect.HoldIncreases
	blocked := congestionHold || protectHold

	switch {
	case !c.started:
		c.started = true
		c.target = desired
	case desired <= c.target:
		c.target, c.ramping = desired, false
	case blocked:
		c.ramping = false
	default:
		c.rampUp(now, desired)
	}

	switch {
	case congested || (congestionHold && desired > c.target):
		c.reason = ReasonCongestion
	case protectHold && desired > c.target:
		c.reason = ReasonProtect
	case want < c.cfg.Min:
		c.reason = ReasonMin
	case c.cfg.Max > 0 && c.target > c.cfg.Max:
		c.reason = ReasonBeyond
	case want > c.cap && c.target == c.cap:
		c.reason = ReasonMax
	case c.ramping:
		c.reason = ReasonRampUp
	case c.target < desired:
		c.reason = ReasonHold
	default:
		c.reason = ReasonFollow
	}
	c.updateRung(now)
	c.media = c.target
	if c.protecting {
		// The reserve never takes the media below the ladder's bottom.
		c.media = max(c.target.Scale(1-c.cfg.Protect.Reserve), c.cfg.Min)
	}
	return c.media
}

// updateCap moves the cap between Max and the beyond-the-top bound.
func (c *Controller) updateCap(now bwe.Time, raw bwe.Bitrate, congested bool) {
	c.cap, c.beyond = c.hi, false
	if !c.beyondOK || congested || raw < c.aboveThr {
		c.above = false
		return
	}
	if !c.above {
		c.above, c.aboveSince = true, now
	}
	if now.Sub(c.aboveSince) < c.cfg.BeyondAfter {
		return
	}
	// Keep the margin below the estimate, and stay within the bound.
	keep := bwe.BitrateFromFloat(raw.Float() / (1 + c.cfg.BeyondMargin))
	c.cap, c.beyond = max(min(c.top, keep), c.hi), true
}

// rampUp moves the target towards a higher desired value: a dead band
// before a ramp starts, then an exponential approach with time constant
// tau, applied at most once per interval.
func (c *Controller) rampUp(now bwe.Time, desired bwe.Bitrate) {
	if !c.ramping {
		if (desired - c.target).Float() < c.deadBand*c.target.Float() {
			return
		}
		c.ramping, c.rampAt = true, now
	}
	elapsed := now.Sub(c.rampAt)
	if elapsed < c.interval {
		return
	}
	gap := desired - c.target
	step := gap
	if c.tau > 0 {
		// 1 − exp(−elapsed/τ): the share of the gap an exponential
		// approach covers in elapsed.
		step = gap.Scale(-math.Expm1(-elapsed.Seconds() / c.tau.Seconds()))
	}
	if step <= 0 {
		return // too early for a whole bit: let time accumulate
	}
	next := c.target + min(step, gap)
	c.rampAt = now
	if (desired - next).Float() <= c.deadBand*next.Float() {
		// What remains is within the dead band: end the ramp on the
		// input rather than crawl towards it.
		next, c.ramping = desired, false
	}
	c.target = next
}

// rungFor returns the highest rung whose bitrate the target reaches, or
// the lowest rung.
func (c *Controller) rungFor(t bwe.Bitrate) int {
	i := 0
	for i+1 < len(c.cfg.Rungs) && c.cfg.Rungs[i+1].Bitrate <= t {
		i++
	}
	return i
}

// updateRung moves the rung: down at once when the target falls below the
// rung's bitrate, up when the target has stayed ≥ the next rung's
// threshold for RungHold (then to the highest rung whose threshold the
// target stayed above throughout).
func (c *Controller) updateRung(now bwe.Time) {
	n := len(c.cfg.Rungs)
	if n == 0 {
		return
	}
	t := c.target
	if c.rung < 0 || t < c.cfg.Rungs[c.rung].Bitrate {
		c.rung, c.rungUp = c.rungFor(t), false
		return
	}
	next := c.rung + 1
	if next >= n || t < c.thr[next] {
		c.rungUp = false
		return
	}
	if !c.rungUp {
		c.rungUp, c.rungUpSince, c.rungUpMin = true, now, t
	}
	c.rungUpMin = min(c.rungUpMin, t)
	if now.Sub(c.rungUpSince) < c.cfg.RungHold {
		return
	}
	j := next
	for j+1 < n && c.thr[j+1] <= c.rungUpMin {
		j++
	}
	c.rung, c.rungUp = j, false
	if j+1 < n && t >= c.thr[j+1] {
		c.rungUp, c.rungUpSince, c.rungUpMin = true, now, t
	}
}
