package metrics

import (
	"fmt"
	"math"
	"time"

	"github.com/bwelab/bwe"
)

// Swings counts the swings of s between two watermarks, with hysteresis:
// the series is "low" once a sample is ≤ low and "high" once a sample is
// ≥ high, and keeps its state while it stays strictly between them. Each
// change of state, low → high or high → low, is one swing; entering the
// first state is not. RFC 8868 §4 counts such oscillations between
// watermarks as a measure of instability.
//
// low must be below high; otherwise Swings returns 0 and an error.
func Swings(s Series, low, high bwe.Bitrate) (int, error) {
	if low >= high {
		return 0, fmt.Errorf("metrics: low watermark %v is not below high watermark %v", low, high)
	}
	return swings(s, low, high), nil
}

func swings(s Series, low, high bwe.Bitrate) int {
	const (
		unknown = iota
		below
		above
	)
	state, count := unknown, 0
	for i := range s.Len() {
		x := s.at(i)
		switch {
		case x <= low:
			if state == above {
				count++
			}
			state = below
		case x >= high:
			if state == below {
				count++
			}
			state = above
		}
	}
	return count
}

// RFC8868Watermarks are the watermarks RFC 8868 §4 gives as examples for
// counting oscillations: 500 kbps, 1, 2 and 4 Mbps.
var RFC8868Watermarks = [4]bwe.Bitrate{500 * bwe.Kbps, bwe.Mbps, 2 * bwe.Mbps, 4 * bwe.Mbps}

// WatermarkSwings is the number of swings between a pair of watermarks.
type WatermarkSwings struct {
	Low, High bwe.Bitrate
	Swings    int
}

// RFC8868Swings counts the [Swings] of s between each pair of adjacent
// [RFC8868Watermarks]: 500 kbps–1 Mbps, 1–2 Mbps and 2–4 Mbps.
func RFC8868Swings(s Series) [3]WatermarkSwings {
	var out [3]WatermarkSwings
	for i := range out {
		lo, hi := RFC8868Watermarks[i], RFC8868Watermarks[i+1]
		out[i] = WatermarkSwings{Low: lo, High: hi, Swings: swings(s, lo, hi)}
	}
	return out
}

// CVStats summarises the coefficient of variation of a rate over sliding
// windows.
type CVStats struct {
	// Mean and Max are the mean and the largest windowed CV; 0 without
	// windows. Both are ≥ 0.
	Mean, Max float64
	// Windows is the number of windows measured.
	Windows int
}

// WindowedCV measures the short-term variability of rate while the
// capacity is steady: for every window of w = ⌊window/Step⌋ consecutive
// samples of rate (sliding by one sample) during which capacity does not
// change, the coefficient of variation
//
//	CV = σ / μ   (population standard deviation over mean; 0 when μ = 0)
//
// and returns their mean and maximum (evaluation notes, "Metrics" item 6).
// The capacity is read at the start instant of each rate sample; a window
// is steady when all its samples see the same capacity, and windows past
// the end of capacity are not measured. An empty capacity series means
// "steady throughout". The project uses a 10 s window.
//
// A window of fewer than two samples is an error.
//
// Cost: O(len(rate)) — the window sums slide, and are recomputed exactly
// every w slides so that rounding cannot accumulate.
func WindowedCV(rate, capacity Series, window time.Duration) (CVStats, error) {
	var st CVStats
	n := rate.Len()
	if n == 0 {
		return st, nil
	}
	if window < 2*rate.Step || window <= 0 {
		return st, fmt.Errorf("metrics: CV window %v holds fewer than two samples of step %v", window, rate.Step)
	}
	w64 := int64(window / rate.Step)
	if w64 > int64(n) {
		return st, nil
	}
	w := int(w64)
	var sum float64
	steady := capacity.Len() == 0
	// Walk the runs of samples that see one capacity.
	for start := 0; start < n; {
		end := n
		if !steady {
			c, ok := capacity.At(mulSat(start, rate.Step))
			if !ok {
				break
			}
			end = start + 1
			for end < n {
				d, ok := capacity.At(mulSat(end, rate.Step))
				if !ok || d != c {
					break
				}
				end++
			}
		}
		cvRun(rate, start, end, w, &st, &sum)
		start = end
	}
	if st.Windows > 0 {
		st.Mean = sum / float64(st.Windows)
	}
	return st, nil
}

// cvRun measures the windows of w samples inside [start, end).
func cvRun(s Series, start, end, w int, st *CVStats, sum *float64) {
	if end-start < w {
		return
	}
	fw := float64(w)
	var c, s1, s2 float64 // sums of (x − c) and (x − c)² over the window
	for i := start; i+w <= end; i++ {
		if (i-start)%w == 0 {
			// Recompute exactly, re-centred on the window mean.
			c = s.sum(i, i+w) / fw
			s1, s2 = 0, 0
			for j := i; j < i+w; j++ {
				d := s.at(j).Float() - c
				s1 += d
				s2 += d * d
			}
		} else {
			out := s.at(i-1).Float() - c
			in := s.at(i+w-1).Float() - c
			s1 += in - out
			s2 += in*in - out*out
		}
		mean := c + s1/fw
		cv := 0.0
		if mean > 0 {
			v := max(s2/fw-(s1/fw)*(s1/fw), 0)
			cv = math.Sqrt(v) / mean
		}
		st.Windows++
		st.Max = max(st.Max, cv)
		*sum += cv
	}
}

// Reversals counts direction reversals of a rate.
type Reversals struct {
	// Count is the number of reversals.
	Count int
	// PerMinute is Count divided by the series' duration in minutes; 0 for
	// an empty series.
	PerMinute float64
}

// CountReversals counts the direction reversals of s larger than a
// fraction threshold (0.1 for 10 %), with hysteresis so that noise smaller
// than the threshold does not count (evaluation notes, "Metrics" item 6).
//
// The series is tracked as a zigzag. While rising it follows its running
// maximum M; when a sample falls below M by more than threshold·M
// (x < M − threshold·M), M was a peak: that is one reversal, and the
// series is now falling, following its running minimum m until a sample
// rises above it by more than threshold·m, another reversal. Before the
// first direction is known, the first move by more than threshold of the
// extreme it leaves sets the direction without counting. Each counted
// reversal is a local extremum followed by a move of more than threshold of
// its value the other way.
//
// A negative, NaN or infinite threshold is an error.
func CountReversals(s Series, threshold float64) (Reversals, error) {
	var r Reversals
	if math.IsNaN(threshold) || math.IsInf(threshold, 0) || threshold < 0 {
		return r, fmt.Errorf("metrics: reversal threshold %v is not a finite non-negative fraction", threshold)
	}
	n := s.Len()
	if n == 0 {
		return r, nil
	}
	const (
		unknown = iota
		rising
		falling
	)
	dir := unknown
	lo, hi := s.at(0).Float(), s.at(0).Float() // extremes while unknown
	ext := 0.0                                 // running extreme once the direction is known
	for i := 1; i < n; i++ {
		x := s.at(i).Float()
		switch dir {
		case unknown:
			lo, hi = min(lo, x), max(hi, x)
			switch {
			case x-lo > threshold*lo:
				dir, ext = rising, x
			case hi-x > threshold*hi:
				dir, ext = falling, x
			}
		case rising:
			if x > ext {
				ext = x
			} else if ext-x > threshold*ext {
				r.Count++
				dir, ext = falling, x
			}
		case falling:
			if x < ext {
				ext = x
			} else if x-ext > threshold*ext {
				r.Count++
				dir, ext = rising, x
			}
		}
	}
	if m := s.Duration().Minutes(); m > 0 {
		r.PerMinute = float64(r.Count) / m
	}
	return r, nil
}
