package traces

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/bwelab/bwe"
)

// trMaxJSON is the largest OpenNetLab file read (64 MiB).
const trMaxJSON = 64 << 20

// ReadOpenNetLab reads a bandwidth trace of the OpenNetLab AlphaRTC gym
// (the traces of the ACM MMSys 2021 bandwidth-estimation challenge): a
// JSON object whose "uplink"."trace_pattern" is an array of segments
// played in order, each an object with "duration" in milliseconds and
// "capacity" in kbit/s (numbers, or strings holding numbers). Other keys
// ("type", "downlink", and a segment's "loss", "jitter", "rtt") are
// ignored: a Trace is a capacity only.
//
// Segment durations are rounded to whole microseconds (a segment that
// rounds to none is dropped) and capacities to whole bits per second. A
// capacity of 0 is an outage (the gym's player drops every packet). By
// default a segment at or above [ReadOptions].SpikeThreshold (1 Gbit/s) is
// an absurd spike and takes the rate of the segment before it (see
// [ReadOptions].KeepSpikes); the gym's own traces have one to three
// such isolated segments in 4G_3mbps, 5G_13mbps and WIRED_35mbps. The
// trace loops, as the gym's trace player does.
//
// The file is read whole (at most 64 MiB) and decoded with encoding/json.
// Errors, as a [*ParseError] naming the line and the field (e.g.
// "uplink.trace_pattern[3].capacity"): invalid JSON, a missing or
// mistyped uplink or trace_pattern, a segment that is not an object or
// lacks duration or capacity, a value that is not a non-negative number,
// a capacity above [MaxLinkRate], a total duration beyond
// [MaxTraceLength], no segment of positive duration.
func ReadOpenNetLab(r io.Reader, name string) (*Trace, error) {
	return trReadOpenNetLab(r, name, ReadOptions{})
}

type trJSON struct {
	name string
	data []byte
	dec  *json.Decoder
	// off and lines: data[:off] holds lines−1 newlines (a cache for line).
	off   int64
	lines int
}

func trReadOpenNetLab(r io.Reader, name string, o ReadOptions) (*Trace, error) {
	data, err := io.ReadAll(io.LimitReader(r, trMaxJSON+1))
	if err != nil {
		return nil, &ParseError{File: name, Err: err}
	}
	if len(data) > trMaxJSON {
		return nil, &ParseError{File: name, Err: fmt.Errorf("larger than %d bytes", trMaxJSON)}
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a UTF-8 byte-order mark
	p := &trJSON{name: name, data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	p.dec.UseNumber()

	var segs []trJSONSegment
	found := false
	if err := p.delim('{', ""); err != nil {
		return nil, err
	}
	for p.dec.More() {
		key, err := p.key("")
		if err != nil {
			return nil, err
		}
		if key != "uplink" {
			if err := p.skip(key); err != nil {
				return nil, err
			}
			continue
		}
		if found {
			return nil, p.errorAt(p.dec.InputOffset(), "uplink", errors.New("duplicate key"))
		}
		found = true
		if segs, err = p.uplink(); err != nil {
			return nil, err
		}
	}
	if err := p.delim('}', ""); err != nil {
		return nil, err
	}
	if _, err := p.dec.Token(); err != io.EOF {
		return nil, p.errorAt(p.dec.InputOffset(), "", errors.New("data after the JSON object"))
	}
	if segs == nil {
		return nil, &ParseError{File: name, Field: "uplink.trace_pattern", Err: errors.New("missing")}
	}
	return trSegmentsTrace(segs, name, o)
}

// trJSONSegment is one segment as read: its duration in microseconds,
// its rate, and the line of the file it came from.
type trJSONSegment struct {
	us   int64
	rate bwe.Bitrate
	line int
}

// trSegmentsTrace builds the trace of OpenNetLab segments, treating
// spikes as o says.
func trSegmentsTrace(segs []trJSONSegment, name string, o ReadOptions) (*Trace, error) {
	if len(segs) == 0 {
		return nil, &ParseError{File: name, Field: "uplink.trace_pattern", Err: errors.New("no segment")}
	}
	limit := o.spikeThreshold()
	fill, have := bwe.Bitrate(0), false // the rate that replaces a spike
	if !o.KeepSpikes {
		for _, s := range segs {
			if s.rate < limit {
				fill, have = s.rate, true
				break
			}
		}
	}
	t := &Trace{}
	var total int64
	for i, s := range segs {
		total += s.us
		if total > int64(MaxTraceLength/time.Microsecond) {
			return nil, &ParseError{File: name, Line: s.line, Field: trSegField(i, ".duration"), Err: fmt.Errorf("the segments last more than %v", MaxTraceLength)}
		}
		r := s.rate
		if have && r >= limit {
			r = fill
		} else {
			fill = r
		}
		t.Append(time.Duration(s.us)*time.Microsecond, r)
	}
	if len(t.Segments) == 0 {
		return nil, &ParseError{File: name, Field: "uplink.trace_pattern", Err: errors.New("no segment of positive duration")}
	}
	return trFinish(t, name, FormatOpenNetLab, len(segs))
}

// uplink reads the value of "uplink" and returns its segments (empty but
// not nil if trace_pattern is an empty array).
func (p *trJSON) uplink() ([]trJSONSegment, error) {
	if err := p.delim('{', "uplink"); err != nil {
		return nil, err
	}
	var segs []trJSONSegment
	found := false
	for p.dec.More() {
		key, err := p.key("uplink")
		if err != nil {
			return nil, err
		}
		if key != "trace_pattern" {
			if err := p.skip("uplink." + key); err != nil {
				return nil, err
			}
			continue
		}
		if found {
			return nil, p.errorAt(p.dec.InputOffset(), "uplink.trace_pattern", errors.New("duplicate key"))
		}
		found = true
		if err := p.delim('[', "uplink.trace_pattern"); err != nil {
			return nil, err
		}
		segs = []trJSONSegment{}
		for i := 0; p.dec.More(); i++ {
			s, err := p.segment(i)
			if err != nil {
				return nil, err
			}
			segs = append(segs, s)
		}
		if err := p.delim(']', "uplink.trace_pattern"); err != nil {
			return nil, err
		}
	}
	if err := p.delim('}', "uplink"); err != nil {
		return nil, err
	}
	if !found {
		return nil, &ParseError{File: p.name, Field: "uplink.trace_pattern", Err: errors.New("missing")}
	}
	return segs, nil
}

func trSegField(i int, key string) string {
	return "uplink.trace_pattern[" + strconv.Itoa(i) + "]" + key
}

// segment reads segment i of trace_pattern.
func (p *trJSON) segment(i int) (trJSONSegment, error) {
	field := trSegField(i, "")
	var raw json.RawMessage
	if err := p.dec.Decode(&raw); err != nil {
		return trJSONSegment{}, p.fail(err, p.dec, 0, field)
	}
	start := p.dec.InputOffset() - int64(len(raw))
	s := trJSONSegment{line: p.line(start)}
	if len(raw) == 0 || raw[0] != '{' {
		return s, p.errorAt(start, field, errors.New("not a JSON object"))
	}
	sub := json.NewDecoder(bytes.NewReader(raw))
	sub.UseNumber()
	sub.Token() // '{'
	var dur, capa json.Number
	var durAt, capAt int64
	for sub.More() {
		tok, err := sub.Token()
		if err != nil {
			return s, p.fail(err, sub, start, field)
		}
		key, _ := tok.(string)
		at := start + sub.InputOffset()
		var v any
		switch key {
		case "duration":
			v, durAt = &dur, at
		case "capacity":
			v, capAt = &capa, at
		default:
			v = new(json.RawMessage)
		}
		if err := sub.Decode(v); err != nil {
			return s, p.fail(err, sub, start, trSegField(i, "."+key))
		}
	}
	if dur == "" {
		return s, p.errorAt(start, trSegField(i, ".duration"), errors.New("missing"))
	}
	if capa == "" {
		return s, p.errorAt(start, trSegField(i, ".capacity"), errors.New("missing"))
	}
	us, err := trOffset([]byte(dur), 1000)
	if err != nil {
		return s, p.errorAt(durAt, trSegField(i, ".duration"), err)
	}
	rate, err := trRate([]byte(capa), 1000)
	if err != nil {
		return s, p.errorAt(capAt, trSegField(i, ".capacity"), err)
	}
	s.us, s.rate = us, rate
	return s, nil
}

// line returns the 1-based line of byte offset off.
func (p *trJSON) line(off int64) int {
	off = min(max(off, 0), int64(len(p.data)))
	if off < p.off || p.lines == 0 {
		p.off, p.lines = 0, 1
	}
	p.lines += bytes.Count(p.data[p.off:off], []byte("\n"))
	p.off = off
	return p.lines
}

func (p *trJSON) errorAt(off int64, field string, err error) error {
	return &ParseError{File: p.name, Line: p.line(off), Field: field, Err: err}
}

// fail converts an error of decoder dec, whose input starts at byte base
// of the file, into a *ParseError.
func (p *trJSON) fail(err error, dec *json.Decoder, base int64, field string) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return p.errorAt(base+syn.Offset, field, errors.New(syn.Error()))
	case errors.As(err, &typ):
		return p.errorAt(base+typ.Offset, field, fmt.Errorf("a JSON %s where a number belongs", typ.Value))
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return p.errorAt(int64(len(p.data)), field, errors.New("unexpected end of the input"))
	}
	return p.errorAt(base+dec.InputOffset(), field, err)
}

// delim reads the next token and requires it to be d.
func (p *trJSON) delim(d json.Delim, field string) error {
	tok, err := p.dec.Token()
	if err != nil {
		return p.fail(err, p.dec, 0, field)
	}
	if got, ok := tok.(json.Delim); !ok || got != d {
		what := map[json.Delim]string{'{': "a JSON object", '}': "the end of the object", '[': "a JSON array", ']': "the end of the array"}[d]
		return p.errorAt(p.dec.InputOffset(), field, fmt.Errorf("want %s, got %s", what, trToken(tok)))
	}
	return nil
}

// key reads an object key.
func (p *trJSON) key(field string) (string, error) {
	tok, err := p.dec.Token()
	if err != nil {
		return "", p.fail(err, p.dec, 0, field)
	}
	k, ok := tok.(string)
	if !ok {
		return "", p.errorAt(p.dec.InputOffset(), field, fmt.Errorf("want an object key, got %s", trToken(tok)))
	}
	return k, nil
}

// skip reads and drops one value.
func (p *trJSON) skip(field string) error {
	var raw json.RawMessage
	if err := p.dec.Decode(&raw); err != nil {
		return p.fail(err, p.dec, 0, field)
	}
	return nil
}

func trToken(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		return strconv.Quote(string(v))
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", tok)
}
