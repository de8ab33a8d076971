package metrics

import (
	"math"
	"time"

	"github.com/bwelab/bwe"
)

// Series is a rate sampled at a fixed interval: Rates[i] is the rate in
// force over [i·Step, (i+1)·Step), measured from the series' origin (sample
// and hold). A Series with Step ≤ 0 has no samples for every function of
// this package, and a negative rate is read as 0 (a rate cannot be
// negative).
//
// The zero Series is empty. Series is a view: [Series.Window] shares the
// backing array.
type Series struct {
	// Step is the sampling interval.
	Step time.Duration
	// Rates holds one rate per interval, oldest first.
	Rates []bwe.Bitrate
}

// Len returns the number of samples: len(Rates), or 0 if Step ≤ 0.
func (s Series) Len() int {
	if s.Step <= 0 {
		return 0
	}
	return len(s.Rates)
}

// Duration returns the time the series covers, Len·Step, saturating at the
// largest duration.
func (s Series) Duration() time.Duration {
	n := s.Len()
	if n == 0 {
		return 0
	}
	if int64(n) > int64(maxDuration/s.Step) {
		return maxDuration
	}
	return time.Duration(n) * s.Step
}

// at returns sample i read as a rate: negative values become 0.
func (s Series) at(i int) bwe.Bitrate { return max(s.Rates[i], 0) }

// At returns the rate in force at t (measured from the series' origin) and
// true, or 0 and false if t is outside [0, Duration).
func (s Series) At(t time.Duration) (bwe.Bitrate, bool) {
	n := s.Len()
	if n == 0 || t < 0 {
		return 0, false
	}
	i := int64(t / s.Step)
	if i >= int64(n) {
		return 0, false
	}
	return s.at(int(i)), true
}

// Window returns the samples whose start instant i·Step lies in
// [from, to), as a Series whose origin is the first of them. That origin is
// from rounded up to a multiple of Step, so results measured from the
// window's origin (a convergence time, say) are late by less than one Step
// when from is not a multiple of Step. The result shares the backing array
// of s; it is empty if no sample starts in [from, to).
func (s Series) Window(from, to time.Duration) Series {
	n := s.Len()
	if n == 0 {
		return Series{Step: s.Step}
	}
	i0 := ceilIndex(from, s.Step, n)
	i1 := max(ceilIndex(to, s.Step, n), i0)
	return Series{Step: s.Step, Rates: s.Rates[i0:i1:i1]}
}

// ceilIndex returns the index of the first sample starting at or after t,
// within [0, n].
func ceilIndex(t, step time.Duration, n int) int {
	if t <= 0 {
		return 0
	}
	q := int64((t-1)/step) + 1
	if q >= int64(n) {
		return n
	}
	return int(q)
}

// Mean returns the arithmetic mean of the samples (each weighs one Step),
// rounded to the nearest bit per second; 0 for an empty series.
func (s Series) Mean() bwe.Bitrate {
	n := s.Len()
	if n == 0 {
		return 0
	}
	return bwe.BitrateFromFloat(math.Round(s.sum(0, n) / float64(n)))
}

// sum returns the sum of samples [i0, i1) as float64 bits per second.
func (s Series) sum(i0, i1 int) float64 {
	var sum float64
	for i := i0; i < i1; i++ {
		sum += s.at(i).Float()
	}
	return sum
}

// integral returns ∫ rate dt over [a, b) in bit·seconds, with the series
// read as sample and hold and 0 outside [0, Duration).
func (s Series) integral(a, b time.Duration) float64 {
	n := s.Len()
	if n == 0 || b <= a {
		return 0
	}
	a = max(a, 0)
	end := s.Duration()
	b = min(b, end)
	if b <= a {
		return 0
	}
	var sum float64
	for i := int(a / s.Step); i < n; i++ {
		lo := mulSat(i, s.Step)
		if lo >= b {
			break
		}
		hi := min(bwe.SatAdd(lo, s.Step), b)
		lo = max(lo, a)
		sum += s.at(i).Float() * (hi - lo).Seconds()
	}
	return sum
}

// Phase is a stretch of a capacity series over which the capacity does not
// change: [Start, End) measured from the series' origin.
type Phase struct {
	Start, End time.Duration
	Capacity   bwe.Bitrate
}

// Phases appends to dst[:0] the phases of capacity, split where its value
// changes (negative values read as 0), and returns the extended slice. An
// empty series gives no phase.
func Phases(dst []Phase, capacity Series) []Phase {
	dst = dst[:0]
	n := capacity.Len()
	if n == 0 {
		return dst
	}
	start, c := 0, capacity.at(0)
	for i := 1; i <= n; i++ {
		if i < n && capacity.at(i) == c {
			continue
		}
		dst = append(dst, Phase{
			Start:    mulSat(start, capacity.Step),
			End:      mulSat(i, capacity.Step),
			Capacity: c,
		})
		if i < n {
			start, c = i, capacity.at(i)
		}
	}
	return dst
}

const maxDuration = time.Duration(1<<63 - 1)

// mulSat returns i·step, saturating at the largest duration.
func mulSat(i int, step time.Duration) time.Duration {
	if step > 0 && int64(i) > int64(maxDuration/step) {
		return maxDuration
	}
	return time.Duration(i) * step
}
