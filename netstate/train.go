package netstate

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// Adam's constants (Kingma & Ba 2015, "Adam: a method for stochastic
// optimization", the values the paper recommends).
const (
	adamBeta1   = 0.9
	adamBeta2   = 0.999
	adamEpsilon = 1e-8
)

// TrainConfig configures [TrainLSTM] and [TrainLogistic]. Zero fields take
// the defaults of [DefaultTrainConfig].
type TrainConfig struct {
	// Seed seeds the initial weights and the shuffling of the training
	// windows; every value, 0 included, is a seed. The same data and seed
	// give bit-identical weights.
	Seed uint64
	// Epochs is the most passes over the training windows. Default 50.
	Epochs int
	// Patience is how many epochs without a new lowest validation loss
	// end training. Default 5.
	Patience int
	// BatchSize is the number of windows per Adam step. Default 32.
	BatchSize int
	// LearningRate is Adam's step size. Default 1e-3.
	LearningRate float64
	// WeightDecay shrinks every parameter by LearningRate × WeightDecay
	// of itself at each step, apart from the gradient (decoupled weight
	// decay, AdamW: Loshchilov and Hutter, ICLR 2019), a regulariser
	// against fitting the training runs' particulars. Default 0: none.
	WeightDecay float64
	// ClipNorm bounds the Euclidean norm of each mini-batch gradient
	// (the whole gradient is scaled down when it is longer); +Inf disables
	// clipping. Default 5.
	ClipNorm float64
	// PosWeight multiplies the loss of lossy windows. Default (0): the
	// number of negative training windows divided by the number of
	// positive ones, or 1 if either is zero.
	PosWeight float64
	// Hidden is the number of LSTM hidden units, 1 to 1024 (TrainLSTM
	// only). Default 128.
	Hidden int
	// Steps is the window length, 1 to 256; every window must have this
	// many steps. Default 15.
	Steps int
}

// DefaultTrainConfig returns the defaults: seed 0, at most 50 epochs,
// patience 5, batches of 32, learning rate 1e-3, gradient norm clipped at
// 5, positive weight from the data (0), 128 hidden units, 15 steps.
func DefaultTrainConfig() TrainConfig {
	return TrainConfig{
		Epochs:       50,
		Patience:     5,
		BatchSize:    32,
		LearningRate: 1e-3,
		ClipNorm:     5,
		Hidden:       128,
		Steps:        15,
	}
}

func (c TrainConfig) withDefaults() TrainConfig {
	d := DefaultTrainConfig()
	if c.Epochs == 0 {
		c.Epochs = d.Epochs
	}
	if c.Patience == 0 {
		c.Patience = d.Patience
	}
	if c.BatchSize == 0 {
		c.BatchSize = d.BatchSize
	}
	if c.LearningRate == 0 {
		c.LearningRate = d.LearningRate
	}
	if c.ClipNorm == 0 {
		c.ClipNorm = d.ClipNorm
	}
	if c.Hidden == 0 {
		c.Hidden = d.Hidden
	}
	if c.Steps == 0 {
		c.Steps = d.Steps
	}
	return c
}

func (c TrainConfig) validate() error {
	switch {
	case c.Epochs < 1:
		return fmt.Errorf("netstate: TrainConfig.Epochs %d is below 1", c.Epochs)
	case c.Patience < 1:
		return fmt.Errorf("netstate: TrainConfig.Patience %d is below 1", c.Patience)
	case c.BatchSize < 1:
		return fmt.Errorf("netstate: TrainConfig.BatchSize %d is below 1", c.BatchSize)
	case !(c.LearningRate > 0) || math.IsInf(c.LearningRate, 1):
		return fmt.Errorf("netstate: TrainConfig.LearningRate %v is not positive and finite", c.LearningRate)
	case !(c.WeightDecay >= 0) || c.WeightDecay*c.LearningRate >= 1:
		return fmt.Errorf("netstate: TrainConfig.WeightDecay %v is not in [0, 1/LearningRate)", c.WeightDecay)
	case !(c.ClipNorm > 0):
		return fmt.Errorf("netstate: TrainConfig.ClipNorm %v is not positive", c.ClipNorm)
	case !(c.PosWeight >= 0) || math.IsInf(c.PosWeight, 1):
		return fmt.Errorf("netstate: TrainConfig.PosWeight %v is negative or not finite", c.PosWeight)
	case c.Hidden < 1 || c.Hidden > maxHidden:
		return fmt.Errorf("netstate: TrainConfig.Hidden %d is not in [1, %d]", c.Hidden, maxHidden)
	case c.Steps < 1 || c.Steps > maxSteps:
		return fmt.Errorf("netstate: TrainConfig.Steps %d is not in [1, %d]", c.Steps, maxSteps)
	}
	return nil
}

// Report describes a training run.
type Report struct {
	// TrainLoss holds, per epoch, the mean weighted cross-entropy of the
	// training windows, each measured in its mini-batch before that
	// batch's update.
	TrainLoss []float64
	// ValLoss holds, per epoch, the mean weighted cross-entropy of the
	// validation windows after the epoch (the same weights as training;
	// TrainLoss again when there are no validation windows).
	ValLoss []float64
	// BestEpoch is the epoch (1-based) with the lowest ValLoss; its
	// weights are the ones returned.
	BestEpoch int
	// StoppedEpoch is the number of epochs run.
	StoppedEpoch int
	// EarlyStopped reports whether training stopped for lack of
	// improvement rather than at TrainConfig.Epochs.
	EarlyStopped bool
	// PosWeight is the weight of lossy windows used.
	PosWeight float64
	// Positives and Negatives count the training windows by label.
	Positives, Negatives int
}

// trainable is a model the training loop can fit.
type trainable interface {
	// params returns the parameter vector, updated in place.
	params() []float64
	// batchLoss returns Σ w·ℓ over the windows, ℓ the cross-entropy and w
	// the window's weight; when grad is not nil it adds scale times the
	// gradient of that sum to grad.
	batchLoss(xs [][]Features, ys []bool, posWeight, scale float64, grad []float64) float64
}

// TrainLogistic fits a [Logistic] predictor to the training windows with
// the same loss, optimiser and early stopping as [TrainLSTM]; the weights
// start at zero. cfg.Hidden is validated but not used.
func TrainLogistic(train, val []Window, cfg TrainConfig) (*Logistic, Report, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, Report{}, err
	}
	m := newLogistic(cfg.Steps, make([]float64, logisticParams(cfg.Steps)))
	rep, err := fit(m, train, val, cfg)
	if err != nil {
		return nil, rep, err
	}
	return m, rep, nil
}

// TrainLSTM fits an [LSTM] to the training windows: weighted binary
// cross-entropy (lossy windows weighted by PosWeight), full
// backpropagation through time over each window, Adam (β1 0.9, β2 0.999,
// ε 1e-8) on mini-batches of windows in an order shuffled every epoch,
// gradient-norm clipping, and early stopping on the validation loss with
// the best epoch's weights kept. The weights start as [NewLSTM] makes them
// for cfg.Hidden, cfg.Steps and cfg.Seed. Training is single-threaded and
// deterministic.
func TrainLSTM(train, val []Window, cfg TrainConfig) (*LSTM, Report, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, Report{}, err
	}
	m, err := NewLSTM(LSTMConfig{Hidden: cfg.Hidden, Steps: cfg.Steps, Seed: cfg.Seed})
	if err != nil {
		return nil, Report{}, err
	}
	// No batch holds more windows than the larger of the two sets.
	maxB := min(cfg.BatchSize, max(len(train), len(val), 1))
	tr := &lstmTrainer{m: m, work: newLSTMWork(cfg.Hidden, maxB, cfg.Steps)}
	rep, err := fit(tr, train, val, cfg)
	if err != nil {
		return nil, rep, err
	}
	return m, rep, nil
}

// checkWindows reports the first window whose length is not steps.
func checkWindows(name string, ws []Window, steps int) error {
	for i := range ws {
		if len(ws[i].X) != steps {
			return fmt.Errorf("netstate: %s window %d has %d steps, want %d", name, i, len(ws[i].X), steps)
		}
	}
	return nil
}

// fit runs the training loop on m.
func fit(m trainable, train, val []Window, cfg TrainConfig) (Report, error) {
	var rep Report
	if len(train) == 0 {
		return rep, errors.New("netstate: no training windows")
	}
	if err := checkWindows("training", train, cfg.Steps); err != nil {
		return rep, err
	}
	if err := checkWindows("validation", val, cfg.Steps); err != nil {
		return rep, err
	}
	for i := range train {
		if train[i].Label {
			rep.Positives++
		} else {
			rep.Negatives++
		}
	}
	rep.PosWeight = cfg.PosWeight
	if rep.PosWeight == 0 {
		rep.PosWeight = 1
		if rep.Positives > 0 && rep.Negatives > 0 {
			rep.PosWeight = float64(rep.Negatives) / float64(rep.Positives)
		}
	}

	p := m.params()
	grad := make([]float64, len(p))
	best := append([]float64(nil), p...)
	opt := adam{m: make([]float64, len(p)), v: make([]float64, len(p)), b1t: 1, b2t: 1, lr: cfg.LearningRate, decay: cfg.LearningRate * cfg.WeightDecay}
	order := make([]int, len(train))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, seedStreamShuffle))
	xs := make([][]Features, 0, min(cfg.BatchSize, len(train)))
	ys := make([]bool, 0, cap(xs))

	bestLoss := math.Inf(1)
	wait := 0
	for epoch := 1; epoch <= cfg.Epochs; epoch++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		sum := 0.0
		for s := 0; s < len(order); s += cfg.BatchSize {
			xs, ys = xs[:0], ys[:0]
			for _, i := range order[s:min(s+cfg.BatchSize, len(order))] {
				xs = append(xs, train[i].X)
				ys = append(ys, train[i].Label)
			}
			clear(grad)
			sum += m.batchLoss(xs, ys, rep.PosWeight, 1/float64(len(xs)), grad)
			norm := math.Sqrt(dot(grad, grad))
			if !isFinite(norm) {
				return rep, fmt.Errorf("netstate: gradient not finite in epoch %d", epoch)
			}
			if norm > cfg.ClipNorm {
				f := cfg.ClipNorm / norm
				for i := range grad {
					grad[i] *= f
				}
			}
			opt.step(p, grad)
		}
		trainLoss := sum / float64(len(train))
		valLoss := trainLoss
		if len(val) > 0 {
			valLoss = meanLoss(m, val, cfg.BatchSize, rep.PosWeight)
		}
		rep.TrainLoss = append(rep.TrainLoss, trainLoss)
		rep.ValLoss = append(rep.ValLoss, valLoss)
		rep.StoppedEpoch = epoch
		if !isFinite(trainLoss) || !isFinite(valLoss) {
			return rep, fmt.Errorf("netstate: loss not finite in epoch %d", epoch)
		}
		if valLoss < bestLoss {
			bestLoss, rep.BestEpoch, wait = valLoss, epoch, 0
			copy(best, p)
			continue
		}
		wait++
		if wait >= cfg.Patience {
			rep.EarlyStopped = epoch < cfg.Epochs
			break
		}
	}
	copy(p, best)
	return rep, nil
}

// meanLoss returns the mean weighted cross-entropy of m over ws.
func meanLoss(m trainable, ws []Window, batch int, posWeight float64) float64 {
	xs := make([][]Features, 0, min(batch, len(ws)))
	ys := make([]bool, 0, cap(xs))
	sum := 0.0
	for s := 0; s < len(ws); s += batch {
		xs, ys = xs[:0], ys[:0]
		for i := s; i < min(s+batch, len(ws)); i++ {
			xs = append(xs, ws[i].X)
			ys = append(ys, ws[i].Label)
		}
		sum += m.batchLoss(xs, ys, posWeight, 0, nil)
	}
	return sum / float64(len(ws))
}

// adam is the Adam optimiser's state.
type adam struct {
	m, v     []float64
	b1t, b2t float64 // β1^t, β2^t
	lr       float64
	decay    float64 // lr × weight decay
}

func (a *adam) step(p, g []float64) {
	a.b1t *= adamBeta1
	a.b2t *= adamBeta2
	c1, c2 := 1-a.b1t, 1-a.b2t
	m, v := a.m[:len(p)], a.v[:len(p)]
	g = g[:len(p)]
	for i := range p {
		gi := g[i]
		m[i] = adamBeta1*m[i] + (1-adamBeta1)*gi
		v[i] = adamBeta2*v[i] + (1-adamBeta2)*gi*gi
		p[i] -= a.lr * (m[i] / c1) / (math.Sqrt(v[i]/c2) + adamEpsilon)
		if a.decay > 0 {
			p[i] -= a.decay * p[i]
		}
	}
}
