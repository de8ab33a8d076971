package traces

import (
	"bytes"
	"errors"
	"io"
	"time"

	"github.com/bwelab/bwe"
)

// trUCCLayout is the layout of the UCC dataset's Timestamp column,
// local time YYYY.MM.DD_HH.MM.SS.
const trUCCLayout = "2006.01.02_15.04.05"

// ReadUCC reads a session of the UCC 5G production-network dataset (Raca
// et al., MMSys 2020): a CSV with a header line naming 26 columns, one row
// per second, of which two matter here: "Timestamp", local time as
// YYYY.MM.DD_HH.MM.SS, which must not decrease, and the rate column,
// "DL_bitrate" (the downlink throughput in kbit/s during that second) or
// the one [ReadOptions].Column names.
//
// Each row holds for one second, in file order: the time axis is the row
// index, not the Timestamp column, whose 1-s values jitter (in the
// dataset, about one row in eight repeats the previous row's second and
// as many skip one), so that the trace lasts one second per row as the
// dataset's sampling does. A missing value ("-", as the dataset writes
// it, or an empty field) is filled as [ReadOptions].Gaps says: by default
// the previous row's rate holds (0 on the first row). The trace loops
// (no player comes with these files; all traces of the package loop, so
// that a run longer than a trace replays it rather than holding its last
// second).
//
// Errors, as a [*ParseError] naming the line and the field: no header or
// a header without Timestamp or the rate column, a row whose field count
// differs from the header's, a Timestamp of another layout or before the
// previous row's, a rate that is not a non-negative decimal number or
// exceeds [MaxLinkRate], no data row.
func ReadUCC(r io.Reader, name string) (*Trace, error) {
	return trReadUCC(r, name, ReadOptions{})
}

func trReadUCC(r io.Reader, name string, o ReadOptions) (*Trace, error) {
	col := o.Column
	if col == "" {
		col = "DL_bitrate"
	}
	l := trNewLines(r, name)
	hdr, err := trReadHeader(l)
	if err != nil {
		return nil, err
	}
	ts, err := trColumn(l, hdr, "Timestamp")
	if err != nil {
		return nil, err
	}
	ci, err := trColumn(l, hdr, col)
	if err != nil {
		return nil, err
	}
	t := &Trace{}
	var (
		f      [][]byte
		rows   int
		prevTS time.Time
		prev   bwe.Bitrate
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
		tm, err := time.Parse(trUCCLayout, string(f[ts]))
		if err != nil {
			return nil, l.errorf("Timestamp", "%s is not a YYYY.MM.DD_HH.MM.SS time", trClip(f[ts]))
		}
		if rows > 0 && tm.Before(prevTS) {
			return nil, l.errorf("Timestamp", "%s is before the previous row's %s", f[ts], prevTS.Format(trUCCLayout))
		}
		rate, err := trGapRate(f[ci], 1000, prev, o.Gaps)
		if err != nil {
			return nil, l.errorf(col, "%v", err)
		}
		t.Append(time.Second, rate)
		prevTS, prev = tm, rate
		rows++
	}
	if rows == 0 {
		return nil, &ParseError{File: name, Err: errors.New("no data row: the trace is empty")}
	}
	return trFinish(t, name, FormatUCC, rows)
}

// trReadHeader returns the fields of the first non-blank line.
func trReadHeader(l *trLines) ([]string, error) {
	b, err := l.next()
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, &ParseError{File: l.name, Err: errors.New("no header line: the trace is empty")}
	}
	var hdr []string
	for _, f := range trSplit(b, nil) {
		hdr = append(hdr, string(f))
	}
	return hdr, nil
}

// trColumn returns the index of the header field col.
func trColumn(l *trLines, hdr []string, col string) (int, error) {
	for i, h := range hdr {
		if h == col {
			return i, nil
		}
	}
	return 0, l.errorf(col, "no such column in the header")
}

// trSplit appends to dst the comma-separated fields of b, trimmed of
// blanks. Quoted fields are not supported: no format here has them.
func trSplit(b []byte, dst [][]byte) [][]byte {
	for {
		f, rest, ok := bytes.Cut(b, []byte(","))
		dst = append(dst, trTrim(f))
		if !ok {
			return dst
		}
		b = rest
	}
}

// trGapRate parses a rate field in units of unit bit/s; a missing value
// ("-" or empty) is a one-sample gap, filled as g says after a sample at
// rate prev.
func trGapRate(b []byte, unit float64, prev bwe.Bitrate, g GapPolicy) (bwe.Bitrate, error) {
	if len(b) == 0 || (len(b) == 1 && b[0] == '-') {
		if g == GapOutage {
			return 0, nil
		}
		return prev, nil
	}
	return trRate(b, unit)
}
