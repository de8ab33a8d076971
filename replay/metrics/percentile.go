package metrics

import (
	"math"
	"time"
)

// Percentile returns the p-quantile of sorted (ascending) by the nearest-rank
// method: the element of rank ⌈p·N⌉ (1-based), where N = len(sorted). A
// product p·N within 1e-9 (relative) of an integer counts as that integer,
// so that Percentile(x, 0.07) of 100 values is the 7th, not the 8th.
//
// p is a fraction: p ≤ 0 (and NaN) gives the smallest element, p ≥ 1 the
// largest. An empty slice gives 0. Percentile does not check that sorted is
// sorted; if it is not, the result is some element of it.
//
// Percentile works for every int64-based quantity of the project
// ([time.Duration], [bwe.Bitrate], [bwe.Time], [bwe.ByteCount]).
func Percentile[T ~int64](sorted []T, p float64) T {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	return sorted[rankIndex(n, p)]
}

// rankIndex returns the 0-based index of the nearest-rank p-quantile of n
// sorted values (n > 0).
func rankIndex(n int, p float64) int {
	if !(p > 0) {
		return 0
	}
	if p >= 1 {
		return n - 1
	}
	x := p * float64(n)
	if r := math.Round(x); math.Abs(x-r) <= 1e-9*max(1, x) {
		x = r
	}
	k := int(math.Ceil(x))
	return min(max(k, 1), n) - 1
}

// Quantiles are the nearest-rank percentiles the project reports for a
// delay distribution (evaluation notes, "Metrics" item 2; MMSys 2021 scores
// the p95).
type Quantiles struct {
	P50, P95, P99 time.Duration
}

// DelayQuantiles returns the p50, p95 and p99 of sorted (ascending) by
// [Percentile]; all zero for an empty slice.
func DelayQuantiles(sorted []time.Duration) Quantiles {
	return Quantiles{
		P50: Percentile(sorted, 0.50),
		P95: Percentile(sorted, 0.95),
		P99: Percentile(sorted, 0.99),
	}
}

// QueuingDelays appends to dst[:0] the queuing delay of each packet,
// oneWay[i] − base, where base is the smallest one-way delay of oneWay (the
// run's base delay, returned too), and returns the extended slice, in the
// order of oneWay. The differences saturate instead of wrapping. An empty
// input gives an empty slice and base 0.
//
// The one-way delays may carry any constant clock offset (receiver clock
// minus sender clock): it cancels in the difference.
func QueuingDelays(dst, oneWay []time.Duration) (queuing []time.Duration, base time.Duration) {
	dst = dst[:0]
	if len(oneWay) == 0 {
		return dst, 0
	}
	base = oneWay[0]
	for _, d := range oneWay[1:] {
		base = min(base, d)
	}
	for _, d := range oneWay {
		q := d - base // d ≥ base; saturate if the true difference exceeds the range
		if q < 0 {
			q = maxDuration
		}
		dst = append(dst, q)
	}
	return dst, base
}
