package ratecontrol

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// peakSmoother is a fake smoother that holds the highest estimate it has
// seen: the worst case of a smoother that does not let go on congestion.
type peakSmoother struct {
	peak   bwe.Bitrate
	calls  int
	resets int
	lastAt bwe.Time
	back   int // calls with a time earlier than the previous one
}

func (s *peakSmoother) Smooth(at bwe.Time, est bwe.Bitrate, _ bwe.Signals) bwe.Bitrate {
	if s.calls > 0 && at < s.lastAt {
		s.back++
	}
	s.calls++
	s.lastAt = at
	s.peak = max(s.peak, est)
	return s.peak
}

func (s *peakSmoother) Reset() { s.peak, s.resets = 0, s.resets+1 }

func ms(n int) bwe.Time { return bwe.TimeFromDuration(time.Duration(n) * time.Millisecond) }

// step is one update of a scripted timeline and what it must return.
type step struct {
	at     int // ms
	est    bwe.Bitrate
	sig    bwe.Signals
	want   bwe.Bitrate
	reason Reason
}

// runSteps feeds the steps to c and checks target and reason of each.
func runSteps(t *testing.T, c *Controller, steps []step) {
	t.Helper()
	for i, s := range steps {
		got := c.Update(bwe.RateInput{Time: ms(s.at), Estimate: s.est, Signals: s.sig})
		st := c.State()
		if got != s.want || st.Reason != s.reason {
			t.Fatalf("step %d (t=%d ms): Update(%v) = %v (%v), want %v (%v)", i, s.at, s.est, got, st.Reason, s.want, s.reason)
		}
	}
}

// feed updates c every `every` ms in [from, to] with a constant estimate
// and signals, and returns the last target. It checks the bounds at each
// call.
func feed(t *testing.T, c *Controller, from, to, every int, est bwe.Bitrate, sig bwe.Signals) bwe.Bitrate {
	t.Helper()
	var got bwe.Bitrate
	for at := from; at <= to; at += every {
		got = c.Update(bwe.RateInput{Time: ms(at), Estimate: est, Signals: sig})
		st := c.State()
		if got < c.cfg.Min || got > st.Cap || got < 0 {
			t.Fatalf("t=%d ms: Update(%v) = %v, outside [%v, %v]", at, est, got, c.cfg.Min, st.Cap)
		}
	}
	return got
}

func mustNew(t testing.TB, cfg Config) *Controller {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func TestDefaults(t *testing.T) {
	c := mustNew(t, Config{})
	got, want := c.Config(), DefaultConfig()
	if got.Smoother != nil || got.Rungs != nil {
		t.Fatalf("Config() = %+v, want no smoother and no rungs", got)
	}
	got.Smoother, got.Rungs = nil, nil
	if got.Min != want.Min || got.Max != want.Max || got.RungMargin != want.RungMargin ||
		got.RungHold != want.RungHold || got.Smoothness != want.Smoothness || got.Sharp != want.Sharp ||
		got.MaxRampTime != want.MaxRampTime || got.MaxDeadBand != want.MaxDeadBand ||
		got.MaxIncreaseInterval != want.MaxIncreaseInterval || got.LossThreshold != want.LossThreshold ||
		got.CongestionHold != want.CongestionHold || got.BeyondMargin != want.BeyondMargin ||
		got.BeyondAfter != want.BeyondAfter || got.BeyondFactor != want.BeyondFactor || got.Headroom != want.Headroom {
		t.Fatalf("New(Config{}).Config() = %+v, want %+v", got, want)
	}
	if c.tau != time.Second || c.interval != 250*time.Millisecond || c.deadBand != 0.0125 {
		t.Fatalf("default mapping: tau %v interval %v dead band %v, want 1s 250ms 0.0125", c.tau, c.interval, c.deadBand)
	}
	if st := c.State(); st.Rung != -1 || st.Target != 0 || st.Cap != bwe.MaxBitrate {
		t.Fatalf("initial State() = %+v", st)
	}
}

func TestNewErrors(t *testing.T) {
	nan := math.NaN()
	rungs := []Rung{{Bitrate: bwe.Mbps}, {Bitrate: 2 * bwe.Mbps}}
	tests := []struct {
		name string
		cfg  Config
		want string // substring of the error; "" means no error
	}{
		{"defaults", Config{}, ""},
		{"sharp", Config{Sharp: true}, ""},
		{"rungs in bounds", Config{Min: bwe.Mbps, Max: 2 * bwe.Mbps, Rungs: rungs}, ""},
		{"beyond factor 1", Config{BeyondFactor: 1}, ""},
		{"loss threshold above 1", Config{LossThreshold: 2}, ""},
		{"negative min", Config{Min: -1}, "Config.Min -1 bps is negative"},
		{"negative max", Config{Max: -1}, "Config.Max -1 bps is negative"},
		{"min above max", Config{Min: 3 * bwe.Mbps, Max: 2 * bwe.Mbps}, "Config.Min 3 Mbps is above Config.Max 2 Mbps"},
		{"rung zero", Config{Rungs: []Rung{{}}}, "Config.Rungs[0].Bitrate 0 bps is not positive"},
		{"rung size", Config{Rungs: []Rung{{Bitrate: 1, Width: -1}}}, "Config.Rungs[0] size -1x0 is negative"},
		{"rungs not ascending", Config{Rungs: []Rung{{Bitrate: 2 * bwe.Mbps}, {Bitrate: 2 * bwe.Mbps}}}, "Config.Rungs[1].Bitrate 2 Mbps is not above Config.Rungs[0].Bitrate 2 Mbps"},
		{"rung below min", Config{Min: 1500 * bwe.Kbps, Rungs: rungs}, "Config.Rungs[0].Bitrate 1 Mbps is below Config.Min 1.5 Mbps"},
		{"rung above max", Config{Max: 1500 * bwe.Kbps, Rungs: rungs}, "Config.Rungs[1].Bitrate 2 Mbps is above Config.Max 1.5 Mbps"},
		{"rung margin", Config{RungMargin: -0.1}, "Config.RungMargin -0.1"},
		{"rung margin nan", Config{RungMargin: nan}, "Config.RungMargin NaN"},
		{"rung hold", Config{RungHold: -time.Second}, "Config.RungHold -1s is negative"},
		{"sharp and smoothness", Config{Sharp: true, Smoothness: 0.5}, "Config.Sharp is set with Config.Smoothness 0.5"},
		{"smoothness high", Config{Smoothness: 1.5}, "Config.Smoothness 1.5 is not in [0, 1]"},
		{"smoothness negative", Config{Smoothness: -0.1}, "Config.Smoothness -0.1 is not in [0, 1]"},
		{"smoothness nan", Config{Smoothness: nan}, "Config.Smoothness NaN is not in [0, 1]"},
		{"ramp time", Config{MaxRampTime: -1}, "Config.MaxRampTime -1ns is negative"},
		{"dead band", Config{MaxDeadBand: 1.5}, "Config.MaxDeadBand 1.5 is not in (0, 1]"},
		{"increase interval", Config{MaxIncreaseInterval: -1}, "Config.MaxIncreaseInterval -1ns is negative"},
		{"loss threshold", Config{LossThreshold: -0.1}, "Config.LossThreshold -0.1"},
		{"loss threshold nan", Config{LossThreshold: nan}, "Config.LossThreshold NaN"},
		{"congestion hold", Config{CongestionHold: -1}, "Config.CongestionHold -1ns is negative"},
		{"beyond margin", Config{BeyondMargin: -0.2}, "Config.BeyondMargin -0.2"},
		{"beyond margin inf", Config{BeyondMargin: math.Inf(1)}, "Config.BeyondMargin +Inf"},
		{"beyond after", Config{BeyondAfter: -1}, "Config.BeyondAfter -1ns is negative"},
		{"beyond factor", Config{BeyondFactor: 0.5}, "ratecontrol: Config.BeyondFactor 0.5 is below 1"},
		{"beyond factor nan", Config{BeyondFactor: nan}, "Config.BeyondFactor NaN is not a number"},
		{"beyond factor inf", Config{BeyondFactor: math.Inf(1)}, "Config.BeyondFactor +Inf is not finite"},
		{"headroom 1", Config{Headroom: 1}, "Config.Headroom 1 is not in [0, 1)"},
		{"headroom negative", Config{Headroom: -0.1}, "Config.Headroom -0.1 is not in [0, 1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("New(%+v) = %v, want no error", tt.cfg, err)
			case tt.want != "" && err == nil:
				t.Fatalf("New(%+v) = nil error, want %q", tt.cfg, tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Fatalf("New(%+v) = %q, want it to contain %q", tt.cfg, err, tt.want)
			case err != nil && !strings.HasPrefix(err.Error(), "ratecontrol: Config."):
				t.Fatalf("New(%+v) = %q, want the prefix ratecontrol: Config.", tt.cfg, err)
			}
		})
	}
}

func TestRungsCopied(t *testing.T) {
	rungs := []Rung{{Bitrate: bwe.Mbps}, {Bitrate: 2 * bwe.Mbps}}
	c := mustNew(t, Config{Sharp: true, Rungs: rungs})
	rungs[0].Bitrate = 3 * bwe.Mbps // would make the ladder descending
	c.Update(bwe.RateInput{Time: 0, Estimate: 1500 * bwe.Kbps})
	if got := c.State().Rung; got != 0 {
		t.Fatalf("after editing the caller's slice: Rung = %d, want 0", got)
	}
}

// With Smoothness 0, no smoother and no going beyond, the target is the
// estimate bounded to [Min, Max], bit for bit, at every call.
func TestSharpIsIdentity(t *testing.T) {
	for _, b := range []struct{ min, max bwe.Bitrate }{
		{0, 0},
		{300 * bwe.Kbps, 2500 * bwe.Kbps},
		{0, bwe.Mbps},
		{50 * bwe.Kbps, 0},
	} {
		c := mustNew(t, Config{Sharp: true, BeyondFactor: 1, Min: b.min, Max: b.max})
		r := rand.New(rand.NewPCG(1, 2))
		at := bwe.Time(0)
		for i := range 20000 {
			at = at.Add(time.Duration(r.IntN(200)-20) * time.Millisecond) // some backwards
			var est bwe.Bitrate
			switch r.IntN(10) {
			case 0:
				est = 0
			case 1:
				est = bwe.MaxBitrate
			default:
				est = bwe.Bitrate(r.Int64N(int64(5 * bwe.Mbps)))
			}
			sig := bwe.Signals{Usage: bwe.Usage(r.IntN(3)), Loss: r.Float64() * 0.09, RTT: 50 * time.Millisecond}
			got := c.Update(bwe.RateInput{Time: at, Estimate: est, Signals: sig})
			want := est.Clamp(b.min, max(b.min, c.hi))
			if got != want {
				t.Fatalf("bounds [%v, %v] step %d: Update(%v) = %v, want %v", b.min, b.max, i, est, got, want)
			}
		}
	}
}

// A step of the input is followed exponentially: after one time constant
// the target has covered 1 − 1/e ≈ 63.2 % of the step, in steps at most
// one increase interval apart.
func TestUpRampTimeConstant(t *testing.T) {
	for _, tt := range []struct {
		smoothness float64
		tau        int // ms
		interval   int // ms
	}{
		{0.25, 1000, 250},
		{0.5, 2000, 500},
		{1, 4000, 1000},
	} {
		c := mustNew(t, Config{Smoothness: tt.smoothness})
		const every = 50
		if got := feed(t, c, 0, 5000, every, bwe.Mbps, bwe.Signals{}); got != bwe.Mbps {
			t.Fatalf("s=%v: settled at %v, want 1 Mbps", tt.smoothness, got)
		}
		// Step to 2 Mbps at t = 5.05 s: the ramp starts there.
		start := 5000 + every
		prev := bwe.Mbps
		for at := start; at <= start+3*tt.tau; at += every {
			got := c.Update(bwe.RateInput{Time: ms(at), Estimate: 2 * bwe.Mbps})
			el := at - start
			// Moves only at whole intervals since the start.
			if el%tt.interval != 0 && got != prev {
				t.Fatalf("s=%v t=%d ms: target moved to %v between increases (from %v)", tt.smoothness, at, got, prev)
			}
			if el%tt.interval == 0 && el > 0 && c.State().Target < 2*bwe.Mbps {
				want := 1e6 + 1e6*(1-math.Exp(-float64(el)/float64(tt.tau)))
				if math.Abs(got.Float()-want) > 4 { // rounding of each step, ≤ ½ bps each
					t.Fatalf("s=%v t=%d ms (%.2f τ): target %v, want %.0f bps", tt.smoothness, at, float64(el)/float64(tt.tau), got, want)
				}
				if r := c.State().Reason; r != ReasonRampUp {
					t.Fatalf("s=%v t=%d ms: reason %v, want rampUp", tt.smoothness, at, r)
				}
			}
			if el == tt.tau {
				share := (got.Float() - 1e6) / 1e6
				if math.Abs(share-(1-1/math.E)) > 1e-5 {
					t.Fatalf("s=%v: after one τ the target covered %.4f of the step, want 0.6321", tt.smoothness, share)
				}
			}
			prev = got
		}
		// The ramp ends on the input once the rest is within the dead band.
		if got := feed(t, c, start+3*tt.tau+every, start+8*tt.tau, every, 2*bwe.Mbps, bwe.Signals{}); got != 2*bwe.Mbps {
			t.Fatalf("s=%v: target after 8 τ = %v, want 2 Mbps", tt.smoothness, got)
		}
		if r := c.State().Reason; r != ReasonFollow {
			t.Fatalf("s=%v: reason after the ramp %v, want follow", tt.smoothness, r)
		}
	}
}

func TestDeadBand(t *testing.T) {
	// Smoothness 1: dead band 5 % of the target, ramp τ 4 s, interval 1 s.
	c := mustNew(t, Config{Smoothness: 1})
	runSteps(t, c, []step{
		{at: 0, est: bwe.Mbps, want: bwe.Mbps, reason: ReasonFollow},
		{at: 100, est: 1049 * bwe.Kbps, want: bwe.Mbps, reason: ReasonHold},
		{at: 5000, est: 1049 * bwe.Kbps, want: bwe.Mbps, reason: ReasonHold},
		{at: 20000, est: 1049 * bwe.Kbps, want: bwe.Mbps, reason: ReasonHold},
		// 6 % above: a ramp starts, the first increase one interval later.
		{at: 20100, est: 1060 * bwe.Kbps, want: bwe.Mbps, reason: ReasonRampUp},
		{at: 21000, est: 1060 * bwe.Kbps, want: bwe.Mbps, reason: ReasonRampUp},
		// 60 kbps × (1 − e^(−1/4)) = 13270.4 → 1013270, the rest (46730)
		// within 5 % of it: end on the input.
		{at: 21100, est: 1060 * bwe.Kbps, want: 1060 * bwe.Kbps, reason: ReasonFollow},
	})
	// Default smoothness 0.25: dead band 1.25 %.
	c = mustNew(t, Config{})
	runSteps(t, c, []step{
		{at: 0, est: 2 * bwe.Mbps, want: 2 * bwe.Mbps, reason: ReasonFollow},
		{at: 50, est: 2024 * bwe.Kbps, want: 2 * bwe.Mbps, reason: ReasonHold},
		{at: 3000, est: 2024 * bwe.Kbps, want: 2 * bwe.Mbps, reason: ReasonHold},
		{at: 3050, est: 2026 * bwe.Kbps, want: 2 * bwe.Mbps, reason: ReasonRampUp},
		// 26 kbps × (1 − e^(−1/4)) = 5750.5 → 2005751; rest 20249 ≤
		// 1.25 % of it: end on the input.
		{at: 3300, est: 2026 * bwe.Kbps, want: 2026 * bwe.Kbps, reason: ReasonFollow},
	})
}

func TestImmediateDecrease(t *testing.T) {
	for _, s := range []float64{0.25, 1} {
		c := mustNew(t, Config{Smoothness: s})
		runSteps(t, c, []step{
			{at: 0, est: 2 * bwe.Mbps, want: 2 * bwe.Mbps, reason: ReasonFollow},
			{at: 50, est: 2 * bwe.Mbps, want: 2 * bwe.Mbps, reason: ReasonFollow},
			{at: 100, est: 1200 * bwe.Kbps, want: 1200 * bwe.Kbps, reason: ReasonFollow},
			{at: 100, est: 700 * bwe.Kbps, want: 700 * bwe.Kbps, reason: ReasonFollow},
			// Mid-ramp drop: the ramp is abandoned.
			{at: 150, est: 2 * bwe.Mbps, want: 700 * bwe.Kbps, reason: ReasonRampUp},
			{at: 200, est: 600 * bwe.Kbps, want: 600 * bwe.Kbps, reason: ReasonFollow},
		})
	}
}

func TestCongestion(t *testing.T) {
	// Sharp, so that the only thing holding the target is the congestion
	// rule; the smoother holds its peak and never lets go.
	hi, lo := 2*bwe.Mbps, bwe.Mbps
	cong := bwe.Signals{Congested: true}
	for _, tt := range []struct {
		name string
		sig  bwe.Signals
	}{
		{"congested", cong},
		{"loss 10 %", bwe.Signals{Loss: 0.10}},
		{"loss above 1 clamps to 1", bwe.Signals{Loss: 7}},
		{"overuse and loss", bwe.Signals{Usage: bwe.Overusing, Loss: 0.3}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sm := &peakSmoother{}
			c := mustNew(t, Config{Sharp: true, Smoother: sm})
			runSteps(t, c, []step{
				{at: 0, est: hi, want: hi, reason: ReasonFollow},
				{at: 50, est: lo, want: hi, reason: ReasonFollow}, // smoother holds 2 Mbps
				{at: 100, est: lo, sig: tt.sig, want: lo, reason: ReasonCongestion},
				{at: 150, est: hi, want: lo, reason: ReasonCongestion},
				{at: 1099, est: hi, want: lo, reason: ReasonCongestion},
				{at: 1100, est: hi, want: hi, reason: ReasonFollow}, // CongestionHold 1 s after the last signal
			})
			if st := c.State(); st.Smoothed != hi {
				t.Fatalf("Smoothed = %v, want the smoother's %v", st.Smoothed, hi)
			}
		})
	}
	for _, tt := range []struct {
		name string
		sig  bwe.Signals
	}{
		{"loss 9 %", bwe.Signals{Loss: 0.09}},
		{"loss NaN", bwe.Signals{Loss: math.NaN()}},
		{"loss negative", bwe.Signals{Loss: -3}},
		{"overuse alone", bwe.Signals{Usage: bwe.Overusing}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := mustNew(t, Config{Sharp: true, Smoother: &peakSmoother{}})
			runSteps(t, c, []step{
				{at: 0, est: hi, want: hi, reason: ReasonFollow},
				{at: 100, est: lo, sig: tt.sig, want: hi, reason: ReasonFollow},
			})
		})
	}
	// Repeated congestion extends the hold from the last signal; a
	// lower raw estimate during the hold still lowers the target.
	c := mustNew(t, Config{Sharp: true, Smoother: &peakSmoother{}, CongestionHold: 500 * time.Millisecond})
	runSteps(t, c, []step{
		{at: 0, est: hi, want: hi, reason: ReasonFollow},
		{at: 100, est: lo, sig: cong, want: lo, reason: ReasonCongestion},
		{at: 400, est: 800 * bwe.Kbps, sig: cong, want: 800 * bwe.Kbps, reason: ReasonCongestion},
		{at: 600, est: hi, want: 800 * bwe.Kbps, reason: ReasonCongestion},
		{at: 899, est: hi, want: 800 * bwe.Kbps, reason: ReasonCongestion},
		{at: 900, est: hi, want: hi, reason: ReasonFollow},
	})
	// With the default smoothness, the ramp starts when the hold ends.
	c = mustNew(t, Config{Smoother: &peakSmoother{}})
	runSteps(t, c, []step{
		{at: 0, est: hi, want: hi, reason: ReasonFollow},
		{at: 100, est: lo, sig: cong, want: lo, reason: ReasonCongestion},
		{at: 1100, est: lo, want: lo, reason: ReasonRampUp},
		{at: 1349, est: lo, want: lo, reason: ReasonRampUp},
		{at: 1350, est: lo, want: lo + bwe.Bitrate(math.Round(1e6*(1-math.Exp(-0.25)))), reason: ReasonRampUp},
	})
}

// libwebrtc has no counterpart: the beyond-the-ladder rule is the
// live-push practice this package reproduces.
func TestBeyondLadder(t *testing.T) {
	max2 := 2 * bwe.Mbps
	est := 3 * bwe.Mbps
	c := mustNew(t, Config{Sharp: true, Max: max2})
	// BeyondAfter 5 s of estimate ≥ 2.4 Mbps: held at Max until then.
	if got := feed(t, c, 0, 4900, 100, est, bwe.Signals{}); got != max2 {
		t.Fatalf("before BeyondAfter: target %v, want %v", got, max2)
	}
	if st := c.State(); st.Beyond || st.Reason != ReasonMax || st.Cap != max2 {
		t.Fatalf("before BeyondAfter: State() = %+v, want not beyond, reason max, cap 2 Mbps", st)
	}
	// min(Max × 1.5, 3 Mbps ÷ 1.2) = min(3, 2.5) = 2.5 Mbps.
	runSteps(t, c, []step{
		{at: 5000, est: est, want: 2500 * bwe.Kbps, reason: ReasonBeyond},
		{at: 5100, est: 10 * bwe.Mbps, want: 3 * bwe.Mbps, reason: ReasonBeyond}, // bound Max × 1.5
		{at: 5200, est: 2700 * bwe.Kbps, want: 2250 * bwe.Kbps, reason: ReasonBeyond},
		{at: 5300, est: est, sig: bwe.Signals{Congested: true}, want: max2, reason: ReasonCongestion},
		{at: 5400, est: est, want: max2, reason: ReasonMax}, // blocked, but the cap binds first
		{at: 6300, est: est, want: max2, reason: ReasonMax}, // hold over, beyond timer restarted at 5.4 s
		{at: 10300, est: est, want: max2, reason: ReasonMax},
		{at: 10400, est: est, want: 2500 * bwe.Kbps, reason: ReasonBeyond},
		// The estimate dips below Max × 1.2: back to Max at once.
		{at: 10500, est: 2399 * bwe.Kbps, want: max2, reason: ReasonMax},
		{at: 10600, est: est, want: max2, reason: ReasonMax},
		{at: 15599, est: est, want: max2, reason: ReasonMax},
		{at: 15600, est: est, want: 2500 * bwe.Kbps, reason: ReasonBeyond},
	})
	if st := c.State(); !st.Beyond || st.Cap != 2500*bwe.Kbps {
		t.Fatalf("State() = %+v, want beyond with cap 2.5 Mbps", st)
	}

	// With the default smoothness the target ramps to the raised cap.
	c = mustNew(t, Config{Max: max2})
	feed(t, c, 0, 4900, 100, est, bwe.Signals{})
	if got := feed(t, c, 5000, 6000, 50, est, bwe.Signals{}); math.Abs(got.Float()-(2e6+0.5e6*(1-1/math.E))) > 4 {
		t.Fatalf("one τ after going beyond: target %v, want %.0f", got, 2e6+0.5e6*(1-1/math.E))
	}
	if got := feed(t, c, 6050, 15000, 50, est, bwe.Signals{}); got != 2500*bwe.Kbps {
		t.Fatalf("long after going beyond: target %v, want 2.5 Mbps", got)
	}

	// BeyondFactor 1 never goes beyond; neither does a controller without Max.
	c = mustNew(t, Config{Sharp: true, Max: max2, BeyondFactor: 1})
	if got := feed(t, c, 0, 60000, 100, est, bwe.Signals{}); got != max2 {
		t.Fatalf("BeyondFactor 1: target %v, want %v", got, max2)
	}
	// Headroom applies to the estimate the rule looks at: 3 Mbps × 0.8 =
	// 2.4 Mbps ≥ 2.4 Mbps, cap 2.4 ÷ 1.2 = 2 Mbps.
	c = mustNew(t, Config{Sharp: true, Max: max2, Headroom: 0.2})
	feed(t, c, 0, 10000, 100, est, bwe.Signals{})
	if st := c.State(); !st.Beyond || st.Target != max2 || st.Reason != ReasonMax {
		t.Fatalf("headroom 0.2: State() = %+v, want beyond at 2 Mbps", st)
	}
}

func TestRungs(t *testing.T) {
	rungs := []Rung{
		{Bitrate: 500 * bwe.Kbps, Width: 640, Height: 360},
		{Bitrate: bwe.Mbps, Width: 960, Height: 540},
		{Bitrate: 2 * bwe.Mbps, Width: 1280, Height: 720},
	}
	type rstep struct {
		at   int
		est  bwe.Bitrate
		rung int
	}
	for _, tt := range []struct {
		name  string
		steps []rstep
	}{
		{"start on the rung reached", []rstep{{0, 1050 * bwe.Kbps, 1}}},
		{"start below the lowest", []rstep{{0, 100 * bwe.Kbps, 0}}},
		{"margin", []rstep{
			{0, 1050 * bwe.Kbps, 1},
			{100, 2199 * bwe.Kbps, 1}, // below 2 Mbps × 1.1
			{10000, 2199 * bwe.Kbps, 1},
		}},
		{"hold", []rstep{
			{0, 1050 * bwe.Kbps, 1},
			{100, 2200 * bwe.Kbps, 1},
			{2099, 2200 * bwe.Kbps, 1},
			{2100, 2200 * bwe.Kbps, 2},
			{2200, 1999 * bwe.Kbps, 1}, // down at once
			{2300, 400 * bwe.Kbps, 0},
		}},
		{"hold restarts after a dip", []rstep{
			{0, 1050 * bwe.Kbps, 1},
			{100, 2300 * bwe.Kbps, 1},
			{1500, 2100 * bwe.Kbps, 1},
			{1600, 2300 * bwe.Kbps, 1},
			{3599, 2300 * bwe.Kbps, 1},
			{3600, 2300 * bwe.Kbps, 2},
		}},
		{"jump two rungs", []rstep{
			{0, 100 * bwe.Kbps, 0},
			{100, 2500 * bwe.Kbps, 0},
			{2100, 2500 * bwe.Kbps, 2},
		}},
		{"jump one when the higher was not held", []rstep{
			{0, 100 * bwe.Kbps, 0},
			{100, 1200 * bwe.Kbps, 0},
			{1000, 2500 * bwe.Kbps, 0},
			{2100, 2500 * bwe.Kbps, 1},
			{4099, 2500 * bwe.Kbps, 1},
			{4100, 2500 * bwe.Kbps, 2},
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := mustNew(t, Config{Sharp: true, Rungs: rungs})
			for i, s := range tt.steps {
				c.Update(bwe.RateInput{Time: ms(s.at), Estimate: s.est})
				if got := c.State().Rung; got != s.rung {
					t.Fatalf("step %d (t=%d ms): Update(%v): rung %d, want %d", i, s.at, s.est, got, s.rung)
				}
			}
		})
	}
}

func TestMinClamp(t *testing.T) {
	min3 := 300 * bwe.Kbps
	c := mustNew(t, Config{Min: min3, Max: bwe.Mbps})
	runSteps(t, c, []step{
		{at: 0, est: 100 * bwe.Kbps, want: min3, reason: ReasonMin},
		{at: 100, est: 0, want: min3, reason: ReasonMin},
		{at: 200, est: -5 * bwe.Mbps, want: min3, reason: ReasonMin},
		{at: 300, est: 50 * bwe.Kbps, sig: bwe.Signals{Congested: true}, want: min3, reason: ReasonCongestion},
		{at: 1400, est: 50 * bwe.Kbps, want: min3, reason: ReasonMin},
		{at: 1500, est: 5 * bwe.Mbps, want: min3, reason: ReasonRampUp},
		{at: 1750, est: 5 * bwe.Mbps, want: min3 + bwe.Bitrate(math.Round(700e3*(1-math.Exp(-0.25)))), reason: ReasonRampUp},
	})
}

func TestHeadroom(t *testing.T) {
	c := mustNew(t, Config{Sharp: true, Headroom: 0.1, Smoother: &peakSmoother{}})
	runSteps(t, c, []step{
		{at: 0, est: bwe.Mbps, want: 900 * bwe.Kbps, reason: ReasonFollow},
		{at: 100, est: 500 * bwe.Kbps, sig: bwe.Signals{Congested: true}, want: 450 * bwe.Kbps, reason: ReasonCongestion},
	})
	if got := c.State().Smoothed; got != bwe.Mbps {
		t.Fatalf("Smoothed = %v, want 1 Mbps (before headroom)", got)
	}
}

func TestBackwardsTime(t *testing.T) {
	sm := &peakSmoother{}
	c := mustNew(t, Config{Sharp: true, Smoother: sm})
	runSteps(t, c, []step{
		{at: 1000, est: bwe.Mbps, sig: bwe.Signals{Congested: true}, want: bwe.Mbps, reason: ReasonCongestion},
		// A time before the congestion cannot shorten its hold.
		{at: -5000, est: 2 * bwe.Mbps, want: bwe.Mbps, reason: ReasonCongestion},
		{at: 1999, est: 2 * bwe.Mbps, want: bwe.Mbps, reason: ReasonCongestion},
		{at: 2000, est: 2 * bwe.Mbps, want: 2 * bwe.Mbps, reason: ReasonFollow},
	})
	if st := c.State(); st.Reordered != 1 || sm.back != 0 {
		t.Fatalf("Reordered = %d, smoother saw %d backwards times; want 1 and 0", st.Reordered, sm.back)
	}
}

func TestReset(t *testing.T) {
	rungs := []Rung{{Bitrate: 500 * bwe.Kbps}, {Bitrate: 2 * bwe.Mbps}}
	script := func(c *Controller) []State {
		var out []State
		for at := 0; at <= 12000; at += 100 {
			in := bwe.RateInput{Time: ms(at), Estimate: 3 * bwe.Mbps}
			if at == 6000 {
				in.Signals.Loss = 0.2
			}
			c.Update(in)
			out = append(out, c.State())
		}
		return out
	}
	sm := &peakSmoother{}
	c := mustNew(t, Config{Max: 2 * bwe.Mbps, Rungs: rungs, Smoother: sm})
	first := script(c)
	if st := c.State(); st.Rung != 1 || !st.Beyond || st.Target <= 2*bwe.Mbps {
		t.Fatalf("before Reset: State() = %+v", st)
	}
	c.Reset()
	if st := c.State(); st != (State{Rung: -1, Cap: 2 * bwe.Mbps}) {
		t.Fatalf("after Reset: State() = %+v", st)
	}
	if sm.resets != 1 {
		t.Fatalf("smoother resets = %d, want 1", sm.resets)
	}
	second := script(c)
	for i := range first {
		if first[i] != second[i] {
			t.Fatalf("step %d after Reset: State() = %+v, want %+v", i, second[i], first[i])
		}
	}
}

func TestReasonString(t *testing.T) {
	for r, want := range map[Reason]string{
		ReasonFollow: "follow", ReasonRampUp: "rampUp", ReasonHold: "hold",
		ReasonCongestion: "congestion", ReasonBeyond: "beyond", ReasonMin: "min", ReasonMax: "max",
		ReasonProtect: "protect", Reason(200): "Reason(200)", Reason(8): "Reason(8)",
	} {
		if got := r.String(); got != want {
			t.Errorf("Reason(%d).String() = %q, want %q", uint8(r), got, want)
		}
	}
}

func allocInputs() []bwe.RateInput {
	r := rand.New(rand.NewPCG(3, 4))
	in := make([]bwe.RateInput, 4096)
	at := bwe.Time(0)
	for i := range in {
		at = at.Add(time.Duration(20+r.IntN(80)) * time.Millisecond)
		in[i] = bwe.RateInput{Time: at, Estimate: bwe.Bitrate(500e3 + r.Float64()*3e6)}
		if r.IntN(50) == 0 {
			in[i].Signals.Loss = 0.15
		}
	}
	return in
}

func TestUpdateAllocs(t *testing.T) {
	rungs := []Rung{{Bitrate: 300 * bwe.Kbps}, {Bitrate: bwe.Mbps}, {Bitrate: 2 * bwe.Mbps}}
	for _, tt := range []struct {
		name string
		cfg  Config
	}{
		{"plain", Config{Max: 2 * bwe.Mbps}},
		{"smoother and rungs", Config{Max: 2 * bwe.Mbps, Rungs: rungs, Smoother: &peakSmoother{}}},
	} {
		c := mustNew(t, tt.cfg)
		in := allocInputs()
		for _, x := range in[:100] {
			c.Update(x)
		}
		i := 100
		allocs := testing.AllocsPerRun(1000, func() {
			c.Update(in[i%len(in)])
			_ = c.State()
			i++
		})
		if allocs != 0 {
			t.Errorf("%s: Update allocates %v times per call, want 0", tt.name, allocs)
		}
	}
}

func BenchmarkUpdate(b *testing.B) {
	rungs := []Rung{{Bitrate: 300 * bwe.Kbps}, {Bitrate: 700 * bwe.Kbps}, {Bitrate: 1200 * bwe.Kbps}, {Bitrate: 2 * bwe.Mbps}}
	for _, bb := range []struct {
		name string
		cfg  Config
	}{
		{"plain", Config{Max: 2 * bwe.Mbps}},
		{"rungs", Config{Max: 2 * bwe.Mbps, Rungs: rungs}},
		{"rungs+smoother", Config{Max: 2 * bwe.Mbps, Rungs: rungs, Smoother: &peakSmoother{}}},
	} {
		b.Run(bb.name, func(b *testing.B) {
			c := mustNew(b, bb.cfg)
			in := allocInputs()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				c.Update(in[i&(len(in)-1)])
				i++
			}
		})
	}
}

// TestProtection scripts a predicted lossy period: the controller reserves
// its share for redundancy while the risk is high and for Linger after,
// holds increases if asked, and ignores a NaN risk.
func TestProtection(t *testing.T) {
	c, err := New(Config{Sharp: true, Protect: Protection{Threshold: 0.5, Reserve: 0.25, Linger: 2 * time.Second, HoldIncreases: true}})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		at     time.Duration
		est    bwe.Bitrate
		risk   float64
		want   bwe.Bitrate // what Update returns: the media target
		target bwe.Bitrate
		share  float64
		reason Reason
	}{
		{0, bwe.Mbps, 0, bwe.Mbps, bwe.Mbps, 0, ReasonFollow},
		{time.Second, bwe.Mbps, 0.6, 750 * bwe.Kbps, bwe.Mbps, 0.25, ReasonFollow},
		// Increases are held while protecting.
		{1500 * time.Millisecond, 2 * bwe.Mbps, 0.2, 750 * bwe.Kbps, bwe.Mbps, 0.25, ReasonProtect},
		// Decreases are not.
		{2 * time.Second, 800 * bwe.Kbps, 0.9, 600 * bwe.Kbps, 800 * bwe.Kbps, 0.25, ReasonFollow},
		{3999 * time.Millisecond, 2 * bwe.Mbps, math.NaN(), 600 * bwe.Kbps, 800 * bwe.Kbps, 0.25, ReasonProtect},
		// Linger over: 2 s after the last high risk.
		{4 * time.Second, 2 * bwe.Mbps, 0, 2 * bwe.Mbps, 2 * bwe.Mbps, 0, ReasonFollow},
		{5 * time.Second, 2 * bwe.Mbps, math.NaN(), 2 * bwe.Mbps, 2 * bwe.Mbps, 0, ReasonFollow},
	}
	for i, st := range steps {
		got := c.Update(bwe.RateInput{Time: bwe.TimeFromDuration(st.at), Estimate: st.est, Signals: bwe.Signals{LossRisk: st.risk}})
		s := c.State()
		if got != st.want || s.Target != st.target || s.Protection != st.share || s.Media != got || s.Reason != st.reason {
			t.Errorf("step %d at %v: Update = %v, State = target %v protection %v media %v reason %v; want %v, target %v protection %v reason %v",
				i, st.at, got, s.Target, s.Protection, s.Media, s.Reason, st.want, st.target, st.share, st.reason)
		}
	}
	off, err := New(Config{Sharp: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := off.Update(bwe.RateInput{Estimate: bwe.Mbps, Signals: bwe.Signals{LossRisk: 1}}); got != bwe.Mbps || off.Protection() != 0 {
		t.Errorf("without Protect: Update = %v, protection %v", got, off.Protection())
	}
	for _, bad := range []Protection{{Threshold: 1.5}, {Threshold: 0.5, Reserve: 0.6}, {Threshold: 0.5, Linger: -time.Second}, {Threshold: math.NaN()}} {
		if _, err := New(Config{Protect: bad}); err == nil || !strings.Contains(err.Error(), "Config.Protect.") {
			t.Errorf("New with Protect %+v: error %v, want one naming the field", bad, err)
		}
	}
}
