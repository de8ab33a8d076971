package netstate

import (
	"math"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// ms returns an instant in milliseconds.
func ms(v int64) bwe.Time { return bwe.Time(v * 1000) }

// recv and lost build packet results (times in ms).
func recv(seq, sendMs, arrMs int64, size bwe.ByteCount) bwe.PacketResult {
	return bwe.PacketResult{Seq: seq, SendTime: ms(sendMs), Arrival: ms(arrMs), Size: size, Received: true}
}

func lost(seq, sendMs int64, size bwe.ByteCount) bwe.PacketResult {
	return bwe.PacketResult{Seq: seq, SendTime: ms(sendMs), Size: size}
}

func approx(a, b, rel float64) bool {
	return math.Abs(a-b) <= rel*max(math.Abs(a), math.Abs(b), 1e-300)
}

// checkRaw compares two records field by field; floats to 1e-12
// relative.
func checkRaw(t *testing.T, step string, got, want Raw) {
	t.Helper()
	if got.Start != want.Start || got.End != want.End || got.Batches != want.Batches ||
		got.Packets != want.Packets || got.Lost != want.Lost || got.Estimate != want.Estimate ||
		got.Sent != want.Sent || got.Acked != want.Acked || got.RTT != want.RTT || got.Jitter != want.Jitter ||
		!approx(got.Loss, want.Loss, 1e-12) || !approx(got.DelayTrend, want.DelayTrend, 1e-12) {
		t.Errorf("%s: Step() raw = %+v\nwant %+v", step, got, want)
	}
}

func checkFeatures(t *testing.T, step string, got, want Features) {
	t.Helper()
	for k := range got {
		if !approx(got[k], want[k], 1e-12) {
			t.Errorf("%s: feature %s = %.15g, want %.15g", step, featureNames[k], got[k], want[k])
		}
	}
}

// A scripted timeline with values computed by hand.
func TestExtractorScript(t *testing.T) {
	e, err := NewExtractor(ExtractorConfig{})
	if err != nil {
		t.Fatal(err)
	}
	// Interval [1 s, 2 s). The receiver clock is 10 s ahead. One-way
	// delays relative to the first packet (ms): 0, 2, –, 6, 2 | 0, –
	// against send times 0, 10, (20), 30, 40 | 50, (60).
	e.Add(bwe.Feedback{Time: ms(1000), Packets: []bwe.PacketResult{
		recv(0, 900, 10950, 1000),
		recv(1, 910, 10962, 1000),
		lost(2, 920, 1000),
		recv(3, 930, 10986, 1000),
		recv(4, 940, 10992, 1000),
	}}, 2*bwe.Mbps, 100*time.Millisecond)
	e.Add(bwe.Feedback{Time: ms(1500), Packets: []bwe.PacketResult{
		recv(5, 950, 11000, 500),
		lost(6, 960, 500),
	}}, 3*bwe.Mbps, 200*time.Millisecond)
	if _, _, ok := e.Step(ms(1999)); ok {
		t.Fatalf("step 1: Step(1.999 s) returned an interval before the first one ended")
	}
	f, raw, ok := e.Step(ms(2000))
	if !ok {
		t.Fatalf("step 2: Step(2 s) = false, want the interval [1 s, 2 s)")
	}
	// Jitter, RFC 3550 (ms): |D| = 2, 4, 4, 2 for packets 1, 3, 4, 5:
	// J = 0.125, 0.3671875, 0.59423828125, 0.682098388671875.
	// Trend: x̄ = 26, ȳ = 2, Sxy = 20, Sxx = 1720: 20/1720 ms/ms.
	want := Raw{
		Start: ms(1000), End: ms(2000), Batches: 2, Packets: 7, Lost: 2,
		Estimate: 3 * bwe.Mbps,
		Sent:     48 * bwe.Kbps, // 6000 bytes in 1 s
		Acked:    36 * bwe.Kbps, // 4500 bytes
		RTT:      150 * time.Millisecond,
		Jitter:   682098 * time.Nanosecond,
		Loss:     2.0 / 7,
		// slope 20/1720 ms per ms, in ms/s
		DelayTrend: 20.0 / 1720 * 1000,
	}
	checkRaw(t, "step 2", raw, want)
	checkFeatures(t, "step 2", f, Features{
		math.Log2(3), math.Log2(0.048), math.Log2(0.036), 1.5, 0.00682098, 2.0 / 7, 20.0 / 1720 * 10,
	})
	if _, _, ok := e.Step(ms(2000)); ok {
		t.Errorf("step 3: second Step(2 s) returned an interval")
	}

	// No feedback in [2 s, 3 s): an empty interval; estimate, RTT and
	// jitter carry over, rates are zero.
	f, raw, ok = e.Step(ms(3500))
	if !ok {
		t.Fatalf("step 4: Step(3.5 s) = false, want the empty interval [2 s, 3 s)")
	}
	empty := Raw{Start: ms(2000), End: ms(3000), Estimate: 3 * bwe.Mbps, RTT: 150 * time.Millisecond, Jitter: 682098 * time.Nanosecond}
	checkRaw(t, "step 4", raw, empty)
	checkFeatures(t, "step 4", f, Features{math.Log2(3), -8, -8, 1.5, 0.00682098, 0, 0})

	// A batch at 5.2 s closes [3 s, 4 s) and [4 s, 5 s), both empty.
	e.Add(bwe.Feedback{Time: ms(5200), Packets: []bwe.PacketResult{recv(7, 5100, 15150, 1250)}}, 0, 0)
	for i, start := range []int64{3000, 4000} {
		_, raw, ok = e.Step(ms(5200))
		empty.Start, empty.End = ms(start), ms(start+1000)
		if !ok {
			t.Fatalf("step %d: Step(5.2 s) = false, want the empty interval at %d ms", 5+i, start)
		}
		checkRaw(t, "step 5", raw, empty)
	}
	if _, _, ok := e.Step(ms(5200)); ok {
		t.Errorf("step 7: Step(5.2 s) returned a third interval")
	}
	_, raw, ok = e.Step(ms(6000))
	// D for packet 7 against packet 5: (15150 − 11000) − (5100 − 950) = 0.
	want = Raw{
		Start: ms(5000), End: ms(6000), Batches: 1, Packets: 1,
		Estimate: 3 * bwe.Mbps, Sent: 10 * bwe.Kbps, Acked: 10 * bwe.Kbps,
		RTT:    150 * time.Millisecond,
		Jitter: bwe.DurationFromMillis(0.682098388671875 * 15 / 16),
	}
	if !ok {
		t.Fatalf("step 8: Step(6 s) = false")
	}
	checkRaw(t, "step 8", raw, want)
	if st := e.Stats(); st.Intervals != 5 || st.Empty != 3 || st.Skipped != 0 || st.Dropped != 0 || st.Late != 0 {
		t.Errorf("Stats() = %+v, want 5 intervals, 3 empty, nothing skipped, dropped or late", st)
	}
}

func TestExtractorMaxEmptyRun(t *testing.T) {
	e, err := NewExtractor(ExtractorConfig{Interval: 100 * time.Millisecond, MaxEmptyRun: 2})
	if err != nil {
		t.Fatal(err)
	}
	e.Add(bwe.Feedback{Time: 0, Packets: []bwe.PacketResult{recv(0, 0, 5, 100)}}, bwe.Mbps, 0)
	var got []int
	for {
		_, raw, ok := e.Step(ms(1000))
		if !ok {
			break
		}
		got = append(got, raw.Batches)
	}
	// [0, 100 ms) with the batch, then two empty intervals; the seven
	// empty intervals after them are skipped.
	if len(got) != 3 || got[0] != 1 || got[1] != 0 || got[2] != 0 {
		t.Errorf("Step(1 s) until false gave intervals with batches %v, want [1 0 0]", got)
	}
	if st := e.Stats(); st.Skipped != 7 {
		t.Errorf("Stats().Skipped = %d, want 7", st.Skipped)
	}
	// Feedback resumes at 1.25 s: the empty [1 s, 1.1 s) and [1.1 s,
	// 1.2 s) are skipped, the batch's interval is the next one returned.
	e.Add(bwe.Feedback{Time: ms(1250), Packets: []bwe.PacketResult{recv(1, 1200, 1205, 100)}}, bwe.Mbps, 0)
	_, raw, ok := e.Step(ms(1300))
	if !ok || raw.Start != ms(1200) || raw.Batches != 1 {
		t.Errorf("after resuming: Step(1.3 s) = %+v, %v; want the interval at 1.2 s with one batch", raw, ok)
	}
	if st := e.Stats(); st.Skipped != 9 {
		t.Errorf("Stats().Skipped = %d, want 9", st.Skipped)
	}
}

func TestExtractorLateAndDuplicate(t *testing.T) {
	e, _ := NewExtractor(ExtractorConfig{})
	e.Add(bwe.Feedback{Time: ms(1000), Packets: []bwe.PacketResult{recv(0, 900, 950, 100), recv(1, 910, 960, 100)}}, bwe.Mbps, 0)
	// A batch from before the interval, repeating packet 1: it lands in
	// the open interval, and the duplicate is left out of jitter.
	e.Add(bwe.Feedback{Time: ms(500), Packets: []bwe.PacketResult{recv(1, 910, 990, 100)}}, bwe.Mbps, 0)
	_, raw, ok := e.Step(ms(2000))
	if !ok || raw.Batches != 2 || raw.Packets != 3 || raw.Jitter != 0 {
		t.Errorf("Step(2 s) = %+v, %v; want 2 batches, 3 packets, jitter 0", raw, ok)
	}
	if st := e.Stats(); st.Late != 1 || st.Duplicates != 1 {
		t.Errorf("Stats() = %+v, want 1 late batch and 1 duplicate", st)
	}
}

func TestExtractorQueueOverflow(t *testing.T) {
	e, _ := NewExtractor(ExtractorConfig{MaxEmptyRun: 1000})
	// 40 batches a second apart without Step: each closes one interval.
	for i := range 40 {
		e.Add(bwe.Feedback{Time: ms(int64(i) * 1000), Packets: []bwe.PacketResult{recv(int64(i), int64(i)*1000, int64(i)*1000+20, 100)}}, bwe.Mbps, 0)
	}
	n := 0
	var first bwe.Time
	for {
		_, raw, ok := e.Step(ms(39000))
		if !ok {
			break
		}
		if n == 0 {
			first = raw.Start
		}
		n++
	}
	if n != queueCap || first != ms(39000-queueCap*1000) {
		t.Errorf("got %d intervals from %v, want the last %d from %v", n, first, queueCap, ms(39000-queueCap*1000))
	}
	if st := e.Stats(); st.Dropped != 39-queueCap {
		t.Errorf("Stats().Dropped = %d, want %d", st.Dropped, 39-queueCap)
	}
}

func TestExtractorConfigErrors(t *testing.T) {
	for _, tt := range []struct {
		cfg  ExtractorConfig
		want string
	}{
		{ExtractorConfig{Interval: time.Microsecond}, "netstate: ExtractorConfig.Interval 1µs is below 1ms"},
		{ExtractorConfig{Interval: -time.Second}, "netstate: ExtractorConfig.Interval -1s is below 1ms"},
		{ExtractorConfig{MaxEmptyRun: -1}, "netstate: ExtractorConfig.MaxEmptyRun -1 is negative"},
	} {
		if _, err := NewExtractor(tt.cfg); err == nil || err.Error() != tt.want {
			t.Errorf("NewExtractor(%+v) error = %v, want %q", tt.cfg, err, tt.want)
		}
	}
}

// checkFeatureBounds fails if any feature is NaN or outside its range.
func checkFeatureBounds(t *testing.T, where string, f Features) {
	t.Helper()
	for k, v := range f {
		lo, hi := FeatureRange(k)
		if !(v >= lo && v <= hi) {
			t.Fatalf("%s: feature %s = %v outside [%v, %v]", where, featureNames[k], v, lo, hi)
		}
	}
}

func checkRawBounds(t *testing.T, where string, r Raw) {
	t.Helper()
	if r.Sent < 0 || r.Acked < 0 || r.Estimate < 0 || r.RTT < 0 || r.Jitter < 0 ||
		!(r.Loss >= 0 && r.Loss <= 1) || !isFinite(r.DelayTrend) || r.Lost > r.Packets || r.End < r.Start {
		t.Fatalf("%s: raw out of bounds: %+v", where, r)
	}
}

func TestExtractorDegenerate(t *testing.T) {
	e, _ := NewExtractor(ExtractorConfig{})
	batches := []bwe.Feedback{
		{Time: 0},
		{Time: ms(10), Packets: []bwe.PacketResult{{Received: true}, {Received: true}}}, // zero sizes, same times
		{Time: ms(20), Packets: []bwe.PacketResult{{Seq: 5, SendTime: ms(100), Arrival: ms(-100000), Size: -50, Received: true}}},
		{Time: ms(30), Packets: []bwe.PacketResult{{Seq: 6, SendTime: bwe.MinTime, Arrival: bwe.MaxTime, Size: math.MaxInt64, Received: true}}},
		{Time: ms(40), Packets: []bwe.PacketResult{{Seq: 7, SendTime: bwe.MaxTime, Arrival: bwe.MinTime, Size: math.MaxInt64, Received: true}}},
		{Time: bwe.MaxTime / 2, Packets: []bwe.PacketResult{{Seq: 8, SendTime: bwe.MaxTime, Arrival: bwe.MaxTime, Received: true}}},
		{Time: bwe.MinTime},
		{Time: bwe.MaxTime, Packets: []bwe.PacketResult{{Seq: 9, Size: 1}}},
	}
	for i, fb := range batches {
		e.Add(fb, bwe.MaxBitrate, time.Duration(math.MaxInt64))
		for n := 0; ; n++ {
			f, raw, ok := e.Step(fb.Time)
			if !ok {
				break
			}
			if n > 1000 {
				t.Fatalf("batch %d: Step keeps returning intervals", i)
			}
			checkFeatureBounds(t, "degenerate", f)
			checkRawBounds(t, "degenerate", raw)
		}
	}
	for n := 0; ; n++ {
		if _, _, ok := e.Step(bwe.MaxTime); !ok {
			break
		}
		if n > 1000 {
			t.Fatalf("Step(MaxTime) keeps returning intervals")
		}
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name string
		raw  Raw
		want Features
	}{
		{"zero", Raw{}, Features{-8, -8, -8, 0, 0, 0, 0}},
		{"reference", Raw{Estimate: bwe.Mbps, Sent: 2 * bwe.Mbps, Acked: bwe.Mbps / 2, RTT: 100 * time.Millisecond, Jitter: 50 * time.Millisecond, Loss: 0.1, DelayTrend: 50},
			Features{0, 1, -1, 1, 0.5, 0.1, 0.5}},
		{"clamped high", Raw{Estimate: bwe.MaxBitrate, Sent: bwe.Gbps, Acked: 300 * bwe.Mbps, RTT: time.Hour, Jitter: 2 * time.Second, Loss: 2, DelayTrend: 1e9},
			Features{8, 8, 8, 10, 10, 1, 10}},
		{"clamped low", Raw{Estimate: 1, Sent: -5, Acked: 3 * bwe.Kbps, RTT: -time.Second, Jitter: -1, Loss: -1, DelayTrend: math.Inf(-1)},
			Features{-8, -8, -8, 0, 0, 0, -10}},
		{"NaN", Raw{Loss: math.NaN(), DelayTrend: math.NaN()}, Features{-8, -8, -8, 0, 0, 0, 0}},
	}
	for _, tt := range tests {
		checkFeatures(t, tt.name, Normalize(tt.raw), tt.want)
	}
}

// steadyFeed feeds an extractor a batch of 20 packets every 50 ms, every
// lossEvery-th packet lost, and collects the intervals it closes.
type steadyFeed struct {
	e         *Extractor
	pk        []bwe.PacketResult
	at        bwe.Time
	seq       int64
	lossEvery int64
}

func newSteadyFeed(lossEvery int64) *steadyFeed {
	e, _ := NewExtractor(ExtractorConfig{})
	return &steadyFeed{e: e, pk: make([]bwe.PacketResult, 20), lossEvery: lossEvery}
}

// next adds the next batch and steps every interval it closed.
func (f *steadyFeed) next() {
	f.at = f.at.Add(50 * time.Millisecond)
	for i := range f.pk {
		send := f.at.Add(-time.Duration(20-i) * 2500 * time.Microsecond)
		f.pk[i] = bwe.PacketResult{Seq: f.seq, SendTime: send, Arrival: send.Add(30 * time.Millisecond), Size: 1200, Received: f.seq%f.lossEvery != 0}
		f.seq++
	}
	f.e.Add(bwe.Feedback{Time: f.at, Packets: f.pk}, 2*bwe.Mbps, 60*time.Millisecond)
	for {
		if _, _, ok := f.e.Step(f.at); !ok {
			return
		}
	}
}

func TestExtractorNoAllocs(t *testing.T) {
	f := newSteadyFeed(10)
	for range 100 {
		f.next()
	}
	if n := testing.AllocsPerRun(200, f.next); n != 0 {
		t.Errorf("Add and Step allocate %v times per batch, want 0", n)
	}
}
