package traces

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

const (
	trMs = bwe.Time(1000) // one millisecond on the bwe.Time clock
	trS  = bwe.Time(1_000_000)
)

// trTestTrace is a pass of 35 ms: 1 Mbps for 10 ms, an outage of 20 ms,
// 5 Mbps for 5 ms.
func trTestTrace(loop bool) *Trace {
	t := &Trace{Name: "test", Loop: loop}
	t.Append(10*time.Millisecond, bwe.Mbps)
	t.Append(20*time.Millisecond, 0)
	t.Append(5*time.Millisecond, 5*bwe.Mbps)
	return t
}

func TestTraceAtNextChange(t *testing.T) {
	const P = 35 * trMs
	huge := (bwe.MaxTime / P) * P // the last pass that starts before MaxTime
	for _, tc := range []struct {
		loop     bool
		at       bwe.Time
		wantRate bwe.Bitrate
		wantNext bwe.Time
	}{
		// Looping: t mod 35 ms.
		{true, 0, bwe.Mbps, 10 * trMs},
		{true, 1, bwe.Mbps, 10 * trMs},
		{true, 10*trMs - 1, bwe.Mbps, 10 * trMs},
		{true, 10 * trMs, 0, 30 * trMs},
		{true, 30*trMs - 1, 0, 30 * trMs},
		{true, 30 * trMs, 5 * bwe.Mbps, P},
		{true, P - 1, 5 * bwe.Mbps, P},
		{true, P, bwe.Mbps, P + 10*trMs},
		{true, 3*P + 12*trMs, 0, 3*P + 30*trMs},
		{true, 1000*P - 1, 5 * bwe.Mbps, 1000 * P},
		{true, -1, 5 * bwe.Mbps, 0},
		{true, -5 * trMs, 5 * bwe.Mbps, 0},
		{true, -5*trMs - 1, 0, -5 * trMs},
		{true, -P, bwe.Mbps, -P + 10*trMs},
		{true, huge, bwe.Mbps, huge + 10*trMs},
		// MaxTime = huge + 30.807 ms.
		{true, huge + 29*trMs, 0, huge + 30*trMs},
		{true, huge + 30*trMs + 500, 5 * bwe.Mbps, bwe.MaxTime}, // the end lies beyond MaxTime
		{true, bwe.MaxTime - 1, 5 * bwe.Mbps, bwe.MaxTime},
		{true, bwe.MaxTime, 5 * bwe.Mbps, bwe.MaxTime},
		// MinTime ≡ 4.192 ms (mod 35 ms).
		{true, bwe.MinTime, bwe.Mbps, bwe.MinTime + 5808},
		// Not looping: the first rate before 0, the last for ever after.
		{false, 0, bwe.Mbps, 10 * trMs},
		{false, 10 * trMs, 0, 30 * trMs},
		{false, 30 * trMs, 5 * bwe.Mbps, bwe.MaxTime},
		{false, P, 5 * bwe.Mbps, bwe.MaxTime},
		{false, 100 * P, 5 * bwe.Mbps, bwe.MaxTime},
		{false, bwe.MaxTime, 5 * bwe.Mbps, bwe.MaxTime},
		{false, -1, bwe.Mbps, 10 * trMs},
		{false, bwe.MinTime, bwe.Mbps, 10 * trMs},
	} {
		tr := trTestTrace(tc.loop)
		if got := tr.At(tc.at); got != tc.wantRate {
			t.Errorf("loop=%v: At(%d) = %v, want %v", tc.loop, tc.at, got, tc.wantRate)
		}
		if got := tr.NextChange(tc.at); got != tc.wantNext {
			t.Errorf("loop=%v: NextChange(%d) = %d, want %d", tc.loop, tc.at, got, tc.wantNext)
		}
	}
}

func TestTraceConstant(t *testing.T) {
	for _, loop := range []bool{false, true} {
		tr := &Trace{Loop: loop}
		tr.Append(time.Second, 3*bwe.Mbps)
		tr.Append(time.Second, 3*bwe.Mbps)
		if len(tr.Segments) != 1 || tr.Length != 2*time.Second {
			t.Fatalf("loop=%v: Append of two equal pieces = %+v, length %v; want one segment of 2s", loop, tr.Segments, tr.Length)
		}
		for _, at := range []bwe.Time{bwe.MinTime, -1, 0, 5 * trS, bwe.MaxTime - 1, bwe.MaxTime} {
			if got := tr.At(at); got != 3*bwe.Mbps {
				t.Errorf("loop=%v: At(%d) = %v, want 3 Mbps", loop, at, got)
			}
			if got := tr.NextChange(at); got != bwe.MaxTime {
				t.Errorf("loop=%v: NextChange(%d) = %d, want MaxTime", loop, at, got)
			}
		}
	}
}

func TestTraceEmpty(t *testing.T) {
	var tr Trace
	if got := tr.At(5); got != 0 {
		t.Errorf("empty trace: At = %v, want 0", got)
	}
	if got := tr.NextChange(5); got != bwe.MaxTime {
		t.Errorf("empty trace: NextChange = %d, want MaxTime", got)
	}
	if tr.Mean() != 0 || tr.Min() != 0 || tr.Max() != 0 || tr.Volume() != 0 || tr.Outage() != 0 || len(tr.Averages(time.Second, nil)) != 0 {
		t.Errorf("empty trace: non-zero statistics")
	}
}

func TestTraceAppend(t *testing.T) {
	tr := &Trace{}
	tr.Append(1500*time.Nanosecond, bwe.Mbps) // truncated to 1 µs
	tr.Append(999*time.Nanosecond, 0)         // dropped
	tr.Append(-time.Second, 0)                // dropped
	tr.Append(2*time.Microsecond, bwe.Mbps)   // merged
	tr.Append(time.Millisecond, 0)
	want := []Segment{{0, bwe.Mbps}, {3 * time.Microsecond, 0}}
	if !trEqualSegments(tr.Segments, want) || tr.Length != 1003*time.Microsecond {
		t.Errorf("Append: segments %v length %v, want %v length 1.003ms", tr.Segments, tr.Length, want)
	}
	if err := tr.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func trEqualSegments(a, b []Segment) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestTraceValidate(t *testing.T) {
	ok := func() *Trace { return trTestTrace(true) }
	for _, tc := range []struct {
		name   string
		change func(*Trace)
		want   string // "" = valid
	}{
		{"valid", func(*Trace) {}, ""},
		{"no segments", func(t *Trace) { t.Segments = nil }, "no segments"},
		{"zero length", func(t *Trace) { t.Length = 0 }, "length 0s"},
		{"negative length", func(t *Trace) { t.Length = -time.Second }, "length -1s"},
		{"long", func(t *Trace) { t.Length = MaxTraceLength + time.Microsecond }, "length"},
		{"sub-µs length", func(t *Trace) { t.Length += time.Nanosecond }, "whole number of microseconds"},
		{"late start", func(t *Trace) { t.Segments[0].Start = time.Microsecond }, "segment 0 starts at 1µs, want 0"},
		{"out of order", func(t *Trace) { t.Segments[2].Start = t.Segments[1].Start }, "segment 2 starts at 10ms, not after segment 1 at 10ms"},
		{"sub-µs start", func(t *Trace) { t.Segments[1].Start += time.Nanosecond }, "segment 1: start 10.000001ms is not a whole number of microseconds"},
		{"start at end", func(t *Trace) { t.Segments[2].Start = t.Length }, "segment 2 starts at 35ms, not before the end"},
		{"negative rate", func(t *Trace) { t.Segments[1].Rate = -1 }, "segment 1: rate -1 bps is outside [0, 1000000 Mbps]"},
		{"rate above 1 Tbps", func(t *Trace) { t.Segments[2].Rate = MaxLinkRate + 1 }, "segment 2: rate 1000000000001 bps"},
		{"1 Tbps", func(t *Trace) { t.Segments[2].Rate = MaxLinkRate }, ""},
	} {
		tr := ok()
		tc.change(tr)
		err := tr.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: Validate() = %v, want nil", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "traces: test: ")):
			t.Errorf("%s: Validate() = %v, want an error with %q", tc.name, err, tc.want)
		}
	}
}

func TestTraceStats(t *testing.T) {
	tr := trTestTrace(true)
	// (1 Mbps·10 ms + 5 Mbps·5 ms) / 35 ms = 35000 bit / 35 ms = 1 Mbps.
	if got := tr.Mean(); got != bwe.Mbps {
		t.Errorf("Mean = %v, want 1 Mbps", got)
	}
	if got := tr.Volume(); got != 35000/8 {
		t.Errorf("Volume = %d bytes, want 4375", got)
	}
	if tr.Min() != 0 || tr.Max() != 5*bwe.Mbps {
		t.Errorf("Min, Max = %v, %v; want 0, 5 Mbps", tr.Min(), tr.Max())
	}
	if got := tr.Outage(); got != 20*time.Millisecond {
		t.Errorf("Outage = %v, want 20ms", got)
	}
	if got := tr.Period(); got != 35*time.Millisecond {
		t.Errorf("Period = %v, want 35ms", got)
	}
	// Windows of 7 ms: [0,7) 1 Mbps; [7,14) 3/7 Mbps; [14,21) 0; [21,28) 0;
	// [28,35) 25/7 Mbps.
	got := tr.Averages(7*time.Millisecond, nil)
	want := []bwe.Bitrate{bwe.Mbps, 428571, 0, 0, 3571428}
	if len(got) != len(want) {
		t.Fatalf("Averages(7ms) = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Averages(7ms)[%d] = %d, want %d", i, got[i], want[i])
		}
	}
	// Windows of 20 ms: one complete window, the rest is left out.
	if got := tr.Averages(20*time.Millisecond, nil); len(got) != 1 || got[0] != bwe.Mbps/2 {
		t.Errorf("Averages(20ms) = %v, want [500 kbps]", got)
	}
	if got := tr.Averages(0, nil); len(got) != 0 {
		t.Errorf("Averages(0) = %v, want none", got)
	}
	// Volume rounds to the nearest byte, halves up: 4 bit → 1 byte.
	small := &Trace{}
	small.Append(time.Microsecond, 4*bwe.Mbps) // 4 bits
	if got := small.Volume(); got != 1 {
		t.Errorf("Volume of 4 bits = %d, want 1", got)
	}
	// A year at 1 Tbps: 128-bit arithmetic.
	big := &Trace{}
	big.Append(MaxTraceLength, MaxLinkRate)
	if got, want := big.Mean(), MaxLinkRate; got != want {
		t.Errorf("Mean of a year at 1 Tbps = %v, want %v", got, want)
	}
	if got, want := big.Volume(), bwe.ByteCount(MaxTraceLength/time.Second)*125_000_000_000; got != want {
		t.Errorf("Volume of a year at 1 Tbps = %d, want %d", got, want)
	}
}

func TestTraceScaled(t *testing.T) {
	tr := trTestTrace(true)
	s, err := tr.Scaled(0.5)
	if err != nil {
		t.Fatal(err)
	}
	want := []Segment{{0, 500 * bwe.Kbps}, {10 * time.Millisecond, 0}, {30 * time.Millisecond, 2500 * bwe.Kbps}}
	if !trEqualSegments(s.Segments, want) || s.Length != tr.Length || !s.Loop || s.Name != tr.Name {
		t.Errorf("Scaled(0.5) = %+v, want segments %v", s, want)
	}
	if z, _ := tr.Scaled(0); len(z.Segments) != 1 || z.Segments[0].Rate != 0 {
		t.Errorf("Scaled(0) = %v, want one outage segment", z.Segments)
	}
	if h, _ := tr.Scaled(1e30); h.Max() != MaxLinkRate {
		t.Errorf("Scaled(1e30).Max() = %v, want %v", h.Max(), MaxLinkRate)
	}
	for _, f := range []float64{-1, math.NaN(), math.Inf(1)} {
		if _, err := tr.Scaled(f); err == nil {
			t.Errorf("Scaled(%v): no error", f)
		}
	}
}

// trRandomTrace returns a valid trace of 1 to 40 merged segments of
// random durations (1 µs to 2 s) and rates (0 included).
func trRandomTrace(r *rand.Rand) *Trace {
	tr := &Trace{Name: "random", Loop: r.IntN(4) != 0}
	n := 1 + r.IntN(40)
	for range n {
		d := time.Duration(1+r.Int64N(2_000_000)) * time.Microsecond
		if r.IntN(3) == 0 {
			d = time.Duration(1+r.IntN(3)) * time.Microsecond
		}
		var rate bwe.Bitrate
		switch r.IntN(4) {
		case 0: // outage
		case 1:
			rate = MaxLinkRate - bwe.Bitrate(r.IntN(2))
		default:
			rate = bwe.Bitrate(r.Int64N(int64(100 * bwe.Mbps)))
		}
		tr.Append(d, rate)
	}
	return tr
}

// trReference computes At and NextChange from the definition, with big
// integers, by a linear scan.
func trReference(tr *Trace, at bwe.Time) (bwe.Bitrate, bwe.Time) {
	n := len(tr.Segments)
	p := int64(tr.Length / time.Microsecond)
	start := func(i int) int64 { return int64(tr.Segments[i].Start / time.Microsecond) }
	T := big.NewInt(int64(at))
	x := new(big.Int)
	switch {
	case tr.Loop:
		x.Mod(T, big.NewInt(p)) // Euclidean: 0 ≤ x < p
	case at < 0:
		if n == 1 {
			return tr.Segments[0].Rate, bwe.MaxTime
		}
		return tr.Segments[0].Rate, bwe.Time(start(1))
	case int64(at) >= p:
		return tr.Segments[n-1].Rate, bwe.MaxTime
	default:
		x.Set(T)
	}
	i := 0
	for j := range n {
		if start(j) <= x.Int64() {
			i = j
		}
	}
	var end int64
	switch {
	case tr.Loop && n == 1:
		return tr.Segments[i].Rate, bwe.MaxTime
	case i+1 < n:
		end = start(i + 1)
	case tr.Loop:
		end = p
	default:
		return tr.Segments[i].Rate, bwe.MaxTime
	}
	next := new(big.Int).Sub(T, x)
	next.Add(next, big.NewInt(end))
	if !next.IsInt64() {
		return tr.Segments[i].Rate, bwe.MaxTime
	}
	return tr.Segments[i].Rate, bwe.Time(next.Int64())
}

// trInstants returns instants that probe tr: uniform over the whole range,
// near pass boundaries of small, large and huge pass counts, near segment
// boundaries, near the ends of the clock.
func trInstants(r *rand.Rand, tr *Trace, n int) []bwe.Time {
	p := int64(tr.Length / time.Microsecond)
	out := []bwe.Time{0, -1, 1, bwe.MaxTime, bwe.MaxTime - 1, bwe.MinTime, bwe.MinTime + 1, bwe.Time(p), bwe.Time(p - 1), bwe.Time(-p)}
	for range n {
		var k int64
		switch r.IntN(3) {
		case 0:
			k = r.Int64N(10)
		case 1:
			k = r.Int64N(math.MaxInt64/p) - r.Int64N(math.MaxInt64/p)
		default:
			k = math.MaxInt64/p - r.Int64N(3)
		}
		seg := tr.Segments[r.IntN(len(tr.Segments))]
		off := int64(seg.Start/time.Microsecond) + r.Int64N(3) - 1
		out = append(out, bwe.SatAdd(bwe.Time(k*p), bwe.Time(off)), bwe.Time(r.Uint64()))
	}
	return out
}

// TestTraceProperties checks At and NextChange of random traces at random
// instants against the definition, and that the rate is constant on
// [t, NextChange(t)) and changes at NextChange(t) unless that is a pass
// boundary.
func TestTraceProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 300 {
		tr := trRandomTrace(r)
		if err := tr.Validate(); err != nil {
			t.Fatalf("trial %d: random trace invalid: %v", trial, err)
		}
		p := bwe.Time(tr.Length / time.Microsecond)
		for _, at := range trInstants(r, tr, 60) {
			rate, next := tr.At(at), tr.NextChange(at)
			wantRate, wantNext := trReference(tr, at)
			if rate != wantRate || next != wantNext {
				t.Fatalf("trial %d (loop=%v, %d segments, period %d µs): At, NextChange(%d) = %v, %d; want %v, %d",
					trial, tr.Loop, len(tr.Segments), p, at, rate, next, wantRate, wantNext)
			}
			if at < bwe.MaxTime && next <= at {
				t.Fatalf("trial %d: NextChange(%d) = %d, not after it", trial, at, next)
			}
			probes := []bwe.Time{next - 1, at + bwe.Time((uint64(next)-uint64(at))/2)}
			if next == bwe.MaxTime {
				probes = []bwe.Time{bwe.SatAdd(at, 1), bwe.SatAdd(at, trS), bwe.MaxTime - 1}
			}
			for _, q := range probes {
				if q >= at && q < next && tr.At(q) != rate {
					t.Fatalf("trial %d: At(%d) = %v but At(%d) = %v before NextChange = %d", trial, at, rate, q, tr.At(q), next)
				}
			}
			if next < bwe.MaxTime && tr.At(next) == rate && (!tr.Loop || next%p != 0) {
				t.Fatalf("trial %d: At(NextChange(%d) = %d) = %v, unchanged and not at a pass boundary", trial, at, next, rate)
			}
		}
	}
}

// trWalk integrates tr's rate over [from, to) by following NextChange, in
// bit·µs/s, and counts the pieces.
func trWalk(tr *Trace, from, to bwe.Time) (*big.Int, int) {
	sum := new(big.Int)
	pieces := 0
	for at := from; at < to; pieces++ {
		next := min(tr.NextChange(at), to)
		piece := new(big.Int).Mul(big.NewInt(int64(tr.At(at))), big.NewInt(int64(next-at)))
		sum.Add(sum, piece)
		at = next
	}
	return sum, pieces
}

// trSegmentsIntegral sums rate·duration over the segments of one pass, in
// bit·µs/s.
func trSegmentsIntegral(tr *Trace) *big.Int {
	sum := new(big.Int)
	for i, s := range tr.Segments {
		d := tr.SegmentDuration(i) / time.Microsecond
		sum.Add(sum, new(big.Int).Mul(big.NewInt(int64(s.Rate)), big.NewInt(int64(d))))
	}
	return sum
}

// TestTraceIntegral checks that following At and NextChange over one
// period, at several passes including the last one before MaxTime,
// integrates to the trace's total bits, and that Volume and Mean agree
// with it.
func TestTraceIntegral(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := range 200 {
		tr := trRandomTrace(r)
		tr.Loop = true
		p := bwe.Time(tr.Length / time.Microsecond)
		want := trSegmentsIntegral(tr)
		for _, k := range []bwe.Time{0, 1, 7, bwe.MaxTime/p - 1, -3} {
			from := k * p
			got, pieces := trWalk(tr, from, from+p)
			if got.Cmp(want) != 0 {
				t.Fatalf("trial %d, pass %d: integral over one period = %v bit·µs/s, want %v", trial, k, got, want)
			}
			if pieces > len(tr.Segments) {
				t.Fatalf("trial %d, pass %d: %d pieces for %d segments", trial, k, pieces, len(tr.Segments))
			}
		}
		// Volume: round(sum / 8e6) bytes; Mean: floor(sum / period).
		q, m := new(big.Int).DivMod(want, big.NewInt(8_000_000), new(big.Int))
		if m.Cmp(big.NewInt(4_000_000)) >= 0 {
			q.Add(q, big.NewInt(1))
		}
		if got := tr.Volume(); int64(got) != q.Int64() {
			t.Fatalf("trial %d: Volume = %d, want %v", trial, got, q)
		}
		mean := new(big.Int).Div(want, big.NewInt(int64(p)))
		if got := tr.Mean(); int64(got) != mean.Int64() {
			t.Fatalf("trial %d: Mean = %d, want %v", trial, got, mean)
		}
	}
}

// TestTraceNoAllocs: At and NextChange allocate nothing.
func TestTraceNoAllocs(t *testing.T) {
	tr := trBenchTrace()
	at := bwe.Time(12345)
	var sink bwe.Bitrate
	if n := testing.AllocsPerRun(1000, func() {
		sink += tr.At(at)
		at = tr.NextChange(at)
	}); n != 0 {
		t.Errorf("At + NextChange: %v allocations per run, want 0", n)
	}
	_ = sink
}

// trBenchTrace is a Mahimahi-like trace of 300 000 one-millisecond
// segments of 1 to 9 opportunities (a long LTE drive).
func trBenchTrace() *Trace {
	r := rand.New(rand.NewPCG(5, 6))
	tr := &Trace{Loop: true}
	for range 300_000 {
		tr.Append(time.Millisecond, bwe.Bitrate(1+r.IntN(9))*trOpportunityRate)
	}
	return tr
}

func BenchmarkTraceAt(b *testing.B) {
	tr := trBenchTrace()
	r := rand.New(rand.NewPCG(7, 8))
	ats := make([]bwe.Time, 1024)
	for i := range ats {
		ats[i] = bwe.Time(r.Int64N(int64(100 * tr.Length / time.Microsecond)))
	}
	b.ReportAllocs()
	var sink bwe.Bitrate
	i := 0
	for b.Loop() {
		sink += tr.At(ats[i&1023])
		i++
	}
	_ = sink
}

func BenchmarkTraceNextChange(b *testing.B) {
	tr := trBenchTrace()
	b.ReportAllocs()
	at := bwe.Time(0)
	for b.Loop() {
		at = tr.NextChange(at)
	}
}

func TestFormat(t *testing.T) {
	for f := FormatUnknown; f < trFormats; f++ {
		g, err := ParseFormat(strings.ToUpper(f.String()))
		if err != nil || g != f {
			t.Errorf("ParseFormat(%q) = %v, %v; want %v", strings.ToUpper(f.String()), g, err, f)
		}
		text, _ := f.MarshalText()
		var h Format
		if err := h.UnmarshalText(text); err != nil || h != f {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v", text, h, err, f)
		}
	}
	if _, err := ParseFormat("csv"); err == nil || !strings.Contains(err.Error(), `"csv"`) {
		t.Errorf("ParseFormat(csv) = %v, want an error naming it", err)
	}
	var h Format
	if err := h.UnmarshalText([]byte("x")); err == nil {
		t.Errorf("UnmarshalText(x): no error")
	}
	if got := Format(200).String(); got != "Format(200)" {
		t.Errorf("Format(200).String() = %q", got)
	}
	if got := FormatFiveGophers.String(); got != "5gophers" {
		t.Errorf("FormatFiveGophers.String() = %q, want 5gophers", got)
	}
}
