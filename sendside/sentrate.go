package sendside

import (
	"time"

	"github.com/bwelab/bwe"
)

// rateBuckets is the number of buckets a sentRate window is divided into.
const rateBuckets = 20

// sentRate measures the rate at which the sender sends, over a sliding
// window of send time, in fixed buckets: O(1) per packet and bounded
// memory at any rate. The window ends at the latest send time seen.
type sentRate struct {
	window time.Duration
	bucket time.Duration
	bytes  [rateBuckets]bwe.ByteCount
	total  bwe.ByteCount
	head   int64 // index (send time / bucket) of the newest bucket
	first  bwe.Time
	last   bwe.Time
	seen   bool
}

func newSentRate(window time.Duration) sentRate {
	b := max(window/rateBuckets, time.Microsecond)
	return sentRate{window: b * rateBuckets, bucket: b}
}

// add accounts size bytes sent at at. Packets older than the window are
// ignored; late ones within it are added to their bucket.
func (s *sentRate) add(at bwe.Time, size bwe.ByteCount) {
	if size <= 0 {
		return
	}
	idx := at.Micros() / s.bucket.Microseconds()
	if !s.seen {
		s.seen, s.first, s.last, s.head = true, at, at, idx
	}
	if idx > s.head {
		if idx-s.head >= rateBuckets {
			s.bytes, s.total = [rateBuckets]bwe.ByteCount{}, 0
		} else {
			for k := s.head + 1; k <= idx; k++ {
				slot := &s.bytes[slotOf(k)]
				s.total -= *slot
				*slot = 0
			}
		}
		s.head = idx
	}
	if idx <= s.head-rateBuckets {
		return
	}
	slot := &s.bytes[slotOf(idx)]
	*slot = bwe.SatAdd(*slot, size)
	s.total = bwe.SatAdd(s.total, size)
	s.first = min(s.first, at)
	s.last = max(s.last, at)
}

// rate returns the sending rate over the window, or false while less than
// minSpan of sending has been seen. Until a whole window has been seen,
// the rate is taken over the time seen so far.
func (s *sentRate) rate(minSpan time.Duration) (bwe.Bitrate, bool) {
	if !s.seen {
		return 0, false
	}
	span := min(s.last.Sub(s.first), s.window)
	if span < minSpan || span <= 0 {
		return 0, false
	}
	return bwe.RateOf(s.total, span), true
}

// slotOf maps a bucket index, which may be negative, to its slot.
func slotOf(idx int64) int { return int(((idx % rateBuckets) + rateBuckets) % rateBuckets) }
