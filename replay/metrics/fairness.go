package metrics

import (
	"fmt"
	"time"

	"github.com/bwelab/bwe"
)

// Jain returns Jain's fairness index of the throughputs x of N flows,
//
//	J = (Σ xᵢ)² / (N · Σ xᵢ²)
//
// (R. Jain, D. Chiu, W. Hawe, DEC-TR-301, 1984; the evaluation notes,
// "Metrics" item 4). J is 1 when all flows get the same throughput and 1/N
// when one flow gets everything. Negative throughputs read as 0. All-zero
// input counts as equal shares and gives 1; an empty input gives 0, a value
// no set of flows can have (J ≥ 1/N). The result lies in [1/N, 1].
//
// The sums are taken on xᵢ / max(x), so that squares of large rates
// cannot overflow.
func Jain(x []bwe.Bitrate) float64 {
	n := len(x)
	if n == 0 {
		return 0
	}
	var peak bwe.Bitrate
	for _, v := range x {
		peak = max(peak, v)
	}
	if peak <= 0 {
		return 1
	}
	m := peak.Float()
	var s1, s2 float64
	for _, v := range x {
		f := max(v, 0).Float() / m
		s1 += f
		s2 += f * f
	}
	j := s1 * s1 / (float64(n) * s2) // s2 ≥ 1: the peak contributes 1
	return min(max(j, 1/float64(n)), 1)
}

// RFC 8868 §4 judges self-fairness by the ratio of the average throughputs
// of two flows over windows of 1, 5 and 20 s; the evaluation notes take a
// ratio within [1/3, 3] as fair.
var RFC8868FairnessWindows = [3]time.Duration{time.Second, 5 * time.Second, 20 * time.Second}

// FairRatio is the largest ratio between two flows' average throughputs
// that still counts as fair (the smallest is its inverse).
const FairRatio = 3

// RatioWindows reports how often two flows shared fairly, window by window.
type RatioWindows struct {
	// Window is the window length.
	Window time.Duration
	// Windows counts the windows judged: those in which at least one flow
	// sent. Within counts those whose throughput ratio lies in
	// [1/FairRatio, FairRatio]. Idle counts the windows skipped because
	// both flows had zero throughput.
	Windows, Within, Idle int
	// Fraction is Within ÷ Windows, in [0, 1]; 0 when Windows is 0.
	Fraction float64
}

// ThroughputRatio compares two flows' throughput series window by window,
// after RFC 8868 §4: the common span [0, min(a.Duration, b.Duration)) is
// cut into consecutive windows [k·window, (k+1)·window) (a partial last
// window is dropped); in each, the average throughput of each flow is its
// time average (sample and hold), and the window is fair when the ratio of
// the two averages lies in [1/3, 3] (bounds included).
//
// A window in which both flows have zero throughput is idle: it is counted
// in Idle and not judged. A window in which exactly one flow has zero
// throughput is judged unfair (its ratio is 0 or infinite): a rate series
// cannot tell a flow that has not started from a starved one, so restrict
// the series ([Series.Window]) to the span where both flows are meant to
// send.
//
// A window shorter than the step of either series is an error, as is a
// non-positive window.
func ThroughputRatio(a, b Series, window time.Duration) (RatioWindows, error) {
	r := RatioWindows{Window: window}
	if window <= 0 {
		return r, fmt.Errorf("metrics: fairness window %v is not positive", window)
	}
	if window < a.Step || window < b.Step {
		return r, fmt.Errorf("metrics: fairness window %v is shorter than a series step (%v, %v)", window, a.Step, b.Step)
	}
	span := min(a.Duration(), b.Duration())
	k := int64(span / window)
	for i := range k {
		from := time.Duration(i) * window
		to := from + window
		ia, ib := a.integral(from, to), b.integral(from, to)
		switch {
		case ia <= 0 && ib <= 0:
			r.Idle++
			continue
		case FairRatio*ia >= ib && FairRatio*ib >= ia:
			r.Within++
		}
		r.Windows++
	}
	if r.Windows > 0 {
		r.Fraction = float64(r.Within) / float64(r.Windows)
	}
	return r, nil
}

// RFC8868Fairness returns [ThroughputRatio] over the three
// [RFC8868FairnessWindows]. A window shorter than a series step gives a
// zero report for that window (Window set, no counts).
func RFC8868Fairness(a, b Series) [3]RatioWindows {
	var out [3]RatioWindows
	for i, w := range RFC8868FairnessWindows {
		r, err := ThroughputRatio(a, b, w)
		if err != nil {
			r = RatioWindows{Window: w}
		}
		out[i] = r
	}
	return out
}
