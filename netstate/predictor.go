package netstate

import "math"

// Prediction is a predictor's output for the interval just observed.
type Prediction struct {
	// Lossy is the probability, in [0, 1], that the next window is lossy
	// (see [WindowConfig] for the label the predictors are trained on).
	Lossy float64
	// Ready reports whether the predictor has seen as many steps as its
	// window holds; before that, Lossy is computed from fewer steps.
	Ready bool
}

// Predictor predicts from a stream of per-interval features whether loss
// is coming. Observe is called once per interval, in order; predictors keep
// the window of recent steps they need. Implementations sanitize their
// input (see [Features.Sanitize]), so any float64 values give a probability
// in [0, 1]. They are not safe for concurrent use, and Observe allocates
// nothing.
type Predictor interface {
	// Observe adds the features of the interval that just ended and
	// returns the prediction for the following window.
	Observe(f Features) Prediction
	// Reset forgets all observed steps.
	Reset()
}

var (
	_ Predictor = (*Threshold)(nil)
	_ Predictor = (*Logistic)(nil)
	_ Predictor = (*LSTM)(nil)
)

// windowPredictor is implemented by the predictors of this package:
// Predict(x) returns what Observe returns after Reset and one Observe per
// step of x, without touching the observed history.
type windowPredictor interface {
	Predict(x []Features) Prediction
}

// history is the window of the last steps observed, oldest first.
type history struct {
	win []Features
	n   int // valid steps, at the end of win
}

func newHistory(steps int) history { return history{win: make([]Features, steps)} }

func (h *history) push(f Features) {
	copy(h.win, h.win[1:])
	h.win[len(h.win)-1] = f.Sanitize()
	if h.n < len(h.win) {
		h.n++
	}
}

// window returns the valid steps, oldest first.
func (h *history) window() []Features { return h.win[len(h.win)-h.n:] }

func (h *history) full() bool { return h.n == len(h.win) }

func (h *history) reset() { h.n = 0 }

// lastSteps returns the last n steps of x (all of x if it is shorter).
func lastSteps(x []Features, n int) []Features {
	if len(x) > n {
		return x[len(x)-n:]
	}
	return x
}

// sigmoid is the logistic function. It gives 0 or 1 (never NaN) for
// infinite z and NaN only for NaN.
func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

// probability is sigmoid(z) with NaN mapped to 1/2, the output of every
// predictor.
func probability(z float64) float64 {
	p := sigmoid(z)
	if p != p {
		return 0.5
	}
	return p
}

// dot returns Σ a[i]·b[i] over len(a). Four partial sums keep the adder
// pipeline busy; the summation order is fixed, so results are the same on
// every call for the same inputs.
func dot(a, b []float64) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	for len(a) >= 4 && len(b) >= 4 {
		s0 += a[0] * b[0]
		s1 += a[1] * b[1]
		s2 += a[2] * b[2]
		s3 += a[3] * b[3]
		a, b = a[4:], b[4:]
	}
	b = b[:len(a)]
	for i, v := range a {
		s0 += v * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// axpy adds a·x to y, over len(x).
func axpy(a float64, x, y []float64) {
	y = y[:len(x)]
	for len(x) >= 4 && len(y) >= 4 {
		y[0] += a * x[0]
		y[1] += a * x[1]
		y[2] += a * x[2]
		y[3] += a * x[3]
		x, y = x[4:], y[4:]
	}
	y = y[:len(x)]
	for i, v := range x {
		y[i] += a * v
	}
}

// isFinite reports whether v is neither NaN nor infinite.
func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
