package oscillation

import "math"

// mark is one crossing of the high-pass-filtered series through zero, in
// the direction of its ring.
type mark struct {
	at    float64 // bin index, interpolated
	swing float64 // peak-to-trough of the cycle ending here
	// held is the number of bins held across gaps between the previous
	// crossing and this one: a gap may have swallowed whole cycles.
	held float64
	// late: the crossing was seen right after a gap; it may have
	// happened anywhere within it.
	late bool
}

// crossRing remembers the last crossHistory crossings in one direction
// and follows the cycle in progress since the last of them.
type crossRing struct {
	marks [crossHistory]mark
	n     int // marks held
	head  int // index of the next write

	zero     float64 // bin index of the last zero crossing in this direction
	zeroLate bool    // it was seen right after a gap
	zeroHeld float64 // held, when it was seen
	cycMax   float64 // extremes of the cycle in progress
	cycMin   float64
	held     float64 // bins held across gaps since the last crossing recorded
}

func (r *crossRing) reset() { *r = crossRing{} }

// get returns the i-th most recent crossing, i < n.
func (r *crossRing) get(i int) *mark {
	return &r.marks[(r.head-1-i+2*len(r.marks))%len(r.marks)]
}

// track follows the high-passed value hp of a bin; held is true for a bin
// held across a gap.
func (r *crossRing) track(hp float64, held bool) {
	r.cycMax = max(r.cycMax, hp)
	r.cycMin = min(r.cycMin, hp)
	if held {
		r.held++
	}
}

// cross notes a zero crossing in this direction at bin index at; late
// is true when it may have happened anywhere in a gap.
func (r *crossRing) cross(at float64, late bool) {
	r.zero, r.zeroLate, r.zeroHeld = at, late, r.held
}

// record closes the cycle in progress at the last zero crossing and
// starts the next one at the high-passed value hp. The bins held since
// the zero crossing belong to the next cycle.
func (r *crossRing) record(hp float64) {
	r.marks[r.head] = mark{at: r.zero, swing: r.cycMax - r.cycMin, held: r.zeroHeld, late: r.zeroLate}
	r.head = (r.head + 1) % len(r.marks)
	r.n = min(r.n+1, len(r.marks))
	r.cycMax, r.cycMin = hp, hp
	r.held -= r.zeroHeld
	r.zeroHeld = 0
}

// next returns the index of the first crossing from i on that no gap may
// have delayed, or n.
func (r *crossRing) next(i int) int {
	for i < r.n && r.get(i).late {
		i++
	}
	return i
}

// link measures from the crossing i, not late, back to the next older
// crossing j that is not late either (n if there is none): the span
// between them in bins, the crossings seen (j − i), the bins held across
// gaps and the largest swing in between.
func (r *crossRing) link(i int) (j int, span, seen, held, swing float64) {
	a := r.get(i)
	held, swing = a.held, a.swing
	for j = i + 1; j < r.n && r.get(j).late; j++ {
		held += r.get(j).held
		swing = max(swing, r.get(j).swing)
	}
	if j == r.n {
		return j, 0, 0, 0, 0
	}
	return j, a.at - r.get(j).at, float64(j - i), held, swing
}

// safe appends to buf, from k on, the cycle length of the latest links
// whose gaps are too short to have swallowed a cycle (a quarter of one),
// until they hold crossCycles cycles; it returns the new k and the cycles.
func (r *crossRing) safe(buf []float64, k int) (int, float64) {
	cycles := 0.0
	for i := r.next(0); i < r.n && cycles < crossCycles; {
		j, span, seen, held, _ := r.link(i)
		if j == r.n {
			break
		}
		if held < span/(4*seen) {
			buf[k] = span / seen
			k++
			cycles += seen
		}
		i = j
	}
	return k, cycles
}

// cycleSums accumulates cycle lengths and swings.
type cycleSums struct {
	sum, sum2 float64 // of lengths, bins
	sw, sw2   float64 // of swings
	m         int
	lengths   [2 * crossCycles]float64 // the first m lengths
}

// cycles adds to s the latest links, up to crossCycles cycles, given the
// reference period ref (bins), and returns the cycles they hold. A link
// free of gaps holds a cycle per crossing seen; one spanning a gap holds
// the whole number of reference periods it comes closest to, if it comes
// within crossFit of it and its gaps are long enough to have swallowed
// the cycles not seen, and is skipped otherwise.
func (r *crossRing) cycles(ref float64, s *cycleSums) float64 {
	cycles := 0.0
	for i := r.next(0); i < r.n && cycles < crossCycles; {
		j, span, seen, held, swing := r.link(i)
		if j == r.n {
			break
		}
		i = j
		n := seen
		if held > 0 {
			n = math.Max(seen, math.Round(span/ref))
			if math.Abs(span/n-ref) > crossFit*ref || n-seen > held/(crossSwallow*ref) {
				continue
			}
		}
		iv := span / n
		if s.m < len(s.lengths) {
			s.lengths[s.m] = iv
		}
		s.sum += iv
		s.sum2 += iv * iv
		s.sw += swing
		s.sw2 += swing * swing
		s.m++
		cycles += n
	}
	return cycles
}

// since returns the bins, not counting those held across gaps, from the
// last crossing to the bin index now, or +Inf without a crossing.
func (r *crossRing) since(now float64) float64 {
	if r.n == 0 {
		return math.Inf(1)
	}
	return now - r.get(0).at - r.held
}

// median returns the median of s, which it sorts (insertion sort: s is a
// handful of values).
func median(s []float64) float64 {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
