package sendside

import (
	"testing"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/netstate"
	"github.com/bwelab/bwe/ratecontrol"
)

// TestPredictorProtects: with a network-state predictor and a rate
// controller that protects, a clean stretch predicts no loss and keeps the
// whole target for media; once the feedback turns lossy the predicted
// risk rises, reaches the controller as Signals.LossRisk, and a share of
// the target is reserved for redundancy.
func TestPredictorProtects(t *testing.T) {
	thr, err := netstate.NewThreshold(netstate.ThresholdConfig{})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := ratecontrol.New(ratecontrol.Config{Sharp: true, LossThreshold: 1, Protect: ratecontrol.Protection{Threshold: 0.5, Reserve: 0.25}})
	if err != nil {
		t.Fatal(err)
	}
	e := newEstimator(t, Config{Start: bwe.Mbps, NoProbing: true, Predictor: thr, Rate: rc})
	f := newFeeder(4*bwe.Mbps, 30*time.Millisecond, 0)
	var res Result
	for now := 50 * time.Millisecond; now <= 30*time.Second; now += 50 * time.Millisecond {
		if now == 15*time.Second {
			f.loss = 0.1
		}
		res = e.Update(f.batch(at(now), e.Target()))
		switch {
		case now == 14*time.Second:
			if !res.NetState.Ready || res.NetState.Lossy >= 0.5 || res.Signals.LossRisk != res.NetState.Lossy || res.Protection != 0 || res.Encoder != res.Target {
				t.Fatalf("clean, at %v: prediction %+v, risk %v, protection %v, encoder %v of %v", now, res.NetState, res.Signals.LossRisk, res.Protection, res.Encoder, res.Target)
			}
		case now == 20*time.Second:
			// The encoder gets three quarters of the controller's target.
			if st := rc.State(); res.NetState.Lossy < 0.5 || res.Signals.LossRisk != res.NetState.Lossy || res.Protection != 0.25 || res.Encoder != st.Target.Scale(0.75) {
				t.Fatalf("lossy, at %v: prediction %+v, risk %v, protection %v, encoder %v of the controller's %v", now, res.NetState, res.Signals.LossRisk, res.Protection, res.Encoder, st.Target)
			}
		}
	}
	// Without a predictor nothing is predicted, whatever the loss.
	plain := newEstimator(t, Config{Start: bwe.Mbps, NoProbing: true})
	f = newFeeder(4*bwe.Mbps, 30*time.Millisecond, 0.1)
	for now := 50 * time.Millisecond; now <= 10*time.Second; now += 50 * time.Millisecond {
		res = plain.Update(f.batch(at(now), plain.Target()))
	}
	if res.NetState.Ready || res.Signals.LossRisk != 0 || res.Protection != 0 {
		t.Errorf("without a predictor: prediction %+v, risk %v, protection %v", res.NetState, res.Signals.LossRisk, res.Protection)
	}
}

// TestPredictorAllocs: the per-feedback path with a predictor (an LSTM)
// allocates nothing.
func TestPredictorAllocs(t *testing.T) {
	m, err := netstate.DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	e := newEstimator(t, Config{Start: bwe.Mbps, Predictor: m})
	f := newFeeder(4*bwe.Mbps, 30*time.Millisecond, 0.02)
	now := 50 * time.Millisecond
	for ; now <= 20*time.Second; now += 50 * time.Millisecond {
		e.Update(f.batch(at(now), e.Target()))
	}
	allocs := testing.AllocsPerRun(200, func() {
		e.Update(f.batch(at(now), e.Target()))
		now += 50 * time.Millisecond
	})
	if allocs != 0 {
		t.Errorf("Update with a predictor: %v allocations per call, want 0", allocs)
	}
}
