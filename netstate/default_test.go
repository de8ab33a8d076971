package netstate

import (
	"math"
	"testing"

	"github.com/bwelab/bwe"
)

// TestDefaultModel: the embedded model loads as documented, gives a
// probability for any window, calls a persistently lossy window riskier
// than a clean one, and two copies do not share state.
func TestDefaultModel(t *testing.T) {
	p, err := DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	m, ok := p.(*LSTM)
	if !ok || m.Hidden() != 32 || m.Steps() != 15 {
		t.Fatalf("default model: %T, want an LSTM with 32 hidden units over 15 steps", p)
	}
	step := func(loss, trend float64) Features {
		return Normalize(Raw{Estimate: 2e6, Sent: 2e6, Acked: bwe.Bitrate(2e6 * (1 - loss)), RTT: 1e8, Jitter: 5e6, Loss: loss, DelayTrend: trend, Packets: 200})
	}
	var clean, lossy Prediction
	for range 15 {
		clean = p.Observe(step(0, 0))
	}
	q, err := DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	for range 15 {
		lossy = q.Observe(step(0.1, 0))
	}
	if !clean.Ready || !lossy.Ready || math.IsNaN(clean.Lossy) || !(lossy.Lossy > clean.Lossy) {
		t.Errorf("risk %.3f after 15 clean seconds, %.3f after 15 seconds at 10 %% loss: want the lossy one higher", clean.Lossy, lossy.Lossy)
	}
	if again := p.Observe(step(0, 0)); again.Lossy != clean.Lossy {
		t.Errorf("another clean second changed the clean window's risk from %.6f to %.6f: the copies share state", clean.Lossy, again.Lossy)
	}
	t.Logf("risk after 15 clean seconds %.3f, after 15 seconds at 10 %% loss %.3f", clean.Lossy, lossy.Lossy)
}
