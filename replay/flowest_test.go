package replay

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/sendside"
	"github.com/bwelab/bwe/traces"
)

// rampEstimator is a FlowEstimator whose estimate climbs by slope each
// second from start, whatever the feedback says; it counts the calls the
// emulator makes.
type rampEstimator struct {
	start, slope bwe.Bitrate
	sent         int
	outOfOrder   bool
	updates      int
	reported     int
	closed       int
	closeErr     error
}

func (r *rampEstimator) rate(t bwe.Time) bwe.Bitrate {
	return r.start + bwe.Bitrate(float64(r.slope)*float64(t)/1e6)
}

func (r *rampEstimator) Target() bwe.Bitrate { return r.start }

func (r *rampEstimator) OnSent(p bwe.PacketResult) {
	if p.Seq != int64(r.sent) || p.Received {
		r.outOfOrder = true
	}
	r.sent++
}

func (r *rampEstimator) Update(fb bwe.Feedback) sendside.Result {
	r.updates++
	r.reported += len(fb.Packets)
	return sendside.Result{Time: fb.Time, Target: r.rate(fb.Time)}
}

func (r *rampEstimator) Process(now bwe.Time) sendside.Result {
	return sendside.Result{Time: now, Target: r.rate(now)}
}

func (r *rampEstimator) Close() error {
	r.closed++
	return r.closeErr
}

// TestFlowEstimator runs the emulator with an estimator of its own: it
// must be told of every packet in order, see every packet in feedback,
// drive the source (Encoder 0 means Target) and be closed once; the
// ramp-up and the highest estimate are measured on its estimate.
func TestFlowEstimator(t *testing.T) {
	s := traces.Scenario{
		Name:     "ramp",
		Duration: 30 * time.Second,
		Warmup:   10 * time.Second,
		Forward:  traces.Path{Capacity: traces.Constant(2 * bwe.Mbps), Delay: 20 * ms, QueueDelay: 300 * ms},
		Flows:    []traces.Flow{{StartRate: 100 * bwe.Kbps}},
	}
	var ramps []*rampEstimator
	est := Estimator{Name: "ramp", New: func(cfg sendside.Config) (FlowEstimator, error) {
		if cfg.Start != 100*bwe.Kbps {
			t.Errorf("New got start rate %v, want the flow's 100 kbps", cfg.Start)
		}
		r := &rampEstimator{start: cfg.Start, slope: 50 * bwe.Kbps}
		ramps = append(ramps, r)
		return r, nil
	}}
	res, err := Run(s, est)
	if err != nil {
		t.Fatal(err)
	}
	if len(ramps) != 1 {
		t.Fatalf("New called %d times for one flow", len(ramps))
	}
	r, f := ramps[0], res.Flows[0]
	if r.sent != f.Packets || r.outOfOrder {
		t.Errorf("OnSent: %d calls (in order: %v), %d packets sent", r.sent, !r.outOfOrder, f.Packets)
	}
	if r.updates != f.Feedbacks || r.reported < f.Packets*9/10 {
		t.Errorf("Update: %d calls for %d reports, %d packets reported of %d", r.updates, f.Feedbacks, r.reported, f.Packets)
	}
	if r.closed != 1 {
		t.Errorf("Close called %d times, want 1", r.closed)
	}
	// 100 kbps + 50 kbps/s reaches 0.8 × 2 Mbps = 1.6 Mbps at 30 s: never
	// within the run; the highest estimate is the last sample's.
	m := f.Metrics
	if m.RampedUp {
		t.Errorf("ramped up after %v, want never", m.RampUp)
	}
	last := f.Series[len(f.Series)-1]
	if m.MaxEstimate != last.Estimate || last.Estimate != r.rate(last.At) {
		t.Errorf("MaxEstimate %v, last sample's estimate %v at %v, want %v", m.MaxEstimate, last.Estimate, last.At, r.rate(last.At))
	}
	// The source follows the estimate: the mean target over the steady
	// part (10–30 s) is about 100 + 50 × 20 = 1100 kbps.
	if got := m.MeanTarget; got < 1050*bwe.Kbps || got > 1150*bwe.Kbps {
		t.Errorf("mean target %v, want about 1.1 Mbps", got)
	}

	// A steeper ramp reaches 1.6 Mbps at (1600 − 100) / 150 = 10 s.
	est.New = func(cfg sendside.Config) (FlowEstimator, error) {
		return &rampEstimator{start: cfg.Start, slope: 150 * bwe.Kbps}, nil
	}
	if res, err = Run(s, est); err != nil {
		t.Fatal(err)
	}
	if m := res.Flows[0].Metrics; !m.RampedUp || m.RampUp != 10*time.Second {
		t.Errorf("ramp-up %v (%v), want 10 s", m.RampUp, m.RampedUp)
	}

	// Errors from New and Close are the run's, naming the flow.
	est.New = func(sendside.Config) (FlowEstimator, error) { return nil, errors.New("no estimator") }
	if _, err := Run(s, est); err == nil || !strings.Contains(err.Error(), "no estimator") {
		t.Errorf("New failing: Run error %v", err)
	}
	est.New = func(cfg sendside.Config) (FlowEstimator, error) {
		return &rampEstimator{start: cfg.Start, closeErr: errors.New("stuck")}, nil
	}
	if _, err := Run(s, est); err == nil || !strings.Contains(err.Error(), "closing the estimator: stuck") {
		t.Errorf("Close failing: Run error %v", err)
	}
}
