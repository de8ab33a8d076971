package oscillation

import (
	"time"

	"github.com/bwelab/bwe"
)

// resampler turns irregular samples into uniform bins of step: each bin
// holds the time-weighted mean of the zero-order-held series over the bin
// (a sample's value holds until the next sample). Empty bins and gaps hold
// the last value; such bins, in which no sample arrived, are flagged so
// that the spectral estimators can give them no weight. Bins are aligned on the first sample. The last len(bins)
// completed bins are kept in a ring.
type resampler struct {
	stepUs int64
	bins   []float64 // ring of completed bin means, bits per second
	obs    []bool    // ring: whether a sample arrived within the bin
	head   int       // index of the next write
	count  int       // valid bins in the ring, ≤ len(bins)
	seen   int64     // bins completed since reset

	started bool
	binEnd  bwe.Time // end of the bin in progress
	lastT   bwe.Time
	lastV   float64
	acc     float64 // Σ value·µs over the bin in progress
	curObs  bool    // a sample arrived within the bin in progress
	skipped int64   // samples ignored for being older than the last one
}

func newResampler(step time.Duration, n int) resampler {
	return resampler{stepUs: int64(step / time.Microsecond), bins: make([]float64, n), obs: make([]bool, n)}
}

func (r *resampler) reset() {
	clear(r.bins)
	clear(r.obs)
	r.head, r.count, r.seen = 0, 0, 0
	r.started = false
	r.binEnd, r.lastT, r.lastV, r.acc = 0, 0, 0, 0
	r.curObs = false
	r.skipped = 0
}

func (r *resampler) push(v float64, observed bool) {
	r.bins[r.head] = v
	r.obs[r.head] = observed
	r.head++
	if r.head == len(r.bins) {
		r.head = 0
	}
	if r.count < len(r.bins) {
		r.count++
	}
	r.seen++
}

// add consumes the sample (at, v), v ≥ 0, and returns how many bins it
// completed. A gap longer than the ring completes more bins than the ring
// holds; the count returned is then the true number, but only the last
// len(bins) of them are stored. Work is O(1) plus O(min(k, len(bins))) for
// k completed bins.
func (r *resampler) add(at bwe.Time, v float64) int64 {
	if !r.started {
		r.started = true
		r.binEnd = bwe.SatAdd(at, bwe.Time(r.stepUs))
		r.lastT, r.lastV, r.acc = at, v, 0
		r.curObs = true
		return 0
	}
	if at < r.lastT {
		r.skipped++
		return 0
	}
	var k int64
	if at >= r.binEnd {
		// Close the bin in progress.
		r.acc += r.lastV * float64(r.binEnd-r.lastT)
		r.push(r.acc/float64(r.stepUs), r.curObs)
		// Whole bins between its end and at hold lastV.
		span := uint64(at) - uint64(r.binEnd) // at ≥ binEnd: no overflow
		full := span / uint64(r.stepUs)
		k = 1 + int64(min(full, uint64(1)<<62))
		for i := uint64(0); i < min(full, uint64(len(r.bins))); i++ {
			r.push(r.lastV, false)
		}
		if full > uint64(len(r.bins)) {
			r.seen = bwe.SatAdd(r.seen, int64(min(full, uint64(1)<<62))-int64(len(r.bins)))
		}
		start := at - bwe.Time(span%uint64(r.stepUs)) // start of the bin holding at
		r.binEnd = bwe.SatAdd(start, bwe.Time(r.stepUs))
		r.acc = r.lastV * float64(at-start)
	} else {
		r.acc += r.lastV * float64(at-r.lastT)
	}
	r.lastT, r.lastV = at, v
	r.curObs = true
	return k
}

// copyTo writes the stored bins, oldest first, into dst and their weights
// (1 for a bin a sample arrived in, 0 for a bin only held across a gap)
// into w, both as long as the ring, and returns how many it wrote.
func (r *resampler) copyTo(dst, w []float64) int {
	n := r.count
	j := r.head - n
	if j < 0 {
		j += len(r.bins)
	}
	for i := range n {
		dst[i] = r.bins[j]
		w[i] = 0
		if r.obs[j] {
			w[i] = 1
		}
		j++
		if j == len(r.bins) {
			j = 0
		}
	}
	return n
}

// at returns the j-th most recent bin (0 = newest), j < count, and
// whether a sample arrived within it.
func (r *resampler) at(j int) (float64, bool) {
	i := r.head - 1 - j
	if i < 0 {
		i += len(r.bins)
	}
	return r.bins[i], r.obs[i]
}
