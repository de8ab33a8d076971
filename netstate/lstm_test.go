package netstate

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"
)

// randomFeatures returns a feature vector with each value drawn uniformly
// from the inner part of its range, away from the clamping bounds (where
// the loss is not differentiable).
func randomFeatures(rng *rand.Rand) Features {
	var f Features
	for k := range f {
		lo, hi := FeatureRange(k)
		lo, hi = max(lo, -1.5)+0.05, min(hi, 1.5)-0.05
		f[k] = lo + (hi-lo)*rng.Float64()
	}
	return f
}

// gradCheck compares the analytic gradient of m's mean batch loss with
// central differences and returns the largest relative error per
// parameter group.
func gradCheck(t *testing.T, m trainable, groups []paramGroup, xs [][]Features, ys []bool, posWeight float64) map[string]float64 {
	t.Helper()
	const h = 1e-5
	p := m.params()
	scale := 1 / float64(len(xs))
	grad := make([]float64, len(p))
	m.batchLoss(xs, ys, posWeight, scale, grad)
	loss := func() float64 { return scale * m.batchLoss(xs, ys, posWeight, 0, nil) }
	worst := make(map[string]float64)
	for _, g := range groups {
		worst[g.name] = 0
		for i := g.from; i < g.to; i++ {
			save := p[i]
			p[i] = save + h
			lp := loss()
			p[i] = save - h
			lm := loss()
			p[i] = save
			num := (lp - lm) / (2 * h)
			rel := math.Abs(grad[i]-num) / max(math.Abs(grad[i]), math.Abs(num), 1e-8)
			if rel > worst[g.name] {
				worst[g.name] = rel
			}
			if rel > 1e-4 {
				t.Errorf("%s parameter %d: analytic gradient %.10g, numerical %.10g, relative error %.3g", g.name, i, grad[i], num, rel)
			}
		}
	}
	return worst
}

type paramGroup struct {
	name     string
	from, to int
}

func TestLSTMGradientCheck(t *testing.T) {
	const hidden, steps, batch = 5, 6, 4
	m, err := NewLSTM(LSTMConfig{Hidden: hidden, Steps: steps, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(11, 12))
	for i := range m.p {
		m.p[i] = rng.NormFloat64() * 0.5
	}
	xs := make([][]Features, batch)
	for b := range xs {
		xs[b] = make([]Features, steps)
		for s := range xs[b] {
			xs[b][s] = randomFeatures(rng)
		}
	}
	ys := []bool{true, false, true, false}
	tr := &lstmTrainer{m: m, work: newLSTMWork(hidden, batch, steps)}
	G, K := 4*hidden, NumFeatures+hidden
	// The input and recurrent columns of W are interleaved by row; check
	// them as one group per gate, then the biases and the output layer.
	var groups []paramGroup
	for gate, name := range []string{"W_i", "W_f", "W_g", "W_o"} {
		groups = append(groups, paramGroup{name, gate * hidden * K, (gate + 1) * hidden * K})
	}
	groups = append(groups,
		paramGroup{"b", G * K, G*K + G},
		paramGroup{"v", G*K + G, G*K + G + hidden},
		paramGroup{"c", G*K + G + hidden, G*K + G + hidden + 1})
	worst := gradCheck(t, tr, groups, xs, ys, 2.5)
	for _, g := range groups {
		t.Logf("LSTM gradient check %s: max relative error %.3g", g.name, worst[g.name])
	}
}

func TestLogisticGradientCheck(t *testing.T) {
	const steps, batch = 4, 5
	m, err := NewLogistic(steps)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(21, 22))
	for i := range m.p {
		m.p[i] = rng.NormFloat64()
	}
	xs := make([][]Features, batch)
	for b := range xs {
		xs[b] = make([]Features, steps)
		for s := range xs[b] {
			xs[b][s] = randomFeatures(rng)
		}
	}
	ys := []bool{true, false, false, true, false}
	n := steps * NumFeatures
	groups := []paramGroup{{"w", 0, n}, {"bias", n, n + 1}}
	worst := gradCheck(t, m, groups, xs, ys, 3)
	t.Logf("logistic gradient check: max relative error w %.3g, bias %.3g", worst["w"], worst["bias"])
}

// noiseWindow returns steps feature vectors of background noise with no
// loss worth a label.
func noiseWindow(rng *rand.Rand, steps int) []Features {
	x := make([]Features, steps)
	for s := range x {
		x[s] = Features{
			0.5 * rng.NormFloat64(), 0.5 * rng.NormFloat64(), 0.5 * rng.NormFloat64(),
			0.5 + 0.3*rng.Float64(), 0.2 * rng.Float64(), 0.02 * rng.Float64(), 0.3 * rng.NormFloat64(),
		}
	}
	return x
}

// pulseWindows makes the long-memory task: every window has one loss pulse;
// the label says whether it came in steps 0–4 (of 15). Negative windows
// have their pulse in steps 5–13, never the last one, so the last step
// carries no information about the label.
func pulseWindows(rng *rand.Rand, n, steps int, group string) []Window {
	ws := make([]Window, n)
	for i := range ws {
		x := noiseWindow(rng, steps)
		label := rng.IntN(2) == 0
		at := 5 + rng.IntN(steps-6)
		if label {
			at = rng.IntN(5)
		}
		x[at][FeatLoss] = 0.5 + 0.5*rng.Float64()
		ws[i] = Window{X: x, Label: label, Group: group}
	}
	return ws
}

// lastStepOnly returns the windows cut to their last step.
func lastStepOnly(ws []Window) []Window {
	out := make([]Window, len(ws))
	for i, w := range ws {
		w.X = w.X[len(w.X)-1:]
		out[i] = w
	}
	return out
}

func TestLSTMLearnsLongMemory(t *testing.T) {
	const steps = 15
	const nTrain = 600
	rng := rand.New(rand.NewPCG(5, 6))
	train := pulseWindows(rng, nTrain, steps, "train")
	val := pulseWindows(rng, 300, steps, "val")
	test := pulseWindows(rng, 1000, steps, "test")
	cfg := TrainConfig{Seed: 1, Hidden: 12, Steps: steps, LearningRate: 0.01, Epochs: 30, Patience: 6, BatchSize: 32}
	m, rep, err := TrainLSTM(train, val, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := Evaluate(Score(m, test), Labels(test), 0.5)
	t.Logf("LSTM (hidden 12, %d windows): best epoch %d of %d, val loss %.4f; test AUC %.4f, accuracy %.4f, F1 %.4f",
		nTrain, rep.BestEpoch, rep.StoppedEpoch, rep.ValLoss[rep.BestEpoch-1], s.AUC, s.Accuracy, s.F1)
	if s.AUC < 0.95 || s.Accuracy < 0.9 {
		t.Errorf("LSTM on the long-memory task: AUC %.4f, accuracy %.4f; want ≥ 0.95 and ≥ 0.9", s.AUC, s.Accuracy)
	}

	// A model of the last step alone cannot beat chance: that step is
	// independent of the label.
	lcfg := cfg
	lcfg.Steps, lcfg.LearningRate = 1, 0.01
	lm, _, err := TrainLogistic(lastStepOnly(train), lastStepOnly(val), lcfg)
	if err != nil {
		t.Fatal(err)
	}
	ls := Evaluate(Score(lm, lastStepOnly(test)), Labels(test), 0.5)
	t.Logf("logistic on the last step: test AUC %.4f, accuracy %.4f", ls.AUC, ls.Accuracy)
	if ls.AUC > 0.6 {
		t.Errorf("logistic on the last step: AUC %.4f, want ≤ 0.6 (the last step carries no information)", ls.AUC)
	}
	// Logistic regression over the whole window can solve this task (it
	// is linear in the loss features); logged for information.
	fm, _, err := TrainLogistic(train, val, TrainConfig{Seed: 1, Steps: steps, LearningRate: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	fs := Evaluate(Score(fm, test), Labels(test), 0.5)
	t.Logf("logistic on the whole window: test AUC %.4f, accuracy %.4f", fs.AUC, fs.Accuracy)
}

func TestTrainDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	train := pulseWindows(rng, 200, 15, "train")
	val := pulseWindows(rng, 50, 15, "val")
	model := func(seed uint64) []byte {
		m, _, err := TrainLSTM(train, val, TrainConfig{Seed: seed, Hidden: 6, Epochs: 2, LearningRate: 0.01})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := WriteModel(&buf, m); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	a, b, c := model(1), model(1), model(2)
	if !bytes.Equal(a, b) {
		t.Errorf("two trainings with seed 1 wrote different models")
	}
	if bytes.Equal(a, c) {
		t.Errorf("trainings with seeds 1 and 2 wrote the same model")
	}
}

// xorWindows makes a task no linear model can solve: a loss pulse may
// appear in steps 0–4 and, independently, in steps 10–14; the label is
// whether exactly one of the two appeared.
func xorWindows(rng *rand.Rand, n, steps int, group string) []Window {
	ws := make([]Window, n)
	for i := range ws {
		x := noiseWindow(rng, steps)
		early, late := rng.IntN(2) == 0, rng.IntN(2) == 0
		if early {
			x[rng.IntN(5)][FeatLoss] = 0.5 + 0.5*rng.Float64()
		}
		if late {
			x[steps-5+rng.IntN(5)][FeatLoss] = 0.5 + 0.5*rng.Float64()
		}
		ws[i] = Window{X: x, Label: early != late, Group: group}
	}
	return ws
}

// Logistic regression over the whole window cannot learn an exclusive or:
// whatever its weights, a pulse moves the score the same way whether or
// not the other one is present.
func TestLogisticFailsXOR(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	train := xorWindows(rng, 1000, 15, "train")
	val := xorWindows(rng, 300, 15, "val")
	test := xorWindows(rng, 2000, 15, "test")
	m, _, err := TrainLogistic(train, val, TrainConfig{Seed: 1, LearningRate: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	s := Evaluate(Score(m, test), Labels(test), 0.5)
	t.Logf("logistic on the exclusive-or task: test AUC %.4f, accuracy %.4f", s.AUC, s.Accuracy)
	if s.AUC > 0.6 || s.Accuracy > 0.6 {
		t.Errorf("logistic on the exclusive-or task: AUC %.4f, accuracy %.4f; want both ≤ 0.6", s.AUC, s.Accuracy)
	}
}
