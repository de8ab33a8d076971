package sendside

import (
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// recordingDetector remembers what it was given and reports a fixed
// oscillation.
type recordingDetector struct {
	times  []bwe.Time
	values []bwe.Bitrate
	state  bwe.Oscillation
}

func (d *recordingDetector) Add(at bwe.Time, v bwe.Bitrate) bwe.Oscillation {
	d.times, d.values = append(d.times, at), append(d.values, v)
	return d.state
}
func (d *recordingDetector) Reset() {}

// halfController answers half the estimate and remembers its inputs.
type halfController struct{ in []bwe.RateInput }

func (c *halfController) Update(in bwe.RateInput) bwe.Bitrate {
	c.in = append(c.in, in)
	return in.Estimate / 2
}
func (c *halfController) Reset() {}

// Without a rate controller the encoder target is the target; with one,
// it is the controller's answer to the target and its signals, on every
// Update and Process call. The detector sees the target after each
// feedback batch only, and its state reaches both the result and the
// controller.
func TestComposedParts(t *testing.T) {
	plain := newEstimator(t, Config{NoProbing: true})
	det := &recordingDetector{state: bwe.Oscillation{Detected: true, Period: 4 * time.Second, Strength: 0.9}}
	rc := &halfController{}
	e := newEstimator(t, Config{NoProbing: true, Oscillation: det, Rate: rc})
	f, g := newFeeder(2*bwe.Mbps, 20*ms, 0), newFeeder(2*bwe.Mbps, 20*ms, 0)
	feedbacks := 0
	for now := 50 * ms; now <= 5*time.Second; now += 50 * ms {
		p := plain.Update(f.batch(at(now), plain.Target()))
		if p.Encoder != p.Target {
			t.Fatalf("at %v without a rate controller: Encoder %v, want Target %v", now, p.Encoder, p.Target)
		}
		r := e.Update(g.batch(at(now), e.Target()))
		feedbacks++
		if r.Encoder != r.Target/2 {
			t.Fatalf("at %v: Encoder %v, want the controller's %v", now, r.Encoder, r.Target/2)
		}
		if r.Target != p.Target {
			t.Fatalf("at %v: the parts changed the target: %v, want %v as without them", now, r.Target, p.Target)
		}
		if !r.Signals.Oscillation.Detected || r.Signals.RTT != r.RTT || r.Signals.Usage != r.Delay.Detection.Usage || r.Signals.Loss != r.Loss.Loss {
			t.Fatalf("at %v: Signals %+v do not match the result (RTT %v, usage %v, loss %v)", now, r.Signals, r.RTT, r.Delay.Detection.Usage, r.Loss.Loss)
		}
		if last := det.values[len(det.values)-1]; last != r.Target {
			t.Fatalf("at %v: detector last saw %v, want the target %v", now, last, r.Target)
		}
		pr := e.Process(r.Time.Add(25 * ms))
		if pr.Encoder != pr.Target/2 {
			t.Fatalf("at %v: Process Encoder %v, want %v", pr.Time, pr.Encoder, pr.Target/2)
		}
	}
	if len(det.values) != feedbacks {
		t.Errorf("detector saw %d values, want one per feedback (%d)", len(det.values), feedbacks)
	}
	if len(rc.in) != 2*feedbacks {
		t.Errorf("controller saw %d inputs, want one per Update and Process (%d)", len(rc.in), 2*feedbacks)
	}
	for i := 1; i < len(rc.in); i++ {
		if rc.in[i].Time < rc.in[i-1].Time {
			t.Fatalf("controller input %d at %v precedes input %d at %v", i, rc.in[i].Time, i-1, rc.in[i-1].Time)
		}
	}
}

// Loss-based decreases and feedback timeouts are reported as congestion
// the estimator holds for real.
func TestSignalsCongested(t *testing.T) {
	e := newEstimator(t, Config{Start: bwe.Mbps, NoProbing: true})
	f := newFeeder(4*bwe.Mbps, 20*ms, 0)
	var r Result
	for now := 50 * ms; now <= 5*time.Second; now += 50 * ms {
		r = e.Update(f.batch(at(now), e.Target()))
		if r.Signals.Congested {
			t.Fatalf("at %v on a clean link: Congested (limit %v)", now, r.Limit)
		}
	}
	last := r.Time
	for now := last; now <= last.Add(1100*ms); now = now.Add(25 * ms) {
		r = e.Process(now)
	}
	if !r.TimedOut && r.Limit != LimitTimeout {
		t.Fatalf("1.1 s without feedback: limit %v, want a timeout", r.Limit)
	}
	if !r.Signals.Congested {
		t.Errorf("after a feedback timeout: Signals.Congested false, want true")
	}
	lossy := newEstimator(t, Config{Start: 2 * bwe.Mbps, NoProbing: true})
	g := newFeeder(4*bwe.Mbps, 20*ms, 0.3)
	congested := false
	for now := 50 * ms; now <= 20*time.Second; now += 50 * ms {
		r = lossy.Update(g.batch(at(now), lossy.Target()))
		congested = congested || r.Signals.Congested
	}
	if !congested {
		t.Errorf("30 %% loss for 20 s: never Congested (last limit %v, loss state %v)", r.Limit, r.Loss.State)
	}
}

// A Process call dated before the last Update reaches the parts at the
// later time: they are promised non-decreasing times.
func TestPartsSeeMonotoneTime(t *testing.T) {
	rc := &halfController{}
	e := newEstimator(t, Config{NoProbing: true, Rate: rc})
	f := newFeeder(2*bwe.Mbps, 20*ms, 0)
	r := e.Update(f.batch(at(100*ms), e.Target()))
	e.Process(r.Time.Add(-30 * ms))
	if n := len(rc.in); n != 2 || rc.in[1].Time != r.Time {
		t.Fatalf("controller inputs %+v, want two, the second at %v", rc.in, r.Time)
	}
}
