package probe

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// Rates of libwebrtc probe_controller_unittest.cc: kMinBitrate = 100 bps,
// kStartBitrate = 300 bps, kMaxBitrate = 10000 bps.
const (
	lwMin   bwe.Bitrate = 100
	lwStart bwe.Bitrate = 300
	lwMax   bwe.Bitrate = 10000
)

// Intervals of the same file: kExponentialProbingTimeout = 5 s,
// kAlrProbeInterval = 5 s, kAlrEndedTimeout = 3 s, kBitrateDropTimeout = 5 s.
const (
	lwExpTimeout   = 5 * time.Second
	lwALRInterval  = 5 * time.Second
	lwALREnded     = 3 * time.Second
	lwDropTimeout  = 5 * time.Second
	lwClockStartUs = 100_000_000 // SimulatedClock(100000000 µs)
)

// ctl drives a Controller through a scripted timeline, like libwebrtc's
// ProbeControllerFixture: a simulated clock starting at 100 s. Every call is
// numbered; every request it returns is checked against the invariants
// (ids consecutive from 1, At = now, positive rate, duration, count, delta).
type ctl struct {
	t      *testing.T
	c      *Controller
	now    bwe.Time
	step   int
	nextID int32
}

func newCtl(t *testing.T, cfg ControllerConfig) *ctl {
	t.Helper()
	c, err := NewController(cfg)
	if err != nil {
		t.Fatalf("NewController: %v", err)
	}
	return &ctl{t: t, c: c, now: lwClockStartUs, nextID: 1}
}

func (f *ctl) advance(d time.Duration) { f.now = f.now.Add(d) }

// result is what one call returned, with the call's description.
type result struct {
	f    *ctl
	call string
	got  []Request
}

func (f *ctl) record(call string, got []Request) result {
	f.t.Helper()
	f.step++
	cp := append([]Request(nil), got...)
	for i, r := range cp {
		if r.ID != f.nextID || r.At != f.now || r.Bitrate <= 0 || r.Duration <= 0 || r.MinProbes <= 0 || r.MinDelta <= 0 {
			f.t.Errorf("step %d: %s: request %d = %+v: want id %d, at %v, positive rate, duration, count and delta",
				f.step, call, i, r, f.nextID, f.now)
		}
		f.nextID = r.ID + 1
	}
	return result{f: f, call: call, got: cp}
}

func (f *ctl) setBitrates(minRate, start, maxRate bwe.Bitrate) result {
	f.t.Helper()
	return f.record("SetBitrates("+minRate.String()+", "+start.String()+", "+maxRate.String()+")",
		f.c.SetBitrates(f.now, minRate, start, maxRate))
}

func (f *ctl) estimate(r bwe.Bitrate, cause Cause) result {
	f.t.Helper()
	return f.record("SetEstimatedBitrate("+r.String()+", "+cause.String()+")", f.c.SetEstimatedBitrate(f.now, r, cause))
}

func (f *ctl) allocated(r bwe.Bitrate) result {
	f.t.Helper()
	return f.record("OnMaxTotalAllocatedBitrate("+r.String()+")", f.c.OnMaxTotalAllocatedBitrate(f.now, r))
}

func (f *ctl) process() result {
	f.t.Helper()
	return f.record("Process("+f.now.String()+")", f.c.Process(f.now))
}

func (f *ctl) requestProbe() result {
	f.t.Helper()
	return f.record("RequestProbe("+f.now.String()+")", f.c.RequestProbe(f.now))
}

func (f *ctl) network(up bool) result {
	f.t.Helper()
	return f.record("SetNetworkAvailable("+strconv.FormatBool(up)+")", f.c.SetNetworkAvailable(f.now, up))
}

func (f *ctl) alrStart() { f.c.SetALRStartTime(f.now, true) }
func (f *ctl) alrStop()  { f.c.SetALRStartTime(0, false) }

func rateList(rs []Request) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = r.Bitrate.String()
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// rates asserts the exact probe rates returned.
func (r result) rates(want ...bwe.Bitrate) result {
	r.f.t.Helper()
	ok := len(r.got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = r.got[i].Bitrate == want[i]
	}
	if !ok {
		w := make([]Request, len(want))
		for i, b := range want {
			w[i].Bitrate = b
		}
		r.f.t.Errorf("step %d: %s = %s, want %s", r.f.step, r.call, rateList(r.got), rateList(w))
	}
	return r
}

// none asserts that no probe was returned.
func (r result) none() result {
	r.f.t.Helper()
	if len(r.got) != 0 {
		r.f.t.Errorf("step %d: %s = %s, want no probe", r.f.step, r.call, rateList(r.got))
	}
	return r
}

// shape asserts every request's duration, min probe count and delta.
func (r result) shape(dur time.Duration, probes int, delta time.Duration) result {
	r.f.t.Helper()
	for i, q := range r.got {
		if q.Duration != dur || q.MinProbes != probes || q.MinDelta != delta {
			r.f.t.Errorf("step %d: %s: request %d has duration %v, %d probes, delta %v; want %v, %d, %v",
				r.f.step, r.call, i, q.Duration, q.MinProbes, q.MinDelta, dur, probes, delta)
		}
	}
	return r
}

func (f *ctl) wantState(s State) {
	f.t.Helper()
	if got := f.c.State(); got != s {
		f.t.Errorf("after step %d: State() = %v, want %v", f.step, got, s)
	}
}

// TestLibwebrtcController replays libwebrtc probe_controller_unittest.cc
// (2024, BandwidthLimitedCause and repeated initial probing) with its
// inputs. Where libwebrtc asserts only a count or a bound, the exact rates
// asserted here follow from its defaults and are stated beside the call.
// Cases that need a NetworkStateEstimate are not replayed (none is modelled).
func TestLibwebrtcController(t *testing.T) {
	def := ControllerConfig{}
	tests := []struct {
		name string
		cfg  ControllerConfig
		run  func(f *ctl)
	}{
		{"InitiatesProbingAfterSetBitrates", def, func(f *ctl) {
			// libwebrtc: at least 2 probes; p1 = 3, p2 = 6.
			f.setBitrates(lwMin, lwStart, lwMax).rates(900, 1800)
			f.wantState(StateWaiting)
		}},
		{"InitiatesProbingWhenNetworkAvailable", def, func(f *ctl) {
			// libwebrtc's controller starts with the network down.
			f.network(false).none()
			f.setBitrates(lwMin, lwStart, lwMax).none()
			f.wantState(StateInit)
			f.network(true).rates(900, 1800)
		}},
		{"SetsDefaultTargetDurationAndTargetProbeCount", def, func(f *ctl) {
			f.setBitrates(lwMin, lwStart, lwMax).rates(900, 1800).shape(15*time.Millisecond, 5, 2*time.Millisecond)
		}},
		{"FieldTrialsOverrideDefaultTargetDurationAndTargetProbeCount",
			ControllerConfig{MinProbePackets: 2, MinProbeDuration: 123 * time.Millisecond}, func(f *ctl) {
				f.setBitrates(lwMin, lwStart, lwMax).rates(900, 1800).shape(123*time.Millisecond, 2, 2*time.Millisecond)
			}},
		{"ProbeOnlyWhenNetworkIsUp", def, func(f *ctl) {
			f.network(false).none()
			f.setBitrates(lwMin, lwStart, lwMax).none()
			f.network(true).rates(900, 1800)
		}},
		{"CanConfigureInitialProbeRateFactor", ControllerConfig{FirstProbeScale: 2, SecondProbeScale: 3}, func(f *ctl) {
			f.setBitrates(lwMin, lwStart, lwMax).rates(600, 900)
		}},
		{"DisableSecondInitialProbeIfRateFactorZero", ControllerConfig{FirstProbeScale: 2, NoSecondProbe: true}, func(f *ctl) {
			f.setBitrates(lwMin, lwStart, lwMax).rates(600)
		}},
		{"InitiatesProbingOnMaxBitrateIncrease", def, func(f *ctl) {
			f.setBitrates(lwMin, lwStart, lwMax)
			f.advance(lwExpTimeout)
			f.estimate(lwStart, CauseDelayBased).none()
			f.process().none()
			f.setBitrates(lwMin, lwStart, lwMax+100).rates(10100)
		}},
		{"ProbesOnMaxAllocatedBitrateIncreaseOnlyWhenInAlr", def, func(f *ctl) {
			f.setBitrates(lwMin, lwStart, lwMax)
			// 9999 > 0.7·1800: a further probe at 19998, capped at 10000.
			f.estimate(lwMax-1, CauseDelayBased).rates(10000)
			f.advance(lwExpTimeout)
			f.process().none()
			f.alrStart()
			// libwebrtc: 2 probes, the first at kMaxBitrate.
			f.allocated(lwMax+1).rates(10000, 10000)
			f.alrStop()
			f.allocated(lwMax + 2).none()
		}},
		{"ProbesOnMaxAllocatedBitrateLimitedByCurrentBwe", ControllerConfig{AllocationCurrentLimit: 1.5}, func(f *ctl) {
			f.setBitrates(lwMin, lwStart, lwMax)
			f.estimate(lwStart, CauseDelayBased).none()
			f.advance(lwExpTimeout)
			f.process().none()
			f.alrStart()
			f.allocated(lwMax).rates(450) // 1.5·kStartBitrate
			f.wantState(StateWaiting)
			// libwebrtc: one probe above 450.
			f.estimate(450, CauseDelayBased).rates(900)
		}},
		{"CanDisableProbingOnMaxTotalAllocatedBitrateIncrease", ControllerConfig{NoAllocationProbing: true}, func(f *ctl) {
			f.setBitrates(lwMin, lwStart, lwMax)
			f.estimate(lwMax-1, CauseDelayBased)
			f.advance(lwExpTimeout)
			f.process().none()
			f.alrStart()
			f.allocated(lwMax + 1).none()
		}},
		{"InitiatesProbingOnMaxBitrateIncreaseAtMaxBitrate", def, func(f *ctl) {
			f.setBitrates(lwMin, lwStart, lwMax)
			f.advance(lwExpTimeout)
			f.estimate(lwStart, CauseDelayBased)
			f.process().none()
			f.estimate(lwMax, CauseDelayBased).none()
			f.setBitrates(lwMin, lwStart, lwMax+100).rates(10100)
		}},
		{"TestExponentialProbing", def, func(f *ctl) {
			f.setBitrates(lwMin, lwStart, lwMax)
			// Further probing needs more than 0.7·6·300 = 1260 bps.
			f.estimate(1000, CauseDelayBased).none()
			f.estimate(1800, CauseDelayBased).rates(3600)
		}},
		{"ExponentialProbingStopIfMaxBitrateLow", ControllerConfig{AbortFurtherProbing: true}, func(f *ctl) {
			f.setBitrates(lwMin, lwStart, lwMax).rates(900, 1800)
			f.setBitrates(lwMin, lwStart, lwStart).none()
			f.estimate(1800, CauseDelayBased).none()
		}},
		{"ExponentialProbingStopIfMaxAllocatedBitrateLow", ControllerConfig{AbortFurtherProbing: true}, func(f *ctl) {
			f.setBitrates(lwMin, lwStart, lwMax).rates(900, 1800)
			f.allocated(lwStart).none()
			f.estimate(1800, CauseDelayBased).none()
		}},
		{"InitialProbingToLowMaxAllocatedbitrate", def, func(f *ctl) {
			f.setBitrates(lwMin, lwStart, lwMax).rates(900, 1800)
			f.allocated(lwStart).none()
			// The further probe is capped at twice the allocation.
			f.estimate(1800, CauseDelayBased).rates(600)
		}},
		{"InitialProbingTimeout", def, func(f *ctl) {
			f.setBitrates(lwMin, lwStart, lwMax).rates(900, 1800)
			f.advance(lwExpTimeout)
			f.process().none()
			f.wantState(StateComplete)
			f.estimate(1800, CauseDelayBased).none()
		}},
		{"RepeatedInitialProbingSendsNewProbeAfterTimeout", def, func(f *ctl) {
			f.c.EnableRepeatedInitialProbing(true)
			f.setBitrates(lwMin, lwStart, lwMax).rates(900, 1800).shape(100*time.Millisecond, 5, 20*time.Millisecond)
			start, last := f.now, f.now
			sent := 0
			for f.now < start.Add(5*time.Second) {
				f.advance(100 * time.Millisecond)
				r := f.process()
				if len(r.got) != 0 {
					// A probe every 1.1 s: 1 s without a result, then
					// the next 100 ms tick; 3·300 bps each.
					if d := f.now.Sub(last); d != 1100*time.Millisecond {
						f.t.Errorf("step %d: repeated probe %v after the previous, want 1.1s", f.step, d)
					}
					r.rates(900).shape(100*time.Millisecond, 5, 20*time.Millisecond)
					last = f.now
					sent++
				} else if d := f.now.Sub(last); d >= 1100*time.Millisecond {
					f.t.Errorf("step %d: no probe %v after the previous one", f.step, d)
				}
			}
			if sent != 4 {
				f.t.Errorf("%d repeated probes in 5 s, want 4 (at 1.1, 2.2, 3.3, 4.4 s)", sent)
			}
			f.advance(time.Second)
			f.process().none()
		}},
		{"RepeatedInitialProbingStopIfMaxAllocatedBitrateSet", def, func(f *ctl) {
			f.c.EnableRepeatedInitialProbing(true)
			f.setBitrates(lwMin, lwStart, lwMax).rates(900, 1800)
			f.advance(1100 * time.Millisecond)
			f.process().rates(900)
			f.allocated(lwMin).none()
			f.advance(1100 * time.Millisecond)
			f.process().none()
		}},
		{"RequestProbeInAlr", def, func(f *ctl) {
			f.setBitrates(lwMin, lwStart, lwMax).rates(900, 1800)
			f.estimate(500, CauseDelayBased).none()
			f.alrStart()
			f.advance(lwALRInterval + time.Millisecond)
			f.process().none()
			f.estimate(250, CauseDelayBased).none()
			f.requestProbe().rates(425) // 0.85·500
		}},
		{"RequestProbeWhenAlrEndedRecently", def, func(f *ctl) {
			f.setBitrates(lwMin, lwStart, lwMax).rates(900, 1800)
			f.estimate(500, CauseDelayBased).none()
			f.alrStop()
			f.advance(lwALRInterval + time.Millisecond)
			f.process().none()
			f.estimate(250, CauseDelayBased).none()
			f.c.SetALREndedTime(f.now)
			f.advance(lwALREnded - time.Millisecond)
			f.requestProbe().rates(425)
		}},
		{"RequestProbeWhenAlrNotEndedRecently", def, func(f *ctl) {
			f.setBitrates(lwMin, lwStart, lwMax).rates(900, 1800)
			f.estimate(500, CauseDelayBased).none()
			f.alrStop()
			f.advance(lwALRInterval + time.Millisecond)
			f.process().none()
			f.estimate(250, CauseDelayBased).none()
			f.c.SetALREndedTime(f.now)
			f.advance(lwALREnded + time.Millisecond)
			f.requestProbe().none()
		}},
		{"RequestProbeWhenBweDropNotRecent", def, func(f *ctl) {
			f.setBitrates(lwMin, lwStart, lwMax).rates(900, 1800)
			f.estimate(500, CauseDelayBased).none()
			f.alrStart()
			f.advance(lwALRInterval + time.Millisecond)
			f.process().none()
			f.estimate(250, CauseDelayBased).none()
			f.advance(lwDropTimeout + time.Millisecond)
			f.requestProbe().none()
		}},
		{"PeriodicProbing", def, func(f *ctl) {
			f.c.EnablePeriodicALRProbing(true)
			f.setBitrates(lwMin, lwStart, lwMax).rates(900, 1800)
			f.estimate(500, CauseDelayBased).none()
			start := f.now
			f.c.SetALRStartTime(start, true)
			f.advance(5 * time.Second)
			f.process().rates(1000)
			f.estimate(500, CauseDelayBased).none()
			// The next one is due 10 s into ALR.
			f.c.SetALRStartTime(start, true)
			f.advance(4 * time.Second)
			f.process().none()
			f.estimate(500, CauseDelayBased).none()
			f.c.SetALRStartTime(start, true)
			f.advance(time.Second)
			f.process().rates(1000)
			f.estimate(500, CauseDelayBased).none()
		}},
		{"PeriodicProbingAfterReset", def, func(f *ctl) {
			f.alrStart()
			f.c.EnablePeriodicALRProbing(true)
			f.setBitrates(lwMin, lwStart, lwMax).rates(900, 1800)
			f.c.Reset(f.now)
			f.advance(10 * time.Second)
			// No rates set since the reset: no probe, although in ALR.
			f.process().none()
			f.setBitrates(lwMin, lwStart, lwMax).rates(900, 1800)
			// The start rate serves as the estimate.
			f.advance(10 * time.Second)
			f.process().rates(600)
		}},
		{"NoProbesWhenTransportIsNotWritable", def, func(f *ctl) {
			f.c.EnablePeriodicALRProbing(true)
			f.network(false).none()
			f.setBitrates(lwMin, lwStart, lwMax).none()
			f.advance(10 * time.Second)
			f.process().none()
			f.c.Reset(f.now)
			f.setBitrates(2*lwMin, 2*lwStart, 2*lwMax).none()
			f.advance(10 * time.Second)
			f.process().none()
		}},
		{"TestExponentialProbingOverflow", def, func(f *ctl) {
			f.setBitrates(lwMin, 10*bwe.Mbps, 100*bwe.Mbps).rates(30*bwe.Mbps, 60*bwe.Mbps)
			f.estimate(60*bwe.Mbps, CauseDelayBased).rates(100 * bwe.Mbps)
			f.estimate(100*bwe.Mbps, CauseDelayBased).none()
		}},
		{"TestAllocatedBitrateCap", def, func(f *ctl) {
			const maxRate = 100 * bwe.Mbps
			f.setBitrates(lwMin, 10*bwe.Mbps, maxRate).rates(30*bwe.Mbps, 60*bwe.Mbps)
			f.c.EnablePeriodicALRProbing(true)
			f.alrStart()
			est := maxRate / 10
			f.estimate(est, CauseDelayBased).none()
			alloc := est - bwe.Mbps
			f.allocated(alloc).none()
			f.advance(5 * time.Second)
			f.process().rates(2 * alloc)
			f.allocated(0).none()
			f.advance(5 * time.Second)
			f.process().rates(2 * est)
		}},
		{"ConfigurableProbingFieldTrial", ControllerConfig{
			FirstProbeScale: 2, SecondProbeScale: 5, FurtherProbeScale: 3, FurtherProbeThreshold: 0.8,
			FirstAllocationScale: 2, NoSecondAllocationProbe: true, MinProbePackets: 2,
		}, func(f *ctl) {
			f.setBitrates(lwMin, lwStart, 5*bwe.Mbps).rates(600, 1500).shape(15*time.Millisecond, 2, 2*time.Millisecond)
			// Further probing needs more than 0.8·5·300 = 1200 bps.
			f.estimate(1100, CauseDelayBased).none()
			f.estimate(1250, CauseDelayBased).rates(3750)
			f.advance(5 * time.Second)
			f.process().none()
			f.alrStart()
			f.allocated(200 * bwe.Kbps).rates(400 * bwe.Kbps)
		}},
		{"LimitAlrProbeWhenLossBasedBweLimited", def, func(f *ctl) {
			f.c.EnablePeriodicALRProbing(true)
			f.setBitrates(lwMin, lwStart, lwMax)
			f.estimate(500, CauseDelayBased).none()
			f.alrStart()
			f.advance(5 * time.Second)
			f.process().rates(1000)
			f.estimate(500, CauseLossIncreasing).none()
			f.advance(6 * time.Second)
			f.process().rates(750) // 1.5·500
			f.estimate(750, CauseDelayBased).none()
			f.advance(6 * time.Second)
			// libwebrtc: above 1.5·1.5·500 = 1125.
			f.process().rates(1500)
		}},
		{"ProbeInAlrIfLossBasedIncreasing", def, func(f *ctl) {
			f.setBitrates(lwMin, lwStart, lwMax)
			f.c.EnablePeriodicALRProbing(true)
			f.estimate(lwStart, CauseLossIncreasing).none()
			f.advance(lwExpTimeout)
			f.process().none()
			f.alrStart()
			f.advance(lwALRInterval + time.Millisecond)
			f.process().rates(450) // 1.5·kStartBitrate
		}},
		{"NotProbeWhenInAlrIfLossBasedDecreases", def, func(f *ctl) {
			f.setBitrates(lwMin, lwStart, lwMax)
			f.c.EnablePeriodicALRProbing(true)
			f.estimate(lwStart, CauseLossDecreasing).none()
			f.advance(lwExpTimeout)
			f.process().none()
			f.alrStart()
			f.advance(lwALRInterval + time.Millisecond)
			f.process().none()
		}},
		{"NotProbeIfLossBasedIncreasingOutsideAlr", def, func(f *ctl) {
			f.setBitrates(lwMin, lwStart, lwMax)
			f.c.EnablePeriodicALRProbing(true)
			f.estimate(lwStart, CauseLossIncreasing).none()
			f.advance(lwExpTimeout)
			f.process().none()
			f.alrStop()
			f.advance(lwALRInterval + time.Millisecond)
			f.process().none()
		}},
		{"MaxAllocatedBitrateNotReset", def, func(f *ctl) {
			f.setBitrates(lwMin, lwStart, lwMax).rates(900, 1800)
			f.allocated(lwStart / 4).none()
			f.c.Reset(f.now)
			// Both initial probes capped at 2·75 bps.
			f.setBitrates(lwMin, lwStart, lwMax).rates(150, 150)
		}},
		{"SkipAlrProbeIfEstimateLargerThanMaxProbe", ControllerConfig{SkipAboveFractionOfMax: 0.9}, func(f *ctl) {
			f.c.EnablePeriodicALRProbing(true)
			f.setBitrates(lwMin, lwStart, lwMax).rates(900, 1800)
			f.estimate(lwMax, CauseDelayBased).none()
			f.alrStart()
			f.advance(10 * time.Second)
			f.process().none()
			// SetBitrates makes the start rate the estimate again.
			f.setBitrates(lwMin, lwStart, 2*lwMax).rates(2 * lwMax)
		}},
		{"SkipAlrProbeIfEstimateLargerThanFractionOfMaxAllocated", ControllerConfig{SkipAboveFractionOfMax: 1}, func(f *ctl) {
			f.c.EnablePeriodicALRProbing(true)
			f.setBitrates(lwMin, lwStart, lwMax).rates(900, 1800)
			f.estimate(lwMax/2, CauseDelayBased).rates(lwMax)
			f.advance(10 * time.Second)
			f.alrStart()
			f.allocated(lwMax / 2).none()
			f.advance(2 * time.Second)
			f.process().none()
			f.allocated(lwMax/2+1).rates(lwMax/2+1, lwMax)
		}},
		{"DontProbeIfDelayIncreased", def, func(f *ctl) {
			f.setBitrates(lwMin, lwStart, lwMax).rates(900, 1800)
			f.advance(1100 * time.Millisecond)
			f.process().none()
			f.estimate(lwStart, CauseDelayIncreased).none()
			f.advance(5 * time.Second)
			f.process().none()
		}},
		{"DontProbeIfHighRtt", def, func(f *ctl) {
			f.setBitrates(lwMin, lwStart, lwMax).rates(900, 1800)
			f.advance(1100 * time.Millisecond)
			f.process().none()
			f.estimate(lwStart, CauseRTTBackoff).none()
			f.advance(5 * time.Second)
			f.process().none()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(newCtl(t, tt.cfg)) })
	}
}

// TestLibwebrtcGoogCc replays the probe expectations of libwebrtc
// goog_cc_network_control_unittest.cc, where GoogCcNetworkController passes
// its constraints to SetBitrates (min 0) and resets the controller on a
// route change.
func TestLibwebrtcGoogCc(t *testing.T) {
	t.Run("InitializeTargetRateOnFirstProcessIntervalAfterNetworkAvailable", func(t *testing.T) {
		f := newCtl(t, ControllerConfig{})
		// Start 60 kbps, max 5·60 kbps: 3·60 and 6·60 capped at 300.
		f.setBitrates(0, 60*bwe.Kbps, 300*bwe.Kbps).rates(180*bwe.Kbps, 300*bwe.Kbps)
		f.wantState(StateComplete)
	})
	t.Run("ProbeOnRouteChange", func(t *testing.T) {
		f := newCtl(t, ControllerConfig{})
		f.setBitrates(0, 60*bwe.Kbps, 300*bwe.Kbps).rates(180*bwe.Kbps, 300*bwe.Kbps)
		f.advance(25 * time.Millisecond)
		f.c.Reset(f.now)
		f.setBitrates(0, 120*bwe.Kbps, 1200*bwe.Kbps).rates(360*bwe.Kbps, 720*bwe.Kbps)
	})
}

// TestControllerExponentialClimb follows exponential probing up to the max
// rate: each result above 0.7 of the last probe starts one at twice the
// result, until a probe reaches the max.
func TestControllerExponentialClimb(t *testing.T) {
	f := newCtl(t, ControllerConfig{})
	f.setBitrates(0, 300*bwe.Kbps, 10*bwe.Mbps).rates(900*bwe.Kbps, 1800*bwe.Kbps)
	f.advance(200 * time.Millisecond)
	f.estimate(1260*bwe.Kbps, CauseDelayBased).none() // not above 0.7·1800 kbps
	f.estimate(1261*bwe.Kbps, CauseDelayBased).rates(2522 * bwe.Kbps)
	f.advance(200 * time.Millisecond)
	f.estimate(2500*bwe.Kbps, CauseDelayBased).rates(5 * bwe.Mbps)
	f.advance(200 * time.Millisecond)
	f.estimate(4500*bwe.Kbps, CauseDelayBased).rates(9 * bwe.Mbps)
	f.wantState(StateWaiting)
	f.advance(200 * time.Millisecond)
	f.estimate(8*bwe.Mbps, CauseDelayBased).rates(10 * bwe.Mbps)
	f.wantState(StateComplete)
	f.estimate(9500*bwe.Kbps, CauseDelayBased).none()
	// A probe exactly at the max ends exponential probing as one capped to
	// it does (libwebrtc InitiateProbing: bitrate >= max_probe_bitrate).
	h := newCtl(t, ControllerConfig{})
	h.setBitrates(0, 300, 1800).rates(900, 1800)
	h.wantState(StateComplete)
	h.estimate(1800, CauseDelayBased).none()
	// Waiting times out strictly after 1 s.
	g := newCtl(t, ControllerConfig{})
	g.setBitrates(0, 300*bwe.Kbps, 10*bwe.Mbps)
	g.advance(time.Second)
	g.process().none()
	g.wantState(StateWaiting)
	g.advance(time.Microsecond)
	g.process().none()
	g.wantState(StateComplete)
}

// TestControllerCauseGating: no probe while the cause is delay increase, RTT
// backoff or loss-limited decreasing; loss-limited increasing caps probes at
// 1.5 times the estimate; an unknown cause acts as delay-based. Each trigger
// is checked: further exponential probing, a periodic ALR probe, a recovery
// probe and a max-rate increase.
func TestControllerCauseGating(t *testing.T) {
	type want struct{ further, alr, recovery, maxUp bwe.Bitrate } // 0: no probe
	tests := []struct {
		cause Cause
		want  want
	}{
		{CauseDelayBased, want{3600, 600, 425, 10100}},
		{CauseLossIncreasing, want{2700, 450, 375, 450}},
		{CauseDelayIncreased, want{}},
		{CauseLossDecreasing, want{}},
		{CauseRTTBackoff, want{}},
		{Cause(200), want{3600, 600, 425, 10100}},
	}
	expect := func(r result, w bwe.Bitrate) {
		r.f.t.Helper()
		if w == 0 {
			r.none()
		} else {
			r.rates(w)
		}
	}
	for _, tt := range tests {
		t.Run(tt.cause.String(), func(t *testing.T) {
			// Further probing: 1800 > 0.7·1800; 2·1800 or 1.5·1800.
			f := newCtl(t, ControllerConfig{})
			f.setBitrates(lwMin, lwStart, lwMax)
			expect(f.estimate(1800, tt.cause), tt.want.further)
			suppressed := f.c.Stats().Suppressed

			// Periodic ALR probe: 2·300 or 1.5·300.
			f = newCtl(t, ControllerConfig{PeriodicALRProbing: true})
			f.setBitrates(lwMin, lwStart, lwMax)
			f.estimate(lwStart, tt.cause).none()
			f.advance(lwExpTimeout)
			f.process().none()
			f.alrStart()
			f.advance(lwALRInterval)
			expect(f.process(), tt.want.alr)
			suppressed += f.c.Stats().Suppressed

			// Recovery probe after a drop from 500 to 250: 0.85·500, or
			// 1.5·250.
			f = newCtl(t, ControllerConfig{})
			f.setBitrates(lwMin, lwStart, lwMax)
			f.estimate(500, CauseDelayBased).none()
			f.alrStart()
			f.advance(lwALRInterval)
			f.process().none()
			f.estimate(250, tt.cause).none()
			expect(f.requestProbe(), tt.want.recovery)
			suppressed += f.c.Stats().Suppressed

			// Max rate raised after probing completed: the new max, or
			// 1.5·300.
			f = newCtl(t, ControllerConfig{})
			f.setBitrates(lwMin, lwStart, lwMax)
			f.advance(lwExpTimeout)
			f.estimate(lwStart, tt.cause).none()
			f.process().none()
			expect(f.setBitrates(lwMin, lwStart, lwMax+100), tt.want.maxUp)
			suppressed += f.c.Stats().Suppressed

			wantSuppressed := int64(0)
			if tt.want.further == 0 {
				wantSuppressed = 4
			}
			if suppressed != wantSuppressed {
				t.Errorf("Stats().Suppressed summed over the four triggers = %d, want %d", suppressed, wantSuppressed)
			}
		})
	}
	// A suppressed probe leaves the state alone: initial probing suppressed
	// before it started is retried by the next SetBitrates.
	f := newCtl(t, ControllerConfig{})
	f.estimate(lwStart, CauseRTTBackoff).none()
	f.setBitrates(lwMin, lwStart, lwMax).none()
	f.wantState(StateInit)
	f.estimate(lwStart, CauseDelayBased).none()
	f.setBitrates(lwMin, lwStart, lwMax).rates(900, 1800)
}

// TestControllerRecovery checks the boundaries of the recovery probe: the
// 0.66 drop threshold, the 5 s drop timeout, the 3 s ALR-ended timeout, the
// 5 s spacing of recovery probes, the 0.95 uncertainty margin and the switch
// that allows it outside ALR.
func TestControllerRecovery(t *testing.T) {
	// setup: probing complete at 1000 bps, then the estimate given.
	setup := func(t *testing.T, cfg ControllerConfig, after bwe.Bitrate) *ctl {
		f := newCtl(t, cfg)
		f.setBitrates(0, 1000, 10*bwe.Mbps)
		f.advance(2 * time.Second)
		f.process().none()
		f.wantState(StateComplete)
		f.estimate(after, CauseDelayBased).none()
		return f
	}
	t.Run("DropThreshold", func(t *testing.T) {
		f := setup(t, ControllerConfig{}, 660) // not below 0.66·1000
		f.alrStart()
		f.requestProbe().none()
		f = setup(t, ControllerConfig{}, 659)
		f.alrStart()
		f.requestProbe().rates(850)
	})
	t.Run("DropTimeout", func(t *testing.T) {
		f := setup(t, ControllerConfig{}, 500)
		f.alrStart()
		f.advance(5 * time.Second) // not less than 5 s after the drop
		f.requestProbe().none()
		f = setup(t, ControllerConfig{}, 500)
		f.alrStart()
		f.advance(5*time.Second - time.Microsecond)
		f.requestProbe().rates(850)
	})
	t.Run("ALREnded", func(t *testing.T) {
		f := setup(t, ControllerConfig{}, 500)
		f.requestProbe().none() // never in ALR
		f.c.SetALREndedTime(f.now)
		f.advance(3 * time.Second)
		f.requestProbe().none()
		f = setup(t, ControllerConfig{}, 500)
		f.c.SetALREndedTime(f.now)
		f.advance(3*time.Second - time.Microsecond)
		f.requestProbe().rates(850)
	})
	t.Run("RecoveryOutsideALR", func(t *testing.T) {
		f := setup(t, ControllerConfig{RecoveryOutsideALR: true}, 500)
		f.requestProbe().rates(850)
	})
	t.Run("Uncertainty", func(t *testing.T) {
		// 0.95·850 = 807.5, rounded to 808: an estimate of 807 probes,
		// 808 does not. The drop is 1000 → 600 → 807.
		f := setup(t, ControllerConfig{}, 600)
		f.estimate(807, CauseDelayBased).none()
		f.alrStart()
		f.requestProbe().rates(850)
		f = setup(t, ControllerConfig{}, 600)
		f.estimate(808, CauseDelayBased).none()
		f.alrStart()
		f.requestProbe().none()
	})
	t.Run("Spacing", func(t *testing.T) {
		f := setup(t, ControllerConfig{}, 500)
		f.alrStart()
		f.requestProbe().rates(850)
		f.estimate(1000, CauseDelayBased).none()
		f.advance(time.Second)
		f.estimate(500, CauseDelayBased).none()
		f.advance(4 * time.Second) // 5 s after the last recovery probe
		f.requestProbe().none()
		f.advance(time.Microsecond)
		f.requestProbe().rates(850)
	})
	t.Run("AfterReset", func(t *testing.T) {
		f := newCtl(t, ControllerConfig{RecoveryOutsideALR: true})
		f.c.Reset(f.now)
		f.setBitrates(0, 1000, 10*bwe.Mbps)
		f.advance(2 * time.Second)
		f.process().none()
		f.estimate(500, CauseDelayBased).none()
		f.advance(3 * time.Second) // 5 s after the reset
		f.requestProbe().none()
		f.advance(time.Microsecond)
		f.requestProbe().rates(850)
	})
}

// TestControllerBounds checks the limits every probe respects: never above
// the max rate or twice the max total allocated rate, never below the min
// rate (unless the min is above those caps), and never without a start rate.
func TestControllerBounds(t *testing.T) {
	f := newCtl(t, ControllerConfig{})
	f.setBitrates(bwe.Mbps, 100*bwe.Kbps, 5*bwe.Mbps).rates(bwe.Mbps, bwe.Mbps)

	f = newCtl(t, ControllerConfig{})
	f.setBitrates(2*bwe.Mbps, 100*bwe.Kbps, bwe.Mbps).rates(bwe.Mbps, bwe.Mbps)

	// No max: 5 Mbps; bwe.MaxBitrate and negative max mean the same.
	for _, m := range []bwe.Bitrate{0, -1, bwe.MaxBitrate} {
		f = newCtl(t, ControllerConfig{})
		f.setBitrates(0, 2*bwe.Mbps, m).rates(5*bwe.Mbps, 5*bwe.Mbps)
	}

	// The loss-limited cap does not go below the min rate.
	f = newCtl(t, ControllerConfig{})
	f.setBitrates(lwMin, lwStart, lwMax)
	f.estimate(1800, CauseLossIncreasing).rates(2700)
	f.estimate(10, CauseLossIncreasing).none()
	f.c.SetALRStartTime(f.now, true)
	f.c.EnablePeriodicALRProbing(true)
	f.advance(10 * time.Second)
	f.process().rates(lwMin)

	// Without a start or min rate no probing starts.
	f = newCtl(t, ControllerConfig{})
	f.setBitrates(-5, 0, lwMax).none()
	f.wantState(StateInit)
	if got := f.c.Stats().NoStartRate; got != 1 {
		t.Errorf("Stats().NoStartRate = %d, want 1", got)
	}
	// The min rate serves as start rate while none was ever given.
	f.setBitrates(lwMin, 0, lwMax).rates(300, 600)
	if got := f.c.Estimate(); got != 0 {
		t.Errorf("Estimate() = %v, want 0 (only a positive start rate sets it)", got)
	}
}

// TestControllerIDWrap: ids stay positive when the int32 range wraps.
func TestControllerIDWrap(t *testing.T) {
	c, err := NewController(ControllerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	c.nextID = math.MaxInt32 - 1
	rs := c.SetBitrates(0, 0, lwStart, lwMax)
	if len(rs) != 2 || rs[0].ID != math.MaxInt32-1 || rs[1].ID != math.MaxInt32 {
		t.Fatalf("SetBitrates ids = %+v, want %d and %d", rs, math.MaxInt32-1, math.MaxInt32)
	}
	rs = c.SetEstimatedBitrate(0, 1800, CauseDelayBased)
	if len(rs) != 1 || rs[0].ID != 1 {
		t.Fatalf("SetEstimatedBitrate ids = %+v, want 1", rs)
	}
}

func TestRequestCluster(t *testing.T) {
	tests := []struct {
		r    Request
		want Cluster
	}{
		// 900 kbps·15 ms = 1687.5 bytes, rounded half up.
		{Request{ID: 3, Bitrate: 900 * bwe.Kbps, Duration: 15 * time.Millisecond, MinProbes: 5}, Cluster{3, 5, 1688}},
		{Request{ID: 4, Bitrate: 1800 * bwe.Kbps, Duration: 15 * time.Millisecond, MinProbes: 5}, Cluster{4, 5, 3375}},
		// 100 bps·15 ms = 0.1875 bytes: at least 1 byte.
		{Request{ID: 1, Bitrate: 100, Duration: 15 * time.Millisecond, MinProbes: 2}, Cluster{1, 2, 1}},
		{Request{ID: 9, Bitrate: 5 * bwe.Mbps, Duration: 100 * time.Millisecond, MinProbes: 5}, Cluster{9, 5, 62500}},
	}
	for _, tt := range tests {
		if got := tt.r.Cluster(); got != tt.want {
			t.Errorf("%+v.Cluster() = %+v, want %+v", tt.r, got, tt.want)
		}
	}
}

func TestDefaultControllerConfig(t *testing.T) {
	if got, want := (ControllerConfig{}).withDefaults(), DefaultControllerConfig(); got != want {
		t.Errorf("zero config with defaults = %+v, want %+v", got, want)
	}
	c, err := NewController(ControllerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Config(); got != DefaultControllerConfig() {
		t.Errorf("Config() = %+v, want the defaults", got)
	}
	if c.State() != StateInit || c.Estimate() != 0 {
		t.Errorf("new controller: State() = %v, Estimate() = %v; want init, 0", c.State(), c.Estimate())
	}
}

func TestNewControllerRejects(t *testing.T) {
	nan := math.NaN()
	inf := math.Inf(1)
	tests := []struct {
		field string
		cfg   ControllerConfig
	}{
		{"FirstProbeScale", ControllerConfig{FirstProbeScale: -1}},
		{"SecondProbeScale", ControllerConfig{SecondProbeScale: nan}},
		{"FurtherProbeScale", ControllerConfig{FurtherProbeScale: inf}},
		{"FurtherProbeThreshold", ControllerConfig{FurtherProbeThreshold: -0.7}},
		{"ALRProbeScale", ControllerConfig{ALRProbeScale: nan}},
		{"FirstAllocationScale", ControllerConfig{FirstAllocationScale: -1}},
		{"SecondAllocationScale", ControllerConfig{SecondAllocationScale: inf}},
		{"LossLimitedProbeScale", ControllerConfig{LossLimitedProbeScale: -1.5}},
		{"SkipMaxAllocatedScale", ControllerConfig{SkipMaxAllocatedScale: nan}},
		{"RecoveryProbeScale", ControllerConfig{RecoveryProbeScale: -0.85}},
		{"AllocationCurrentLimit", ControllerConfig{AllocationCurrentLimit: -1}},
		{"AllocationCurrentLimit", ControllerConfig{AllocationCurrentLimit: nan}},
		{"SkipAboveFractionOfMax", ControllerConfig{SkipAboveFractionOfMax: inf}},
		{"DropThreshold", ControllerConfig{DropThreshold: 1.5}},
		{"DropThreshold", ControllerConfig{DropThreshold: nan}},
		{"ProbeUncertainty", ControllerConfig{ProbeUncertainty: 1}},
		{"ProbeUncertainty", ControllerConfig{ProbeUncertainty: -0.05}},
		{"RepeatedInitialPeriod", ControllerConfig{RepeatedInitialPeriod: -time.Second}},
		{"InitialProbeDuration", ControllerConfig{InitialProbeDuration: -1}},
		{"InitialMinProbeDelta", ControllerConfig{InitialMinProbeDelta: time.Nanosecond}},
		{"ALRProbeInterval", ControllerConfig{ALRProbeInterval: -5 * time.Second}},
		{"MinProbeDuration", ControllerConfig{MinProbeDuration: -time.Millisecond}},
		{"MinProbeDelta", ControllerConfig{MinProbeDelta: -time.Millisecond}},
		{"MaxWaitForResult", ControllerConfig{MaxWaitForResult: -time.Second}},
		{"DropTimeout", ControllerConfig{DropTimeout: -time.Second}},
		{"MinRecoveryInterval", ControllerConfig{MinRecoveryInterval: -time.Second}},
		{"ALREndedTimeout", ControllerConfig{ALREndedTimeout: -time.Second}},
		{"MinProbePackets", ControllerConfig{MinProbePackets: -5}},
		{"DefaultMaxBitrate", ControllerConfig{DefaultMaxBitrate: -1}},
	}
	for _, tt := range tests {
		_, err := NewController(tt.cfg)
		if err == nil || !strings.Contains(err.Error(), "ControllerConfig."+tt.field+" ") {
			t.Errorf("NewController(%s bad) error = %v, want one naming ControllerConfig.%s", tt.field, err, tt.field)
		}
	}
}

func TestControllerStrings(t *testing.T) {
	tests := []struct{ got, want string }{
		{CauseDelayBased.String(), "delay-based"},
		{CauseDelayIncreased.String(), "delay-increased"},
		{CauseLossIncreasing.String(), "loss-increasing"},
		{CauseLossDecreasing.String(), "loss-decreasing"},
		{CauseRTTBackoff.String(), "rtt-backoff"},
		{Cause(9).String(), "Cause(9)"},
		{StateInit.String(), "init"},
		{StateWaiting.String(), "waiting"},
		{StateComplete.String(), "complete"},
		{State(7).String(), "State(7)"},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("case %d: String() = %q, want %q", i, tt.got, tt.want)
		}
	}
}

// ctlCycle runs one round of every Controller method over a 20 s cycle,
// starting at t0; it returns the number of requests seen.
func ctlCycle(c *Controller, t0 bwe.Time) int {
	n := 0
	at := t0
	c.Reset(at)
	c.EnablePeriodicALRProbing(true)
	c.EnableRepeatedInitialProbing(true)
	n += len(c.SetNetworkAvailable(at, false))
	n += len(c.SetNetworkAvailable(at, true))
	for _, r := range c.SetBitrates(at, 30*bwe.Kbps, 300*bwe.Kbps, 5*bwe.Mbps) {
		n += int(r.Cluster().MinBytes)
	}
	n += len(c.SetEstimatedBitrate(at.Add(100*time.Millisecond), 1500*bwe.Kbps, CauseDelayBased))
	for i := range 40 {
		at = t0.Add(time.Duration(i) * 25 * time.Millisecond)
		n += len(c.Process(at))
	}
	c.SetALRStartTime(at, true)
	at = at.Add(6 * time.Second)
	n += len(c.Process(at))
	n += len(c.OnMaxTotalAllocatedBitrate(at, 4*bwe.Mbps))
	n += len(c.SetEstimatedBitrate(at, 1*bwe.Mbps, CauseLossIncreasing))
	n += len(c.SetEstimatedBitrate(at, 500*bwe.Kbps, CauseDelayBased))
	n += len(c.RequestProbe(at))
	c.SetALRStartTime(0, false)
	c.SetALREndedTime(at)
	at = at.Add(6 * time.Second)
	n += len(c.Process(at))
	n += len(c.SetBitrates(at, 30*bwe.Kbps, 0, 6*bwe.Mbps))
	n += len(c.OnMaxTotalAllocatedBitrate(at, 0))
	for _, r := range c.RequestProbe(at) {
		n += r.Cluster().MinProbes
	}
	_ = c.State()
	_ = c.Estimate()
	_ = c.Stats()
	_ = c.Config()
	return n
}

func TestControllerNoAllocs(t *testing.T) {
	c, err := NewController(ControllerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := bwe.Time(0)
	if n := ctlCycle(c, t0); n == 0 {
		t.Fatal("warm-up cycle produced no probe: the test would prove nothing")
	}
	allocs := testing.AllocsPerRun(100, func() {
		t0 = t0.Add(20 * time.Second)
		ctlCycle(c, t0)
	})
	if allocs != 0 {
		t.Errorf("a cycle of every Controller method allocates %v times, want 0", allocs)
	}
}

func BenchmarkControllerProcess(b *testing.B) {
	c, err := NewController(ControllerConfig{PeriodicALRProbing: true})
	if err != nil {
		b.Fatal(err)
	}
	at := bwe.Time(0)
	c.SetBitrates(at, 30*bwe.Kbps, 300*bwe.Kbps, 5*bwe.Mbps)
	c.SetALRStartTime(at, true)
	b.ReportAllocs()
	for b.Loop() {
		at = at.Add(25 * time.Millisecond)
		c.Process(at)
	}
}

func BenchmarkControllerSetEstimatedBitrate(b *testing.B) {
	c, err := NewController(ControllerConfig{})
	if err != nil {
		b.Fatal(err)
	}
	at := bwe.Time(0)
	c.SetBitrates(at, 30*bwe.Kbps, 300*bwe.Kbps, 5*bwe.Mbps)
	rate := 300 * bwe.Kbps
	b.ReportAllocs()
	for b.Loop() {
		at = at.Add(25 * time.Millisecond)
		rate += 10 * bwe.Kbps
		if rate > 5*bwe.Mbps {
			rate = 300 * bwe.Kbps
		}
		c.SetEstimatedBitrate(at, rate, CauseDelayBased)
	}
}
