package netstate

import (
	"fmt"
	"math"
)

// Logistic is logistic regression over the flattened window: with the
// window's steps x_0 (oldest) … x_{S−1} (newest),
//
//	Lossy = σ(Σ_t Σ_k w[t·7+k]·x_t[k] + bias),   σ(z) = 1/(1+e^−z)
//
// Before Steps steps have been observed, the missing older steps count as
// zero inputs. Train it with [TrainLogistic].
type Logistic struct {
	steps int
	// p holds steps·NumFeatures weights, step-major with the oldest step
	// first, then the bias.
	p    []float64
	hist history
}

// NewLogistic returns a logistic predictor over windows of steps steps
// (1 to 256) with all weights and the bias zero: it predicts 1/2.
func NewLogistic(steps int) (*Logistic, error) {
	if steps < 1 || steps > maxSteps {
		return nil, fmt.Errorf("netstate: logistic steps %d is not in [1, %d]", steps, maxSteps)
	}
	return newLogistic(steps, make([]float64, logisticParams(steps))), nil
}

func newLogistic(steps int, p []float64) *Logistic {
	return &Logistic{steps: steps, p: p, hist: newHistory(steps)}
}

func logisticParams(steps int) int { return steps*NumFeatures + 1 }

// Steps returns the window length.
func (m *Logistic) Steps() int { return m.steps }

// Weights returns a copy of the weights (step-major, oldest step first,
// feature index inner) and the bias.
func (m *Logistic) Weights() (w []float64, bias float64) {
	n := m.steps * NumFeatures
	return append([]float64(nil), m.p[:n]...), m.p[n]
}

// Observe implements [Predictor].
func (m *Logistic) Observe(f Features) Prediction {
	m.hist.push(f)
	return Prediction{Lossy: probability(m.logit(m.hist.window())), Ready: m.hist.full()}
}

// Reset implements [Predictor].
func (m *Logistic) Reset() { m.hist.reset() }

// Predict returns what Observe would return after Reset and one Observe
// per step of x. Only the last Steps steps matter. It does not change the
// observed history.
func (m *Logistic) Predict(x []Features) Prediction {
	return Prediction{Lossy: probability(m.logit(lastSteps(x, m.steps))), Ready: len(x) >= m.steps}
}

// logit returns the linear score of x, which must not be longer than the
// window; it is aligned with the window's newest steps.
func (m *Logistic) logit(x []Features) float64 {
	w := m.p[(m.steps-len(x))*NumFeatures:]
	s := 0.0
	for t := range x {
		wt := w[t*NumFeatures : (t+1)*NumFeatures]
		for k := range NumFeatures {
			s += wt[k] * clampFeature(k, x[t][k])
		}
	}
	return s + m.p[m.steps*NumFeatures]
}

// params implements trainable.
func (m *Logistic) params() []float64 { return m.p }

// batchLoss implements trainable.
func (m *Logistic) batchLoss(xs [][]Features, ys []bool, posWeight, scale float64, grad []float64) float64 {
	sum := 0.0
	bias := m.steps * NumFeatures
	for b, x := range xs {
		z := m.logit(x)
		w, y := lossWeight(ys[b], posWeight)
		sum += w * crossEntropy(z, y)
		if grad == nil {
			continue
		}
		d := scale * w * (sigmoid(z) - y)
		for t := range x {
			g := grad[t*NumFeatures : (t+1)*NumFeatures]
			for k := range NumFeatures {
				g[k] += d * clampFeature(k, x[t][k])
			}
		}
		grad[bias] += d
	}
	return sum
}

// lossWeight returns the weight of a window in the loss and its label as
// 0 or 1.
func lossWeight(label bool, posWeight float64) (w, y float64) {
	if label {
		return posWeight, 1
	}
	return 1, 0
}

// crossEntropy is the binary cross-entropy −y·log σ(z) − (1−y)·log(1−σ(z)),
// computed as softplus(z) − y·z without overflow.
func crossEntropy(z, y float64) float64 {
	return max(z, 0) + math.Log1p(math.Exp(-math.Abs(z))) - y*z
}
