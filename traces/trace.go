package traces

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"time"

	"github.com/bwelab/bwe"
)

// MaxTraceLength is the longest [Trace]: one pass lasts at most a year.
// It keeps every instant of a pass, in nanoseconds, and every sum of
// rate·time over a pass far from overflow.
const MaxTraceLength = 365 * 24 * time.Hour

// Segment is one constant piece of a [Trace]: from Start (since the start
// of a pass through the trace) until the next segment's Start, or the end
// of the pass for the last segment, the capacity is Rate.
type Segment struct {
	// Start is the offset of the segment from the start of a pass, a
	// whole number of microseconds (the resolution of [bwe.Time]).
	Start time.Duration
	// Rate is the capacity, in [0, MaxLinkRate]; 0 is an outage.
	Rate bwe.Bitrate
}

// Trace is a recorded capacity: a piecewise-constant rate over time, the
// common form every reader of this package returns. It is a [Capacity]:
// the emulator integrates the rate exactly over its constant pieces.
//
// One pass through the trace covers [0, Length). If Loop is set, passes
// repeat for ever with period Length (and, by the same rule, before 0):
// At(t) is the rate at t mod Length. If Loop is not set, the first
// segment's rate also holds before 0 and the last segment's rate holds
// for ever after Length. Every reader of this package sets Loop (see the
// readers for why).
//
// Readers merge adjacent segments of equal rate. A Trace built by hand
// need not; [Trace.Append] does. [Trace.At] and [Trace.NextChange] take
// O(log n) time for n segments and allocate nothing. A Trace is not safe
// for concurrent mutation; concurrent calls of its read-only methods are
// safe.
type Trace struct {
	// Name identifies the trace in tables and error messages, e.g.
	// "mahimahi-cellular/ATT-LTE-driving.up" or "norway/bus-ljansbakken".
	Name string
	// Format is the file format the trace was read from, FormatUnknown
	// for a trace built otherwise.
	Format Format
	// Segments are the constant pieces of one pass, in increasing order of
	// Start; the first starts at 0.
	Segments []Segment
	// Length is the duration of one pass, a whole number of microseconds
	// in (last Start, MaxTraceLength].
	Length time.Duration
	// Loop repeats the pass for ever; see [Trace].
	Loop bool
	// Records is the number of data records (lines, rows, JSON segments)
	// the trace was read from; 0 for a trace built otherwise.
	Records int
}

var _ Capacity = (*Trace)(nil)

// Append adds to the end of the pass a piece of duration d, truncated to
// whole microseconds, at rate r; it merges the piece into the last segment
// if that has the same rate. A piece shorter than a microsecond is
// dropped. Append does not check r; [Trace.Validate] does.
func (t *Trace) Append(d time.Duration, r bwe.Bitrate) {
	d = d.Truncate(time.Microsecond)
	if d <= 0 {
		return
	}
	if n := len(t.Segments); n == 0 || t.Segments[n-1].Rate != r {
		t.Segments = append(t.Segments, Segment{Start: t.Length, Rate: r})
	}
	t.Length = bwe.SatAdd(t.Length, d)
}

// Validate reports the first thing wrong with t, or nil: no segments, a
// first segment that does not start at 0, starts out of order, less than
// a microsecond apart or not on whole microseconds, a rate outside
// [0, MaxLinkRate], a Length not after the last start, not on a whole
// microsecond or beyond [MaxTraceLength].
func (t *Trace) Validate() error {
	if len(t.Segments) == 0 {
		return t.errorf("no segments")
	}
	if t.Length <= 0 || t.Length > MaxTraceLength || t.Length%time.Microsecond != 0 {
		return t.errorf("length %v is not a whole number of microseconds in (0, %v]", t.Length, MaxTraceLength)
	}
	if t.Segments[0].Start != 0 {
		return t.errorf("segment 0 starts at %v, want 0", t.Segments[0].Start)
	}
	for i, s := range t.Segments {
		if s.Rate < 0 || s.Rate > MaxLinkRate {
			return t.errorf("segment %d: rate %d bps is outside [0, %v]", i, int64(s.Rate), MaxLinkRate)
		}
		if s.Start%time.Microsecond != 0 {
			return t.errorf("segment %d: start %v is not a whole number of microseconds", i, s.Start)
		}
		if i > 0 && s.Start <= t.Segments[i-1].Start {
			return t.errorf("segment %d starts at %v, not after segment %d at %v", i, s.Start, i-1, t.Segments[i-1].Start)
		}
		if s.Start >= t.Length {
			return t.errorf("segment %d starts at %v, not before the end of the trace at %v", i, s.Start, t.Length)
		}
	}
	return nil
}

func (t *Trace) errorf(format string, args ...any) error {
	name := t.Name
	if name == "" {
		name = "trace"
	}
	return fmt.Errorf("traces: %s: %s", name, fmt.Sprintf(format, args...))
}

// micros converts a non-negative duration to whole microseconds.
func trMicros(d time.Duration) int64 { return int64(d / time.Microsecond) }

// find returns the index of the segment in force at x microseconds into a
// pass, 0 ≤ x < Length: the last segment that starts at or before x.
func (t *Trace) find(x int64) int {
	d := time.Duration(x) * time.Microsecond // x < Length ≤ MaxTraceLength: no overflow
	lo, hi := 0, len(t.Segments)
	for hi-lo > 1 {
		mid := int(uint(lo+hi) >> 1)
		if t.Segments[mid].Start <= d {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// locate returns the segment in force at at and the end of that segment
// (the next instant the capacity may change), bwe.MaxTime if it lasts for
// ever from at on or ends beyond bwe.MaxTime. It returns −1 for a trace
// without segments or length.
func (t *Trace) locate(at bwe.Time) (int, bwe.Time) {
	n := len(t.Segments)
	p := trMicros(t.Length)
	if n == 0 || p <= 0 {
		return -1, bwe.MaxTime
	}
	x := int64(at)
	switch {
	case t.Loop:
		x %= p
		if x < 0 {
			x += p
		}
	case x < 0:
		// Before the start: the first segment, extended backwards.
		if n == 1 {
			return 0, bwe.MaxTime
		}
		return 0, bwe.Time(trMicros(t.Segments[1].Start))
	case x >= p:
		return n - 1, bwe.MaxTime
	}
	i := t.find(x)
	var end int64
	switch {
	case t.Loop && n == 1:
		return 0, bwe.MaxTime // constant
	case i+1 < n:
		end = trMicros(t.Segments[i+1].Start)
	case t.Loop:
		end = p
	default:
		return i, bwe.MaxTime
	}
	if end <= x { // only for a trace that does not validate
		end = x + 1
	}
	return i, bwe.SatAdd(at, bwe.Time(end-x))
}

// At returns the capacity in force at instant at, in microseconds since
// the start of the run (the start of the first pass). It returns 0 for a
// trace without segments.
func (t *Trace) At(at bwe.Time) bwe.Bitrate {
	i, _ := t.locate(at)
	if i < 0 {
		return 0
	}
	return t.Segments[i].Rate
}

// NextChange returns the first instant after at at which the capacity may
// change: the end of the segment in force at at, on the same clock as
// [Trace.At]. It returns [bwe.MaxTime] if the capacity never changes from
// at on (the last segment of a trace that does not loop, a looping trace
// of one segment) or if the end lies beyond bwe.MaxTime. For every at
// before bwe.MaxTime, the result is after at.
func (t *Trace) NextChange(at bwe.Time) bwe.Time {
	_, next := t.locate(at)
	return next
}

// Period returns the duration of one pass, Length: the period with which
// the trace repeats if it loops.
func (t *Trace) Period() time.Duration { return t.Length }

// SegmentDuration returns how long segment i lasts within a pass.
func (t *Trace) SegmentDuration(i int) time.Duration {
	if i+1 < len(t.Segments) {
		return t.Segments[i+1].Start - t.Segments[i].Start
	}
	return t.Length - t.Segments[i].Start
}

// trAcc is an unsigned 128-bit accumulator of rate·time products, in
// bit·µs/s ("micro-bits").
type trAcc struct{ hi, lo uint64 }

func (a *trAcc) add(r bwe.Bitrate, us int64) {
	if r <= 0 || us <= 0 {
		return
	}
	hi, lo := bits.Mul64(uint64(r), uint64(us))
	var c uint64
	a.lo, c = bits.Add64(a.lo, lo, 0)
	a.hi += hi + c
}

// div returns the accumulated value divided by d, rounded down and
// saturated at math.MaxInt64.
func (a trAcc) div(d uint64) int64 {
	if d == 0 || a.hi >= d {
		if a.hi == 0 && a.lo == 0 {
			return 0
		}
		return math.MaxInt64
	}
	q, _ := bits.Div64(a.hi, a.lo, d)
	if q > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(q)
}

// integral returns the rate integrated over one pass, in micro-bits.
func (t *Trace) integral() trAcc {
	var a trAcc
	for i, s := range t.Segments {
		a.add(s.Rate, trMicros(t.SegmentDuration(i)))
	}
	return a
}

// Mean returns the time-weighted mean capacity over one pass, rounded
// down to a whole bit per second; 0 for an empty trace.
func (t *Trace) Mean() bwe.Bitrate {
	us := trMicros(t.Length)
	if us <= 0 {
		return 0
	}
	return bwe.Bitrate(t.integral().div(uint64(us)))
}

// Volume returns the data one pass carries: the rate integrated over
// [0, Length), rounded to the nearest byte (halves up). For a Mahimahi
// trace it is exactly 1500 bytes per delivery opportunity.
func (t *Trace) Volume() bwe.ByteCount {
	a := t.integral()
	var c uint64
	a.lo, c = bits.Add64(a.lo, 4_000_000, 0)
	a.hi += c
	return bwe.ByteCount(a.div(8_000_000))
}

// Min returns the lowest segment rate, 0 for an empty trace.
func (t *Trace) Min() bwe.Bitrate {
	if len(t.Segments) == 0 {
		return 0
	}
	m := t.Segments[0].Rate
	for _, s := range t.Segments[1:] {
		m = min(m, s.Rate)
	}
	return m
}

// Max returns the highest segment rate, 0 for an empty trace.
func (t *Trace) Max() bwe.Bitrate {
	var m bwe.Bitrate
	for _, s := range t.Segments {
		m = max(m, s.Rate)
	}
	return m
}

// Outage returns the total time of one pass at a capacity of 0.
func (t *Trace) Outage() time.Duration {
	var d time.Duration
	for i, s := range t.Segments {
		if s.Rate == 0 {
			d += t.SegmentDuration(i)
		}
	}
	return d
}

// Averages appends to dst the mean capacity over each complete window
// [k·width, (k+1)·width) of one pass, rounded down to whole bits per
// second, and returns the extended slice. A final window cut short by the
// end of the pass is left out, as is everything if width is shorter than
// a microsecond.
func (t *Trace) Averages(width time.Duration, dst []bwe.Bitrate) []bwe.Bitrate {
	w := trMicros(width)
	if w <= 0 || len(t.Segments) == 0 {
		return dst
	}
	windows := trMicros(t.Length) / w
	i := 0
	for k := range windows {
		from, to := k*w, (k+1)*w
		var a trAcc
		for ; i < len(t.Segments); i++ {
			s := trMicros(t.Segments[i].Start)
			e := trMicros(t.Segments[i].Start + t.SegmentDuration(i))
			a.add(t.Segments[i].Rate, min(e, to)-max(s, from))
			if e > to {
				break // the segment goes on into the next window
			}
		}
		dst = append(dst, bwe.Bitrate(a.div(uint64(w))))
	}
	return dst
}

// Scaled returns a copy of t with every rate multiplied by f (rounded as
// [bwe.Bitrate.Scale]) and limited to MaxLinkRate, adjacent equal
// segments merged. It returns an error if f is negative, NaN or infinite.
func (t *Trace) Scaled(f float64) (*Trace, error) {
	if !(f >= 0) || math.IsInf(f, 1) {
		return nil, errors.New("traces: scale factor " + fmt.Sprint(f) + " is not a finite non-negative number")
	}
	c := &Trace{Name: t.Name, Format: t.Format, Loop: t.Loop, Records: t.Records}
	c.Segments = make([]Segment, 0, len(t.Segments))
	for i, s := range t.Segments {
		c.Append(t.SegmentDuration(i), min(s.Rate.Scale(f), MaxLinkRate))
	}
	return c, nil
}
