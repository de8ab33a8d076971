package traces

import (
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/bwelab/bwe"
)

// MahimahiPacketSize is the packet a Mahimahi delivery opportunity
// carries: 1500 bytes (Mahimahi traces/README: "an opportunity for one
// 1500-byte packet to be drained from the bottleneck queue").
const MahimahiPacketSize bwe.ByteCount = 1500

// trOpportunityRate is the rate of one delivery opportunity per
// millisecond: 1500 bytes per ms, 12 Mbit/s.
const trOpportunityRate = bwe.Bitrate(MahimahiPacketSize*8) * 1000

// trMaxOpportunities is the most delivery opportunities one millisecond
// may hold without its rate exceeding MaxLinkRate.
const trMaxOpportunities = int64(MaxLinkRate / trOpportunityRate)

// ReadMahimahi reads a Mahimahi link trace (mm-link): one line per
// delivery opportunity, each the timestamp in milliseconds (an unsigned
// integer, lines non-decreasing) at which one 1500-byte packet may leave
// the bottleneck; a timestamp repeated k times gives k opportunities in
// that millisecond. Blank lines are skipped.
//
// The trace is the fluid equivalent: the millisecond [T, T+1) with k
// opportunities at timestamp T runs at k·1500 bytes per ms (k·12 Mbit/s),
// and a millisecond without any is an outage. A saturated FIFO link fed
// with 1500-byte packets thus delivers exactly one packet per opportunity,
// with the millisecond's k packets spread evenly over it (the last at
// T+1) where Mahimahi sends all k at once when its millisecond clock reads
// T; a packet that arrives in the middle of a millisecond gets the rest
// of that millisecond's capacity rather than waiting for the next
// opportunity. mm-link loops the file with the last timestamp P as
// period, so the trace loops with Length P: the opportunities at P fall
// in [P, P+1), the first millisecond of the next pass, and are folded
// into [0, 1) with those of timestamp 0. One pass carries exactly 1500
// bytes per line ([Trace.Volume]) and its mean is lines·12000 bit / P.
//
// Errors, as a [*ParseError] naming the line and the field "timestamp": a
// line that is not an unsigned integer, a timestamp before the previous
// one or beyond [MaxTraceLength], more than 83 333 opportunities in one
// millisecond (1 Tbit/s), no line at all, a last timestamp of 0 (a trace
// that lasts no time: mm-link rejects it too).
func ReadMahimahi(r io.Reader, name string) (*Trace, error) {
	const field = "timestamp"
	const maxMs = int64(MaxTraceLength / time.Millisecond)
	l := trNewLines(r, name)
	t := &Trace{}
	var (
		lines   int
		cur     int64 = -1 // the millisecond being counted
		k       int64      // its opportunities
		atZero  int64      // opportunities at timestamp 0
		emitted int64      // milliseconds [0, emitted) are in t, except [0, 1)
	)
	t.Length = time.Millisecond // [0, 1) is added at the end
	emitted = 1
	for {
		b, err := l.next()
		if err != nil {
			return nil, err
		}
		if b == nil {
			break
		}
		lines++
		ms, ok := trParseMs(b)
		switch {
		case !ok:
			return nil, l.errorf(field, "%s is not an unsigned integer number of milliseconds", trClip(b))
		case ms > maxMs:
			return nil, l.errorf(field, "%d ms is beyond the longest trace, %v", ms, MaxTraceLength)
		case ms < cur:
			return nil, l.errorf(field, "%d ms is before the previous timestamp, %d ms", ms, cur)
		case ms == cur:
			k++
		default:
			if cur > 0 {
				t.Append(time.Duration(cur-emitted)*time.Millisecond, 0)
				t.Append(time.Millisecond, bwe.Bitrate(k)*trOpportunityRate)
				emitted = cur + 1
			}
			cur, k = ms, 1
		}
		if cur == 0 {
			atZero = k
		}
		if k > trMaxOpportunities {
			return nil, l.errorf(field, "%d delivery opportunities at %d ms exceed %v", k, cur, MaxLinkRate)
		}
	}
	switch {
	case lines == 0:
		return nil, &ParseError{File: name, Err: errors.New("no delivery opportunity: the trace is empty")}
	case cur == 0:
		return nil, &ParseError{File: name, Line: l.line, Field: field, Err: errors.New("the last timestamp is 0 ms: the trace lasts no time")}
	}
	// cur is the last timestamp P: the period. [emitted, P) has no
	// opportunity; those at P join those at 0 in [0, 1).
	t.Append(time.Duration(cur-emitted)*time.Millisecond, 0)
	first := atZero + k
	if first > trMaxOpportunities {
		return nil, &ParseError{File: name, Line: l.line, Field: field, Err: fmt.Errorf("%d delivery opportunities at 0 ms and %d ms together exceed %v", first, cur, MaxLinkRate)}
	}
	r0 := bwe.Bitrate(first) * trOpportunityRate
	if len(t.Segments) > 0 && t.Segments[0].Rate == r0 {
		t.Segments[0].Start = 0
	} else {
		t.Segments = append(t.Segments, Segment{})
		copy(t.Segments[1:], t.Segments)
		t.Segments[0] = Segment{Start: 0, Rate: r0}
	}
	return trFinish(t, name, FormatMahimahi, lines)
}

// trParseMs parses an unsigned decimal integer; one of more than 18
// digits gives math.MaxInt64.
func trParseMs(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if v < 1e17 {
			v = v*10 + int64(c-'0')
		} else {
			v = math.MaxInt64
		}
	}
	return v, true
}
