package traces

import (
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bwelab/bwe"
)

// update makes golden-file tests rewrite their golden files. It is the
// package's one -update flag: every test file of package traces uses it.
var update = flag.Bool("update", false, "rewrite golden files")

// fbGoldenPath is the golden feedback trace, written from fbGolden.
var fbGoldenPath = filepath.Join("testdata", "feedback", "example.bfb")

// fbRecv and fbLostPkt build packet results.
func fbRecv(seq int64, send, arrival bwe.Time, size bwe.ByteCount, probe int32) bwe.PacketResult {
	return bwe.PacketResult{Seq: seq, SendTime: send, Arrival: arrival, Size: size, Received: true, ProbeCluster: probe}
}

func fbLostPkt(seq int64, send bwe.Time, size bwe.ByteCount, probe int32) bwe.PacketResult {
	return bwe.PacketResult{Seq: seq, SendTime: send, Size: size, ProbeCluster: probe}
}

// fbGolden is the content of the golden file: a short recording of a
// sender whose receiver clock runs 3 s ahead, with a lost packet, a probe
// cluster, an empty batch and metadata that needs escaping.
func fbGolden() (FeedbackHeader, []bwe.Feedback) {
	h := FeedbackHeader{Version: FeedbackVersion, Meta: []FeedbackMeta{
		{"source", "emulator"},
		{"scenario", "drop-1M-0.5M"},
		{"seed", "42"},
		{"description", "1 Mbps → 0.5 Mbps at 20 s; \"quoted\", a\ttab,\na second line and a \\ backslash"},
		{"note", ""},
		{"note", "keys may repeat"},
	}}
	const off = 3_000_000 // receiver clock minus sender clock, µs
	b := []bwe.Feedback{
		{Time: 100_000, Packets: []bwe.PacketResult{
			fbRecv(0, 0, off+40_000, 1200, 0),
			fbRecv(1, 5_000, off+45_100, 1200, 0),
			fbLostPkt(2, 10_000, 1200, 0),
			fbRecv(3, 15_000, off+55_300, 1180, 0),
		}},
		{Time: 150_000},
		{Time: 200_000, Packets: []bwe.PacketResult{
			fbRecv(4, 60_000, off+100_000, 1200, 1),
			fbRecv(5, 60_500, off+101_200, 1200, 1),
			fbLostPkt(6, 61_000, 1200, 1),
			fbRecv(7, 65_000, off+106_000, 1200, 0),
			fbRecv(8, 70_000, off+110_900, 80, 0),
		}},
	}
	return h, b
}

// fbWrite writes a trace to bytes.
func fbWrite(t testing.TB, h FeedbackHeader, batches []bwe.Feedback) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewFeedbackWriter(&buf, h)
	if err != nil {
		t.Fatalf("NewFeedbackWriter: %v", err)
	}
	for i, fb := range batches {
		if err := w.Write(fb); err != nil {
			t.Fatalf("Write(batch %d): %v", i, err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	return buf.Bytes()
}

// fbReadAll reads a whole trace, copying each batch.
func fbReadAll(r io.Reader, name string) (FeedbackHeader, []bwe.Feedback, error) {
	fr, err := NewFeedbackReader(r, name)
	if err != nil {
		return FeedbackHeader{}, nil, err
	}
	defer fr.Close()
	var out []bwe.Feedback
	for {
		fb, err := fr.Next()
		if err == io.EOF {
			return fr.Header(), out, nil
		}
		if err != nil {
			return fr.Header(), out, err
		}
		fb.Packets = append([]bwe.PacketResult(nil), fb.Packets...)
		out = append(out, fb)
	}
}

// fbDiff describes the first difference between two batch lists, or
// returns "" if they are equal. Nil and empty packet lists are equal.
func fbDiff(got, want []bwe.Feedback) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d batches, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Time != w.Time {
			return fmt.Sprintf("batch %d: Time = %d, want %d", i, g.Time, w.Time)
		}
		if len(g.Packets) != len(w.Packets) {
			return fmt.Sprintf("batch %d: %d packets, want %d", i, len(g.Packets), len(w.Packets))
		}
		for j := range g.Packets {
			if g.Packets[j] != w.Packets[j] {
				return fmt.Sprintf("batch %d packet %d: %+v, want %+v", i, j, g.Packets[j], w.Packets[j])
			}
		}
	}
	return ""
}

// fbHeaderDiff compares headers; a nil and an empty Meta are equal.
func fbHeaderDiff(got, want FeedbackHeader) string {
	if want.Version == 0 {
		want.Version = FeedbackVersion
	}
	if got.Version != want.Version || len(got.Meta) != len(want.Meta) ||
		(len(got.Meta) > 0 && !reflect.DeepEqual(got.Meta, want.Meta)) {
		return fmt.Sprintf("header %+v, want %+v", got, want)
	}
	return ""
}

func fbGzip(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestFeedbackRoundTrip(t *testing.T) {
	gh, gb := fbGolden()
	manyPackets := make([]bwe.PacketResult, FeedbackMaxPackets)
	for i := range manyPackets {
		manyPackets[i] = fbRecv(int64(i), bwe.Time(i*100), bwe.Time(i*100+7), FeedbackMaxPacketSize, int32(i%3))
	}
	tests := []struct {
		name    string
		header  FeedbackHeader
		batches []bwe.Feedback
	}{
		{"golden", gh, gb},
		{"no batches, no meta", FeedbackHeader{}, nil},
		{"only empty batches", FeedbackHeader{}, []bwe.Feedback{{Time: 0}, {Time: 0}, {Time: -5}}},
		{"all lost", FeedbackHeader{}, []bwe.Feedback{{Time: 7, Packets: []bwe.PacketResult{
			fbLostPkt(1, 1, 1, 0), fbLostPkt(2, 2, 0, 0), fbLostPkt(3, 3, 1500, 9)}}}},
		{"probe ids", FeedbackHeader{}, []bwe.Feedback{{Time: 1, Packets: []bwe.PacketResult{
			fbRecv(1, 1, 1, 1, 1), fbRecv(2, 2, 2, 2, math.MaxInt32), fbLostPkt(3, 3, 3, 12345)}}}},
		{"negative times and seqs", FeedbackHeader{}, []bwe.Feedback{{Time: -1_000_000, Packets: []bwe.PacketResult{
			fbRecv(-2, -2_000_000, -3, 100, 0), fbRecv(-1, -1_999_000, 5, 100, 0)}}}},
		{"int64 extremes", FeedbackHeader{}, []bwe.Feedback{
			{Time: bwe.MinTime, Packets: []bwe.PacketResult{
				fbRecv(math.MinInt64, bwe.MinTime, bwe.MinTime, 0, 0),
				fbRecv(math.MaxInt64, bwe.MaxTime, bwe.MaxTime, FeedbackMaxPacketSize, math.MaxInt32)}},
			{Time: bwe.MaxTime, Packets: []bwe.PacketResult{fbLostPkt(0, 0, 0, 0)}},
		}},
		{"largest batch", FeedbackHeader{}, []bwe.Feedback{{Time: 1, Packets: manyPackets}, {Time: 2}}},
		{"odd metadata", FeedbackHeader{Version: 1, Meta: []FeedbackMeta{
			{"a", ""},
			{"Z9_.-", "  leading and trailing spaces  "},
			{"json", `{"k": [1, "two"], "esc": "\u00e9\\"}`},
			{"controls", "\x00\x01\x07\b\f\x1b\x7f\u0085\u2028 end"},
			{"unicode", "日本語 ✓ 🎉 é"},
			{"hash", "# not a comment"},
			{"crlf", "line\r\nline"},
			{"long", strings.Repeat("x", FeedbackMaxLine-len(`meta long ""`))},
		}}, []bwe.Feedback{{Time: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := fbWrite(t, tt.header, tt.batches)
			if again := fbWrite(t, tt.header, tt.batches); !bytes.Equal(again, data) {
				t.Fatalf("writing twice gave different bytes")
			}
			for _, enc := range []struct {
				name string
				data []byte
			}{{"plain", data}, {"gzip", fbGzip(t, data)}} {
				h, got, err := fbReadAll(bytes.NewReader(enc.data), "rt.bfb")
				if err != nil {
					t.Fatalf("%s: read: %v", enc.name, err)
				}
				if d := fbHeaderDiff(h, tt.header); d != "" {
					t.Errorf("%s: %s", enc.name, d)
				}
				if d := fbDiff(got, tt.batches); d != "" {
					t.Errorf("%s: %s", enc.name, d)
				}
			}
		})
	}
}

// The arrival time of a lost packet is not recorded: it reads back as 0.
func TestFeedbackLostArrivalDropped(t *testing.T) {
	in := []bwe.Feedback{{Time: 1, Packets: []bwe.PacketResult{{Seq: 1, SendTime: 2, Arrival: 99, Size: 3}}}}
	data := fbWrite(t, FeedbackHeader{}, in)
	if want := "bwe-feedback-trace 1\nfb 1 1\np 1 2 3 lost\n"; string(data) != want {
		t.Fatalf("wrote %q, want %q", data, want)
	}
	_, got, err := fbReadAll(bytes.NewReader(data), "")
	if err != nil {
		t.Fatal(err)
	}
	want := []bwe.Feedback{{Time: 1, Packets: []bwe.PacketResult{{Seq: 1, SendTime: 2, Size: 3}}}}
	if d := fbDiff(got, want); d != "" {
		t.Fatal(d)
	}
}

func TestFeedbackGolden(t *testing.T) {
	h, batches := fbGolden()
	data := fbWrite(t, h, batches)
	if *update {
		if err := os.MkdirAll(filepath.Dir(fbGoldenPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(fbGoldenPath, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	golden, err := os.ReadFile(fbGoldenPath)
	if err != nil {
		t.Fatalf("%v (run go test -run TestFeedbackGolden -update to create it)", err)
	}
	if !bytes.Equal(data, golden) {
		t.Errorf("writer output differs from %s (rerun with -update if the change is intended):\n got:\n%s\nwant:\n%s", fbGoldenPath, data, golden)
	}

	// The golden file reads back to the same values, plain and gzip, via
	// OpenFeedback.
	gz := filepath.Join(t.TempDir(), "example.bfb.gz")
	if err := os.WriteFile(gz, fbGzip(t, golden), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fbGoldenPath, gz} {
		r, err := OpenFeedback(path)
		if err != nil {
			t.Fatalf("OpenFeedback(%s): %v", path, err)
		}
		if d := fbHeaderDiff(r.Header(), h); d != "" {
			t.Errorf("%s: %s", path, d)
		}
		if got, want := r.Header().Get("seed"), "42"; got != want {
			t.Errorf("%s: Header().Get(seed) = %q, want %q", path, got, want)
		}
		var got []bwe.Feedback
		for {
			fb, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: Next: %v", path, err)
			}
			fb.Packets = append([]bwe.PacketResult(nil), fb.Packets...)
			got = append(got, fb)
		}
		if d := fbDiff(got, batches); d != "" {
			t.Errorf("%s: %s", path, d)
		}
		if err := r.Close(); err != nil {
			t.Errorf("%s: Close: %v", path, err)
		}
	}
}

func TestFeedbackHeaderGet(t *testing.T) {
	h, _ := fbGolden()
	for _, tc := range []struct{ key, want string }{
		{"source", "emulator"},
		{"note", ""}, // the first of two
		{"Source", ""},
		{"missing", ""},
	} {
		if got := h.Get(tc.key); got != tc.want {
			t.Errorf("Get(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
}

// Readers accept what people type: comments, blank lines, runs of blanks
// and tabs, CR LF line ends, a missing final newline, an explicit probe 0.
func TestFeedbackReaderLenient(t *testing.T) {
	want := []bwe.Feedback{
		{Time: 10, Packets: []bwe.PacketResult{fbRecv(1, 2, 3, 4, 0), fbLostPkt(2, 3, 5, 0)}},
		{Time: 20},
	}
	wantMeta := []FeedbackMeta{{"k", "v w"}}
	tests := []struct{ name, in string }{
		{"canonical", "bwe-feedback-trace 1\nmeta k \"v w\"\nfb 10 2\np 1 2 4 3\np 2 3 5 lost\nfb 20 0\n"},
		{"comments and blanks", "bwe-feedback-trace 1\n# header comment\n\n   \nmeta k \"v w\"\n#\nfb 10 2\n  # inside a batch\np 1 2 4 3\n\np 2 3 5 lost\n# end\nfb 20 0\n\n"},
		{"tabs and runs of spaces", "bwe-feedback-trace\t1  \n\tmeta   k\t\"v w\"  \n  fb\t10   2\np 1\t2 4 3 0\n p  2 3 5 lost   0\t\nfb 20 0"},
		{"CRLF", "bwe-feedback-trace 1\r\nmeta k \"v w\"\r\nfb 10 2\r\np 1 2 4 3\r\np 2 3 5 lost\r\nfb 20 0\r\n"},
		{"JSON escapes", "bwe-feedback-trace 1\n" + `meta k "v\u0020\u0077"` + "\nfb 10 2\np 1 2 4 3\np 2 3 5 lost\nfb 20 0\n"},
	}
	for _, tt := range tests {
		h, got, err := fbReadAll(strings.NewReader(tt.in), "x.bfb")
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if d := fbHeaderDiff(h, FeedbackHeader{Meta: wantMeta}); d != "" {
			t.Errorf("%s: %s", tt.name, d)
		}
		if d := fbDiff(got, want); d != "" {
			t.Errorf("%s: %s", tt.name, d)
		}
	}
}

const fbHead = "bwe-feedback-trace 1\n"

func TestFeedbackReaderErrors(t *testing.T) {
	long := strings.Repeat("a", FeedbackMaxLine-len("# ")+1)
	tooManyMeta := fbHead + strings.Repeat("meta k \"\"\n", FeedbackMaxMeta+1)
	tests := []struct {
		name  string
		in    string
		line  int
		field string
		want  string // the whole message, or a substring when prefixed by "…"
	}{
		{"empty", "", 1, "format", `x.bfb:1: format: empty input, want a first line "bwe-feedback-trace 1"`},
		{"other format", "hello world\n", 1, "format", `x.bfb:1: format: not a feedback trace: first line "hello world", want "bwe-feedback-trace 1"`},
		{"comment first", "# c\n" + fbHead, 1, "format", "…not a feedback trace"},
		{"byte order mark", "\ufeff" + fbHead, 1, "format", "…not a feedback trace"},
		{"no version", "bwe-feedback-trace\n", 1, "version", `x.bfb:1: version: missing (want 1)`},
		{"future version", "bwe-feedback-trace 2\n", 1, "version", `x.bfb:1: version: unsupported version 2 (this reader reads version 1)`},
		{"version zero", "bwe-feedback-trace 0\n", 1, "version", `x.bfb:1: version: "0" is not a version number (want 1)`},
		{"version leading zero", "bwe-feedback-trace 01\n", 1, "version", "…is not a version number"},
		{"version not a number", "bwe-feedback-trace v1\n", 1, "version", "…is not a version number"},
		{"extra on first line", "bwe-feedback-trace 1 x\n", 1, "record", `x.bfb:1: record: unexpected field "x" after the version`},
		{"meta without key", fbHead + "meta\n", 2, "key", "x.bfb:2: key: missing"},
		{"meta bad key", fbHead + "meta 1a \"v\"\n", 2, "key", `x.bfb:2: key: "1a" is not a key (want a letter, then letters, digits, '_', '.' or '-')`},
		{"meta key with colon", fbHead + "meta a:b \"v\"\n", 2, "key", "…is not a key"},
		{"meta without value", fbHead + "# c\nmeta k\n", 3, "value", "…missing"},
		{"meta unquoted value", fbHead + "meta k v\n", 2, "value", `x.bfb:2: value: "v" is not a JSON string`},
		{"meta bad escape", fbHead + "meta k \"a\\q\"\n", 2, "value", "…is not a JSON string: invalid character"},
		{"meta unterminated", fbHead + "meta k \"a\n", 2, "value", "…is not a JSON string"},
		{"meta raw tab in string", fbHead + "meta k \"a\tb\"\n", 2, "value", "…is not a JSON string"},
		{"meta CR after string", fbHead + "meta k \"a\"\r\r\n", 2, "value", "…is not a JSON string"},
		{"meta lone quote", fbHead + "meta k \"\n", 2, "value", "…is not a JSON string"},
		{"meta two strings", fbHead + "meta k \"a\" \"b\"\n", 2, "value", "…is not a JSON string"},
		{"meta invalid UTF-8", fbHead + "meta k \"\xff\"\n", 2, "", "x.bfb:2: meta line is not valid UTF-8"},
		{"too many meta lines", tooManyMeta, FeedbackMaxMeta + 2, "record", "…more than 1024 meta lines"},
		{"meta after batch", fbHead + "fb 1 0\nmeta k \"v\"\n", 3, "record", "x.bfb:3: record: meta line after the first batch line"},
		{"packet before batch", fbHead + "meta k \"v\"\np 1 2 3 4\n", 3, "record", "x.bfb:3: record: packet line before the first batch line"},
		{"unknown record", fbHead + "fb 1 0\n\nx 1 2\n", 4, "record", `x.bfb:4: record: unknown record type "x" (want "fb" or "p")`},
		{"upper-case tag", fbHead + "FB 1 0\n", 2, "record", "…unknown record type"},
		{"unknown record in batch", fbHead + "fb 1 2\np 1 2 3 4\nq 1\n", 4, "record", "…unknown record type"},
		{"batch without count", fbHead + "fb 1\n", 2, "count", "x.bfb:2: count: missing"},
		{"batch without time", fbHead + "fb\n", 2, "time", "x.bfb:2: time: missing"},
		{"batch extra field", fbHead + "fb 1 0 0\n", 2, "record", `x.bfb:2: record: unexpected field "0" after count`},
		{"batch bad time", fbHead + "fb 12x 0\n", 2, "time", `x.bfb:2: time: "12x" is not an integer µs`},
		{"batch time with plus", fbHead + "fb +5 0\n", 2, "time", "…is not an integer µs"},
		{"batch time in seconds", fbHead + "fb 1.5 0\n", 2, "time", "…is not an integer µs"},
		{"batch time overflow", fbHead + "fb 9223372036854775808 0\n", 2, "time", `x.bfb:2: time: "9223372036854775808" is outside the int64 range`},
		{"batch negative count", fbHead + "fb 1 -1\n", 2, "count", "x.bfb:2: count: -1 packets is negative"},
		{"batch huge count", fbHead + "fb 1 65536\n", 2, "count", "x.bfb:2: count: 65536 packets exceed the maximum of 65535 per batch"},
		{"batch ends early at EOF", fbHead + "fb 1 3\np 1 2 3 4\np 2 3 4 5\n", 2, "count", "x.bfb:2: count: 3 packets announced, input ends after 2"},
		{"batch ends early at next batch", fbHead + "fb 1 0\nfb 2 2\np 1 2 3 4\n# c\nfb 3 0\n", 3, "count", "x.bfb:3: count: 2 packets announced, 1 found before the next batch at line 6"},
		{"packet beyond count", fbHead + "fb 1 1\np 1 2 3 4\np 2 3 4 5\n", 4, "record", "x.bfb:4: record: packet line beyond the 1 packets announced by the batch at line 2"},
		{"packet in empty batch", fbHead + "fb 1 0\np 1 2 3 4\n", 3, "record", "…beyond the 0 packets announced"},
		{"seq not a number", fbHead + "fb 1 1\np x 2 3 4\n", 3, "seq", `x.bfb:3: seq: "x" is not an integer`},
		{"seq overflow", fbHead + "fb 1 1\np -9223372036854775809 2 3 4\n", 3, "seq", "…outside the int64 range"},
		{"send negative zero", fbHead + "fb 1 1\np 1 -0 3 4\n", 3, "send", `x.bfb:3: send: "-0" is not an integer µs`},
		{"send missing", fbHead + "fb 1 1\np 1\n", 3, "send", "x.bfb:3: send: missing"},
		{"size missing", fbHead + "fb 1 1\np 1 2\n", 3, "size", "x.bfb:3: size: missing"},
		{"size negative", fbHead + "fb 1 1\np 1 2 -1 4\n", 3, "size", "x.bfb:3: size: -1 bytes is negative"},
		{"size above 1 MiB", fbHead + "fb 1 1\np 1 2 1048577 4\n", 3, "size", "x.bfb:3: size: 1048577 bytes exceeds the maximum of 1048576"},
		{"size fractional", fbHead + "fb 1 1\np 1 2 1.5 4\n", 3, "size", `x.bfb:3: size: "1.5" is not an integer byte count`},
		{"arrival missing", fbHead + "fb 1 1\np 1 2 3\n", 3, "arrival", "x.bfb:3: arrival: missing"},
		{"arrival bad", fbHead + "fb 1 1\np 1 2 3 12x\n", 3, "arrival", `x.bfb:3: arrival: "12x" is not an integer µs or "lost"`},
		{"arrival LOST", fbHead + "fb 1 1\np 1 2 3 LOST\n", 3, "arrival", "…is not an integer µs or \"lost\""},
		{"probe negative", fbHead + "fb 1 1\np 1 2 3 lost -1\n", 3, "probe", "x.bfb:3: probe: -1 is negative (0 means not a probe)"},
		{"probe above int32", fbHead + "fb 1 1\np 1 2 3 4 2147483648\n", 3, "probe", "x.bfb:3: probe: 2147483648 exceeds the maximum of 2147483647"},
		{"probe not a number", fbHead + "fb 1 1\np 1 2 3 4 a\n", 3, "probe", `x.bfb:3: probe: "a" is not an integer`},
		{"packet extra field", fbHead + "fb 1 1\np 1 2 3 4 5 6\n", 3, "record", `x.bfb:3: record: unexpected field "6" after probe`},
		{"trailing comment on data line", fbHead + "fb 1 1\np 1 2 3 4 # c\n", 3, "record", `x.bfb:3: record: unexpected field "c" after probe`},
		{"line too long", fbHead + "# " + long + "\n", 2, "", "x.bfb:2: line longer than 4096 bytes"},
		{"line too long without newline", fbHead + "fb 1 0\n# " + long, 3, "", "x.bfb:3: line longer than 4096 bytes"},
		{"line beyond buffer", fbHead + "#" + strings.Repeat("a", 100_000) + "\n", 2, "", "x.bfb:2: line longer than 4096 bytes"},
		{"comment invalid UTF-8", fbHead + "fb 1 0\n# \xc3\x28\n", 3, "", "x.bfb:3: comment is not valid UTF-8"},
		{"NUL byte", fbHead + "fb 1\x00 0\n", 2, "time", "…is not an integer µs"},
		{"lone CR line end", fbHead + "fb 1 0\rfb 2 0\n", 2, "record", "…unexpected field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := fbReadAll(strings.NewReader(tt.in), "x.bfb")
			fbCheckParseError(t, err, tt.line, tt.field, tt.want)
		})
	}
}

func fbCheckParseError(t *testing.T, err error, line int, field, want string) {
	t.Helper()
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T), want a *ParseError", err, err)
	}
	if pe.Line != line || pe.Field != field {
		t.Errorf("error %q: line %d, field %q; want line %d, field %q", err, pe.Line, pe.Field, line, field)
	}
	if sub, ok := strings.CutPrefix(want, "…"); ok {
		if !strings.Contains(err.Error(), sub) {
			t.Errorf("error %q does not contain %q", err, sub)
		}
	} else if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

func TestFeedbackReaderGzipErrors(t *testing.T) {
	h, batches := fbGolden()
	data := fbWrite(t, h, batches)
	gz := fbGzip(t, data)
	// Every truncation of the gzip stream is an error, never a panic
	// and never a clean end.
	for n := 2; n < len(gz); n++ {
		_, _, err := fbReadAll(bytes.NewReader(gz[:n]), "x.bfb.gz")
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("truncated to %d of %d bytes: error %v, want a *ParseError", n, len(gz), err)
		}
		if pe.File != "x.bfb.gz" {
			t.Fatalf("truncated to %d bytes: error %q does not name the file", n, err)
		}
	}
	// A corrupt header is reported without a line.
	_, _, err := fbReadAll(bytes.NewReader([]byte("\x1f\x8bnot gzip")), "x.bfb.gz")
	fbCheckParseError(t, err, 0, "", "…x.bfb.gz: gzip header: gzip: invalid header")
	// A truncated stream is reported at the line being read.
	_, _, err = fbReadAll(bytes.NewReader(gz[:len(gz)-4]), "x.bfb.gz")
	fbCheckParseError(t, err, bytes.Count(data, []byte("\n"))+1, "", "…reading gzip stream: unexpected EOF")
	// A checksum error too.
	bad := bytes.Clone(gz)
	bad[len(bad)-6] ^= 0xff
	_, _, err = fbReadAll(bytes.NewReader(bad), "x.bfb.gz")
	fbCheckParseError(t, err, bytes.Count(data, []byte("\n"))+1, "", "…gzip: invalid checksum")
	if !errors.Is(err, gzip.ErrChecksum) {
		t.Errorf("error %v does not wrap gzip.ErrChecksum", err)
	}
	// Concatenated gzip members read as one stream.
	half := bytes.Index(data, []byte("fb 150000"))
	cat := append(fbGzip(t, data[:half]), fbGzip(t, data[half:])...)
	_, got, err := fbReadAll(bytes.NewReader(cat), "x.bfb.gz")
	if err != nil {
		t.Fatalf("concatenated members: %v", err)
	}
	if d := fbDiff(got, batches); d != "" {
		t.Errorf("concatenated members: %s", d)
	}
}

type fbFailingReader struct{ err error }

func (r fbFailingReader) Read([]byte) (int, error) { return 0, r.err }

func TestFeedbackReaderIOError(t *testing.T) {
	boom := errors.New("boom")
	_, _, err := fbReadAll(io.MultiReader(strings.NewReader(fbHead+"fb 1 1\n"), fbFailingReader{boom}), "x.bfb")
	fbCheckParseError(t, err, 3, "", "x.bfb:3: reading: boom")
	if !errors.Is(err, boom) {
		t.Errorf("error %v does not wrap the reader's error", err)
	}
}

// After io.EOF or an error, Next keeps returning it.
func TestFeedbackReaderSticky(t *testing.T) {
	for _, in := range []string{fbHead + "fb 1 0\n", fbHead + "fb 1 0\nfb x 0\nfb 2 0\n"} {
		r, err := NewFeedbackReader(strings.NewReader(in), "x.bfb")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Next(); err != nil {
			t.Fatalf("first Next: %v", err)
		}
		_, first := r.Next()
		if first == nil {
			t.Fatalf("second Next: no error")
		}
		for i := range 3 {
			if fb, err := r.Next(); err != first || fb.Packets != nil || fb.Time != 0 {
				t.Errorf("%q: call %d after %v: Next() = %+v, %v", in, i, first, fb, err)
			}
		}
	}
}

func TestFeedbackLongMetaLine(t *testing.T) {
	// A meta line of exactly FeedbackMaxLine bytes is written and read;
	// one byte more is refused by both sides.
	v := strings.Repeat("é", (FeedbackMaxLine-len(`meta k ""`))/2)
	v += strings.Repeat("x", FeedbackMaxLine-len(`meta k ""`)-len(v))
	h := FeedbackHeader{Meta: []FeedbackMeta{{"k", v}}}
	data := fbWrite(t, h, nil)
	if n := bytes.IndexByte(data[len(fbHead):], '\n'); n != FeedbackMaxLine {
		t.Fatalf("meta line of %d bytes, want %d", n, FeedbackMaxLine)
	}
	got, _, err := fbReadAll(bytes.NewReader(data), "x.bfb")
	if err != nil {
		t.Fatal(err)
	}
	if d := fbHeaderDiff(got, h); d != "" {
		t.Fatal(d)
	}
	h.Meta[0].Value += "x"
	if _, err := NewFeedbackWriter(io.Discard, h); err == nil || !strings.Contains(err.Error(), "line of 4097 bytes exceeds the maximum of 4096") {
		t.Errorf("NewFeedbackWriter with a 4097-byte meta line: error %v", err)
	}
	_, _, err = fbReadAll(strings.NewReader(fbHead+"meta k \""+h.Meta[0].Value+"\"\n"), "x.bfb")
	fbCheckParseError(t, err, 2, "", "x.bfb:2: line longer than 4096 bytes")
}

func TestFeedbackWriterErrors(t *testing.T) {
	ok := fbRecv(1, 2, 3, 1200, 0)
	tests := []struct {
		name   string
		header FeedbackHeader
		batch  bwe.Feedback // written after one good batch
		want   string
	}{
		{name: "version 2", header: FeedbackHeader{Version: 2}, want: "traces: feedback header: version 2 not supported (want 1)"},
		{name: "negative version", header: FeedbackHeader{Version: -1}, want: "traces: feedback header: version -1 not supported (want 1)"},
		{name: "empty key", header: FeedbackHeader{Meta: []FeedbackMeta{{"a", "b"}, {"", "v"}}}, want: `traces: feedback header: meta 1: key: "" is not a key (want a letter, then letters, digits, '_', '.' or '-')`},
		{name: "key with space", header: FeedbackHeader{Meta: []FeedbackMeta{{"a b", "v"}}}, want: `traces: feedback header: meta 0: key: "a b" is not a key`},
		{name: "key with digit first", header: FeedbackHeader{Meta: []FeedbackMeta{{"9a", "v"}}}, want: `meta 0: key: "9a" is not a key`},
		{name: "key non-ASCII", header: FeedbackHeader{Meta: []FeedbackMeta{{"clé", "v"}}}, want: `meta 0: key: "clé" is not a key`},
		{name: "value not UTF-8", header: FeedbackHeader{Meta: []FeedbackMeta{{"k", "a\xffb"}}}, want: "traces: feedback header: meta 0 (k): value is not valid UTF-8"},
		{name: "too many meta", header: FeedbackHeader{Meta: make([]FeedbackMeta, FeedbackMaxMeta+1)}, want: "traces: feedback header: 1025 meta entries exceed the maximum of 1024"},
		{name: "negative size", batch: bwe.Feedback{Packets: []bwe.PacketResult{ok, ok, {Size: -1}}}, want: "traces: feedback batch 1, packet 2: size: -1 bytes is negative"},
		{name: "size above 1 MiB", batch: bwe.Feedback{Packets: []bwe.PacketResult{{Size: FeedbackMaxPacketSize + 1, Received: true}}}, want: "traces: feedback batch 1, packet 0: size: 1048577 bytes exceeds the maximum of 1048576"},
		{name: "negative probe", batch: bwe.Feedback{Packets: []bwe.PacketResult{ok, {Size: 1, ProbeCluster: -1}}}, want: "traces: feedback batch 1, packet 1: probe: -1 is negative (0 means not a probe)"},
		{name: "too many packets", batch: bwe.Feedback{Packets: make([]bwe.PacketResult, FeedbackMaxPackets+1)}, want: "traces: feedback batch 1: count: 65536 packets exceed the maximum of 65535 per batch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := NewFeedbackWriter(&buf, tt.header)
			if tt.batch.Packets == nil {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("NewFeedbackWriter: error %v, want %q", err, tt.want)
				}
				if w != nil {
					t.Errorf("NewFeedbackWriter returned a writer with its error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			good := bwe.Feedback{Time: 5, Packets: []bwe.PacketResult{ok}}
			if err := w.Write(good); err != nil {
				t.Fatal(err)
			}
			if err := w.Write(tt.batch); err == nil || err.Error() != tt.want {
				t.Fatalf("Write: error %v, want %q", err, tt.want)
			}
			// The rejected batch left no trace and the writer goes on.
			if err := w.Write(good); err != nil {
				t.Fatalf("Write after a rejected batch: %v", err)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if want := fbWrite(t, tt.header, []bwe.Feedback{good, good}); !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("output %q, want %q", buf.Bytes(), want)
			}
		})
	}
}

type fbFailingWriter struct {
	n   int // bytes accepted before failing
	err error
}

func (w *fbFailingWriter) Write(p []byte) (int, error) {
	if len(p) <= w.n {
		w.n -= len(p)
		return len(p), nil
	}
	n := w.n
	w.n = 0
	return n, w.err
}

// A failing destination makes Write and Flush return its error, then
// keep returning it.
func TestFeedbackWriterIOError(t *testing.T) {
	boom := errors.New("boom")
	w, err := NewFeedbackWriter(&fbFailingWriter{n: 10, err: boom}, FeedbackHeader{})
	if err != nil {
		t.Fatal(err)
	}
	big := bwe.Feedback{Packets: make([]bwe.PacketResult, 6000)} // more than the buffer
	if err := w.Write(big); err != boom {
		t.Fatalf("Write: %v, want %v", err, boom)
	}
	if err := w.Write(bwe.Feedback{}); err != boom {
		t.Errorf("second Write: %v, want %v", err, boom)
	}
	if err := w.Flush(); err != boom {
		t.Errorf("Flush: %v, want %v", err, boom)
	}
	w, _ = NewFeedbackWriter(&fbFailingWriter{err: boom}, FeedbackHeader{})
	if err := w.Flush(); err != boom {
		t.Errorf("Flush of the header: %v, want %v", err, boom)
	}
}

func TestParseErrorFormat(t *testing.T) {
	e := errors.New("bad")
	tests := []struct {
		err  ParseError
		want string
	}{
		{ParseError{File: "a.bfb", Line: 3, Field: "size", Err: e}, "a.bfb:3: size: bad"},
		{ParseError{File: "a.bfb", Line: 3, Err: e}, "a.bfb:3: bad"},
		{ParseError{File: "a.bfb", Field: "size", Err: e}, "a.bfb: size: bad"},
		{ParseError{File: "a.bfb", Err: e}, "a.bfb: bad"},
		{ParseError{Line: 3, Field: "size", Err: e}, "line 3: size: bad"},
		{ParseError{Field: "size", Err: e}, "size: bad"},
		{ParseError{Err: e}, "bad"},
		{ParseError{File: "a.bfb", Line: 3}, "a.bfb:3: invalid input"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("%+v.Error() = %q, want %q", tt.err, got, tt.want)
		}
	}
	pe := &ParseError{File: "a", Line: 1, Err: io.ErrUnexpectedEOF}
	if !errors.Is(pe, io.ErrUnexpectedEOF) {
		t.Errorf("errors.Is(%v, io.ErrUnexpectedEOF) = false", pe)
	}
}

func TestFeedbackParseInt(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		st   fbNum
	}{
		{"0", 0, fbNumOK},
		{"7", 7, fbNumOK},
		{"-7", -7, fbNumOK},
		{"9223372036854775807", math.MaxInt64, fbNumOK},
		{"-9223372036854775808", math.MinInt64, fbNumOK},
		{"9223372036854775808", 0, fbNumRange},
		{"-9223372036854775809", 0, fbNumRange},
		{"18446744073709551615", 0, fbNumRange},
		{"18446744073709551616", 0, fbNumRange},
		{"99999999999999999999", 0, fbNumRange},
		{"123456789012345678901234567890", 0, fbNumRange},
		{"1234567890123456789012345678x0", 0, fbNumSyntax},
		{"", 0, fbNumSyntax},
		{"-", 0, fbNumSyntax},
		{"-0", 0, fbNumSyntax},
		{"00", 0, fbNumSyntax},
		{"01", 0, fbNumSyntax},
		{"+1", 0, fbNumSyntax},
		{"1e3", 0, fbNumSyntax},
		{"1_000", 0, fbNumSyntax},
		{" 1", 0, fbNumSyntax},
		{"0x10", 0, fbNumSyntax},
		{"--1", 0, fbNumSyntax},
	}
	for _, tt := range tests {
		if got, st := fbParseInt([]byte(tt.in)); got != tt.want || st != tt.st {
			t.Errorf("fbParseInt(%q) = %d, %d; want %d, %d", tt.in, got, st, tt.want, tt.st)
		}
	}
}

// fbBenchTrace builds an in-memory trace of n batches of k packets each,
// shaped like a real recording: 50 ms feedback, 1200-byte packets, a lost
// packet now and then, and a probe cluster.
func fbBenchTrace(tb testing.TB, n, k int) []byte {
	batches := make([]bwe.Feedback, n)
	seq := int64(0)
	for i := range batches {
		ps := make([]bwe.PacketResult, k)
		for j := range ps {
			send := bwe.Time(seq * 1000)
			ps[j] = fbRecv(seq, 1_700_000_000_000_000+send, 123_456_789+send+25_000+bwe.Time(j*37%900), 1200, 0)
			if seq%50 == 7 {
				ps[j].Received, ps[j].Arrival = false, 0
			}
			if i%20 == 3 {
				ps[j].ProbeCluster = int32(i/20 + 1)
			}
			seq++
		}
		batches[i] = bwe.Feedback{Time: bwe.Time(1_700_000_000_000_000 + int64(i)*50_000), Packets: ps}
	}
	h := FeedbackHeader{Meta: []FeedbackMeta{{"source", "benchmark"}}}
	return fbWrite(tb, h, batches)
}

var fbSinkFeedback bwe.Feedback

// Next allocates nothing once its packet buffer has grown, from plain
// text or gzip; Write allocates nothing at all.
func TestFeedbackNoAllocs(t *testing.T) {
	data := fbBenchTrace(t, 300, 40)
	for _, enc := range []struct {
		name string
		data []byte
	}{{"plain", data}, {"gzip", fbGzip(t, data)}} {
		r, err := NewFeedbackReader(bytes.NewReader(enc.data), "bench.bfb")
		if err != nil {
			t.Fatal(err)
		}
		for range 5 {
			if fbSinkFeedback, err = r.Next(); err != nil {
				t.Fatal(err)
			}
		}
		allocs := testing.AllocsPerRun(200, func() {
			if fbSinkFeedback, err = r.Next(); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: Next allocates %v times per batch, want 0", enc.name, allocs)
		}
	}

	_, batches := fbGolden()
	w, err := NewFeedbackWriter(io.Discard, FeedbackHeader{})
	if err != nil {
		t.Fatal(err)
	}
	big := bwe.Feedback{Time: 1, Packets: make([]bwe.PacketResult, 3000)}
	allocs := testing.AllocsPerRun(200, func() {
		for _, fb := range batches {
			if err := w.Write(fb); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Write(big); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Write allocates %v times, want 0", allocs)
	}
}

func BenchmarkFeedbackReader(b *testing.B) {
	const n, k = 1000, 50
	data := fbBenchTrace(b, n, k)
	for _, enc := range []struct {
		name string
		data []byte
	}{{"plain", data}, {"gzip", fbGzip(b, data)}} {
		b.Run(enc.name, func(b *testing.B) {
			// One op reads one batch of k packets; the trace restarts at
			// its end.
			open := func() *FeedbackReader {
				r, err := NewFeedbackReader(bytes.NewReader(enc.data), "bench.bfb")
				if err != nil {
					b.Fatal(err)
				}
				return r
			}
			r := open()
			b.SetBytes(int64(len(data) / n))
			b.ReportAllocs()
			for b.Loop() {
				fb, err := r.Next()
				if err == io.EOF {
					r = open()
					fb, err = r.Next()
				}
				if err != nil {
					b.Fatal(err)
				}
				fbSinkFeedback = fb
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*k), "ns/packet")
		})
	}
}

func BenchmarkFeedbackWriter(b *testing.B) {
	const n, k = 1000, 50
	data := fbBenchTrace(b, n, k)
	_, batches, err := fbReadAll(bytes.NewReader(data), "bench.bfb")
	if err != nil {
		b.Fatal(err)
	}
	w, err := NewFeedbackWriter(io.Discard, FeedbackHeader{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data) / n))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := w.Write(batches[i%n]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*k), "ns/packet")
}
