package traces

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

const (
	ms  = time.Millisecond
	sec = time.Second
	opp = trOpportunityRate // 12 Mbps, one Mahimahi opportunity per ms
)

// trReadCase is one reader input with the exact trace it must give.
type trReadCase struct {
	name    string
	f       Format
	opts    ReadOptions
	in      string
	want    []Segment
	length  time.Duration
	records int
}

func trCheckRead(t *testing.T, tc trReadCase) {
	t.Helper()
	tr, err := ReadWith(strings.NewReader(tc.in), "in", tc.f, tc.opts)
	if err != nil {
		t.Errorf("%s: ReadWith(%v) error: %v", tc.name, tc.f, err)
		return
	}
	if !trEqualSegments(tr.Segments, tc.want) || tr.Length != tc.length {
		t.Errorf("%s: ReadWith(%v) = segments %v, length %v\nwant segments %v, length %v", tc.name, tc.f, tr.Segments, tr.Length, tc.want, tc.length)
	}
	if tr.Records != tc.records || tr.Name != "in" || tr.Format != tc.f || !tr.Loop {
		t.Errorf("%s: ReadWith(%v) header = name %q format %v loop %v records %d; want \"in\", %v, true, %d", tc.name, tc.f, tr.Name, tr.Format, tr.Loop, tr.Records, tc.f, tc.records)
	}
	if err := tr.Validate(); err != nil {
		t.Errorf("%s: Validate: %v", tc.name, err)
	}
	// Detection finds the same format, and Read gives the same trace.
	if tc.opts == (ReadOptions{}) {
		auto, err := Read(strings.NewReader(tc.in), "in", FormatUnknown)
		if err != nil || auto.Format != tc.f || !trEqualSegments(auto.Segments, tc.want) {
			t.Errorf("%s: Read(FormatUnknown) = %v, %v; want the %v trace", tc.name, auto, err, tc.f)
		}
	}
}

func TestReadMahimahi(t *testing.T) {
	for _, tc := range []trReadCase{
		{name: "one opportunity per ms", in: "1\n2\n3\n",
			// [1,2), [2,3) and the folded [3,4) ≡ [0,1): 12 Mbps throughout.
			want: []Segment{{0, opp}}, length: 3 * ms, records: 3},
		{name: "fold of 0 and P", in: "0\n0\n5\n5\n5\n",
			want: []Segment{{0, 5 * opp}, {1 * ms, 0}}, length: 5 * ms, records: 5},
		{name: "gaps and bursts", in: "3\n3\n4\n10\n",
			want: []Segment{{0, opp}, {1 * ms, 0}, {3 * ms, 2 * opp}, {4 * ms, opp}, {5 * ms, 0}}, length: 10 * ms, records: 4},
		{name: "blanks, CRLF, BOM", in: "\xef\xbb\xbf 1\r\n\r\n  \n2 \r\n\t3\t\n",
			want: []Segment{{0, opp}}, length: 3 * ms, records: 3},
		{name: "single line", in: "7",
			want: []Segment{{0, opp}, {1 * ms, 0}}, length: 7 * ms, records: 1},
		{name: "fold merges with the second ms", in: "1\n1\n2\n2\n",
			want: []Segment{{0, 2 * opp}}, length: 2 * ms, records: 4},
		{name: "leading zeros", in: "0001\n002\n",
			want: []Segment{{0, opp}}, length: 2 * ms, records: 2},
		{name: "83333 opportunities in one ms", in: strings.Repeat("1\n", 83333) + "2\n",
			want: []Segment{{0, opp}, {1 * ms, 83333 * opp}}, length: 2 * ms, records: 83334},
	} {
		tc.f = FormatMahimahi
		trCheckRead(t, tc)
	}
}

func TestReadPensieve(t *testing.T) {
	for _, tc := range []trReadCase{
		{name: "median step of 1 and 1.5 s", in: "0.0\t1.5\n1.0\t0\n2.5 3\n",
			want:   []Segment{{0, 1500 * bwe.Kbps}, {sec, 0}, {2500 * ms, 3 * bwe.Mbps}},
			length: 3750 * ms, records: 3},
		{name: "shifted origin, gap held", in: "10 1\n11 2\n12 3\n15 4\n",
			want:   []Segment{{0, bwe.Mbps}, {sec, 2 * bwe.Mbps}, {2 * sec, 3 * bwe.Mbps}, {5 * sec, 4 * bwe.Mbps}},
			length: 6 * sec, records: 4},
		{name: "gap as outage", opts: ReadOptions{Gaps: GapOutage}, in: "10 1\n11 2\n12 3\n15 4\n",
			want:   []Segment{{0, bwe.Mbps}, {sec, 2 * bwe.Mbps}, {2 * sec, 3 * bwe.Mbps}, {3 * sec, 0}, {5 * sec, 4 * bwe.Mbps}},
			length: 6 * sec, records: 4},
		{name: "step of 1.5 nominal is no gap", opts: ReadOptions{Gaps: GapOutage}, in: "0 1\n1 2\n2 3\n3.5 4\n",
			want:   []Segment{{0, bwe.Mbps}, {sec, 2 * bwe.Mbps}, {2 * sec, 3 * bwe.Mbps}, {3500 * ms, 4 * bwe.Mbps}},
			length: 4500 * ms, records: 4},
		{name: "single sample holds 1 s", in: "0 2\n",
			want: []Segment{{0, 2 * bwe.Mbps}}, length: sec, records: 1},
		{name: "equal samples merge", in: "0 2\n1 2\n2 2.000001\n",
			want: []Segment{{0, 2 * bwe.Mbps}, {2 * sec, 2*bwe.Mbps + 1}}, length: 3 * sec, records: 3},
		{name: "microsecond rounding", in: "0 1\n0.0000014 2\n",
			want: []Segment{{0, bwe.Mbps}, {time.Microsecond, 2 * bwe.Mbps}}, length: 2 * time.Microsecond, records: 2},
		{name: "exponents and 1 Tbps", in: "0 1e6\n1E0 0.5e-6\n",
			want: []Segment{{0, MaxLinkRate}, {sec, 1}}, length: 2 * sec, records: 2},
	} {
		tc.f = FormatPensieve
		trCheckRead(t, tc)
	}
}

func TestReadNYU(t *testing.T) {
	for _, tc := range []trReadCase{
		{name: "CRLF", in: "1,1000\r\n2,0\r\n3,125000\r\n",
			want: []Segment{{0, 8 * bwe.Kbps}, {sec, 0}, {2 * sec, bwe.Mbps}}, length: 3 * sec, records: 3},
		{name: "missing seconds held", in: "5,1000\n6,2000\n9,3000\n",
			want: []Segment{{0, 8 * bwe.Kbps}, {sec, 16 * bwe.Kbps}, {4 * sec, 24 * bwe.Kbps}}, length: 5 * sec, records: 3},
		{name: "missing seconds as outage", opts: ReadOptions{Gaps: GapOutage}, in: "5,1000\n6,2000\n9,3000\n",
			want: []Segment{{0, 8 * bwe.Kbps}, {sec, 16 * bwe.Kbps}, {2 * sec, 0}, {4 * sec, 24 * bwe.Kbps}}, length: 5 * sec, records: 3},
		{name: "blanks around fields", in: "0 , 1\n",
			want: []Segment{{0, 8}}, length: sec, records: 1},
	} {
		tc.f = FormatNYU
		trCheckRead(t, tc)
	}
}

const trUCCHeader = "Timestamp,Speed,DL_bitrate,UL_bitrate,State\n"

func TestReadUCC(t *testing.T) {
	rows := trUCCHeader +
		"2020.01.01_00.00.00,0,1000,5,D\n" +
		"2020.01.01_00.00.00,0,-,5,D\n" + // same second: the Timestamp is not the time axis
		"2020.01.01_00.00.02,0,2500.5,5,I\n"
	for _, tc := range []trReadCase{
		{name: "missing value held", in: rows,
			want: []Segment{{0, bwe.Mbps}, {2 * sec, 2500500}}, length: 3 * sec, records: 3},
		{name: "missing value as outage", opts: ReadOptions{Gaps: GapOutage}, in: rows,
			want: []Segment{{0, bwe.Mbps}, {sec, 0}, {2 * sec, 2500500}}, length: 3 * sec, records: 3},
		{name: "other column", opts: ReadOptions{Column: "UL_bitrate"}, in: rows,
			want: []Segment{{0, 5 * bwe.Kbps}}, length: 3 * sec, records: 3},
		{name: "missing first value", in: trUCCHeader + "2020.01.01_00.00.00,0,,5,D\n2020.01.01_00.00.01,0,8,5,D\n",
			want: []Segment{{0, 0}, {sec, 8 * bwe.Kbps}}, length: 2 * sec, records: 2},
	} {
		tc.f = FormatUCC
		trCheckRead(t, tc)
	}
}

const trGophersHeader = "protocol,num_tcp_conn,seq_num,A_throughput_mbps,B_throughput_mbps\n"

func TestReadFiveGophers(t *testing.T) {
	rows := trGophersHeader + "TCP,8,0,1.5,2\nTCP,8,1,0,3\nTCP,8,4,2,\n"
	for _, tc := range []trReadCase{
		{name: "first throughput column, gap held", in: rows,
			want: []Segment{{0, 1500 * bwe.Kbps}, {sec, 0}, {4 * sec, 2 * bwe.Mbps}}, length: 5 * sec, records: 3},
		{name: "second column, missing value held", opts: ReadOptions{Column: "B_throughput_mbps"}, in: rows,
			want: []Segment{{0, 2 * bwe.Mbps}, {sec, 3 * bwe.Mbps}}, length: 5 * sec, records: 3},
		{name: "second column, outages", opts: ReadOptions{Column: "B_throughput_mbps", Gaps: GapOutage}, in: rows,
			want: []Segment{{0, 2 * bwe.Mbps}, {sec, 3 * bwe.Mbps}, {2 * sec, 0}}, length: 5 * sec, records: 3},
		{name: "walking layout", in: "protocol,num_tcp_conn,seq_num,anonymized_mCid,radio_type,throughput_mbps,nrStatus,primitive_handoff_type\n" +
			"TCP,8,1,3,4G,92.1,NOT_RESTRICTED,\nTCP,8,2,3,5G,150,CONNECTED,P1\n",
			want: []Segment{{0, 92100 * bwe.Kbps}, {sec, 150 * bwe.Mbps}}, length: 2 * sec, records: 2},
	} {
		tc.f = FormatFiveGophers
		trCheckRead(t, tc)
	}
}

func TestReadOpenNetLab(t *testing.T) {
	spikes := `{"uplink":{"trace_pattern":[{"duration":10,"capacity":2000000},{"duration":10,"capacity":500},` +
		`{"duration":10,"capacity":1500000},{"duration":10,"capacity":700}]}}`
	for _, tc := range []trReadCase{
		{name: "segments", in: `{"uplink":{"trace_pattern":[{"duration":200,"capacity":1000},{"duration":100.5,"capacity":0},{"duration":50,"capacity":"300"}]}}`,
			want: []Segment{{0, bwe.Mbps}, {200 * ms, 0}, {300500 * time.Microsecond, 300 * bwe.Kbps}}, length: 350500 * time.Microsecond, records: 3},
		{name: "spikes replaced", in: spikes,
			want: []Segment{{0, 500 * bwe.Kbps}, {30 * ms, 700 * bwe.Kbps}}, length: 40 * ms, records: 4},
		{name: "spikes kept", opts: ReadOptions{KeepSpikes: true}, in: spikes,
			want:   []Segment{{0, 2 * bwe.Gbps}, {10 * ms, 500 * bwe.Kbps}, {20 * ms, 1500 * bwe.Mbps}, {30 * ms, 700 * bwe.Kbps}},
			length: 40 * ms, records: 4},
		{name: "spike threshold", opts: ReadOptions{SpikeThreshold: 1600 * bwe.Mbps}, in: spikes,
			want:   []Segment{{0, 500 * bwe.Kbps}, {20 * ms, 1500 * bwe.Mbps}, {30 * ms, 700 * bwe.Kbps}},
			length: 40 * ms, records: 4},
		{name: "only spikes are kept", in: `{"uplink":{"trace_pattern":[{"duration":1,"capacity":5000000}]}}`,
			want: []Segment{{0, 5 * bwe.Gbps}}, length: ms, records: 1},
		{name: "other keys ignored", in: "\xef\xbb\xbf" + `{"type":"video","downlink":{},"uplink":{"x":[1,{"y":2}],"trace_pattern":[{"duration":5,"loss":0.1,"capacity":1,"jitter":0}]}}`,
			want: []Segment{{0, bwe.Kbps}}, length: 5 * ms, records: 1},
		{name: "zero durations dropped", in: `{"uplink":{"trace_pattern":[{"duration":0,"capacity":5},{"duration":1,"capacity":6},{"duration":0.0001,"capacity":7}]}}`,
			want: []Segment{{0, 6 * bwe.Kbps}}, length: ms, records: 3},
	} {
		tc.f = FormatOpenNetLab
		trCheckRead(t, tc)
	}
}

// TestReadErrors checks the file, line and field of every kind of bad
// input, and that the message says what is wrong.
func TestReadErrors(t *testing.T) {
	long := strings.Repeat("1", trMaxLine+1)
	onl := func(segs string) string { return `{"uplink":{"trace_pattern":[` + segs + `]}}` }
	multi := "{\n \"uplink\": {\n  \"trace_pattern\": [\n   {\"duration\": 1, \"capacity\": 1},\n   {\"duration\": 1,\n    \"capacity\": -3}\n  ]\n }\n}\n"
	for _, tc := range []struct {
		f     Format
		in    string
		line  int
		field string
		want  string
	}{
		{FormatMahimahi, "", 0, "", "empty"},
		{FormatMahimahi, "\n \n", 0, "", "empty"},
		{FormatMahimahi, "1\nx\n", 2, "timestamp", `"x" is not an unsigned integer`},
		{FormatMahimahi, "1\n-1\n", 2, "timestamp", "not an unsigned integer"},
		{FormatMahimahi, "1\n1.5\n", 2, "timestamp", "not an unsigned integer"},
		{FormatMahimahi, "1\n\n5\n3\n", 4, "timestamp", "3 ms is before the previous timestamp, 5 ms"},
		{FormatMahimahi, "0\n0\n", 2, "timestamp", "the last timestamp is 0 ms"},
		{FormatMahimahi, "99999999999999999999\n", 1, "timestamp", "beyond the longest trace"},
		{FormatMahimahi, "31536000001\n", 1, "timestamp", "beyond the longest trace"},
		{FormatMahimahi, strings.Repeat("3\n", 83334), 83334, "timestamp", "83334 delivery opportunities at 3 ms exceed 1000000 Mbps"},
		{FormatMahimahi, strings.Repeat("0\n", 83333) + "1\n", 83334, "timestamp", "83334 delivery opportunities at 0 ms and 1 ms together exceed"},
		{FormatMahimahi, "1\n" + long + "\n", 2, "", "line longer than 65536 bytes"},

		{FormatPensieve, "", 0, "", "empty"},
		{FormatPensieve, "0 1 2\n", 1, "", "want 2 blank-separated fields"},
		{FormatPensieve, "0 1\n1\n", 2, "", "got 1"},
		{FormatPensieve, "0 x\n", 1, "throughput_Mbps", `"x" is not a decimal number`},
		{FormatPensieve, "0 1\n1 -1\n", 2, "throughput_Mbps", "rate -1 is negative"},
		{FormatPensieve, "0 NaN\n", 1, "throughput_Mbps", "not a decimal number"},
		{FormatPensieve, "0 Inf\n", 1, "throughput_Mbps", "not a decimal number"},
		{FormatPensieve, "0 1e400\n", 1, "throughput_Mbps", "not a decimal number"},
		{FormatPensieve, "0 0x10\n", 1, "throughput_Mbps", "not a decimal number"},
		{FormatPensieve, "0 1000001\n", 1, "throughput_Mbps", "exceeds 1000000 Mbps"},
		{FormatPensieve, "-1 1\n", 1, "time_s", "is negative"},
		{FormatPensieve, "1 1\n1 2\n", 2, "time_s", "1 is not after the previous time, 1.000000s"},
		{FormatPensieve, "2 1\n1.5 2\n", 2, "time_s", "1.5 is not after the previous time, 2.000000s"},
		{FormatPensieve, "0 1\n0.0000001 2\n", 2, "time_s", "not after"}, // rounds to the same µs
		{FormatPensieve, "0 1\n4e10 2\n", 2, "time_s", "beyond the longest trace"},
		{FormatPensieve, "0 1\n31536000 2\n", 0, "", "lasts more than"},

		{FormatNYU, "", 0, "", "empty"},
		{FormatNYU, "1,2,3\n", 1, "", "want 2 comma-separated fields"},
		{FormatNYU, "1\n", 1, "", "got 1"},
		{FormatNYU, "1,2\na,1\n", 2, "timeInSeconds", `"a" is not an unsigned integer`},
		{FormatNYU, "1,-5\n", 1, "BytesPerSecond", "negative"},
		{FormatNYU, "1,x\n", 1, "BytesPerSecond", "not a decimal number"},
		{FormatNYU, "2,1\r\n2,1\r\n", 2, "timeInSeconds", "2 is not after the previous second, 2"},
		{FormatNYU, "1,125000000001\n", 1, "BytesPerSecond", "exceeds"},
		{FormatNYU, "99999999999,1\n", 1, "timeInSeconds", "beyond the longest trace"},

		{FormatUCC, "", 0, "", "no header line"},
		{FormatUCC, "A,B\n", 1, "Timestamp", "no such column in the header"},
		{FormatUCC, "Timestamp,X\n", 1, "DL_bitrate", "no such column"},
		{FormatUCC, trUCCHeader, 0, "", "no data row"},
		{FormatUCC, trUCCHeader + "2020.01.01_00.00.00,0,1\n", 2, "", "want 5 comma-separated fields as in the header, got 3"},
		{FormatUCC, trUCCHeader + "2020-01-01 00:00:00,0,1,1,D\n", 2, "Timestamp", "is not a YYYY.MM.DD_HH.MM.SS time"},
		{FormatUCC, trUCCHeader + "2020.01.01_00.00.05,0,1,1,D\n2020.01.01_00.00.04,0,1,1,D\n", 3, "Timestamp", "before the previous row's 2020.01.01_00.00.05"},
		{FormatUCC, trUCCHeader + "2020.01.01_00.00.00,0,abc,1,D\n", 2, "DL_bitrate", "not a decimal number"},
		{FormatUCC, trUCCHeader + "2020.01.01_00.00.00,0,-1,1,D\n", 2, "DL_bitrate", "negative"},

		{FormatFiveGophers, "", 0, "", "no header line"},
		{FormatFiveGophers, "a,b\n", 1, "seq_num", "no such column"},
		{FormatFiveGophers, "seq_num,x\n", 1, "throughput_mbps", "no column named *throughput_mbps"},
		{FormatFiveGophers, trGophersHeader, 0, "", "no data row"},
		{FormatFiveGophers, trGophersHeader + "TCP,8,x,1,1\n", 2, "seq_num", "not an unsigned integer"},
		{FormatFiveGophers, trGophersHeader + "TCP,8,3,1,1\nTCP,8,3,1,1\n", 3, "seq_num", "3 is not after the previous second, 3"},
		{FormatFiveGophers, trGophersHeader + "TCP,8,3,-1,1\n", 2, "A_throughput_mbps", "negative"},
		{FormatFiveGophers, trGophersHeader + "TCP,8,3,1\n", 2, "", "want 5 comma-separated fields"},

		{FormatOpenNetLab, "", 1, "", "unexpected end of the input"},
		{FormatOpenNetLab, "[]", 1, "", "want a JSON object, got \"[\""},
		{FormatOpenNetLab, "{}", 0, "uplink.trace_pattern", "missing"},
		{FormatOpenNetLab, `{"uplink":{}}`, 0, "uplink.trace_pattern", "missing"},
		{FormatOpenNetLab, `{"uplink":[]}`, 1, "uplink", "want a JSON object"},
		{FormatOpenNetLab, `{"uplink":{"trace_pattern":{}}}`, 1, "uplink.trace_pattern", "want a JSON array"},
		{FormatOpenNetLab, onl(""), 0, "uplink.trace_pattern", "no segment"},
		{FormatOpenNetLab, onl(`{"duration":0,"capacity":1}`), 0, "uplink.trace_pattern", "no segment of positive duration"},
		{FormatOpenNetLab, onl(`5`), 1, "uplink.trace_pattern[0]", "not a JSON object"},
		{FormatOpenNetLab, multi, 6, "uplink.trace_pattern[1].capacity", "rate -3 is negative"},
		{FormatOpenNetLab, onl("{\"duration\":1},\n{}"), 1, "uplink.trace_pattern[0].capacity", "missing"},
		{FormatOpenNetLab, onl("{\"duration\":1,\"capacity\":1},\n{\"capacity\":1}"), 2, "uplink.trace_pattern[1].duration", "missing"},
		{FormatOpenNetLab, onl(`{"duration":1,"capacity":null}`), 1, "uplink.trace_pattern[0].capacity", "missing"},
		{FormatOpenNetLab, onl(`{"duration":1,"capacity":true}`), 1, "uplink.trace_pattern[0].capacity", "a JSON bool where a number belongs"},
		{FormatOpenNetLab, onl(`{"duration":1,"capacity":"abc"}`), 1, "uplink.trace_pattern[0].capacity", "invalid number"},
		{FormatOpenNetLab, onl(`{"duration":1,"capacity":1000000001}`), 1, "uplink.trace_pattern[0].capacity", "exceeds"},
		{FormatOpenNetLab, onl(`{"duration":-1,"capacity":1}`), 1, "uplink.trace_pattern[0].duration", "negative"},
		{FormatOpenNetLab, onl("{\"duration\":3e10,\"capacity\":1},\n{\"duration\":3e10,\"capacity\":1}"), 2, "uplink.trace_pattern[1].duration", "the segments last more than"},
		{FormatOpenNetLab, onl(`{"duration":1,"capacity":1}`) + " x", 1, "", "data after the JSON object"},
		{FormatOpenNetLab, `{"uplink":{"trace_pattern":[{"duration":1,`, 1, "uplink.trace_pattern[0]", "unexpected end of the input"},
		{FormatOpenNetLab, "{\"uplink\":{\"trace_pattern\":[]},\n\"uplink\":{}}", 2, "uplink", "duplicate key"},
		{FormatOpenNetLab, "{\n\"a\": tru}", 2, "a", "invalid character"},
	} {
		name := fmt.Sprintf("%v/%.30q", tc.f, tc.in)
		tr, err := ReadWith(strings.NewReader(tc.in), "in.txt", tc.f, ReadOptions{})
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%s: got %v, %v; want a *ParseError", name, tr, err)
			continue
		}
		if pe.File != "in.txt" || pe.Line != tc.line || pe.Field != tc.field || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q (line %d, field %q); want line %d, field %q, containing %q", name, err, pe.Line, pe.Field, tc.line, tc.field, tc.want)
		}
		prefix := "in.txt"
		if tc.line > 0 {
			prefix += ":" + strconv.Itoa(tc.line)
		}
		if tc.field != "" {
			prefix += ": " + tc.field
		}
		if !strings.HasPrefix(err.Error(), prefix+": ") {
			t.Errorf("%s: error %q does not begin with %q", name, err, prefix+": ")
		}
	}
}

// TestReadLargeJSON: an OpenNetLab file beyond 64 MiB is refused.
func TestReadLargeJSON(t *testing.T) {
	r := strings.NewReader("{" + strings.Repeat(" ", trMaxJSON) + "}")
	_, err := ReadOpenNetLab(r, "big.json")
	var pe *ParseError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("ReadOpenNetLab of %d bytes: %v, want a *ParseError saying it is too large", trMaxJSON+2, err)
	}
}

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		head, path string
		want       Format
	}{
		{"  {\"uplink\"", "", FormatOpenNetLab},
		{"\xef\xbb\xbf\n\n12\n13\n", "", FormatMahimahi},
		{"0.0\t2.29\n1.01\t1.3\n", "", FormatPensieve},
		{"0 2\n", "", FormatPensieve},
		{"1,5471526\r\n", "", FormatNYU},
		{trUCCHeader, "", FormatUCC},
		{trGophersHeader, "", FormatFiveGophers},
		{"seq_num,foo\n", "", FormatFiveGophers},
		// The content decides over the path.
		{"12\n", "x/norway-hsdpa-3g/a.json", FormatMahimahi},
		// Undecidable content: the path.
		{"", "x/norway-hsdpa-3g/a.log", FormatPensieve},
		{"garbage", "/tmp/mahimahi-cellular/ATT", FormatMahimahi},
		{"", `C:\t\orange-4g\a`, FormatMahimahi},
		{"", "ucc-5g/Download/Driving/B.csv", FormatUCC},
		{"", "nyu-multipath-wifi-cellular/7_1_wifi.csv", FormatNYU},
		{"", "5gophers/w.csv", FormatFiveGophers},
		{"", "opennetlab-alphartc/x", FormatOpenNetLab},
		{"", "fcc-broadband/x", FormatPensieve},
		{"", "a/b.JSON", FormatOpenNetLab},
		{"", "a/ATT.up", FormatMahimahi},
		{"", "a/ATT.down", FormatMahimahi},
		{"", "a/x.pps", FormatMahimahi},
		{"", "a/x.csv", FormatUnknown},
		{"1,2,3\n", "", FormatUnknown},
		{"a,b\n", "", FormatUnknown},
		{"1 2 3\n", "", FormatUnknown},
		{"x y\n", "", FormatUnknown},
		{"1 y\n", "", FormatUnknown},
		{"-12\n", "", FormatUnknown},
		{strings.Repeat("1", trSniffSize), "", FormatUnknown}, // the first line goes on
	} {
		if got := Detect([]byte(tc.head), tc.path); got != tc.want {
			t.Errorf("Detect(%.20q, %q) = %v, want %v", tc.head, tc.path, got, tc.want)
		}
	}
	if _, err := Read(strings.NewReader("what is this"), "x", FormatUnknown); err == nil || !strings.Contains(err.Error(), "x: cannot tell the trace format") {
		t.Errorf("Read of garbage with FormatUnknown: %v, want a cannot-tell error", err)
	}
	if _, err := Read(strings.NewReader("1\n"), "x", Format(99)); err == nil {
		t.Errorf("Read with Format(99): no error")
	}
}

func TestOpenAndLoadDir(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"README.md":                             "# docs",
		"mahimahi-cellular/README.md":           "not a trace",
		"mahimahi-cellular/a.up":                "1\n2\n",
		"mahimahi-cellular/LICENSE":             "GPL",
		"mahimahi-cellular/.hidden":             "junk",
		".git/config":                           "junk",
		"norway-hsdpa-3g/b.log":                 "0 1\n1 2\n",
		"5gophers/c.csv":                        trGophersHeader + "TCP,8,0,1,2\n",
		"5gophers/d.csv":                        "protocol,seq_num,throughput_mbps\nTCP,1,5\n",
		"ucc-5g/Download/Static/B_1.csv":        trUCCHeader + "2020.01.01_00.00.00,0,1,1,D\n",
		"opennetlab-alphartc/e.json":            `{"uplink":{"trace_pattern":[{"duration":1,"capacity":1}]}}`,
		"nyu-multipath-wifi-cellular/notes.txt": "notes",
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ts, err := LoadDir(dir)
	if err != nil {
		t.Fatalf("LoadDir: %v", err)
	}
	var names []string
	for _, tr := range ts {
		names = append(names, tr.Name+" "+tr.Format.String())
		if err := tr.Validate(); err != nil {
			t.Errorf("LoadDir: %s: %v", tr.Name, err)
		}
	}
	want := []string{
		"5gophers/c.csv#A_throughput_mbps 5gophers",
		"5gophers/c.csv#B_throughput_mbps 5gophers",
		"5gophers/d.csv 5gophers",
		"mahimahi-cellular/a.up mahimahi",
		"norway-hsdpa-3g/b.log pensieve",
		"opennetlab-alphartc/e.json opennetlab",
		"ucc-5g/Download/Static/B_1.csv ucc",
	}
	if !slices.Equal(names, want) {
		t.Errorf("LoadDir names:\n%s\nwant:\n%s", strings.Join(names, "\n"), strings.Join(want, "\n"))
	}
	if ts[1].Segments[0].Rate != 2*bwe.Mbps {
		t.Errorf("LoadDir: B column trace rate %v, want 2 Mbps", ts[1].Segments[0].Rate)
	}

	// Open detects the format and names the trace by its path.
	p := filepath.Join(dir, "norway-hsdpa-3g", "b.log")
	tr, err := Open(p)
	if err != nil || tr.Name != p || tr.Format != FormatPensieve || tr.Records != 2 {
		t.Errorf("Open(%s) = %+v, %v", p, tr, err)
	}
	if _, err := OpenFormat(p, FormatMahimahi); err == nil || !strings.HasPrefix(err.Error(), p+":1: timestamp: ") {
		t.Errorf("OpenFormat(%s, mahimahi) = %v, want a timestamp error on line 1", p, err)
	}
	if _, err := Open(filepath.Join(dir, "none")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open of a missing file: %v, want ErrNotExist", err)
	}

	// A file of unknown format, or a bad trace, fails LoadDir.
	bad := filepath.Join(dir, "misc", "x.csv")
	os.MkdirAll(filepath.Dir(bad), 0o755)
	os.WriteFile(bad, []byte("what,is,this\n"), 0o644)
	if _, err := LoadDir(dir); err == nil || !strings.Contains(err.Error(), "misc/x.csv: cannot tell") {
		t.Errorf("LoadDir with an unknown file: %v, want a cannot-tell error naming misc/x.csv", err)
	}
	os.WriteFile(bad, []byte("1\n0\n"), 0o644)
	if _, err := LoadDir(dir); err == nil || !strings.HasPrefix(err.Error(), "misc/x.csv:2: timestamp: ") {
		t.Errorf("LoadDir with a bad trace: %v, want misc/x.csv:2: timestamp: ...", err)
	}
	if _, err := LoadDir(filepath.Join(dir, "none")); err == nil {
		t.Errorf("LoadDir of a missing directory: no error")
	}
}

// TestMahimahiDelivery checks the Mahimahi semantics on a saturated FIFO
// link fed with 1500-byte packets: in every pass, by the end of each
// millisecond m the link has delivered exactly as many packets as the
// trace has opportunities with timestamp ≤ m (the last timestamp counting
// as 0), so each opportunity delivers exactly one packet, within its own
// millisecond, and a pass delivers one packet per line.
func TestMahimahiDelivery(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	inputs := []string{"2\n2\n5\n6\n6\n6\n9\n", "0\n0\n1\n4\n4\n"}
	for range 20 {
		var b strings.Builder
		ts := int64(r.IntN(3))
		for range 1 + r.IntN(300) {
			ts += int64(r.IntN(4)) * int64(r.IntN(2))
			fmt.Fprintln(&b, ts)
		}
		fmt.Fprintln(&b, ts+1+int64(r.IntN(3)))
		inputs = append(inputs, b.String())
	}
	for n, in := range inputs {
		tr, err := ReadMahimahi(strings.NewReader(in), "in")
		if err != nil {
			t.Fatalf("input %d: %v", n, err)
		}
		var stamps []int64
		for _, f := range strings.Fields(in) {
			v, _ := strconv.ParseInt(f, 10, 64)
			stamps = append(stamps, v)
		}
		P := stamps[len(stamps)-1]
		perMs := make([]int64, P)
		for _, s := range stamps {
			perMs[s%P]++
		}
		if got, want := tr.Volume(), bwe.ByteCount(len(stamps))*MahimahiPacketSize; got != want {
			t.Errorf("input %d: Volume = %d, want %d (1500 bytes per line)", n, got, want)
		}
		period := bwe.Time(P) * trMs
		for _, pass := range []bwe.Time{0, 1, 5} {
			served := new(big.Int) // bit·µs/s since the start of the pass
			var want int64
			for m := range P {
				from := pass*period + bwe.Time(m)*trMs
				piece, _ := trWalk(tr, from, from+trMs)
				served.Add(served, piece)
				want += perMs[m]
				if served.Cmp(new(big.Int).Mul(big.NewInt(want*12000), big.NewInt(1_000_000))) != 0 {
					t.Fatalf("input %d, pass %d: by the end of ms %d, %v bit·µs/s served, want %d packets = %d bits", n, pass, m, served, want, want*12000)
				}
			}
			if want != int64(len(stamps)) {
				t.Fatalf("input %d: %d opportunities per pass, want %d", n, want, len(stamps))
			}
		}
	}
}

// trMahimahiInput returns a Mahimahi trace like a 140-s LTE run: about 1.3
// opportunities per ms on average, in bursts, with some outages.
func trMahimahiInput(seconds int) []byte {
	r := rand.New(rand.NewPCG(11, 12))
	var b []byte
	for msec := 1; msec <= seconds*1000; msec++ {
		k := 0
		switch x := r.IntN(10); {
		case x < 4:
		case x < 8:
			k = 1
		default:
			k = 2 + r.IntN(4)
		}
		if msec == seconds*1000 {
			k = max(k, 1)
		}
		for range k {
			b = strconv.AppendInt(b, int64(msec), 10)
			b = append(b, '\n')
		}
	}
	return b
}

func BenchmarkReadMahimahi(b *testing.B) {
	in := trMahimahiInput(140)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadMahimahi(bytes.NewReader(in), "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadOpenNetLab(b *testing.B) {
	data, err := trCorpusFS.ReadFile("corpus/opennetlab-alphartc/WIRED_35mbps.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadOpenNetLab(bytes.NewReader(data), "WIRED_35mbps.json"); err != nil {
			b.Fatal(err)
		}
	}
}
