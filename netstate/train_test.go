package netstate

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"
)

func TestTrainConfigErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	ws := pulseWindows(rng, 4, 15, "g")
	for _, tt := range []struct {
		cfg  TrainConfig
		want string
	}{
		{TrainConfig{Epochs: -1}, "netstate: TrainConfig.Epochs -1 is below 1"},
		{TrainConfig{Patience: -1}, "netstate: TrainConfig.Patience -1 is below 1"},
		{TrainConfig{BatchSize: -1}, "netstate: TrainConfig.BatchSize -1 is below 1"},
		{TrainConfig{LearningRate: math.NaN()}, "netstate: TrainConfig.LearningRate NaN is not positive and finite"},
		{TrainConfig{LearningRate: math.Inf(1)}, "netstate: TrainConfig.LearningRate +Inf is not positive and finite"},
		{TrainConfig{ClipNorm: -1}, "netstate: TrainConfig.ClipNorm -1 is not positive"},
		{TrainConfig{PosWeight: -2}, "netstate: TrainConfig.PosWeight -2 is negative or not finite"},
		{TrainConfig{PosWeight: math.NaN()}, "netstate: TrainConfig.PosWeight NaN is negative or not finite"},
		{TrainConfig{Hidden: 2000}, "netstate: TrainConfig.Hidden 2000 is not in [1, 1024]"},
		{TrainConfig{Steps: -3}, "netstate: TrainConfig.Steps -3 is not in [1, 256]"},
		{TrainConfig{WeightDecay: -1}, "netstate: TrainConfig.WeightDecay -1 is not in [0, 1/LearningRate)"},
		{TrainConfig{WeightDecay: 1000}, "netstate: TrainConfig.WeightDecay 1000 is not in [0, 1/LearningRate)"},
	} {
		if _, _, err := TrainLSTM(ws, nil, tt.cfg); err == nil || err.Error() != tt.want {
			t.Errorf("TrainLSTM(%+v) error = %v, want %q", tt.cfg, err, tt.want)
		}
		if _, _, err := TrainLogistic(ws, nil, tt.cfg); err == nil || err.Error() != tt.want {
			t.Errorf("TrainLogistic(%+v) error = %v, want %q", tt.cfg, err, tt.want)
		}
	}
	short := []Window{ws[0], {X: ws[1].X[:14]}}
	for _, tt := range []struct {
		train, val []Window
		want       string
	}{
		{nil, ws, "netstate: no training windows"},
		{short, nil, "netstate: training window 1 has 14 steps, want 15"},
		{ws, short, "netstate: validation window 1 has 14 steps, want 15"},
	} {
		if _, _, err := TrainLSTM(tt.train, tt.val, TrainConfig{Hidden: 2}); err == nil || err.Error() != tt.want {
			t.Errorf("TrainLSTM error = %v, want %q", err, tt.want)
		}
	}
}

// With validation labels opposite to the training labels, the validation
// loss is lowest after the first epoch: training stops after Patience more
// epochs and returns the first epoch's weights.
func TestTrainEarlyStopping(t *testing.T) {
	rng := rand.New(rand.NewPCG(81, 82))
	train := pulseWindows(rng, 200, 15, "train")
	val := pulseWindows(rng, 100, 15, "val")
	for i := range val {
		val[i].Label = !val[i].Label
	}
	cfg := TrainConfig{Seed: 3, Patience: 2, Epochs: 50, LearningRate: 0.05}
	m, rep, err := TrainLogistic(train, val, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.BestEpoch != 1 || rep.StoppedEpoch != 3 || !rep.EarlyStopped || len(rep.TrainLoss) != 3 || len(rep.ValLoss) != 3 {
		t.Fatalf("Report = %+v; want best epoch 1, stopped after 3, early", rep)
	}
	if !(rep.ValLoss[1] >= rep.ValLoss[0] && rep.ValLoss[2] >= rep.ValLoss[0]) {
		t.Errorf("ValLoss = %v, want the first lowest", rep.ValLoss)
	}
	cfg.Epochs = 1
	m1, _, err := TrainLogistic(train, val, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(encode(t, m), encode(t, m1)) {
		t.Errorf("early-stopped model differs from the model after its best epoch")
	}
	if rep.Positives+rep.Negatives != 200 || rep.PosWeight != float64(rep.Negatives)/float64(rep.Positives) {
		t.Errorf("Report counts %d positives, %d negatives, PosWeight %v; want 200 windows and weight negatives/positives", rep.Positives, rep.Negatives, rep.PosWeight)
	}
}

// The positive weight scales the loss of lossy windows: with weight w, a
// lossy window's loss is w times its unweighted loss.
func TestPosWeight(t *testing.T) {
	m, _ := NewLogistic(1)
	m.p[FeatLoss], m.p[NumFeatures] = 1, -0.3
	xs := [][]Features{{{FeatLoss: 0.4}}}
	one := m.batchLoss(xs, []bool{true}, 1, 1, nil)
	three := m.batchLoss(xs, []bool{true}, 3, 1, nil)
	neg := m.batchLoss(xs, []bool{false}, 3, 1, nil)
	if want := math.Log1p(math.Exp(-0.1)); !approx(one, want, 1e-15) || !approx(three, 3*want, 1e-15) {
		t.Errorf("lossy window: loss %v with weight 1 and %v with weight 3; want %v and %v", one, three, want, 3*want)
	}
	if want := math.Log1p(math.Exp(0.1)); !approx(neg, want, 1e-15) {
		t.Errorf("clean window with weight 3: loss %v, want %v (unweighted)", neg, want)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	ws := lastStepOnly(pulseWindows(rng, 40, 15, "g"))
	for i := range ws {
		ws[i].Label = i%4 == 0
	}
	_, rep, err := TrainLogistic(ws, nil, TrainConfig{Steps: 1, Epochs: 1})
	if err != nil || rep.PosWeight != 3 {
		t.Errorf("10 lossy and 30 clean windows: PosWeight %v, %v; want 3", rep.PosWeight, err)
	}
	_, rep, _ = TrainLogistic(ws[1:4], nil, TrainConfig{Steps: 1, Epochs: 1})
	if rep.PosWeight != 1 {
		t.Errorf("no lossy window: PosWeight %v, want 1", rep.PosWeight)
	}
}

// A batch size far beyond the data does not size the scratch by it.
func TestTrainHugeBatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ws := pulseWindows(rng, 8, 15, "g")
	if _, _, err := TrainLSTM(ws, ws[:2], TrainConfig{Hidden: 4, Epochs: 1, BatchSize: 1 << 40}); err != nil {
		t.Fatal(err)
	}
}

// TestWeightDecay: decoupled weight decay shrinks the trained weights.
func TestWeightDecay(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	train := pulseWindows(rng, 200, 15, "train")
	norm := func(decay float64) float64 {
		m, _, err := TrainLogistic(train, nil, TrainConfig{Seed: 1, Epochs: 20, LearningRate: 0.01, WeightDecay: decay})
		if err != nil {
			t.Fatal(err)
		}
		w, b := m.Weights()
		sum := b * b
		for _, x := range w {
			sum += x * x
		}
		return math.Sqrt(sum)
	}
	plain, decayed := norm(0), norm(5)
	if !(decayed < 0.8*plain) {
		t.Errorf("weight norm %.4f with decay 5, %.4f without: want a clearly smaller one", decayed, plain)
	}
}
