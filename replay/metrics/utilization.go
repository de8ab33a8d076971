package metrics

import (
	"fmt"
	"math"
	"time"
)

// SampleInterval is the interval at which utilization samples rate and
// capacity: RFC 8868 §4 has the sending rate, receive rate and goodput
// measured at 200 ms intervals.
const SampleInterval = 200 * time.Millisecond

// DefaultSettle is the default time skipped at the start of each capacity
// phase before its "steady part" begins, where utilization, the oscillation
// index and the like are measured. It is this project's choice and equals
// the hold time of the convergence criterion: a flow that converges
// promptly has settled by then.
const DefaultSettle = 5 * time.Second

// Utilization returns the RFC 8868 bandwidth utilization of rate against
// capacity over the whole run: at every instant t = k·[SampleInterval]
// (k = 0, 1, …) where both series have a sample and the capacity is
// positive, the ratio rate(t) ÷ capacity(t), averaged. It also returns the
// number of samples averaged; with none, the mean is 0.
//
// Both series are read as sample and hold from a common origin and may have
// different steps. The result lies in [0, ∞): a sender may send above the
// capacity for a while (the excess queues or is dropped), so a sending-rate
// utilization can exceed 1. RFC 8868 §4 defines utilization as the sending
// rate over the bottleneck capacity; pass a receive rate or goodput series
// instead to measure those.
func Utilization(rate, capacity Series) (mean float64, samples int) {
	return utilization(rate, capacity, 0, min(rate.Duration(), capacity.Duration()))
}

// utilization averages rate ÷ capacity at the instants k·SampleInterval in
// [from, to). It walks the stretches over which neither series changes
// and weighs each by the number of instants it holds, so that its cost is
// O(samples of both series), whatever their steps.
func utilization(rate, capacity Series, from, to time.Duration) (float64, int) {
	end := min(to, rate.Duration(), capacity.Duration())
	var sum float64
	var n int64
	for t := max(from, 0); t < end; {
		i, j := int(t/rate.Step), int(t/capacity.Step)
		next := min(end, mulSat(i+1, rate.Step), mulSat(j+1, capacity.Step))
		if k := ceilDiv(next, SampleInterval) - ceilDiv(t, SampleInterval); k > 0 {
			if c := capacity.at(j); c > 0 {
				sum += float64(k) * (rate.at(i).Float() / c.Float())
				n += k
			}
		}
		t = next
	}
	if n == 0 {
		return 0, 0
	}
	return sum / float64(n), int(n)
}

// ceilDiv returns ⌈t/d⌉ for d > 0, and 0 for t ≤ 0.
func ceilDiv(t, d time.Duration) int64 {
	if t <= 0 {
		return 0
	}
	return int64((t-1)/d) + 1
}

// PhaseUtilization is the utilization over the steady part of one capacity
// phase.
type PhaseUtilization struct {
	// Phase is the capacity phase, [Start, End) with its capacity.
	Phase
	// Utilization is the mean of rate ÷ capacity over the 200 ms samples
	// of the steady part [Start+settle, End); 0 without samples.
	Utilization float64
	// Samples is the number of samples averaged: 0 when the phase is no
	// longer than the settle time, or its capacity is 0.
	Samples int
}

// UtilizationByPhase splits capacity into phases of constant capacity (see
// [Phases]) and appends to dst[:0], for each phase, the utilization of rate
// over its steady part: the instants k·[SampleInterval] in
// [Start+settle, End), averaged as [Utilization] does. The project skips
// [DefaultSettle]; 0 skips nothing; a negative settle is an error.
//
// For a capacity that changes at every sample (a measured trace), every
// phase is shorter than the settle time and reports no sample: use the
// whole-run [Utilization] there.
func UtilizationByPhase(dst []PhaseUtilization, rate, capacity Series, settle time.Duration) ([]PhaseUtilization, error) {
	dst = dst[:0]
	if err := checkSettle(settle); err != nil {
		return dst, err
	}
	n := capacity.Len()
	if n == 0 {
		return dst, nil
	}
	// Walk the phases without building a []Phase.
	start := 0
	for i := 1; i <= n; i++ {
		if i < n && capacity.at(i) == capacity.at(start) {
			continue
		}
		p := Phase{Start: mulSat(start, capacity.Step), End: mulSat(i, capacity.Step), Capacity: capacity.at(start)}
		u, k := utilization(rate, capacity, satAddDur(p.Start, settle), p.End)
		dst = append(dst, PhaseUtilization{Phase: p, Utilization: u, Samples: k})
		start = i
	}
	return dst, nil
}

// SteadyUtilization pools the samples of phases: the mean of every 200 ms
// rate ÷ capacity sample of every steady part, that is the per-phase means
// weighted by their sample counts. It returns 0 and 0 without samples.
func SteadyUtilization(phases []PhaseUtilization) (mean float64, samples int) {
	var sum float64
	for _, p := range phases {
		if p.Samples <= 0 || math.IsNaN(p.Utilization) || math.IsInf(p.Utilization, 0) {
			continue
		}
		sum += p.Utilization * float64(p.Samples)
		samples += p.Samples
	}
	if samples == 0 {
		return 0, 0
	}
	return sum / float64(samples), samples
}

// checkSettle rejects a negative settle time.
func checkSettle(settle time.Duration) error {
	if settle < 0 {
		return fmt.Errorf("metrics: settle %v is negative", settle)
	}
	return nil
}

// satAddDur returns a+b for non-negative durations, saturating.
func satAddDur(a, b time.Duration) time.Duration {
	if a > maxDuration-b {
		return maxDuration
	}
	return a + b
}

// LossRate returns lost ÷ (lost + received), the loss rate of the
// evaluation notes ("Metrics" item 3; RFC 8868 §4 lists packets lost).
// Negative counts read as 0; with no packet at all the rate is 0. The
// result lies in [0, 1].
func LossRate(lost, received int) float64 {
	l, r := float64(max(lost, 0)), float64(max(received, 0))
	if l+r == 0 {
		return 0
	}
	return l / (l + r)
}
