package traces

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/bwelab/bwe"
)

// ReadFiveGophers reads a mobility trace of the 5Gophers 1.0 dataset
// (Narayanan et al., WWW 2020): a CSV with a header line, one row per
// second of a saturating 8-connection TCP download, with an unsigned
// integer second index "seq_num", increasing, and one or more throughput
// columns in Mbit/s (header names ending in "throughput_mbps"). The rate
// column is [ReadOptions].Column, by default the first throughput column:
// "throughput_mbps" of the walking trace, "Sprint_throughput_mbps" of the
// car-driving trace, whose other carriers' columns are
// "TMobile_throughput_mbps" and "Verizon_throughput_mbps".
//
// Row s holds for the second [s−s₀, s−s₀+1), s₀ being the first row's
// index. Missing seconds (the car-driving trace jumps from 102 to 109)
// and missing values ("-" or empty) are filled as [ReadOptions].Gaps
// says: by default the previous row holds through them. The trace loops
// (no player comes with these files; all traces of the package loop, so
// that a run longer than a trace replays it rather than holding its last
// second).
//
// Errors, as a [*ParseError] naming the line and the field: no header or
// a header without seq_num or the rate column, a row whose field count
// differs from the header's, a seq_num that is not an unsigned integer,
// does not increase or lies beyond [MaxTraceLength], a rate that is not a
// non-negative decimal number or exceeds [MaxLinkRate], no data row.
func ReadFiveGophers(r io.Reader, name string) (*Trace, error) {
	return trReadFiveGophers(r, name, ReadOptions{})
}

func trReadFiveGophers(r io.Reader, name string, o ReadOptions) (*Trace, error) {
	const maxSec = int64(MaxTraceLength / time.Second)
	l := trNewLines(r, name)
	hdr, err := trReadHeader(l)
	if err != nil {
		return nil, err
	}
	si, err := trColumn(l, hdr, "seq_num")
	if err != nil {
		return nil, err
	}
	col := o.Column
	if col == "" {
		if c := trThroughputColumns(hdr); len(c) > 0 {
			col = c[0]
		} else {
			return nil, l.errorf("throughput_mbps", "no column named *throughput_mbps in the header")
		}
	}
	ci, err := trColumn(l, hdr, col)
	if err != nil {
		return nil, err
	}
	t := &Trace{}
	var (
		f    [][]byte
		rows int
		prev int64
		rate bwe.Bitrate
	)
	for {
		b, err := l.next()
		if err != nil {
			return nil, err
		}
		if b == nil {
			break
		}
		if f = trSplit(b, f[:0]); len(f) != len(hdr) {
			return nil, l.errorf("", "want %d comma-separated fields as in the header, got %d", len(hdr), len(f))
		}
		s, ok := trParseMs(f[si])
		switch {
		case !ok:
			return nil, l.errorf("seq_num", "%s is not an unsigned integer", trClip(f[si]))
		case s > maxSec:
			return nil, l.errorf("seq_num", "%d s is beyond the longest trace, %v", s, MaxTraceLength)
		case rows > 0 && s <= prev:
			return nil, l.errorf("seq_num", "%d is not after the previous second, %d", s, prev)
		}
		if rows > 0 {
			trFillGap(t, s-prev-1, rate, o.Gaps)
		}
		if rate, err = trGapRate(f[ci], 1e6, rate, o.Gaps); err != nil {
			return nil, l.errorf(col, "%v", err)
		}
		t.Append(time.Second, rate)
		prev = s
		rows++
	}
	if rows == 0 {
		return nil, &ParseError{File: name, Err: errors.New("no data row: the trace is empty")}
	}
	return trFinish(t, name, FormatFiveGophers, rows)
}

// trThroughputColumns returns the header fields that name a throughput
// column of a 5Gophers file.
func trThroughputColumns(hdr []string) []string {
	var c []string
	for _, h := range hdr {
		if strings.HasSuffix(strings.ToLower(h), "throughput_mbps") {
			c = append(c, h)
		}
	}
	return c
}

// trRateColumns returns the throughput columns named by the header line
// that begins data, a 5Gophers file.
func trRateColumns(data []byte) []string {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	for len(data) > 0 {
		var line []byte
		line, data, _ = bytes.Cut(data, []byte("\n"))
		if line = trTrim(line); len(line) == 0 {
			continue
		}
		var hdr []string
		for _, f := range trSplit(line, nil) {
			hdr = append(hdr, string(f))
		}
		return trThroughputColumns(hdr)
	}
	return nil
}
