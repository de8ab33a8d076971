package delaybased

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// kInitialTime of libwebrtc aimd_rate_control_unittest.cc: 123 456 ms.
const aimdInitialTime = bwe.Time(123_456 * 1000)

// kFractionAfterOveruse of libwebrtc aimd_rate_control_unittest.cc.
const fractionAfterOveruse = 0.85

// aimdHarness drives an AIMD through a scripted timeline with scenario
// verbs, numbering the steps so that a failure names the call that caused
// it.
type aimdHarness struct {
	t    *testing.T
	a    *AIMD
	now  bwe.Time
	step int
	last string
}

func newAIMDHarness(t *testing.T, cfg AIMDConfig) *aimdHarness {
	t.Helper()
	a, err := NewAIMD(cfg)
	if err != nil {
		t.Fatalf("NewAIMD: %v", err)
	}
	return &aimdHarness{t: t, a: a, now: aimdInitialTime}
}

func (h *aimdHarness) did(s string) {
	h.step++
	h.last = s + " at " + h.now.String()
}

func (h *aimdHarness) advance(d time.Duration) { h.now = h.now.Add(d) }

func (h *aimdHarness) setEstimate(r bwe.Bitrate) {
	h.a.SetEstimate(h.now, r)
	h.did("SetEstimate(" + r.String() + ")")
}

func (h *aimdHarness) setStart(r bwe.Bitrate) {
	h.a.SetStartBitrate(r)
	h.did("SetStartBitrate(" + r.String() + ")")
}

func (h *aimdHarness) setRTT(rtt time.Duration) {
	h.a.SetRTT(rtt)
	h.did("SetRTT(" + rtt.String() + ")")
}

func (h *aimdHarness) setALR(v bool) {
	h.a.SetInALR(v)
	h.did("SetInALR(" + map[bool]string{true: "true", false: "false"}[v] + ")")
}

func (h *aimdHarness) setNetwork(lower, upper bwe.Bitrate) {
	h.a.SetNetworkEstimate(lower, upper)
	h.did("SetNetworkEstimate(" + lower.String() + ", " + upper.String() + ")")
}

func (h *aimdHarness) update(u bwe.Usage, thr bwe.Bitrate) bwe.Bitrate {
	r := h.a.Update(h.now, u, thr, true)
	h.did("Update(" + u.String() + ", " + thr.String() + ")")
	return r
}

func (h *aimdHarness) updateNoThroughput(u bwe.Usage) bwe.Bitrate {
	r := h.a.Update(h.now, u, 0, false)
	h.did("Update(" + u.String() + ", no throughput)")
	return r
}

func (h *aimdHarness) fail(what string, got, want any, source string) {
	h.t.Helper()
	h.t.Errorf("step %d: after %s: %s = %v, want %v (%s)", h.step, h.last, what, got, want, source)
}

func (h *aimdHarness) wantEstimate(want bwe.Bitrate, source string) {
	h.t.Helper()
	if got := h.a.Estimate(); got != want {
		h.fail("Estimate()", int64(got), int64(want), source)
	}
}

func (h *aimdHarness) wantNearMax(want bwe.Bitrate, tol bwe.Bitrate, source string) {
	h.t.Helper()
	if got := h.a.NearMaxIncreaseRate(); got < want-tol || got > want+tol {
		h.fail("NearMaxIncreaseRate()", int64(got), formatTol(want, tol), source)
	}
}

func (h *aimdHarness) wantPeriod(want time.Duration, source string) {
	h.t.Helper()
	if got := h.a.ExpectedPeriod(); got != want {
		h.fail("ExpectedPeriod()", got, want, source)
	}
}

func formatTol(want, tol bwe.Bitrate) string {
	if tol == 0 {
		return bwe.Bitrate(want).String()
	}
	return want.String() + " ± " + tol.String()
}

// TestAIMDConformance reproduces every case of libwebrtc
// aimd_rate_control_unittest.cc (at the snapshot named in
// gcc-libwebrtc.md §0) with its expected values.
func TestAIMDConformance(t *testing.T) {
	alrCfg := DefaultAIMDConfig()
	alrCfg.NoIncreaseInALR = true // WebRTC-DontIncreaseDelayBasedBweInAlr/Enabled/
	cases := []struct {
		name   string // libwebrtc AimdRateControlTest case
		cfg    AIMDConfig
		script func(h *aimdHarness)
	}{
		{"MinNearMaxIncreaseRateOnLowBandwith", AIMDConfig{}, func(h *aimdHarness) {
			h.setEstimate(30_000)
			h.wantNearMax(4000, 0, "MinNearMaxIncreaseRateOnLowBandwith: 4000")
		}},
		{"NearMaxIncreaseRateIs5kbpsOn90kbpsAnd200msRtt", AIMDConfig{}, func(h *aimdHarness) {
			h.setEstimate(90_000)
			h.wantNearMax(5000, 0, "NearMaxIncreaseRateIs5kbpsOn90kbpsAnd200msRtt: 5000")
		}},
		{"NearMaxIncreaseRateIs5kbpsOn60kbpsAnd100msRtt", AIMDConfig{}, func(h *aimdHarness) {
			h.setEstimate(60_000)
			h.setRTT(100 * time.Millisecond)
			h.wantNearMax(5000, 0, "NearMaxIncreaseRateIs5kbpsOn60kbpsAnd100msRtt: 5000")
		}},
		{"GetIncreaseRateAndBandwidthPeriod", AIMDConfig{}, func(h *aimdHarness) {
			h.setEstimate(300_000)
			h.update(bwe.Overusing, 300_000)
			h.wantNearMax(14_000, 1000, "GetIncreaseRateAndBandwidthPeriod: 14000±1000")
			h.wantPeriod(3*time.Second, "GetIncreaseRateAndBandwidthPeriod: kDefaultPeriod 3 s")
		}},
		{"BweLimitedByAckedBitrate", AIMDConfig{}, func(h *aimdHarness) {
			const acked = 10_000
			h.setEstimate(acked)
			for h.now.Sub(aimdInitialTime) < 20*time.Second {
				h.update(bwe.Normal, acked)
				h.advance(100 * time.Millisecond)
			}
			if !h.a.Valid() {
				h.fail("Valid()", false, true, "BweLimitedByAckedBitrate")
			}
			h.wantEstimate(bwe.Bitrate(acked).Scale(1.5)+10_000, "BweLimitedByAckedBitrate: 1.5·10 kbps + 10 kbps = 25000")
		}},
		{"BweNotLimitedByDecreasingAckedBitrate", AIMDConfig{}, func(h *aimdHarness) {
			const acked = 10_000
			h.setEstimate(acked)
			for h.now.Sub(aimdInitialTime) < 20*time.Second {
				h.update(bwe.Normal, acked)
				h.advance(100 * time.Millisecond)
			}
			prev := h.a.Estimate()
			h.update(bwe.Normal, acked/2)
			h.wantEstimate(prev, "BweNotLimitedByDecreasingAckedBitrate: unchanged")
			if got, want := h.a.Estimate(), bwe.Bitrate(25_000); got < want-2000 || got > want+2000 {
				h.fail("Estimate()", int64(got), formatTol(want, 2000), "BweNotLimitedByDecreasingAckedBitrate: 25000±2000")
			}
		}},
		{"DefaultPeriodUntilFirstOveruse", AIMDConfig{}, func(h *aimdHarness) {
			h.setStart(300 * bwe.Kbps)
			h.wantPeriod(3*time.Second, "DefaultPeriodUntilFirstOveruse: kDefaultPeriod 3 s")
			h.update(bwe.Overusing, 280*bwe.Kbps)
			if got := h.a.ExpectedPeriod(); got == 3*time.Second {
				h.fail("ExpectedPeriod()", got, "≠ 3s", "DefaultPeriodUntilFirstOveruse")
			}
		}},
		{"ExpectedPeriodAfterTypicalDrop", AIMDConfig{}, func(h *aimdHarness) {
			// (216 kbps + 5 kbps) / 0.85, rounded as DataRate/double: 260 kbps.
			acked := bwe.Bitrate(math.Round(float64(216_000+5_000) / fractionAfterOveruse))
			h.setEstimate(264_000)
			h.advance(100 * time.Millisecond)
			h.update(bwe.Overusing, acked)
			h.wantEstimate(216_000, "ExpectedPeriodAfterTypicalDrop: 216000")
			h.wantNearMax(12_000, 0, "ExpectedPeriodAfterTypicalDrop: 12000")
			h.wantPeriod(4*time.Second, "ExpectedPeriodAfterTypicalDrop: 4 s")
		}},
		{"BandwidthPeriodIsNotBelowMin", AIMDConfig{}, func(h *aimdHarness) {
			h.setEstimate(10_000)
			h.advance(100 * time.Millisecond)
			h.update(bwe.Overusing, 10_000-1)
			h.wantPeriod(2*time.Second, "BandwidthPeriodIsNotBelowMin: kMinBwePeriod 2 s")
		}},
		{"BandwidthPeriodIsNotAboveMaxNoSmoothingExp", AIMDConfig{}, func(h *aimdHarness) {
			h.setEstimate(10_010_000)
			h.advance(100 * time.Millisecond)
			h.update(bwe.Overusing, bwe.Bitrate(math.Round(10_000/fractionAfterOveruse)))
			h.wantPeriod(50*time.Second, "BandwidthPeriodIsNotAboveMaxNoSmoothingExp: kMaxBwePeriod 50 s")
		}},
		{"SendingRateBoundedWhenThroughputNotEstimated", AIMDConfig{}, func(h *aimdHarness) {
			const initial = 123_000
			h.update(bwe.Normal, initial)
			h.advance(5*time.Second + time.Millisecond) // kInitializationTime + 1 ms
			h.update(bwe.Normal, initial)
			if !h.a.Valid() {
				h.fail("Valid()", false, true, "SendingRateBoundedWhenThroughputNotEstimated: initialised after 5 s")
			}
			for range 100 {
				h.updateNoThroughput(bwe.Normal)
				h.advance(100 * time.Millisecond)
			}
			if got, limit := h.a.Estimate(), bwe.Bitrate(initial).Scale(1.5)+10_000; got > limit {
				h.fail("Estimate()", int64(got), "≤ 194500", "SendingRateBoundedWhenThroughputNotEstimated: ≤ 1.5·123 kbps + 10 kbps")
			}
		}},
		{"EstimateDoesNotIncreaseInAlr", alrCfg, func(h *aimdHarness) {
			const initial = 123_000
			h.setEstimate(initial)
			h.setALR(true)
			h.update(bwe.Normal, initial)
			h.wantEstimate(initial, "EstimateDoesNotIncreaseInAlr: 123000")
			for range 100 {
				h.updateNoThroughput(bwe.Normal)
				h.advance(100 * time.Millisecond)
			}
			h.wantEstimate(initial, "EstimateDoesNotIncreaseInAlr: 123000")
		}},
		{"SetEstimateIncreaseBweInAlr", alrCfg, func(h *aimdHarness) {
			const initial = 123_000
			h.setEstimate(initial)
			h.setALR(true)
			h.wantEstimate(initial, "SetEstimateIncreaseBweInAlr: 123000")
			h.setEstimate(2 * initial)
			h.wantEstimate(2*initial, "SetEstimateIncreaseBweInAlr: 246000")
		}},
		{"SetEstimateUpperLimitedByNetworkEstimate", AIMDConfig{}, func(h *aimdHarness) {
			h.setEstimate(300_000)
			h.setNetwork(0, 400_000)
			h.setEstimate(500_000)
			h.wantEstimate(400_000, "SetEstimateUpperLimitedByNetworkEstimate: 400000")
		}},
		{"SetEstimateDefaultUpperLimitedByCurrentBitrateIfNetworkEstimateIsLow", AIMDConfig{}, func(h *aimdHarness) {
			h.setEstimate(500_000)
			h.wantEstimate(500_000, "SetEstimateDefaultUpperLimitedByCurrentBitrateIfNetworkEstimateIsLow: 500000")
			h.setNetwork(0, 300_000)
			h.setEstimate(700_000)
			h.wantEstimate(500_000, "SetEstimateDefaultUpperLimitedByCurrentBitrateIfNetworkEstimateIsLow: 500000")
		}},
		{"SetEstimateNotUpperLimitedByCurrentBitrateIfNetworkEstimateIsLowIf", AIMDConfig{NoCurrentUpperBound: true}, func(h *aimdHarness) {
			h.setEstimate(500_000)
			h.wantEstimate(500_000, "SetEstimateNotUpperLimitedByCurrentBitrateIfNetworkEstimateIsLowIf: 500000")
			h.setNetwork(0, 300_000)
			h.setEstimate(700_000)
			h.wantEstimate(300_000, "SetEstimateNotUpperLimitedByCurrentBitrateIfNetworkEstimateIsLowIf (c_upper:false): 300000")
		}},
		{"SetEstimateLowerLimitedByNetworkEstimate", AIMDConfig{}, func(h *aimdHarness) {
			h.setNetwork(400_000, 0)
			h.setEstimate(100_000)
			h.wantEstimate(340_000, "SetEstimateLowerLimitedByNetworkEstimate: 0.85·400 kbps = 340000")
		}},
		{"SetEstimateIgnoredIfLowerThanNetworkEstimateAndCurrent", AIMDConfig{}, func(h *aimdHarness) {
			h.setEstimate(200 * bwe.Kbps)
			h.wantEstimate(200*bwe.Kbps, "SetEstimateIgnoredIfLowerThanNetworkEstimateAndCurrent: 200 kbps")
			h.setNetwork(400*bwe.Kbps, 0)
			h.setEstimate(100 * bwe.Kbps)
			h.wantEstimate(200*bwe.Kbps, "SetEstimateIgnoredIfLowerThanNetworkEstimateAndCurrent: 200 kbps")
		}},
		{"EstimateIncreaseWhileNotInAlr", alrCfg, func(h *aimdHarness) {
			const initial = 123_000
			h.setEstimate(initial)
			h.setALR(false)
			h.update(bwe.Normal, initial)
			for range 100 {
				h.updateNoThroughput(bwe.Normal)
				h.advance(100 * time.Millisecond)
			}
			if got := h.a.Estimate(); got <= initial {
				h.fail("Estimate()", int64(got), "> 123000", "EstimateIncreaseWhileNotInAlr")
			}
		}},
		{"EstimateNotLimitedByNetworkEstimateIfDisabled", AIMDConfig{NetworkEstimateUnbounded: true}, func(h *aimdHarness) {
			h.setEstimate(123_000)
			h.setALR(false)
			h.setNetwork(0, 150*bwe.Kbps)
			for range 100 {
				h.updateNoThroughput(bwe.Normal)
				h.advance(100 * time.Millisecond)
			}
			if got := h.a.Estimate(); got <= 150*bwe.Kbps {
				h.fail("Estimate()", int64(got), "> 150000", "EstimateNotLimitedByNetworkEstimateIfDisabled (WebRTC-Bwe-EstimateBoundedIncrease/Disabled/)")
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.script(newAIMDHarness(t, c.cfg)) })
	}
}

// TestAIMDNetworkEstimateBoundsIncrease is the counterpart of
// EstimateNotLimitedByNetworkEstimateIfDisabled with the default
// configuration: the increase stops at the network estimate's upper bound.
func TestAIMDNetworkEstimateBoundsIncrease(t *testing.T) {
	h := newAIMDHarness(t, AIMDConfig{})
	h.setEstimate(123_000)
	h.setNetwork(0, 150*bwe.Kbps)
	for range 100 {
		h.updateNoThroughput(bwe.Normal)
		h.advance(100 * time.Millisecond)
	}
	h.wantEstimate(150*bwe.Kbps, "bounded by link_capacity_upper (WebRTC-Bwe-EstimateBoundedIncrease default)")
}

// TestAIMDStepByStep checks single steps against values computed by hand
// from the formulas of aimd_rate_control.cc, so that each rounding rule is
// pinned down on its own.
func TestAIMDStepByStep(t *testing.T) {
	h := newAIMDHarness(t, AIMDConfig{})
	if h.a.Valid() || h.a.Estimate() != 30*bwe.Mbps || h.a.State() != Hold {
		t.Fatalf("new AIMD: Valid=%v Estimate=%v State=%v, want false, 30 Mbps, hold",
			h.a.Valid(), h.a.Estimate(), h.a.State())
	}
	// Not initialised: a normal signal changes nothing, even with throughput.
	h.update(bwe.Normal, 400_000)
	h.wantEstimate(30*bwe.Mbps, "no change before initialisation")

	// Overuse initialises: 0.85·400000 − 5000 = 335000.
	h.advance(time.Second)
	h.update(bwe.Overusing, 400_000)
	h.wantEstimate(335_000, "0.85·400000 − 5000")
	if !h.a.Valid() || h.a.State() != Hold {
		t.Errorf("after overuse: Valid=%v State=%v, want true, hold", h.a.Valid(), h.a.State())
	}
	// The first decrease happened before initialisation: no last decrease.
	h.wantPeriod(3*time.Second, "no last_decrease before initialisation")
	lc := h.a.LinkCapacity()
	if got := lc.Estimate(); got != 400_000 {
		t.Errorf("LinkCapacity().Estimate() = %v, want 400 kbps (first overuse sample)", got)
	}

	// Normal: Hold → Increase with Δt = 0. Link capacity known and
	// 400 kbps inside its band: additive, NearMax·0 = 0.
	h.update(bwe.Normal, 400_000)
	h.wantEstimate(335_000, "additive increase over Δt = 0")
	if h.a.State() != Increase {
		t.Errorf("state = %v, want increase", h.a.State())
	}
	// Near-max at 335000: frame = round(335000·33333/8e6) = round(1395.82) =
	// 1396 B; 2 packets of 698 B; 698·8e6/600000 = 9306 bps/s.
	h.wantNearMax(9306, 0, "1396 B frame in 2 packets, 600 ms response")
	// Δt = 250 ms: 9306·0.25 = 2326.5 → truncated 2326.
	h.advance(250 * time.Millisecond)
	h.update(bwe.Normal, 400_000)
	h.wantEstimate(335_000+2326, "additive: trunc(9306·0.25)")

	// Underuse: hold.
	h.advance(100 * time.Millisecond)
	h.update(bwe.Underusing, 400_000)
	h.wantEstimate(337_326, "hold on underuse")
	if h.a.State() != Hold {
		t.Errorf("state = %v, want hold", h.a.State())
	}

	// A throughput far above the band resets the link capacity: back to
	// multiplicative. Hold → Increase at Δt = 0: max(0, 1000) = 1000.
	h.advance(100 * time.Millisecond)
	h.update(bwe.Normal, 2_000_000)
	h.wantEstimate(338_326, "multiplicative floor 1000 bps")
	if h.a.LinkCapacity().HasEstimate() {
		t.Errorf("link capacity kept after throughput above its upper bound")
	}
	// Δt = 2 s, capped at 1 s: round(338326·0.08) = 27066.
	h.advance(2 * time.Second)
	h.update(bwe.Normal, 2_000_000)
	h.wantEstimate(338_326+27_066, "multiplicative: round(338326·(1.08−1))")

	// Overuse with throughput 300 kbps: 0.85·300000 − 5000 = 250000,
	// last decrease 365392 − 250000 = 115392.
	h.advance(50 * time.Millisecond)
	h.update(bwe.Overusing, 300_000)
	h.wantEstimate(250_000, "0.85·300000 − 5000")
	if got, ok := h.a.LastDecrease(); !ok || got != 115_392 {
		t.Errorf("LastDecrease() = %v, %v, want 115392, true", got, ok)
	}
	// near-max at 250000: 1042 B · 8e6 / 600000 = 13893; 115392/13893 s =
	// 8.305765493413950 s, truncated to µs.
	h.wantNearMax(13_893, 0, "1042 B frame, 600 ms response")
	h.wantPeriod(8_305_765*time.Microsecond, "last_decrease / near-max")

	// Overuse with throughput above the rate: 0.85·510000 − 5000 = 428500
	// exceeds the rate and the link capacity (reset in the step before,
	// then set to 300 kbps) is known, so the candidate is 0.85·300000 =
	// 255000, which is not below 250000: no change.
	h.advance(50 * time.Millisecond)
	h.update(bwe.Overusing, 510_000)
	h.wantEstimate(250_000, "no increase on overuse")

	// Minimum: a throughput of 1 kbps backs off to 850 bps, floored at 5 kbps.
	h.advance(time.Second)
	h.update(bwe.Overusing, 1000)
	h.wantEstimate(5000, "floor at MinBitrate")
}

// TestAIMDAdditiveIncreaseRounding pins libwebrtc's conversion of the
// elapsed time: TimeDelta::seconds<double>() multiplies whole microseconds
// by 1e-6 (not divides by 1e6), and the increase is truncated. At 12 kbps/s
// over 7 ms that gives 12000·(7000·1e-6) = 83.99999999999999 → 83 bps,
// where exact arithmetic would give 84.
func TestAIMDAdditiveIncreaseRounding(t *testing.T) {
	h := newAIMDHarness(t, AIMDConfig{})
	h.setEstimate(264_000)
	h.advance(100 * time.Millisecond)
	h.update(bwe.Overusing, 260_000) // → 216000, link capacity 260 kbps
	h.wantEstimate(216_000, "ExpectedPeriodAfterTypicalDrop setup")
	h.update(bwe.Normal, 260_000) // Hold → Increase, Δt = 0
	h.wantNearMax(12_000, 0, "near-max at 216 kbps")
	steps := []struct {
		dt   time.Duration
		want bwe.Bitrate
	}{
		{7 * time.Millisecond, 216_083},   // trunc(83.99999999999999)
		{10 * time.Millisecond, 216_203},  // trunc(12000·0.01) = 120
		{17 * time.Millisecond, 216_407},  // near-max at 216203 is 12013 (901 B frames): trunc(204.221) = 204
		{250 * time.Millisecond, 219_413}, // near-max at 216407 is 12026 (902 B frames): trunc(3006.5) = 3006
	}
	for _, s := range steps {
		h.advance(s.dt)
		h.update(bwe.Normal, 260_000)
		h.wantEstimate(s.want, "additive increase, TimeDelta::seconds<double> rounding")
	}
}

func TestAIMDTimeToReduceFurther(t *testing.T) {
	a, _ := NewAIMD(AIMDConfig{})
	t0 := aimdInitialTime
	if !a.TimeToReduceFurther(t0, 0) {
		t.Errorf("TimeToReduceFurther before any change = false, want true")
	}
	if a.InitialTimeToReduceFurther(t0) {
		t.Errorf("InitialTimeToReduceFurther without a valid estimate = true, want false")
	}
	a.SetEstimate(t0, 400_000)
	a.SetRTT(50 * time.Millisecond)
	steps := []struct {
		dt   time.Duration
		thr  bwe.Bitrate
		want bool
	}{
		{49 * time.Millisecond, 200_000, false}, // within the RTT, not below half
		{49 * time.Millisecond, 199_999, true},  // below 0.5·estimate
		{50 * time.Millisecond, 400_000, true},  // one RTT later
	}
	for i, s := range steps {
		if got := a.TimeToReduceFurther(t0.Add(s.dt), s.thr); got != s.want {
			t.Errorf("step %d: TimeToReduceFurther(t0+%v, %v) = %v, want %v", i, s.dt, s.thr, got, s.want)
		}
	}
	if !a.InitialTimeToReduceFurther(t0) {
		t.Errorf("InitialTimeToReduceFurther with a valid estimate = false, want true")
	}
	// The RTT is clamped to [10 ms, 200 ms].
	for _, c := range []struct {
		rtt, dt time.Duration
		want    bool
	}{
		{time.Millisecond, 9 * time.Millisecond, false},
		{time.Millisecond, 10 * time.Millisecond, true},
		{time.Second, 199 * time.Millisecond, false},
		{time.Second, 200 * time.Millisecond, true},
		{-time.Second, 10 * time.Millisecond, true},
	} {
		a.SetRTT(c.rtt)
		if got := a.TimeToReduceFurther(t0.Add(c.dt), 400_000); got != c.want {
			t.Errorf("RTT %v: TimeToReduceFurther(t0+%v) = %v, want %v", c.rtt, c.dt, got, c.want)
		}
	}
}

func TestAIMDConfig(t *testing.T) {
	c, err := AIMDConfig{}.withDefaults()
	if err != nil || c != DefaultAIMDConfig() {
		t.Errorf("zero AIMDConfig resolves to %+v, %v, want DefaultAIMDConfig() %+v", c, err, DefaultAIMDConfig())
	}
	bad := []struct {
		cfg   AIMDConfig
		field string
	}{
		{AIMDConfig{MinBitrate: -1}, "MinBitrate"},
		{AIMDConfig{MaxBitrate: -1}, "MaxBitrate"},
		{AIMDConfig{MinBitrate: 2 * bwe.Mbps, MaxBitrate: bwe.Mbps}, "MinBitrate"},
		{AIMDConfig{Beta: 1}, "Beta"},
		{AIMDConfig{Beta: -0.5}, "Beta"},
		{AIMDConfig{Beta: math.NaN()}, "Beta"},
		{AIMDConfig{InitialRTT: -time.Millisecond}, "InitialRTT"},
	}
	for _, b := range bad {
		_, err := NewAIMD(b.cfg)
		if err == nil || !strings.Contains(err.Error(), b.field) {
			t.Errorf("NewAIMD(%+v) error = %v, want one naming %s", b.cfg, err, b.field)
		}
	}
	for _, s := range []struct {
		s    RateState
		want string
	}{{Hold, "hold"}, {Increase, "increase"}, {Decrease, "decrease"}, {7, "ratestate(7)"}} {
		if got := s.s.String(); got != s.want {
			t.Errorf("RateState(%d).String() = %q, want %q", s.s, got, s.want)
		}
	}
}

// TestAIMDClampsAboveMax documents the one deliberate difference from
// libwebrtc: no path leads above MaxBitrate.
func TestAIMDClampsAboveMax(t *testing.T) {
	h := newAIMDHarness(t, AIMDConfig{MaxBitrate: bwe.Mbps})
	h.wantEstimate(bwe.Mbps, "initial value is MaxBitrate")
	h.setEstimate(5 * bwe.Mbps)
	h.wantEstimate(bwe.Mbps, "SetEstimate clamped to MaxBitrate")
	h.setStart(7 * bwe.Mbps)
	h.wantEstimate(bwe.Mbps, "SetStartBitrate clamped to MaxBitrate")
	h.setStart(-7)
	h.wantEstimate(5*bwe.Kbps, "SetStartBitrate clamped to MinBitrate")
	h.setEstimate(900 * bwe.Kbps)
	for range 10 {
		h.advance(time.Second)
		h.update(bwe.Normal, 10*bwe.Mbps)
	}
	h.wantEstimate(bwe.Mbps, "increase clamped to MaxBitrate")
}

func TestAIMDUpdateAllocs(t *testing.T) {
	a, _ := NewAIMD(AIMDConfig{})
	now := aimdInitialTime
	a.SetEstimate(now, 300*bwe.Kbps)
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		now = now.Add(50 * time.Millisecond)
		u := bwe.Normal
		if i%40 == 39 {
			u = bwe.Overusing
		}
		i++
		a.Update(now, u, 400*bwe.Kbps, true)
		_ = a.ExpectedPeriod()
		_ = a.TimeToReduceFurther(now, 300*bwe.Kbps)
	})
	if allocs != 0 {
		t.Errorf("AIMD.Update allocates %v times per call, want 0", allocs)
	}
}

func BenchmarkAIMDUpdate(b *testing.B) {
	a, _ := NewAIMD(AIMDConfig{})
	now := aimdInitialTime
	a.SetEstimate(now, 300*bwe.Kbps)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(50 * time.Millisecond)
		u := bwe.Normal
		if i%40 == 39 {
			u = bwe.Overusing
		}
		i++
		a.Update(now, u, 400*bwe.Kbps, true)
	}
}

// FuzzAIMD decodes the input into a sequence of calls with arbitrary
// times (including going backwards), rates (including 0, negative and
// huge) and RTTs, and checks the invariants the controller guarantees.
func FuzzAIMD(f *testing.F) {
	seed := func(ops ...[]byte) []byte {
		var out []byte
		for _, o := range ops {
			out = append(out, o...)
		}
		return out
	}
	op := func(kind byte, dtMs int16, rate int64) []byte {
		b := make([]byte, 11)
		b[0] = kind
		binary.LittleEndian.PutUint16(b[1:], uint16(dtMs))
		binary.LittleEndian.PutUint64(b[3:], uint64(rate))
		return b
	}
	f.Add(uint8(0), seed(op(1, 0, 300_000), op(0, 100, 280_000), op(2, 100, 300_000), op(0, 100, 300_000)))
	f.Add(uint8(3), seed(op(4, 0, 0), op(0, -5000, -1), op(5, 0, math.MaxInt64), op(6, 10, 1)))
	f.Add(uint8(1), seed(op(7, 5001, 123_000), op(2, 1, 123_000), op(3, -100, math.MinInt64)))
	f.Fuzz(func(t *testing.T, flags uint8, data []byte) {
		cfg := AIMDConfig{
			NoExtraBackoff:           flags&1 != 0,
			NoIncreaseInALR:          flags&2 != 0,
			NetworkEstimateUnbounded: flags&4 != 0,
			NoCurrentUpperBound:      flags&8 != 0,
		}
		if flags&16 != 0 {
			cfg.MinBitrate, cfg.MaxBitrate = 1, bwe.MaxBitrate
		}
		a, err := NewAIMD(cfg)
		if err != nil {
			t.Fatal(err)
		}
		cfg = a.Config()
		now := aimdInitialTime
		for i := 0; len(data) >= 11; i++ {
			kind := data[0]
			dt := time.Duration(int16(binary.LittleEndian.Uint16(data[1:]))) * time.Millisecond
			v := int64(binary.LittleEndian.Uint64(data[3:]))
			data = data[11:]
			now = now.Add(dt)
			r := bwe.Bitrate(v)
			switch kind % 8 {
			case 0:
				a.Update(now, bwe.Overusing, r, true)
			case 1:
				a.SetEstimate(now, r)
			case 2:
				a.Update(now, bwe.Normal, r, true)
			case 3:
				a.Update(now, bwe.Underusing, r, v&1 == 0)
			case 4:
				a.Update(now, bwe.Usage(kind), r, false)
			case 5:
				a.SetRTT(time.Duration(v))
			case 6:
				a.SetInALR(v&1 != 0)
				a.SetNetworkEstimate(bwe.Bitrate(int32(v)), bwe.Bitrate(v>>32))
			case 7:
				a.SetStartBitrate(r)
				_ = a.TimeToReduceFurther(now, r)
				_ = a.InitialTimeToReduceFurther(now)
			}
			if e := a.Estimate(); e < cfg.MinBitrate || e > cfg.MaxBitrate {
				t.Fatalf("op %d: Estimate() = %d, outside [%d, %d]", i, e, cfg.MinBitrate, cfg.MaxBitrate)
			}
			if p := a.ExpectedPeriod(); p < minExpectedPeriod || p > maxExpectedPeriod {
				t.Fatalf("op %d: ExpectedPeriod() = %v, outside [2s, 50s]", i, p)
			}
			if n := a.NearMaxIncreaseRate(); n < minNearMaxIncreaseRate {
				t.Fatalf("op %d: NearMaxIncreaseRate() = %d < 4000", i, n)
			}
			lc := a.LinkCapacity()
			if lo, est, hi := lc.LowerBound(), lc.Estimate(), lc.UpperBound(); lo < 0 || lo > est || est > hi {
				t.Fatalf("op %d: link capacity bounds %d ≤ %d ≤ %d violated", i, lo, est, hi)
			}
			if d := lc.Deviation(); math.IsNaN(d) || d < 0.4 || d > 2.5 {
				t.Fatalf("op %d: link capacity deviation %v outside [0.4, 2.5]", i, d)
			}
		}
	})
}
