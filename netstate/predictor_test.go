package netstate

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestThresholdScript(t *testing.T) {
	p, err := NewThreshold(ThresholdConfig{})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		f    Features
		want Prediction
	}{
		// Loss 1 % is half the level: s = 0.5, Lossy = 1/3.
		{Features{FeatLoss: 0.01}, Prediction{Lossy: 1.0 / 3}},
		// A delay trend of 100 ms/s is twice the level: s = 2.
		{Features{FeatDelayTrend: 1}, Prediction{Lossy: 2.0 / 3}},
		// Jitter 25 ms: s = 0.5, but the trend is still within 3 steps.
		{Features{FeatJitter: 0.25}, Prediction{Lossy: 2.0 / 3, Ready: true}},
		{Features{FeatJitter: 0.25}, Prediction{Lossy: 2.0 / 3, Ready: true}},
		// The trend has left the window; a falling delay counts as 0.
		{Features{FeatDelayTrend: -5}, Prediction{Lossy: 1.0 / 3, Ready: true}},
		{Features{}, Prediction{Lossy: 1.0 / 3, Ready: true}},
		{Features{}, Prediction{Lossy: 0, Ready: true}},
		// Out-of-range and NaN inputs are sanitized: loss 7 counts as 1.
		{Features{FeatLoss: 7, FeatJitter: math.NaN()}, Prediction{Lossy: 50.0 / 51, Ready: true}},
	}
	for i, s := range steps {
		got := p.Observe(s.f)
		if !approx(got.Lossy, s.want.Lossy, 1e-15) || got.Ready != s.want.Ready {
			t.Errorf("step %d: Observe(%v) = %+v, want %+v", i, s.f, got, s.want)
		}
	}
	p.Reset()
	if got := p.Observe(Features{}); got.Ready || got.Lossy != 0 {
		t.Errorf("after Reset: Observe(zero) = %+v, want {0 false}", got)
	}
	// +Inf disables a feature.
	q, _ := NewThreshold(ThresholdConfig{Trend: math.Inf(1), Jitter: math.Inf(1)})
	if got := q.Observe(Features{FeatDelayTrend: 10, FeatJitter: 10}); got.Lossy != 0 {
		t.Errorf("trend and jitter disabled: Observe = %+v, want Lossy 0", got)
	}
}

func TestThresholdConfigErrors(t *testing.T) {
	for _, tt := range []struct {
		cfg  ThresholdConfig
		want string
	}{
		{ThresholdConfig{Lookback: -1}, "netstate: ThresholdConfig.Lookback -1 is not in [1, 256]"},
		{ThresholdConfig{Lookback: 257}, "netstate: ThresholdConfig.Lookback 257 is not in [1, 256]"},
		{ThresholdConfig{Loss: 1.5}, "netstate: ThresholdConfig.Loss 1.5 is not in (0, 1]"},
		{ThresholdConfig{Loss: math.NaN()}, "netstate: ThresholdConfig.Loss NaN is not in (0, 1]"},
		{ThresholdConfig{Trend: -1}, "netstate: ThresholdConfig.Trend -1 is not positive"},
		{ThresholdConfig{Jitter: math.NaN()}, "netstate: ThresholdConfig.Jitter NaN is not positive"},
	} {
		if _, err := NewThreshold(tt.cfg); err == nil || err.Error() != tt.want {
			t.Errorf("NewThreshold(%+v) error = %v, want %q", tt.cfg, err, tt.want)
		}
	}
}

func TestLogisticScript(t *testing.T) {
	m, err := NewLogistic(2)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Observe(Features{FeatLoss: 1}); got.Lossy != 0.5 || got.Ready {
		t.Errorf("untrained: Observe = %+v, want {0.5 false}", got)
	}
	// Weight 2 on the newest step's loss, −1 on the older step's RTT,
	// bias −1.
	m.p[NumFeatures+FeatLoss] = 2
	m.p[FeatRTT] = -1
	m.p[2*NumFeatures] = -1
	m.Reset()
	steps := []struct {
		f    Features
		want Prediction
	}{
		// One step: it is the newest; the older one counts as zero.
		{Features{FeatLoss: 1, FeatRTT: 3}, Prediction{Lossy: sigmoid(2 - 1)}},
		{Features{FeatLoss: 0.5}, Prediction{Lossy: sigmoid(2*0.5 - 3 - 1), Ready: true}},
		{Features{FeatLoss: math.NaN(), FeatRTT: math.Inf(1)}, Prediction{Lossy: sigmoid(-1), Ready: true}},
	}
	for i, s := range steps {
		got := m.Observe(s.f)
		if got.Lossy != s.want.Lossy || got.Ready != s.want.Ready {
			t.Errorf("step %d: Observe(%v) = %+v, want %+v", i, s.f, got, s.want)
		}
	}
	w, bias := m.Weights()
	if len(w) != 2*NumFeatures || w[NumFeatures+FeatLoss] != 2 || bias != -1 {
		t.Errorf("Weights() = %v, %v", w, bias)
	}
	if _, err := NewLogistic(0); err == nil {
		t.Errorf("NewLogistic(0) succeeded")
	}
}

// testPredictors returns one predictor of each kind with non-trivial
// weights.
func testPredictors(t testing.TB) []Predictor {
	th, err := NewThreshold(ThresholdConfig{})
	if err != nil {
		t.Fatal(err)
	}
	lg, err := NewLogistic(15)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(31, 32))
	for i := range lg.p {
		lg.p[i] = rng.NormFloat64()
	}
	ls, err := NewLSTM(LSTMConfig{Hidden: 8, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	for i := range ls.p {
		ls.p[i] = rng.NormFloat64()
	}
	return []Predictor{th, lg, ls}
}

// Observe after Reset and Predict over the same steps agree bit for bit,
// for partial and full windows, and Score matches both.
func TestObserveMatchesPredict(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	x := make([]Features, 20)
	for i := range x {
		x[i] = randomFeatures(rng)
	}
	for _, p := range testPredictors(t) {
		wp := p.(windowPredictor)
		p.Reset()
		for i := range x {
			got := p.Observe(x[i])
			want := wp.Predict(x[:i+1])
			if got != want {
				t.Errorf("%T step %d: Observe = %+v, Predict = %+v", p, i, got, want)
			}
		}
		ws := []Window{{X: x[:15]}, {X: x[5:20]}}
		scores := Score(p, ws)
		for i, w := range ws {
			p.Reset()
			var last Prediction
			for _, f := range w.X {
				last = p.Observe(f)
			}
			if scores[i] != last.Lossy {
				t.Errorf("%T window %d: Score = %v, Observe gives %v", p, i, scores[i], last.Lossy)
			}
		}
	}
}

// Inference runs the same arithmetic as training: the logits of a batch
// forward pass equal Predict's, bit for bit.
func TestLSTMInferenceMatchesTraining(t *testing.T) {
	m, err := NewLSTM(LSTMConfig{Hidden: 16, Steps: 15, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(51, 52))
	ws := pulseWindows(rng, 7, 15, "g")
	tr := &lstmTrainer{m: m, work: newLSTMWork(16, 8, 15)}
	xs := make([][]Features, len(ws))
	for i := range ws {
		xs[i] = ws[i].X
	}
	tr.work.forward(&m.view, xs)
	for i := range ws {
		if got, want := m.Predict(ws[i].X).Lossy, probability(tr.work.logit[i]); got != want {
			t.Errorf("window %d: Predict = %v, batch forward gives %v", i, got, want)
		}
	}
}

// Any input, NaN and infinities included, gives a probability.
func TestObserveArbitraryInput(t *testing.T) {
	vals := []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.MaxFloat64, -math.MaxFloat64, 0, math.Copysign(0, -1), 1e-320}
	for _, p := range testPredictors(t) {
		for i := range 64 {
			var f Features
			for k := range f {
				f[k] = vals[(i+k*3)%len(vals)]
			}
			got := p.Observe(f)
			if !(got.Lossy >= 0 && got.Lossy <= 1) {
				t.Fatalf("%T: Observe(%v) = %+v", p, f, got)
			}
		}
	}
}

func TestObserveNoAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(61, 62))
	for _, p := range testPredictors(t) {
		f := randomFeatures(rng)
		for range 20 {
			p.Observe(f)
		}
		if n := testing.AllocsPerRun(50, func() { p.Observe(f) }); n != 0 {
			t.Errorf("%T.Observe allocates %v times, want 0", p, n)
		}
		x := []Features{f, f, f}
		if n := testing.AllocsPerRun(50, func() { p.(windowPredictor).Predict(x) }); n != 0 {
			t.Errorf("%T.Predict allocates %v times, want 0", p, n)
		}
	}
}

func TestLSTMConfigErrors(t *testing.T) {
	for _, tt := range []struct {
		cfg  LSTMConfig
		want string
	}{
		{LSTMConfig{Hidden: -1}, "netstate: LSTMConfig.Hidden -1 is not in [1, 1024]"},
		{LSTMConfig{Hidden: 1025}, "netstate: LSTMConfig.Hidden 1025 is not in [1, 1024]"},
		{LSTMConfig{Steps: 300}, "netstate: LSTMConfig.Steps 300 is not in [1, 256]"},
	} {
		if _, err := NewLSTM(tt.cfg); err == nil || err.Error() != tt.want {
			t.Errorf("NewLSTM(%+v) error = %v, want %q", tt.cfg, err, tt.want)
		}
	}
	m, err := NewLSTM(LSTMConfig{})
	if err != nil || m.Hidden() != 128 || m.Steps() != 15 {
		t.Errorf("NewLSTM(zero config) = hidden %d, steps %d, %v; want 128, 15", m.Hidden(), m.Steps(), err)
	}
}

// The initial recurrent blocks are orthogonal, the forget-gate biases 1.
func TestLSTMInit(t *testing.T) {
	const h = 6
	m, _ := NewLSTM(LSTMConfig{Hidden: h, Seed: 2})
	v := m.view
	for gate := range 4 {
		for r := range h {
			for s := range h {
				ri := v.W[(gate*h+r)*v.K+NumFeatures : (gate*h+r+1)*v.K]
				si := v.W[(gate*h+s)*v.K+NumFeatures : (gate*h+s+1)*v.K]
				want := 0.0
				if r == s {
					want = 1
				}
				if d := dot(ri, si); math.Abs(d-want) > 1e-12 {
					t.Errorf("gate %d rows %d·%d = %v, want %v", gate, r, s, d, want)
				}
			}
		}
	}
	for j := range v.G {
		want := 0.0
		if j >= h && j < 2*h {
			want = 1
		}
		if v.b[j] != want {
			t.Errorf("bias %d = %v, want %v", j, v.b[j], want)
		}
	}
	lim := math.Sqrt(6.0 / (NumFeatures + 4*h))
	for r := range v.G {
		for k := range NumFeatures {
			if w := v.W[r*v.K+k]; math.Abs(w) > lim {
				t.Errorf("input weight %d,%d = %v beyond the Glorot limit %v", r, k, w, lim)
			}
		}
	}
}
