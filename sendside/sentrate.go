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
	window   time.Duration
	bucket   time.Duration
	bytes    [rateBuckets]bwe.ByteCount
	total    bwe.ByteCount
	bucketUs int64 // bucket in µs
	head     int64 // index (send time / bucket) of the newest bucket
	headUs   int64 // head × bucketUs: where the newest bucket starts
	headSlot int   // slotOf(head)
	first    bwe.Time
	last     bwe.Time
	seen     bool

	// The last answer of rate, valid until the next packet is added, and
	// the estimator's cap derived from it (Estimator.sentCap).
	memo struct {
		valid    bool
		minSpan  time.Duration
		rate     bwe.Bitrate
		ok       bool
		capValid bool
		cap      bwe.Bitrate
		capOK    bool
	}
}

func newSentRate(window time.Duration) sentRate {
	b := max(window/rateBuckets, time.Microsecond)
	return sentRate{window: b * rateBuckets, bucket: b, bucketUs: b.Microseconds()}
}

// add accounts size bytes sent at at. Packets older than the window are
// ignored; late ones within it are added to their bucket.
func (s *sentRate) add(at bwe.Time, size bwe.ByteCount) {
	if size <= 0 {
		return
	}
	s.memo.valid = false
	idx := s.index(at)
	if !s.seen {
		s.seen, s.first, s.last = true, at, at
		s.setHead(idx)
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
		s.setHead(idx)
	}
	if idx <= s.head-rateBuckets {
		return
	}
	si := s.headSlot
	if idx != s.head {
		si = slotOf(idx)
	}
	slot := &s.bytes[si]
	*slot = bwe.SatAdd(*slot, size)
	s.total = bwe.SatAdd(s.total, size)
	s.first = min(s.first, at)
	s.last = max(s.last, at)
}

// addRun is add for every packet of pkts, in order. Runs of packets that
// fall in the newest bucket, the common case, are summed in locals: what
// add does for each when index returns head.
func (s *sentRate) addRun(pkts []bwe.PacketResult) {
	for i := 0; i < len(pkts); {
		if s.seen && s.head >= 0 {
			slot, total, first, last := s.bytes[s.headSlot], s.total, s.first, s.last
			start := i
			for ; i < len(pkts); i++ {
				p := &pkts[i]
				us := p.SendTime.Micros()
				if p.Size <= 0 || us < 0 || us-s.headUs < 0 || us-s.headUs >= s.bucketUs {
					break
				}
				slot = bwe.SatAdd(slot, p.Size)
				total = bwe.SatAdd(total, p.Size)
				first = min(first, p.SendTime)
				last = max(last, p.SendTime)
			}
			if i > start {
				s.memo.valid = false
				s.bytes[s.headSlot], s.total, s.first, s.last = slot, total, first, last
			}
			if i == len(pkts) {
				return
			}
		}
		s.add(pkts[i].SendTime, pkts[i].Size)
		i++
	}
}

// setHead makes idx the newest bucket.
func (s *sentRate) setHead(idx int64) {
	// |idx × bucketUs| is at most the |µs| idx was computed from.
	s.head, s.headUs, s.headSlot = idx, idx*s.bucketUs, slotOf(idx)
}

// index returns the index of the bucket that holds send time at: its
// time in µs divided by the bucket length, truncated toward zero. A time
// in the newest bucket or the next, the common cases, needs no division.
func (s *sentRate) index(at bwe.Time) int64 {
	us, b := at.Micros(), s.bucketUs
	if s.seen && s.head >= 0 && us >= 0 {
		// headUs ≤ us here, or the difference is negative: no overflow.
		switch d := us - s.headUs; {
		case d < 0:
		case d < b:
			return s.head
		case d-b < b:
			return s.head + 1
		}
	}
	return us / b
}

// rate returns the sending rate over the window, or false while less than
// minSpan of sending has been seen. Until a whole window has been seen,
// the rate is taken over the time seen so far.
func (s *sentRate) rate(minSpan time.Duration) (bwe.Bitrate, bool) {
	if m := &s.memo; m.valid && m.minSpan == minSpan {
		return m.rate, m.ok
	}
	return s.refresh(minSpan)
}

// refresh recomputes the rate and remembers it.
func (s *sentRate) refresh(minSpan time.Duration) (bwe.Bitrate, bool) {
	r, ok := s.compute(minSpan)
	s.memo.valid, s.memo.minSpan, s.memo.rate, s.memo.ok = true, minSpan, r, ok
	s.memo.capValid = false
	return r, ok
}

// compute is rate without the memo.
func (s *sentRate) compute(minSpan time.Duration) (bwe.Bitrate, bool) {
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
