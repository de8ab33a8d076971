package netstate

import (
	"cmp"
	"math"
	"slices"
)

// Scores are binary-classification metrics of predicted probabilities
// against labels.
type Scores struct {
	// Positives and Negatives count the labels.
	Positives, Negatives int
	// TP, FP, TN and FN count the predictions at the threshold: a score
	// at or above it predicts lossy.
	TP, FP, TN, FN int
	// Precision is TP/(TP+FP), 0 when nothing is predicted lossy.
	Precision float64
	// Recall is TP/(TP+FN), 0 when there are no positives.
	Recall float64
	// F1 is the harmonic mean of precision and recall, 0 when both are 0.
	F1 float64
	// Accuracy is (TP+TN)/(Positives+Negatives), 0 when there are no
	// labels.
	Accuracy float64
	// AUC is the area under the ROC curve: the probability that a random
	// positive scores above a random negative, ties counting one half. It
	// is 0.5 and AUCDefined false when one of the classes is empty.
	AUC        float64
	AUCDefined bool
}

// Evaluate scores predicted probabilities against labels. A NaN score
// ranks below every number and never reaches the threshold. The AUC is
// computed from ranks (the Mann–Whitney U statistic), with tied scores
// given their average rank. It panics if the slices differ in length.
func Evaluate(scores []float64, labels []bool, threshold float64) Scores {
	if len(scores) != len(labels) {
		panic("netstate: Evaluate with different numbers of scores and labels")
	}
	var s Scores
	for i, y := range labels {
		hit := scores[i] >= threshold
		switch {
		case y && hit:
			s.TP++
		case y:
			s.FN++
		case hit:
			s.FP++
		default:
			s.TN++
		}
	}
	s.Positives, s.Negatives = s.TP+s.FN, s.FP+s.TN
	if s.TP+s.FP > 0 {
		s.Precision = float64(s.TP) / float64(s.TP+s.FP)
	}
	if s.Positives > 0 {
		s.Recall = float64(s.TP) / float64(s.Positives)
	}
	if s.Precision+s.Recall > 0 {
		s.F1 = 2 * s.Precision * s.Recall / (s.Precision + s.Recall)
	}
	if n := s.Positives + s.Negatives; n > 0 {
		s.Accuracy = float64(s.TP+s.TN) / float64(n)
	}
	s.AUC, s.AUCDefined = 0.5, false
	if s.Positives > 0 && s.Negatives > 0 {
		s.AUC, s.AUCDefined = auc(scores, labels, s.Positives, s.Negatives), true
	}
	return s
}

// auc returns the ROC AUC by the rank-sum method.
func auc(scores []float64, labels []bool, pos, neg int) float64 {
	key := func(i int) float64 {
		if v := scores[i]; v == v {
			return v
		}
		return math.Inf(-1)
	}
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(key(a), key(b)) })
	rankSum := 0.0 // of the positives, ranks 1-based
	for lo := 0; lo < len(idx); {
		hi := lo + 1
		for hi < len(idx) && key(idx[hi]) == key(idx[lo]) {
			hi++
		}
		avg := float64(lo+1+hi) / 2 // mean of ranks lo+1 … hi
		for _, i := range idx[lo:hi] {
			if labels[i] {
				rankSum += avg
			}
		}
		lo = hi
	}
	p, n := float64(pos), float64(neg)
	return (rankSum - p*(p+1)/2) / (p * n)
}

// Score returns each window's predicted probability of loss: the Lossy of
// the last prediction after p is Reset and observes the window's steps in
// order. Predictors of this package compute it directly with Predict,
// which gives the same value. p is left reset.
func Score(p Predictor, ws []Window) []float64 {
	out := make([]float64, len(ws))
	wp, direct := p.(windowPredictor)
	for i := range ws {
		if direct {
			out[i] = wp.Predict(ws[i].X).Lossy
			continue
		}
		p.Reset()
		var pr Prediction
		for _, f := range ws[i].X {
			pr = p.Observe(f)
		}
		out[i] = pr.Lossy
	}
	p.Reset()
	return out
}
