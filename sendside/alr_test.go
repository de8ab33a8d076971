package sendside

import (
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// alrTraffic sends, in 10 ms steps for d, the bytes of percent % of
// estimate, as libwebrtc's alr_detector_unittest SimulateOutgoingTrafficIn
// does (integer bytes per step, the last partial step rounded up to a
// whole one).
func alrTraffic(d *ALRDetector, now *bwe.Time, dur time.Duration, percent int64, estimate bwe.Bitrate) {
	const step = 10 * time.Millisecond
	for t := time.Duration(0); t < dur; t += step {
		*now = now.Add(step)
		d.OnSent(*now, bwe.ByteCount(int64(estimate)*percent*10/(8*100*1000)))
	}
	if rem := dur % step; rem > 0 {
		*now = now.Add(step)
		d.OnSent(*now, bwe.ByteCount(int64(estimate)*percent*int64(rem/time.Millisecond)/(8*100*1000)))
	}
}

// The cases of libwebrtc alr_detector_unittest, at its 300 kbps estimate.
func TestALRDetectorLibwebrtc(t *testing.T) {
	const estimate = 300 * bwe.Kbps
	type phase struct {
		setEstimate bwe.Bitrate // if nonzero, set before the traffic
		dur         time.Duration
		percent     int64
		wantALR     bool
	}
	tests := []struct {
		name   string
		phases []phase
	}{
		{"AlrDetection", []phase{
			{0, time.Second, 90, false},      // close to 100 %: not limited
			{0, 1500 * ms, 20, true},         // 20 %: limited
			{0, 4 * time.Second, 100, false}, // above 65 %: not limited
		}},
		{"ShortSpike", []phase{
			{0, time.Second, 20, true},
			{0, 100 * ms, 150, true}, // a short spike does not end it
			{0, 3 * time.Second, 100, false},
		}},
		{"BandwidthEstimateChanges", []phase{
			{0, time.Second, 20, true},
			{estimate / 5, 0, 0, true},  // the estimate drops: still limited...
			{0, time.Second, 50, false}, // ...until the same traffic fills the smaller budget
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := NewALRDetector(ALRConfig{})
			if err != nil {
				t.Fatal(err)
			}
			d.SetEstimate(estimate)
			now := at(time.Second)
			if _, ok := d.InALR(); ok {
				t.Fatal("starts in ALR")
			}
			for i, p := range tc.phases {
				if p.setEstimate != 0 {
					d.SetEstimate(p.setEstimate)
				}
				// The libwebrtc helper scales traffic by the original
				// estimate even after it changes.
				alrTraffic(d, &now, p.dur, p.percent, estimate)
				if _, ok := d.InALR(); ok != p.wantALR {
					t.Errorf("phase %d (%v at %d %%): in ALR %v, want %v (level %.3f)", i, p.dur, p.percent, ok, p.wantALR, d.Level())
				}
			}
		})
	}
}

// The region's start time is the send time of the packet that began it,
// and a Reset forgets the sending history.
func TestALRDetectorStartAndReset(t *testing.T) {
	d, err := NewALRDetector(ALRConfig{})
	if err != nil {
		t.Fatal(err)
	}
	d.SetEstimate(bwe.Mbps)
	now := at(0)
	d.OnSent(now, 1200)
	var began bwe.Time
	for range 200 {
		now = now.Add(10 * ms)
		if d.OnSent(now, 100) && began == 0 {
			began = now
		}
	}
	since, ok := d.InALR()
	if !ok || since != began || began == 0 {
		t.Fatalf("InALR() = %v, %v; want true since %v", since, ok, began)
	}
	// The budget holds 0.65 Mbps × 500 ms = 40625 bytes and gains
	// 812.5 − 100 bytes per 10 ms: more than 80 % of it (32500 bytes)
	// after 46 steps.
	if want := at(460 * ms); began != want {
		t.Errorf("region began at %v, want %v", began, want)
	}
	d.Reset()
	if _, ok := d.InALR(); ok || d.Level() != 0 {
		t.Errorf("after Reset: in ALR %v, level %v", ok, d.Level())
	}
	// Sends out of order add no budget, and negative sizes use none.
	d.OnSent(now, 1200)
	d.OnSent(now.Add(-time.Second), -5)
	if l := d.Level(); l != 0 {
		t.Errorf("level after a late, negative-size send: %v, want 0", l)
	}
}

func TestSentRate(t *testing.T) {
	s := newSentRate(time.Second)
	if _, ok := s.rate(100 * ms); ok {
		t.Fatal("rate known before any send")
	}
	// 1200 bytes every 12 ms = 800 kbps.
	now := at(5 * time.Second)
	for range 400 {
		s.add(now, 1200)
		now = now.Add(12 * ms)
	}
	r, ok := s.rate(100 * ms)
	if !ok || r < 780*bwe.Kbps || r > 820*bwe.Kbps {
		t.Errorf("rate of 800 kbps over 1 s: %v, %v", r, ok)
	}
	// A long pause empties the window: the next packet alone is in it.
	now = now.Add(10 * time.Second)
	s.add(now, 1200)
	if r, _ := s.rate(0); r != bwe.RateOf(1200, time.Second) {
		t.Errorf("after a 10 s pause: %v, want one packet per second", r)
	}
	// Packets older than the window are ignored.
	s.add(now.Add(-5*time.Second), 1_000_000)
	if r, _ := s.rate(0); r != bwe.RateOf(1200, time.Second) {
		t.Errorf("after a stale packet: %v, want it ignored", r)
	}
	// The window is not filled yet at the start: the rate is over the
	// time seen.
	s = newSentRate(time.Second)
	s.add(at(0), 1000)
	s.add(at(200*ms), 1000)
	if r, ok := s.rate(100 * ms); !ok || r != bwe.RateOf(2000, 200*ms) {
		t.Errorf("two packets 200 ms apart: %v, %v; want %v", r, ok, bwe.RateOf(2000, 200*ms))
	}
	if _, ok := s.rate(300 * ms); ok {
		t.Errorf("rate known over 200 ms with a 300 ms minimum span")
	}
}
