package netstate

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Size limits, checked by constructors and by [ReadModel] before it
// allocates.
const (
	maxSteps  = 256
	maxHidden = 1024
)

// LSTMConfig configures [NewLSTM]. Zero fields take the defaults of
// [DefaultLSTMConfig].
type LSTMConfig struct {
	// Hidden is the number of hidden units, 1 to 1024. Default 128.
	Hidden int
	// Steps is the window length, 1 to 256. Default 15 (15 one-second
	// steps).
	Steps int
	// Seed seeds the initial weights; every value, 0 included, is a seed.
	Seed uint64
}

// DefaultLSTMConfig returns the defaults: 128 hidden units, 15 steps,
// seed 0.
func DefaultLSTMConfig() LSTMConfig { return LSTMConfig{Hidden: 128, Steps: 15} }

// LSTM is one LSTM layer over the window followed by a logistic output on
// its last hidden state. For each step t, with x_t the 7 features and
// h_{t−1}, c_{t−1} the previous state (zero before the first step),
//
//	[z_i; z_f; z_g; z_o] = W·[x_t; h_{t−1}] + b
//	i = σ(z_i)   f = σ(z_f)   g = tanh(z_g)   o = σ(z_o)
//	c_t = f⊙c_{t−1} + i⊙g
//	h_t = o⊙tanh(c_t)
//
// and after the last step Lossy = σ(v·h_S + c). One logit through σ is the
// same model as a 2-class softmax over the logits (v·h + c, 0).
//
// Each Observe runs the cell over the whole stored window from the zero
// state, exactly as the model is trained; before Steps steps have been
// observed it runs over the steps seen so far. The arithmetic is float64
// and single-threaded, so results are reproducible bit for bit on one
// platform. Observe allocates nothing.
type LSTM struct {
	hidden, steps int
	p             []float64 // see lstmView for the layout
	view          lstmView
	hist          history
	work          *lstmWork
	one           [1][]Features
}

// NewLSTM returns an untrained LSTM with the initial weights that
// [TrainLSTM] starts from for the same hidden size, steps and seed, or an
// error naming the first invalid field of cfg.
func NewLSTM(cfg LSTMConfig) (*LSTM, error) {
	d := DefaultLSTMConfig()
	if cfg.Hidden == 0 {
		cfg.Hidden = d.Hidden
	}
	if cfg.Steps == 0 {
		cfg.Steps = d.Steps
	}
	switch {
	case cfg.Hidden < 1 || cfg.Hidden > maxHidden:
		return nil, fmt.Errorf("netstate: LSTMConfig.Hidden %d is not in [1, %d]", cfg.Hidden, maxHidden)
	case cfg.Steps < 1 || cfg.Steps > maxSteps:
		return nil, fmt.Errorf("netstate: LSTMConfig.Steps %d is not in [1, %d]", cfg.Steps, maxSteps)
	}
	m := newLSTM(cfg.Hidden, cfg.Steps, make([]float64, lstmParams(cfg.Hidden)))
	m.view.init(rand.New(rand.NewPCG(cfg.Seed, seedStreamInit)))
	return m, nil
}

func newLSTM(hidden, steps int, p []float64) *LSTM {
	m := &LSTM{hidden: hidden, steps: steps, p: p, hist: newHistory(steps)}
	m.view = newLSTMView(hidden, p)
	m.work = newLSTMWork(hidden, 1, steps)
	return m
}

// lstmParams returns the number of parameters of an LSTM with hidden
// units: W (4H × (7+H)), b (4H), v (H) and c (1).
func lstmParams(hidden int) int {
	g, k := 4*hidden, NumFeatures+hidden
	return g*k + g + hidden + 1
}

// Hidden returns the number of hidden units.
func (m *LSTM) Hidden() int { return m.hidden }

// Steps returns the window length.
func (m *LSTM) Steps() int { return m.steps }

// Observe implements [Predictor].
func (m *LSTM) Observe(f Features) Prediction {
	m.hist.push(f)
	return Prediction{Lossy: m.run(m.hist.window()), Ready: m.hist.full()}
}

// Reset implements [Predictor].
func (m *LSTM) Reset() { m.hist.reset() }

// Predict returns what Observe would return after Reset and one Observe
// per step of x. Only the last Steps steps matter. It does not change the
// observed history, and allocates nothing.
func (m *LSTM) Predict(x []Features) Prediction {
	return Prediction{Lossy: m.run(lastSteps(x, m.steps)), Ready: len(x) >= m.steps}
}

func (m *LSTM) run(x []Features) float64 {
	m.one[0] = x
	m.work.forward(&m.view, m.one[:])
	m.one[0] = nil
	return probability(m.work.logit[0])
}

// lstmView names the parts of a flat parameter (or gradient) vector:
//
//	W: 4H rows of 7+H columns, row-major; rows are the gate blocks i, f,
//	   g, o of H rows each; columns are the 7 inputs, then the H
//	   recurrent inputs
//	b: 4H gate biases, same order
//	v: H output weights
//	c: the output bias
type lstmView struct {
	H, K, G int // hidden, input columns (7+H), gate rows (4H)
	W, b, v []float64
	c       []float64 // one element
}

func newLSTMView(hidden int, p []float64) lstmView {
	g, k := 4*hidden, NumFeatures+hidden
	v := lstmView{H: hidden, K: k, G: g}
	o := 0
	next := func(n int) []float64 {
		s := p[o : o+n : o+n]
		o += n
		return s
	}
	v.W = next(g * k)
	v.b = next(g)
	v.v = next(hidden)
	v.c = next(1)
	return v
}

// Seed streams of the PCG generator for initial weights and shuffling.
const (
	seedStreamInit    = 0x6e6574737461_01 // "netsta" 1
	seedStreamShuffle = 0x6e6574737461_02
)

// init sets the initial weights: input columns Glorot-uniform over the
// 7 × 4H input kernel, limit √(6/(7+4H)); each gate's H × H recurrent
// block a random orthogonal matrix; gate biases 0 except the forget gate's,
// 1; output weights Glorot-uniform, limit √(6/(H+1)); output bias 0.
func (v *lstmView) init(rng *rand.Rand) {
	H, K := v.H, v.K
	lim := math.Sqrt(6 / float64(NumFeatures+v.G))
	for r := range v.G {
		for k := range NumFeatures {
			v.W[r*K+k] = (2*rng.Float64() - 1) * lim
		}
	}
	q := make([]float64, H*H)
	for gate := range 4 {
		orthogonal(q, H, rng)
		for r := range H {
			copy(v.W[(gate*H+r)*K+NumFeatures:(gate*H+r+1)*K], q[r*H:(r+1)*H])
		}
	}
	clear(v.b)
	for j := range H {
		v.b[H+j] = 1
	}
	lim = math.Sqrt(6 / float64(H+1))
	for j := range H {
		v.v[j] = (2*rng.Float64() - 1) * lim
	}
	v.c[0] = 0
}

// orthogonal fills q (n × n, row-major) with a random orthogonal matrix:
// Gaussian rows orthonormalised by modified Gram–Schmidt.
func orthogonal(q []float64, n int, rng *rand.Rand) {
	for r := 0; r < n; r++ {
		row := q[r*n : (r+1)*n]
		for {
			for j := range row {
				row[j] = rng.NormFloat64()
			}
			for s := 0; s < r; s++ {
				prev := q[s*n : (s+1)*n]
				axpy(-dot(prev, row), prev, row)
			}
			norm := math.Sqrt(dot(row, row))
			if norm > 1e-6 {
				for j := range row {
					row[j] /= norm
				}
				break
			}
		}
	}
}

// lstmWork holds the activations of a forward pass over a batch of up to
// maxB windows of up to maxT steps, and the scratch of the backward pass.
type lstmWork struct {
	H, K, G    int
	maxB, maxT int
	xh         []float64 // (maxT+1)·maxB·K: slot t holds [x_t; h_{t−1}]
	z          []float64 // maxT·maxB·G: gate activations i, f, g, o
	c          []float64 // (maxT+1)·maxB·H: slot t holds c_{t−1}
	tc         []float64 // maxT·maxB·H: tanh(c_t)
	logit      []float64 // maxB
	dlogit     []float64 // maxB
	dh, dc     []float64 // maxB·H
	dz         []float64 // maxB·G
	whT        []float64 // H·G: the recurrent columns of W, transposed
}

func newLSTMWork(hidden, maxB, maxT int) *lstmWork {
	g, k := 4*hidden, NumFeatures+hidden
	return &lstmWork{
		H: hidden, K: k, G: g, maxB: maxB, maxT: maxT,
		xh:     make([]float64, (maxT+1)*maxB*k),
		z:      make([]float64, maxT*maxB*g),
		c:      make([]float64, (maxT+1)*maxB*hidden),
		tc:     make([]float64, maxT*maxB*hidden),
		logit:  make([]float64, maxB),
		dlogit: make([]float64, maxB),
		dh:     make([]float64, maxB*hidden),
		dc:     make([]float64, maxB*hidden),
		dz:     make([]float64, maxB*g),
		whT:    make([]float64, hidden*g),
	}
}

func (w *lstmWork) xhAt(t, b int) []float64 {
	o := (t*w.maxB + b) * w.K
	return w.xh[o : o+w.K : o+w.K]
}

func (w *lstmWork) zAt(t, b int) []float64 {
	o := (t*w.maxB + b) * w.G
	return w.z[o : o+w.G : o+w.G]
}

func (w *lstmWork) cAt(t, b int) []float64 {
	o := (t*w.maxB + b) * w.H
	return w.c[o : o+w.H : o+w.H]
}

func (w *lstmWork) tcAt(t, b int) []float64 {
	o := (t*w.maxB + b) * w.H
	return w.tc[o : o+w.H : o+w.H]
}

// forward runs the network over xs (all of the same length, at most maxT;
// at most maxB windows) and leaves the logits in w.logit. Each window's
// result depends on that window alone: the loops over the batch only share
// the reads of W.
func (w *lstmWork) forward(p *lstmView, xs [][]Features) {
	B, T := len(xs), len(xs[0])
	H, K, G := w.H, w.K, w.G
	for b := range B {
		clear(w.xhAt(0, b)[NumFeatures:])
		clear(w.cAt(0, b))
	}
	for t := range T {
		for b := range B {
			in := w.xhAt(t, b)
			x := &xs[b][t]
			for k := range NumFeatures {
				in[k] = clampFeature(k, x[k])
			}
		}
		// z = W·[x; h] + b, one row of W against every window in turn.
		for r := range G {
			wr := p.W[r*K : (r+1)*K]
			br := p.b[r]
			for b := range B {
				w.z[(t*w.maxB+b)*G+r] = dot(wr, w.xhAt(t, b)) + br
			}
		}
		for b := range B {
			z := w.zAt(t, b)
			cp, cn, tc := w.cAt(t, b), w.cAt(t+1, b), w.tcAt(t, b)
			h := w.xhAt(t+1, b)[NumFeatures:]
			zi, zf, zg, zo := z[:H], z[H:2*H], z[2*H:3*H], z[3*H:]
			for j := range H {
				i, f, g, o := sigmoid(zi[j]), sigmoid(zf[j]), math.Tanh(zg[j]), sigmoid(zo[j])
				zi[j], zf[j], zg[j], zo[j] = i, f, g, o
				c := f*cp[j] + i*g
				cn[j] = c
				tcj := math.Tanh(c)
				tc[j] = tcj
				h[j] = o * tcj
			}
		}
	}
	for b := range B {
		w.logit[b] = dot(p.v, w.xhAt(T, b)[NumFeatures:]) + p.c[0]
	}
}

// backward adds to g the gradient of Σ_b dlogit[b]·logit_b with respect to
// the parameters (backpropagation through time), after forward over the
// same xs.
func (w *lstmWork) backward(p, g *lstmView, B, T int) {
	H, K, G := w.H, w.K, w.G
	w.transposeRecurrent(p)
	for b := range B {
		d := w.dlogit[b]
		axpy(d, w.xhAt(T, b)[NumFeatures:], g.v)
		g.c[0] += d
		dh := w.dh[b*H : (b+1)*H]
		for j := range H {
			dh[j] = d * p.v[j]
		}
		clear(w.dc[b*H : (b+1)*H])
	}
	for t := T - 1; t >= 0; t-- {
		for b := range B {
			z := w.zAt(t, b)
			zi, zf, zg, zo := z[:H], z[H:2*H], z[2*H:3*H], z[3*H:]
			cp, tc := w.cAt(t, b), w.tcAt(t, b)
			dh, dc := w.dh[b*H:(b+1)*H], w.dc[b*H:(b+1)*H]
			dz := w.dz[b*G : (b+1)*G]
			di, df, dg, do := dz[:H], dz[H:2*H], dz[2*H:3*H], dz[3*H:]
			for j := range H {
				i, f, gg, o, tcj := zi[j], zf[j], zg[j], zo[j], tc[j]
				dcj := dc[j] + dh[j]*o*(1-tcj*tcj)
				di[j] = dcj * gg * i * (1 - i)
				df[j] = dcj * cp[j] * f * (1 - f)
				dg[j] = dcj * i * (1 - gg*gg)
				do[j] = dh[j] * tcj * o * (1 - o)
				dc[j] = dcj * f
			}
		}
		// Parameter gradients: dW += dz ⊗ [x; h], four windows at a time
		// so that each row of dW is loaded and stored once per four.
		for r := range G {
			gw := g.W[r*K : (r+1)*K]
			sb := 0.0
			b := 0
			for ; b+4 <= B; b += 4 {
				d0, d1, d2, d3 := w.dz[b*G+r], w.dz[(b+1)*G+r], w.dz[(b+2)*G+r], w.dz[(b+3)*G+r]
				axpy4(d0, d1, d2, d3, w.xhAt(t, b), w.xhAt(t, b+1), w.xhAt(t, b+2), w.xhAt(t, b+3), gw)
				sb += (d0 + d1) + (d2 + d3)
			}
			for ; b < B; b++ {
				d := w.dz[b*G+r]
				axpy(d, w.xhAt(t, b), gw)
				sb += d
			}
			g.b[r] += sb
		}
		if t == 0 {
			break
		}
		// dh_{t−1} = W_hᵀ·dz, with W_hᵀ stored row-major.
		for b := range B {
			dz := w.dz[b*G : (b+1)*G]
			dh := w.dh[b*H : (b+1)*H]
			for j := range H {
				dh[j] = dot(w.whT[j*G:(j+1)*G], dz)
			}
		}
	}
}

// transposeRecurrent stores the recurrent columns of W transposed in
// w.whT (H rows of 4H), for the backward pass.
func (w *lstmWork) transposeRecurrent(p *lstmView) {
	H, K, G := w.H, w.K, w.G
	for r := range G {
		row := p.W[r*K+NumFeatures : (r+1)*K]
		for j := range H {
			w.whT[j*G+r] = row[j]
		}
	}
}

// axpy4 adds d0·x0 + d1·x1 + d2·x2 + d3·x3 to y, over len(y).
func axpy4(d0, d1, d2, d3 float64, x0, x1, x2, x3, y []float64) {
	n := len(y)
	x0, x1, x2, x3 = x0[:n], x1[:n], x2[:n], x3[:n]
	for i := range y {
		y[i] += (d0*x0[i] + d1*x1[i]) + (d2*x2[i] + d3*x3[i])
	}
}

// lstmTrainer adapts an LSTM to the training loop.
type lstmTrainer struct {
	m    *LSTM
	work *lstmWork
	grad lstmView
	gbuf []float64 // the gradient vector grad views, when it is set
}

func (l *lstmTrainer) params() []float64 { return l.m.p }

func (l *lstmTrainer) batchLoss(xs [][]Features, ys []bool, posWeight, scale float64, grad []float64) float64 {
	w := l.work
	w.forward(&l.m.view, xs)
	sum := 0.0
	for b := range xs {
		z := w.logit[b]
		wt, y := lossWeight(ys[b], posWeight)
		sum += wt * crossEntropy(z, y)
		w.dlogit[b] = scale * wt * (sigmoid(z) - y)
	}
	if grad != nil {
		if len(l.gbuf) == 0 || &l.gbuf[0] != &grad[0] {
			l.gbuf = grad
			l.grad = newLSTMView(l.m.hidden, grad)
		}
		w.backward(&l.m.view, &l.grad, len(xs), len(xs[0]))
	}
	return sum
}
