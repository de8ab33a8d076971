package netstate

import (
	"math"
	"testing"
)

func TestEvaluate(t *testing.T) {
	T, F := true, false
	nan := math.NaN()
	tests := []struct {
		name      string
		scores    []float64
		labels    []bool
		threshold float64
		want      Scores
	}{
		{
			// AUC: positives 0.9, 0.8, 0.6, 0.3 beat 4, 4, 3 and 1 of the
			// negatives 0.7, 0.55, 0.4, 0.2: 12 of 16 pairs.
			"mixed", []float64{0.9, 0.8, 0.7, 0.6, 0.55, 0.4, 0.3, 0.2}, []bool{T, T, F, T, F, F, T, F}, 0.5,
			Scores{Positives: 4, Negatives: 4, TP: 3, FP: 2, TN: 2, FN: 1, Precision: 0.6, Recall: 0.75, F1: 2 * 0.6 * 0.75 / 1.35, Accuracy: 5.0 / 8, AUC: 0.75, AUCDefined: true},
		},
		{
			// Ties: the two positives at 0.5 tie with the negative at 0.5
			// (half a pair each) and beat the one at 0.1: 3 of 4.
			"ties", []float64{0.5, 0.5, 0.5, 0.1}, []bool{T, F, T, F}, 0.5,
			Scores{Positives: 2, Negatives: 2, TP: 2, FP: 1, TN: 1, Precision: 2.0 / 3, Recall: 1, F1: 0.8, Accuracy: 0.75, AUC: 0.75, AUCDefined: true},
		},
		{
			"all tied", []float64{0.3, 0.3, 0.3}, []bool{T, F, F}, 0.5,
			Scores{Positives: 1, Negatives: 2, TN: 2, FN: 1, Accuracy: 2.0 / 3, AUC: 0.5, AUCDefined: true},
		},
		{
			"perfectly wrong", []float64{0.1, 0.9}, []bool{T, F}, 0.5,
			Scores{Positives: 1, Negatives: 1, FP: 1, FN: 1, AUC: 0, AUCDefined: true},
		},
		{
			"NaN ranks lowest", []float64{nan, 0.2}, []bool{T, F}, 0.1,
			Scores{Positives: 1, Negatives: 1, FP: 1, FN: 1, AUC: 0, AUCDefined: true},
		},
		{
			"single class", []float64{0.9, 0.2}, []bool{T, T}, 0.5,
			Scores{Positives: 2, TP: 1, FN: 1, Precision: 1, Recall: 0.5, F1: 2.0 / 3, Accuracy: 0.5, AUC: 0.5},
		},
		{
			"only negatives", []float64{0.9, 0.2}, []bool{F, F}, 0.5,
			Scores{Negatives: 2, FP: 1, TN: 1, Accuracy: 0.5, AUC: 0.5},
		},
		{"empty", nil, nil, 0.5, Scores{AUC: 0.5}},
	}
	for _, tt := range tests {
		got := Evaluate(tt.scores, tt.labels, tt.threshold)
		w := tt.want
		if got.Positives != w.Positives || got.Negatives != w.Negatives || got.TP != w.TP || got.FP != w.FP || got.TN != w.TN || got.FN != w.FN ||
			got.AUCDefined != w.AUCDefined || !approx(got.Precision, w.Precision, 1e-15) || !approx(got.Recall, w.Recall, 1e-15) ||
			!approx(got.F1, w.F1, 1e-15) || !approx(got.Accuracy, w.Accuracy, 1e-15) || !approx(got.AUC, w.AUC, 1e-15) {
			t.Errorf("%s: Evaluate(%v, %v, %v) =\n%+v, want\n%+v", tt.name, tt.scores, tt.labels, tt.threshold, got, w)
		}
	}
}

func TestEvaluateLengthMismatch(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Errorf("Evaluate with 2 scores and 1 label did not panic")
		}
	}()
	Evaluate([]float64{1, 2}, []bool{true}, 0.5)
}
