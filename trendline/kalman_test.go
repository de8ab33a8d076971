package trendline

import (
	"math"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// webrtcRandom reproduces libwebrtc's test PRNG (rtc_base/random.{h,cc}):
// xorshift64* with Box-Muller Gaussians, so that the overuse detector unit
// tests see the same jitter sequence.
type webrtcRandom struct{ state uint64 }

func (r *webrtcRandom) next() uint64 {
	r.state ^= r.state >> 12
	r.state ^= r.state << 25
	r.state ^= r.state >> 27
	return r.state * 2685821657736338717
}

// randInt returns a uniform integer in [lo, hi] (Random::Rand(int32, int32)).
func (r *webrtcRandom) randInt(lo, hi int32) int32 {
	x := uint64(uint32(r.next()))
	return int32(int64((x*(uint64(uint32(int64(hi)-int64(lo)))+1))>>32) + int64(lo))
}

func (r *webrtcRandom) gaussian(mean, stddev float64) float64 {
	const maxU64 = float64(math.MaxUint64)
	u1 := float64(r.next()) / maxU64
	u2 := float64(r.next()) / maxU64
	return mean + stddev*math.Sqrt(-2*math.Log(u1))*math.Cos(2*math.Pi*u2)
}

// rtpInterArrival is libwebrtc's legacy InterArrival
// (remote_bitrate_estimator/inter_arrival.cc) on a 90 kHz RTP clock, with
// burst grouping on: the grouping the overuse detector unit tests run
// before the estimator. Our detectors take group deltas, so the test does
// the grouping and hands the Kalman detector what InterArrival would.
type rtpInterArrival struct {
	cur, prev    rtpGroup
	reorderCount int
}

type rtpGroup struct {
	size           int64
	firstTimestamp uint32
	timestamp      uint32
	completeMs     int64 // -1: no packet yet
	systemMs       int64
}

const (
	rtpGroupLengthTicks = 5 * 90
	rtpTicksToMs        = 1.0 / 90.0
)

func newRTPInterArrival() *rtpInterArrival {
	return &rtpInterArrival{cur: rtpGroup{completeMs: -1, systemMs: -1}, prev: rtpGroup{completeMs: -1, systemMs: -1}}
}

// computeDeltas returns (timestamp delta in ticks, arrival delta in ms,
// size delta) when the packet opens a new group after a complete one.
func (ia *rtpInterArrival) computeDeltas(ts uint32, arrivalMs int64, size int64) (uint32, int64, int64, bool) {
	var tsDelta uint32
	var tDelta, sizeDelta int64
	calculated := false
	switch {
	case ia.cur.completeMs == -1:
		ia.cur.timestamp = ts
		ia.cur.firstTimestamp = ts
	case ts-ia.cur.firstTimestamp >= 0x80000000:
		return 0, 0, 0, false // reordered
	case ia.newGroup(arrivalMs, ts):
		if ia.prev.completeMs >= 0 {
			tsDelta = ia.cur.timestamp - ia.prev.timestamp
			tDelta = ia.cur.completeMs - ia.prev.completeMs
			sysDelta := ia.cur.systemMs - ia.prev.systemMs
			if tDelta-sysDelta >= 3000 {
				*ia = *newRTPInterArrival()
				return 0, 0, 0, false
			}
			if tDelta < 0 {
				ia.reorderCount++
				if ia.reorderCount >= 3 {
					*ia = *newRTPInterArrival()
				}
				return 0, 0, 0, false
			}
			ia.reorderCount = 0
			sizeDelta = ia.cur.size - ia.prev.size
			calculated = true
		}
		ia.prev = ia.cur
		ia.cur.firstTimestamp = ts
		ia.cur.timestamp = ts
		ia.cur.size = 0
	default:
		if ts-ia.cur.timestamp < 0x80000000 {
			ia.cur.timestamp = ts
		}
	}
	ia.cur.size += size
	ia.cur.completeMs = arrivalMs
	ia.cur.systemMs = arrivalMs
	return tsDelta, tDelta, sizeDelta, calculated
}

func (ia *rtpInterArrival) newGroup(arrivalMs int64, ts uint32) bool {
	if ia.belongsToBurst(arrivalMs, ts) {
		return false
	}
	return ts-ia.cur.firstTimestamp > rtpGroupLengthTicks
}

func (ia *rtpInterArrival) belongsToBurst(arrivalMs int64, ts uint32) bool {
	arrDelta := arrivalMs - ia.cur.completeMs
	tsDeltaMs := int64(rtpTicksToMs*float64(ts-ia.cur.timestamp) + 0.5)
	if tsDeltaMs == 0 {
		return true
	}
	return arrDelta-tsDeltaMs < 0 && arrDelta <= 5
}

// overuseFixture is libwebrtc overuse_detector_unittest.cc's
// OveruseDetectorTest: RTP timestamps from 10·90, receive times from 0,
// Random(123456789), a fresh detector.
type overuseFixture struct {
	t         *testing.T
	nowMs     int64
	receiveMs int64
	rtpTs     uint32
	ia        *rtpInterArrival
	k         *Kalman
	rnd       webrtcRandom
	state     bwe.Usage
}

func newOveruseFixture(t *testing.T) *overuseFixture {
	t.Helper()
	k, err := NewKalman(KalmanConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return &overuseFixture{t: t, rtpTs: 10 * 90, ia: newRTPInterArrival(), k: k, rnd: webrtcRandom{123456789}}
}

// updateDetector is the fixture's UpdateDetector, re-expressed on group
// deltas: InterArrival's (timestamp delta, arrival delta, size delta)
// become SendDelta, ArrivalDelta and SizeDelta, and the packet's receive
// time becomes Arrival.
func (f *overuseFixture) updateDetector(ts uint32, receiveMs int64, size int64) {
	tsDelta, tDelta, sizeDelta, ok := f.ia.computeDeltas(ts, receiveMs, size)
	if !ok {
		return
	}
	sendMs := float64(tsDelta) / 90.0
	det := f.k.Update(bwe.GroupDelta{
		SendDelta:    bwe.DurationFromMillis(sendMs),
		ArrivalDelta: time.Duration(tDelta) * time.Millisecond,
		SizeDelta:    bwe.ByteCount(sizeDelta),
		Arrival:      bwe.Time(receiveMs * 1000),
	})
	f.state = det.Usage
}

func (f *overuseFixture) jitteredReceive(stddevMs float64) {
	f.receiveMs = max(f.receiveMs, f.nowMs+int64(f.rnd.gaussian(0, stddevMs)+0.5))
}

// run100000Samples is Run100000Samples: it returns the number of distinct
// overuse episodes over 100000 frames at the nominal rate.
func (f *overuseFixture) run100000Samples(packetsPerFrame int, size int64, meanMs int, stddevMs float64) int {
	unique, last := 0, -1
	for i := range 100000 {
		for range packetsPerFrame {
			f.updateDetector(f.rtpTs, f.receiveMs, size)
		}
		f.rtpTs += uint32(meanMs * 90)
		f.nowMs += int64(meanMs)
		f.jitteredReceive(stddevMs)
		if f.state == bwe.Overusing {
			if last+1 != i {
				unique++
			}
			last = i
		}
	}
	return unique
}

// runUntilOveruse is RunUntilOveruse: frames arrive driftMs late each, and
// it returns the 1-based frame at which overuse is first seen, or −1.
func (f *overuseFixture) runUntilOveruse(packetsPerFrame int, size int64, meanMs int, stddevMs float64, driftMs int) int {
	for i := range 1000 {
		for range packetsPerFrame {
			f.updateDetector(f.rtpTs, f.receiveMs, size)
		}
		f.rtpTs += uint32(meanMs * 90)
		f.nowMs += int64(meanMs + driftMs)
		f.jitteredReceive(stddevMs)
		if f.state == bwe.Overusing {
			return i + 1
		}
	}
	return -1
}

// The Run100000Samples + RunUntilOveruse cases of libwebrtc
// overuse_detector_unittest.cc: no overuse episode in 100000 frames at the
// nominal rate, then overuse after exactly wantFrames drifting frames.
func TestKalmanLibwebrtcOveruseCases(t *testing.T) {
	cases := []struct {
		name            string
		packetsPerFrame int
		frameMs         int
		driftMs         int
		sigmaMs         float64
		wantFrames      int
	}{
		{"SimpleOveruse2000Kbit30fps", 6, 33, 1, 0, 7},
		{"SimpleOveruse100kbit10fps", 1, 100, 1, 0, 7},
		{"LowGaussianVariance30Kbit3fps", 1, 333, 1, 3, 20},
		{"LowGaussianVarianceFastDrift30Kbit3fps", 1, 333, 100, 3, 4},
		{"HighGaussianVariance30Kbit3fps", 1, 333, 1, 10, 44},
		{"HighGaussianVarianceFastDrift30Kbit3fps", 1, 333, 100, 10, 4},
		{"LowGaussianVariance100Kbit5fps", 2, 200, 1, 3, 20},
		{"HighGaussianVariance100Kbit5fps", 2, 200, 1, 10, 44},
		{"LowGaussianVariance100Kbit10fps", 1, 100, 1, 3, 20},
		{"HighGaussianVariance100Kbit10fps", 1, 100, 1, 10, 44},
		{"LowGaussianVariance300Kbit30fps", 1, 33, 1, 3, 19},
		{"LowGaussianVarianceFastDrift300Kbit30fps", 1, 33, 10, 3, 5},
		{"HighGaussianVariance300Kbit30fps", 1, 33, 1, 10, 44},
		{"HighGaussianVarianceFastDrift300Kbit30fps", 1, 33, 10, 10, 10},
		{"LowGaussianVariance1000Kbit30fps", 3, 33, 1, 3, 19},
		{"LowGaussianVarianceFastDrift1000Kbit30fps", 3, 33, 10, 3, 5},
		{"HighGaussianVariance1000Kbit30fps", 3, 33, 1, 10, 44},
		{"HighGaussianVarianceFastDrift1000Kbit30fps", 3, 33, 10, 10, 10},
		{"LowGaussianVariance2000Kbit30fps", 6, 33, 1, 3, 19},
		{"LowGaussianVarianceFastDrift2000Kbit30fps", 6, 33, 10, 3, 5},
		{"HighGaussianVariance2000Kbit30fps", 6, 33, 1, 10, 44},
		{"HighGaussianVarianceFastDrift2000Kbit30fps", 6, 33, 10, 10, 10},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if testing.Short() && tc.frameMs > 100 {
				t.Skip("long in -short mode")
			}
			f := newOveruseFixture(t)
			if u := f.run100000Samples(tc.packetsPerFrame, 1200, tc.frameMs, tc.sigmaMs); u != 0 {
				t.Errorf("Run100000Samples: %d overuse episodes, want 0", u)
			}
			if got := f.runUntilOveruse(tc.packetsPerFrame, 1200, tc.frameMs, tc.sigmaMs, tc.driftMs); got != tc.wantFrames {
				t.Errorf("RunUntilOveruse = %d frames, want %d", got, tc.wantFrames)
			}
		})
	}
}

// libwebrtc overuse_detector_unittest SimpleNonOveruse30fps,
// SimpleNonOveruseWithReceiveVariance,
// SimpleNonOveruseWithRtpTimestampVariance: 1000 frames, always Normal.
func TestKalmanLibwebrtcNonOveruse(t *testing.T) {
	cases := []struct {
		name    string
		frameMs int64
		advance func(i int, f *overuseFixture, ts *uint32)
	}{
		{"SimpleNonOveruse30fps", 33, func(_ int, f *overuseFixture, ts *uint32) {
			f.nowMs += 33
			*ts += 33 * 90
		}},
		{"SimpleNonOveruseWithReceiveVariance", 10, func(i int, f *overuseFixture, ts *uint32) {
			*ts += 10 * 90
			if i%2 == 1 {
				f.nowMs += 10 - 5
			} else {
				f.nowMs += 10 + 5
			}
		}},
		{"SimpleNonOveruseWithRtpTimestampVariance", 10, func(i int, f *overuseFixture, ts *uint32) {
			f.nowMs += 10
			if i%2 == 1 {
				*ts += (10 - 5) * 90
			} else {
				*ts += (10 + 5) * 90
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newOveruseFixture(t)
			ts := uint32(10 * 90)
			for i := range 1000 {
				f.updateDetector(ts, f.nowMs, 1200)
				tc.advance(i, f, &ts)
				if f.state != bwe.Normal {
					t.Fatalf("frame %d: state %v, want normal", i, f.state)
				}
			}
		})
	}
}

// libwebrtc overuse_detector_unittest OveruseWithLowVariance2000Kbit30fps:
// 1000 frames of ±0–1 ms alternating receive jitter stay Normal, three
// frames drifting 6 ms each stay Normal, and the next packet is Overusing.
func TestKalmanLibwebrtcOveruseWithLowVariance2000Kbit30fps(t *testing.T) {
	f := newOveruseFixture(t)
	const frameMs = 33
	ts := uint32(frameMs * 90)
	offset := int64(0)
	for i := range 1000 {
		for range 6 {
			f.updateDetector(ts, f.nowMs, 1200)
		}
		ts += frameMs * 90
		if i%2 == 1 {
			offset = int64(f.rnd.randInt(0, 1))
			f.nowMs += frameMs - offset
		} else {
			f.nowMs += frameMs + offset
		}
		if f.state != bwe.Normal {
			t.Fatalf("steady frame %d: state %v, want normal", i, f.state)
		}
	}
	for j := range 3 {
		for range 6 {
			f.updateDetector(ts, f.nowMs, 1200)
		}
		f.nowMs += frameMs + 1*6
		ts += frameMs * 90
		if f.state != bwe.Normal {
			t.Fatalf("drift frame %d: state %v, want normal", j, f.state)
		}
	}
	f.updateDetector(ts, f.nowMs, 1200)
	if f.state != bwe.Overusing {
		t.Errorf("after 30 ms of build-up: state %v, want overusing", f.state)
	}
}

// libwebrtc overuse_detector_unittest OveruseDetectorExperimentTest
// ThresholdAdapts and DoesntAdaptToSpikes, run on the shared threshold state
// machine with the trial's gains (WebRTC-AdaptiveBweThreshold/Enabled-0.01,0.00018/):
// Detect(offset, ts_delta 3000, n from 60, now += 5 ms).
func TestThresholdLibwebrtcExperiment(t *testing.T) {
	newDet := func(t *testing.T) *overuseDetector {
		c, err := ThresholdConfig{KUp: 0.01, KDown: 0.00018}.resolve("")
		if err != nil {
			t.Fatal(err)
		}
		d := newOveruseDetector(c)
		return &d
	}
	type batch struct {
		offset   float64
		n        int
		skipMs   int64 // time advanced before the batch
		wantOver bool  // whether any step of the batch reports overuse
		check    bool
	}
	run := func(t *testing.T, batches []batch) {
		det := newDet(t)
		now := int64(0)
		numDeltas := 60
		for b, bt := range batches {
			now += bt.skipMs
			over := false
			for range bt.n {
				m := float64(min(numDeltas, 60)) * bt.offset
				if u, _ := det.detect(bt.offset, m, 3000, now); u == bwe.Overusing {
					over = true
				}
				numDeltas++
				now += 5
			}
			if bt.check && over != bt.wantOver {
				t.Errorf("batch %d (offset %v ×%d): overuse seen = %v, want %v", b, bt.offset, bt.n, over, bt.wantOver)
			}
		}
	}
	const k = 0.21
	t.Run("ThresholdAdapts", func(t *testing.T) {
		run(t, []batch{
			{offset: k, n: 10, wantOver: true, check: true},
			{offset: 1.1 * k, n: 10, wantOver: true, check: true},
			{offset: k, n: 10, wantOver: false, check: true},
			{offset: 0.7 * k, n: 150, wantOver: false, check: true},
			{offset: k, n: 10, wantOver: true, check: true},
		})
	})
	t.Run("DoesntAdaptToSpikes", func(t *testing.T) {
		run(t, []batch{
			{offset: 1, n: 10},
			{offset: 20, n: 3, skipMs: 100, wantOver: true, check: true},
			{offset: 1, n: 10, wantOver: true, check: true},
		})
	})
}

// The noise model must be live: it moves away from its initial 50 ms², it
// settles well above the floor of 1 under jitter and decays toward the
// floor on a clean path. (A port that feeds a nanosecond count into the
// exponent of beta freezes it instead.)
func TestKalmanNoiseVarianceIsLive(t *testing.T) {
	feed := func(t *testing.T, jitterMs float64, frames int) *Kalman {
		t.Helper()
		k, err := NewKalman(KalmanConfig{})
		if err != nil {
			t.Fatal(err)
		}
		rnd := webrtcRandom{42}
		recv, prevRecv := int64(0), int64(0)
		for i := 1; i <= frames; i++ {
			send := int64(i) * 33
			recv = max(prevRecv, send+int64(rnd.gaussian(0, jitterMs)+0.5))
			k.Update(bwe.GroupDelta{
				SendDelta:    33 * time.Millisecond,
				ArrivalDelta: time.Duration(recv-prevRecv) * time.Millisecond,
				Arrival:      bwe.Time(recv * 1000),
			})
			prevRecv = recv
		}
		return k
	}
	jittery := feed(t, 10, 3000)
	clean := feed(t, 0, 3000)
	t.Logf("noise variance after 3000 frames: jitter σ=10 ms → %.2f ms², clean → %.4f ms²",
		jittery.NoiseVariance(), clean.NoiseVariance())
	if v := jittery.NoiseVariance(); v == 50 || v < 20 {
		t.Errorf("jittery path: noise variance %.3f, want it moved from 50 and settled well above the floor of 1 (≥ 20)", v)
	}
	if v := clean.NoiseVariance(); v > 1.01 {
		t.Errorf("clean path: noise variance %.4f, want it decayed to about the floor of 1", v)
	}
	// And it decays over time rather than jumping: halfway it is between.
	half := feed(t, 0, 100)
	if v := half.NoiseVariance(); !(v < 50 && v > 1.01) {
		t.Errorf("clean path after 100 frames: noise variance %.3f, want strictly between 1 and 50", v)
	}
}

// A filter state that stops being finite (only reachable by corrupting it,
// which is what this white-box test does) restarts the filter instead of
// spreading NaN into every later detection.
func TestKalmanFilterRestartsOnCorruptState(t *testing.T) {
	k, err := NewKalman(KalmanConfig{})
	if err != nil {
		t.Fatal(err)
	}
	d := bwe.GroupDelta{SendDelta: 20 * time.Millisecond, ArrivalDelta: 20 * time.Millisecond, SizeDelta: 100, Arrival: 1000}
	for range 10 {
		d.Arrival = d.Arrival.Add(20 * time.Millisecond)
		k.Update(d)
	}
	k.e11 = math.Inf(1)
	d.Arrival = d.Arrival.Add(20 * time.Millisecond)
	det := k.Update(d)
	if k.FilterResets() != 1 {
		t.Errorf("FilterResets() = %d after a corrupted update, want 1", k.FilterResets())
	}
	if math.IsNaN(det.Trend) || math.IsInf(det.Trend, 0) || k.e11 != 0.1 || k.slope != 8.0/512 {
		t.Errorf("after restart: Update = %+v, E11 %v, slope %v; want finite output and the initial filter", det, k.e11, k.slope)
	}
}
