package traces

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"time"

	"github.com/bwelab/bwe"
)

// ReadPensieve reads a rate series in Pensieve's "cooked" form, as the
// Norway 3G/HSDPA (Riiser et al.) and FCC broadband traces are
// distributed: one sample per line, two blank-separated decimal numbers,
// the time in seconds ("time_s") and the throughput in Mbit/s
// ("throughput_Mbps"). Times must increase.
//
// Sample i holds from its time until the next sample's (Pensieve's rule,
// "value i holds until the next timestamp"); the last one holds for the
// nominal step, the median of the time steps (1 s if there is a single
// sample). The time axis is shifted so that the first sample is at 0, and
// times are rounded to whole microseconds and rates to whole bits per
// second. With [ReadOptions].Gaps set to GapOutage, a step longer than
// 1.5 nominal steps is a gap: its sample holds for one nominal step and
// the rest is an outage. (Pensieve's conversion of the Norway logs
// dropped samples below about 0.1 Mbit/s, leaving such gaps; the FCC
// traces have a synthetic 5-s axis without gaps.) The trace loops, as
// Pensieve's simulator does at the end of a trace.
//
// Errors, as a [*ParseError] naming the line and the field: a line
// without exactly two fields, a value that is not a decimal number, a
// negative value, a time not after the previous one or beyond
// [MaxTraceLength], a rate above [MaxLinkRate], no sample at all.
func ReadPensieve(r io.Reader, name string) (*Trace, error) {
	return trReadPensieve(r, name, ReadOptions{})
}

func trReadPensieve(r io.Reader, name string, o ReadOptions) (*Trace, error) {
	type sample struct {
		at   int64 // µs
		rate bwe.Bitrate
	}
	var s []sample
	l := trNewLines(r, name)
	for {
		b, err := l.next()
		if err != nil {
			return nil, err
		}
		if b == nil {
			break
		}
		f := bytes.Fields(b)
		if len(f) != 2 {
			return nil, l.errorf("", "want 2 blank-separated fields (time_s, throughput_Mbps), got %d", len(f))
		}
		at, err := trOffset(f[0], 1e6)
		if err != nil {
			return nil, l.errorf("time_s", "%v", err)
		}
		rate, err := trRate(f[1], 1e6)
		if err != nil {
			return nil, l.errorf("throughput_Mbps", "%v", err)
		}
		if n := len(s); n > 0 && at <= s[n-1].at {
			return nil, l.errorf("time_s", "%s is not after the previous time, %v", f[0], bwe.Time(s[n-1].at))
		}
		s = append(s, sample{at, rate})
	}
	if len(s) == 0 {
		return nil, &ParseError{File: name, Err: errors.New("no sample: the trace is empty")}
	}
	nominal := int64(time.Second / time.Microsecond)
	if len(s) > 1 {
		steps := make([]int64, len(s)-1)
		for i := range steps {
			steps[i] = s[i+1].at - s[i].at
		}
		slices.Sort(steps)
		m := len(steps) / 2
		nominal = steps[m]
		if len(steps)%2 == 0 {
			nominal = (steps[m-1] + steps[m]) / 2
		}
	}
	t := &Trace{}
	for i, x := range s {
		d := nominal
		if i+1 < len(s) {
			d = s[i+1].at - x.at
		}
		if o.Gaps == GapOutage && 2*d > 3*nominal {
			t.Append(time.Duration(nominal)*time.Microsecond, x.rate)
			t.Append(time.Duration(d-nominal)*time.Microsecond, 0)
			continue
		}
		t.Append(time.Duration(d)*time.Microsecond, x.rate)
	}
	return trFinish(t, name, FormatPensieve, len(s))
}
