package traces

import (
	"bytes"
	"errors"
	"io"
	"time"

	"github.com/bwelab/bwe"
)

// ReadNYU reads a per-second throughput series in the CSV form of the
// NYU/SBU multipath WiFi + cellular traces (Aydin, Fund, Panwar, 2023):
// no header, one row per second, "timeInSeconds,BytesPerSecond": an
// unsigned integer second index, increasing, and the bytes received in
// that second (a non-negative decimal number). LF and CRLF line ends are
// both accepted.
//
// Row s holds for the second [s−s₀, s−s₀+1), s₀ being the first row's
// index, at 8·bytes bit/s. Missing seconds (a jump of the index) are
// filled as [ReadOptions].Gaps says: by default the previous row holds
// through them. The trace loops (no player comes with these files; all
// traces of the package loop, so that a run longer than a trace replays
// it rather than holding its last second).
//
// Errors, as a [*ParseError] naming the line and the field
// (timeInSeconds or BytesPerSecond): a row without exactly two fields, a
// value that is not a number, an index that does not increase or lies
// beyond [MaxTraceLength], a rate above [MaxLinkRate], no row at all.
func ReadNYU(r io.Reader, name string) (*Trace, error) {
	return trReadNYU(r, name, ReadOptions{})
}

func trReadNYU(r io.Reader, name string, o ReadOptions) (*Trace, error) {
	const maxSec = int64(MaxTraceLength / time.Second)
	l := trNewLines(r, name)
	t := &Trace{}
	rows := 0
	var prev int64
	var prevRate bwe.Bitrate
	for {
		b, err := l.next()
		if err != nil {
			return nil, err
		}
		if b == nil {
			break
		}
		sec, rest, ok := bytes.Cut(b, []byte(","))
		if !ok || bytes.IndexByte(rest, ',') >= 0 {
			return nil, l.errorf("", "want 2 comma-separated fields (timeInSeconds, BytesPerSecond), got %d", bytes.Count(b, []byte(","))+1)
		}
		sec, rest = trTrim(sec), trTrim(rest)
		s, ok := trParseMs(sec)
		switch {
		case !ok:
			return nil, l.errorf("timeInSeconds", "%s is not an unsigned integer", trClip(sec))
		case s > maxSec:
			return nil, l.errorf("timeInSeconds", "%d s is beyond the longest trace, %v", s, MaxTraceLength)
		case rows > 0 && s <= prev:
			return nil, l.errorf("timeInSeconds", "%d is not after the previous second, %d", s, prev)
		}
		rate, err := trRate(rest, 8)
		if err != nil {
			return nil, l.errorf("BytesPerSecond", "%v", err)
		}
		if rows > 0 {
			trFillGap(t, s-prev-1, prevRate, o.Gaps)
		}
		t.Append(time.Second, rate)
		prev, prevRate = s, rate
		rows++
	}
	if rows == 0 {
		return nil, &ParseError{File: name, Err: errors.New("no row: the trace is empty")}
	}
	return trFinish(t, name, FormatNYU, rows)
}

// trFillGap appends n missing seconds after a sample at rate prev, as
// policy g says.
func trFillGap(t *Trace, n int64, prev bwe.Bitrate, g GapPolicy) {
	if n <= 0 {
		return
	}
	if g == GapOutage {
		prev = 0
	}
	t.Append(time.Duration(n)*time.Second, prev)
}
