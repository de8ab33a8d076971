package delaybased

import (
	"testing"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/probe"
)

// This file re-expresses the harness of libwebrtc's delay_based_bwe_unittest
// (goog_cc/delay_based_bwe_unittest_helper.cc) so that its scenarios, and
// the numbers they expect, can be checked against our estimator. Facts
// reproduced from the harness:
//   - the clock starts at 100 000 000 µs; feedback time is the clock;
//   - one feedback batch per frame (or per packet in IncomingFeedback);
//   - a 30 fps stream splits each frame into packets of at most ~1200 B
//     (kMtu) sent at the same instant, send time = clock + 1 s;
//   - the link serves each packet in round((8000·bytes)/(capacity/1000)) µs,
//     FIFO, starting no earlier than the frame's generation time;
//   - acknowledged throughput comes from the robust throughput estimator,
//     probe results from the probe-cluster estimator.

const (
	harnessStart    = bwe.Time(100_000_000)
	sendSideOffset  = bwe.Time(1_000_000) // kSendSideOffsetUs
	harnessMTU      = 1200
	acceptedErrBps  = 50_000 // kAcceptedBitrateErrorBps
	defaultCapacity = 1 * bwe.Mbps
)

// rtpStream is the harness's frame generator (test::RtpStream).
type rtpStream struct {
	fps     int64
	bitrate int64 // bps
	nextRTP int64 // µs
}

func (s *rtpStream) generate(now int64, dst []bwe.PacketResult) []bwe.PacketResult {
	if now < s.nextRTP {
		return dst
	}
	bitsPerFrame := (s.bitrate + s.fps/2) / s.fps
	n := max((bitsPerFrame+4*harnessMTU)/(8*harnessMTU), 1)
	payload := (bitsPerFrame + 4*n) / (8 * n)
	for range n {
		dst = append(dst, bwe.PacketResult{
			SendTime: bwe.Time(now) + sendSideOffset,
			Size:     bwe.ByteCount(payload),
			Received: true,
		})
	}
	s.nextRTP = now + (1_000_000+s.fps/2)/s.fps
	return dst
}

type observer struct {
	updated bool
	latest  bwe.Bitrate
}

type harness struct {
	t             *testing.T
	clock         bwe.Time
	est           *Estimator
	probes        *probe.Estimator
	stream        *rtpStream
	capacity      bwe.Bitrate
	prevArrival   bwe.Time
	arrivalOffset time.Duration
	firstUpdate   bool
	obs           observer
	seq           int64
	buf           []bwe.PacketResult
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	est, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pe, err := probe.NewEstimator(probe.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return &harness{
		t: t, clock: harnessStart, est: est, probes: pe,
		capacity: defaultCapacity, prevArrival: harnessStart, firstUpdate: true,
	}
}

func (h *harness) addDefaultStream() { h.stream = &rtpStream{fps: 30, bitrate: 300_000} }

func (h *harness) advance(d time.Duration) { h.clock = h.clock.Add(d) }

// incoming feeds one packet as its own feedback batch (IncomingFeedback).
func (h *harness) incoming(arrival, send bwe.Time, size bwe.ByteCount, c *probe.Cluster) Result {
	p := bwe.PacketResult{
		Seq: h.seq, SendTime: send, Arrival: arrival.Add(h.arrivalOffset), Size: size, Received: true,
	}
	h.seq++
	if c != nil {
		p.ProbeCluster = c.ID
		h.probes.Update(p, *c)
	}
	probeRate, _ := h.probes.Fetch()
	res := h.est.Update(bwe.Feedback{Time: h.clock, Packets: []bwe.PacketResult{p}}, probeRate, false)
	if res.Updated {
		h.obs = observer{updated: true, latest: res.Target}
	}
	return res
}

// frame generates one frame at bitrate, pushes it through the link model
// and feeds it as one batch (GenerateAndProcessFrame). It reports whether
// the estimate fell below bitrate (an overuse reaction).
func (h *harness) frame(bitrate bwe.Bitrate) bool {
	h.stream.bitrate = int64(bitrate)
	now := int64(h.clock)
	h.buf = h.stream.generate(now, h.buf[:0])
	next := max(h.stream.nextRTP, now)
	if len(h.buf) == 0 {
		return false
	}
	capBpus := int64(h.capacity) / 1000
	for i := range h.buf {
		p := &h.buf[i]
		p.Seq = h.seq
		h.seq++
		service := (8*1000*int64(p.Size) + capBpus/2) / capBpus
		h.prevArrival = bwe.Time(max(now+service, int64(h.prevArrival)+service))
		p.Arrival = h.prevArrival
	}
	h.obs.updated = false
	h.clock = h.buf[len(h.buf)-1].Arrival
	for i := range h.buf {
		h.buf[i].Arrival = h.buf[i].Arrival.Add(h.arrivalOffset)
	}
	overuse := false
	res := h.est.Update(bwe.Feedback{Time: h.clock, Packets: h.buf}, 0, false)
	if res.Updated {
		h.obs = observer{updated: true, latest: res.Target}
		if !h.firstUpdate && res.Target < bitrate {
			overuse = true
		}
		h.firstUpdate = false
	}
	h.clock = bwe.Time(next)
	return overuse
}

// steadyStateRun runs frames until an update is seen and the bitrate
// exceeds target (SteadyStateRun); while overusing the estimate must stay
// within (lo, hi).
func (h *harness) steadyStateRun(maxFrames int, start, lo, hi, target bwe.Bitrate) bwe.Bitrate {
	h.t.Helper()
	bitrate := start
	seen := false
	for i := range maxFrames {
		if h.frame(bitrate) {
			if got := h.obs.latest; got >= hi || got <= lo {
				h.t.Errorf("frame %d: estimate after overuse %v, want within (%v, %v)", i, got, lo, hi)
			}
			bitrate = h.obs.latest
			seen = true
		} else if h.obs.updated {
			bitrate = h.obs.latest
			h.obs.updated = false
		}
		if seen && bitrate > target {
			break
		}
	}
	if !seen {
		h.t.Errorf("steady-state run saw no overuse")
	}
	return bitrate
}

// capacityDrop is CapacityDropTestHelper for one stream: converge on a
// 1 Mbps link, then halve the capacity (and shift the receiver clock by
// offset) and return how long the estimate takes to fall to 500 kbps.
func (h *harness) capacityDrop(offset time.Duration) time.Duration {
	h.t.Helper()
	h.addDefaultStream()
	h.capacity = 1000 * bwe.Kbps
	bitrate := h.steadyStateRun(10*30, 900*bwe.Kbps, 800*bwe.Kbps, 1100*bwe.Kbps, 1000*bwe.Kbps)
	if d := bitrate - 1000*bwe.Kbps; d > 180*bwe.Kbps || d < -180*bwe.Kbps {
		h.t.Errorf("steady-state estimate %v, want 1 Mbps ± 180 kbps", bitrate)
	}
	h.obs.updated = false
	h.arrivalOffset += offset
	h.capacity = 500 * bwe.Kbps
	start := h.clock
	drop := time.Duration(-1)
	for range 100 {
		h.frame(bitrate)
		if drop < 0 && h.obs.latest <= 500*bwe.Kbps {
			// The harness reads its clock in whole ms (rounded), as
			// libwebrtc's TimeInMilliseconds does.
			drop = time.Duration(roundMs(h.clock)-roundMs(start)) * time.Millisecond
		}
		if h.obs.updated {
			bitrate = h.obs.latest
		}
	}
	return drop
}

func roundMs(t bwe.Time) int64 { return (int64(t) + 500) / 1000 }

func near[T ~int64](got, want, tol T) bool { return got >= want-tol && got <= want+tol }

// The conformance cases of libwebrtc delay_based_bwe_unittest.cc.

func TestLibwebrtcProbeDetection(t *testing.T) {
	c0 := probe.Cluster{ID: 1, MinProbes: 5, MinBytes: 2000}
	c1 := probe.Cluster{ID: 2, MinProbes: 8, MinBytes: 4000}
	t.Run("ProbeDetection", func(t *testing.T) {
		h := newHarness(t, Config{})
		for range 5 { // 800 kbps
			h.advance(10 * time.Millisecond)
			h.incoming(h.clock, h.clock, 1000, &c0)
		}
		if !h.obs.updated {
			t.Fatal("no update after cluster 0")
		}
		for range 8 { // 1600 kbps
			h.advance(5 * time.Millisecond)
			h.incoming(h.clock, h.clock, 1000, &c1)
		}
		if !h.obs.updated || h.obs.latest <= 1_500_000 {
			t.Fatalf("estimate %v (updated %v), want > 1.5 Mbps", h.obs.latest, h.obs.updated)
		}
	})
	t.Run("ProbeDetectionNonPacedPackets", func(t *testing.T) {
		h := newHarness(t, Config{})
		for range 5 {
			h.advance(5 * time.Millisecond)
			now := h.clock
			h.incoming(now, now, 1000, &c0)
			h.advance(5 * time.Millisecond)
			h.incoming(now, now, 100, nil)
		}
		if !h.obs.updated || h.obs.latest <= 800_000 {
			t.Fatalf("estimate %v (updated %v), want > 800 kbps", h.obs.latest, h.obs.updated)
		}
	})
	t.Run("ProbeDetectionFasterArrival", func(t *testing.T) {
		h := newHarness(t, Config{})
		var send bwe.Time
		for range 5 {
			h.advance(time.Millisecond)
			send += 10 * ms
			h.incoming(h.clock, send, 1000, &c0)
		}
		if h.obs.updated {
			t.Fatalf("estimate updated to %v, want no update (receive/send ratio > 2)", h.obs.latest)
		}
	})
	// Cluster 1 paced faster than it arrives: 0.95 × the receive rate.
	for _, tc := range []struct {
		name                string
		arrivalGap, sendGap time.Duration
		want                bwe.Bitrate
	}{
		{"ProbeDetectionSlowerArrival", 7 * time.Millisecond, 5 * time.Millisecond, 0.95 * 1_140_000},
		{"ProbeDetectionSlowerArrivalHighBitrate", 2 * time.Millisecond, time.Millisecond, 0.95 * 4_000_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			var send bwe.Time
			for range 8 {
				h.advance(tc.arrivalGap)
				send = send.Add(tc.sendGap)
				h.incoming(h.clock, send, 1000, &c1)
			}
			if !h.obs.updated || !near(h.obs.latest, tc.want, 10_000) {
				t.Fatalf("estimate %v (updated %v), want %v ± 10 kbps", h.obs.latest, h.obs.updated, tc.want)
			}
		})
	}
}

// initialBehavior is InitialBehaviorTestHelper and the first half of
// RateIncreaseReorderingTestHelper: 50 fps of 1200 B packets, the first five
// forming a probe cluster.
func initialBehavior(t *testing.T, h *harness) bwe.Time {
	t.Helper()
	cluster := probe.Cluster{ID: 1, MinProbes: 5, MinBytes: 5000}
	if _, ok := h.est.Estimate(); ok {
		t.Fatal("estimate valid before any feedback")
	}
	h.advance(2 * time.Second)
	var send bwe.Time
	for i := range 5*50 + 1 + 2 {
		if i == 2 {
			if r, ok := h.est.Estimate(); ok || h.obs.updated {
				t.Fatalf("after 2 packets: estimate %v valid %v updated %v, want none", r, ok, h.obs.updated)
			}
		}
		var c *probe.Cluster
		if i < 5 {
			c = &cluster
		}
		h.incoming(h.clock, send, harnessMTU, c)
		h.advance(20 * time.Millisecond)
		send += 20 * ms
	}
	return send
}

func TestLibwebrtcInitialBehavior(t *testing.T) {
	h := newHarness(t, Config{})
	initialBehavior(t, h)
	got, ok := h.est.Estimate()
	if !ok || !near(got, 730_000, acceptedErrBps) {
		t.Fatalf("estimate %v (valid %v), want 730 kbps ± 50 kbps", got, ok)
	}
	if !h.obs.updated || h.obs.latest != got {
		t.Fatalf("observer saw %v (updated %v), want %v", h.obs.latest, h.obs.updated, got)
	}
	t.Logf("InitialBehavior: %v (libwebrtc: 730 kbps ± 50 kbps)", got)
}

func TestLibwebrtcRateIncreaseReordering(t *testing.T) {
	h := newHarness(t, Config{})
	send := initialBehavior(t, h)
	if !h.obs.updated || !near(h.obs.latest, 730_000, acceptedErrBps) {
		t.Fatalf("before reordering: %v (updated %v), want 730 kbps ± 50 kbps", h.obs.latest, h.obs.updated)
	}
	for range 10 {
		h.advance(40 * time.Millisecond)
		send += 40 * ms
		h.incoming(h.clock, send, 1000, nil)
		h.incoming(h.clock, send-20*ms, 1000, nil)
	}
	if !h.obs.updated || !near(h.obs.latest, 730_000, acceptedErrBps) {
		t.Fatalf("after reordering: %v (updated %v), want 730 kbps ± 50 kbps", h.obs.latest, h.obs.updated)
	}
}

func TestLibwebrtcRateIncreaseRtpTimestamps(t *testing.T) {
	h := newHarness(t, Config{})
	h.addDefaultStream()
	bitrate := bwe.Bitrate(30_000)
	iterations := 0
	for bitrate < 500_000 {
		if h.frame(bitrate) {
			if h.obs.latest <= bitrate {
				t.Fatalf("frame %d: overuse estimate %v, want above %v", iterations, h.obs.latest, bitrate)
			}
			bitrate = h.obs.latest
			h.obs.updated = false
		} else if h.obs.updated {
			bitrate = h.obs.latest
			h.obs.updated = false
		}
		iterations++
		if iterations > 10_000 {
			t.Fatalf("no 500 kbps after %d frames (at %v)", iterations, bitrate)
		}
	}
	if iterations != 617 {
		t.Fatalf("reached 500 kbps after %d frames, libwebrtc RateIncreaseRtpTimestamps: 617", iterations)
	}
}

func TestLibwebrtcCapacityDrop(t *testing.T) {
	tests := []struct {
		name   string
		offset time.Duration
		want   time.Duration // libwebrtc's expected drop time, ±33 ms
	}{
		{"CapacityDropOneStream", 0, 500 * time.Millisecond},
		{"CapacityDropPosOffsetChange", 30 * time.Second, 867 * time.Millisecond},
		{"CapacityDropNegOffsetChange", -30 * time.Second, 933 * time.Millisecond},
		{"CapacityDropOneStreamWrap", 0, 533 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			got := h.capacityDrop(tt.offset)
			if got < 0 || !near(got, tt.want, 33*time.Millisecond) {
				t.Fatalf("estimate reached 500 kbps %v after the drop, libwebrtc %s: %v ± 33 ms", got, tt.name, tt.want)
			}
			t.Logf("%s: drop detected after %v (libwebrtc %v ± 33 ms)", tt.name, got, tt.want)
		})
	}
}

func TestLibwebrtcGetExpectedBwePeriod(t *testing.T) {
	h := newHarness(t, Config{})
	def := h.est.ExpectedPeriod()
	if def <= 0 {
		t.Fatalf("default period %v, want > 0", def)
	}
	h.capacityDrop(0)
	if got := h.est.ExpectedPeriod(); got <= 0 || got == def {
		t.Fatalf("period after a capacity drop %v, want > 0 and != default %v", got, def)
	}
}

func TestLibwebrtcInitializeResult(t *testing.T) {
	var r Result
	if r.Detection.Usage != bwe.Normal {
		t.Fatalf("zero Result usage %v, want normal", r.Detection.Usage)
	}
}

func TestLibwebrtcTimestampGrouping(t *testing.T) {
	h := newHarness(t, Config{})
	var send bwe.Time
	for range 6*50 + 1 {
		h.incoming(h.clock, send, 1000, nil)
		h.advance(20 * time.Millisecond)
		send += 20 * ms
	}
	if !h.obs.updated || h.obs.latest < 400_000 {
		t.Fatalf("after warm-up: %v (updated %v), want ≥ 400 kbps", h.obs.latest, h.obs.updated)
	}
	// Batches of 15 packets sent 1 ms apart, then a 10 ms gap: over-use.
	for range 100 {
		for range 15 {
			h.incoming(h.clock, send, 100, nil)
			h.advance(time.Millisecond) // 20 ms / 15 in integer ms
			send += 1 * ms
		}
		h.advance(10 * time.Millisecond)
		send += 5 * ms
	}
	if !h.obs.updated || h.obs.latest >= 400_000 {
		t.Fatalf("after batches: %v (updated %v), want < 400 kbps", h.obs.latest, h.obs.updated)
	}
}

func TestLibwebrtcTimeoutAndWrap(t *testing.T) {
	for _, tt := range []struct {
		name    string
		silence time.Duration
	}{{"TestShortTimeoutAndWrap", 35 * time.Second}, {"TestLongTimeoutAndWrap", 640 * time.Second}} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			var send bwe.Time
			for range 3000 {
				h.incoming(h.clock, send, 1000, nil)
				h.advance(10 * time.Millisecond)
				send += 10 * ms
			}
			before, _ := h.est.Estimate()
			h.advance(tt.silence)
			send = send.Add(tt.silence)
			for range 24 {
				h.incoming(h.clock, send, 1000, nil)
				h.advance(20 * time.Millisecond)
				send += 10 * ms
			}
			after, _ := h.est.Estimate()
			if after >= before {
				t.Fatalf("estimate %v after the silence, want below %v", after, before)
			}
		})
	}
}

func TestLibwebrtcInitialOveruse(t *testing.T) {
	h := newHarness(t, Config{})
	h.stream = &rtpStream{fps: 90, bitrate: 300_000}
	h.capacity = 200 * bwe.Kbps
	h.est.SetStartBitrate(300 * bwe.Kbps)
	bitrate := 300 * bwe.Kbps
	seen := false
	for range 40 {
		if h.frame(bitrate) {
			if !h.obs.updated {
				t.Fatal("overuse without update")
			}
			seen = true
			break
		} else if h.obs.updated {
			bitrate = h.obs.latest
			h.obs.updated = false
		}
	}
	if !seen {
		t.Fatal("no overuse within 40 frames")
	}
	if got := h.obs.latest; got <= 160_000 || got > 200_000 {
		t.Fatalf("estimate at overuse %v, libwebrtc TestInitialOveruse: 160 kbps < estimate ≤ 200 kbps", got)
	}
}

func TestLibwebrtcTimestampPrecisionHandling(t *testing.T) {
	h := newHarness(t, Config{})
	last := h.obs.latest
	for i := range 1000 {
		h.advance(500 * time.Microsecond)
		h.incoming(h.clock, h.clock.Add(-500*time.Microsecond), 1000, nil)
		h.advance(9500 * time.Microsecond)
		h.incoming(h.clock, h.clock.Add(-250*time.Microsecond), 1000, nil)
		h.advance(10 * time.Millisecond)
		if h.obs.latest < last {
			t.Fatalf("iteration %d: estimate fell from %v to %v (false overuse from sub-ms timestamps)", i, last, h.obs.latest)
		}
		last = h.obs.latest
	}
}
