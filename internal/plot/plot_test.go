package plot

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
)

// elements parses doc as XML and counts its elements by name, and returns
// its character data.
func elements(t *testing.T, doc []byte) (map[string]int, string) {
	t.Helper()
	counts := map[string]int{}
	var text strings.Builder
	d := xml.NewDecoder(bytes.NewReader(doc))
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return counts, text.String()
		}
		if err != nil {
			t.Fatalf("SVG does not parse as XML: %v\n%s", err, doc)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			counts[tok.Name.Local]++
		case xml.CharData:
			text.Write(tok)
		}
	}
}

func sample() Figure {
	x := []float64{0, 1, 2, 3, 4}
	return Figure{
		Title:  `rates <&> "quoted"`,
		XLabel: "time (s)",
		Panels: []Panel{
			{Title: "Rates", YLabel: "Mbps", FromZero: true, Lines: []Line{
				{Name: "capacity", X: x, Y: []float64{2, 2, 2, 1, 1}},
				{Name: "target & more", X: x, Y: []float64{0.3, 0.5, math.NaN(), 1.2, 0.9}},
			}},
			{Title: "Queue", YLabel: "ms", Lines: []Line{{Name: "delay", X: x, Y: []float64{0, 10, 50, 5, 0}}}},
		},
	}
}

func TestWriteSVG(t *testing.T) {
	var a, b bytes.Buffer
	if err := sample().WriteSVG(&a); err != nil {
		t.Fatal(err)
	}
	if err := sample().WriteSVG(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Errorf("two writes of the same figure differ")
	}
	counts, text := elements(t, a.Bytes())
	if counts["svg"] != 1 || counts["polyline"] != 3 || counts["g"] != 2 {
		t.Errorf("elements %v, want 1 svg, 2 panels (g), 3 polylines", counts)
	}
	for _, want := range []string{`rates <&> "quoted"`, "time (s)", "Mbps", "capacity", "target & more", "delay", "Queue"} {
		if !strings.Contains(text, want) {
			t.Errorf("text %q missing from the document", want)
		}
	}
	// The NaN point is skipped: the second line has 4 points.
	for _, line := range strings.Split(a.String(), "\n") {
		if strings.Contains(line, "<title>target &amp; more</title>") {
			pts := line[strings.Index(line, `points="`)+8:]
			pts = pts[:strings.Index(pts, `"`)]
			if n := len(strings.Fields(pts)); n != 4 {
				t.Errorf("line with a NaN point has %d points, want 4", n)
			}
		}
	}
}

func TestWriteSVGEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := (Figure{}).WriteSVG(&buf); err != nil {
		t.Fatal(err)
	}
	elements(t, buf.Bytes())
	buf.Reset()
	if err := (Figure{Panels: []Panel{{Title: "nothing"}}}).WriteSVG(&buf); err != nil {
		t.Fatal(err)
	}
	elements(t, buf.Bytes())
}

func TestWriteSVGErrors(t *testing.T) {
	bad := Figure{Panels: []Panel{{Lines: []Line{{Name: "odd", X: []float64{1, 2}, Y: []float64{1}}}}}}
	if err := bad.WriteSVG(io.Discard); err == nil || !strings.Contains(err.Error(), `"odd"`) {
		t.Errorf("mismatched line: error %v, want one naming the line", err)
	}
	if err := (Figure{Width: 10}).WriteSVG(io.Discard); err == nil {
		t.Errorf("tiny figure: no error")
	}
	if err := sample().WriteSVG(failWriter{}); err == nil {
		t.Errorf("failing writer: no error")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestNiceStep(t *testing.T) {
	for _, tc := range []struct{ raw, want float64 }{
		{0.13, 0.2}, {1, 1}, {1.01, 2}, {3, 5}, {7, 10}, {42, 50}, {0, 1}, {-1, 1}, {math.NaN(), 1}, {math.Inf(1), 1},
	} {
		if got := niceStep(tc.raw); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("niceStep(%v) = %v, want %v", tc.raw, got, tc.want)
		}
	}
}

func TestTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi   float64
		fromZero bool
		first    float64
		labels   []string
	}{
		{0.3, 4, true, 0, []string{"0", "1", "2", "3", "4", "5"}},
		{0.3, 4, false, 0, []string{"0", "1", "2", "3", "4", "5"}},
		{5, 5, true, 0, []string{"0", "1", "2", "3", "4", "5", "6"}}, // 4 % headroom above 5
		{-0.02, 0.031, false, -0.03, []string{"-0.03", "-0.02", "-0.01", "0.00", "0.01", "0.02", "0.03", "0.04"}},
	} {
		a := dataRange{tc.lo, tc.hi}.ticks(tc.fromZero, true, 6)
		var labels []string
		for _, v := range a.values {
			labels = append(labels, a.label(v))
		}
		if a.lo != tc.first || strings.Join(labels, " ") != strings.Join(tc.labels, " ") {
			t.Errorf("ticks(%v, %v, fromZero %v) from %v: %v, want from %v: %v", tc.lo, tc.hi, tc.fromZero, a.lo, labels, tc.first, tc.labels)
		}
		if a.lo > tc.lo || a.hi < tc.hi {
			t.Errorf("ticks(%v, %v): axis [%v, %v] does not cover the data", tc.lo, tc.hi, a.lo, a.hi)
		}
	}
}

// FuzzWriteSVG draws figures made of arbitrary values and names: the
// output must always be well-formed XML.
func FuzzWriteSVG(f *testing.F) {
	f.Add("capacity", "<&>", []byte("\x3f\xf0\x00\x00\x00\x00\x00\x00\x40\x00\x00\x00\x00\x00\x00\x00"))
	f.Add("", "\xff", []byte("\x7f\xf8\x00\x00\x00\x00\x00\x01"))
	f.Fuzz(func(t *testing.T, name, title string, data []byte) {
		var ys []float64
		for len(data) >= 8 {
			ys = append(ys, math.Float64frombits(binary.BigEndian.Uint64(data)))
			data = data[8:]
		}
		xs := make([]float64, len(ys))
		for i := range xs {
			xs[i] = float64(i)
		}
		fig := Figure{Title: title, Panels: []Panel{{Title: title, YLabel: name, FromZero: len(ys)%2 == 0, Lines: []Line{{Name: name, X: xs, Y: ys}}}}}
		var buf bytes.Buffer
		if err := fig.WriteSVG(&buf); err != nil {
			t.Fatal(err)
		}
		elements(t, buf.Bytes())
	})
}
