package lossbased

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// ms is a test instant, in milliseconds.
func ms(v int64) bwe.Time { return bwe.Time(v * 1000) }

// batch returns n packet results, the first lost ones marked not received,
// sent 1 ms apart before at.
func batch(at bwe.Time, n, lost int) []bwe.PacketResult {
	out := make([]bwe.PacketResult, n)
	for i := range out {
		out[i] = bwe.PacketResult{
			Seq:      int64(i),
			SendTime: at.Add(-time.Duration(n-i) * time.Millisecond),
			Size:     1200,
			Received: i >= lost,
		}
		if out[i].Received {
			out[i].Arrival = out[i].SendTime.Add(20 * time.Millisecond)
		}
	}
	return out
}

func newClassic(t testing.TB, cfg ClassicConfig) *Classic {
	t.Helper()
	c, err := NewClassic(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// libwebrtc send_side_bandwidth_estimation_unittest
// DoesntReapplyBitrateDecreaseWithoutFollowingRemb: 50 lost of 100
// (fraction 128/256) cuts a 1 Mbps estimate once; a later update without a
// new measurement leaves it unchanged.
func TestClassicDoesntReapplyDecreaseWithoutNewMeasurement(t *testing.T) {
	c := newClassic(t, ClassicConfig{Min: 100 * bwe.Kbps})
	c.SetEstimate(0, bwe.Mbps)
	r := c.Update(Input{Time: ms(11_000), Packets: batch(ms(11_000), 100, 50), RTT: 50 * time.Millisecond})
	if r.Loss != 128.0/256 {
		t.Errorf("Loss = %v, want 128/256", r.Loss)
	}
	// ×(512−128)/512 = 0.75.
	if r.Estimate != 750*bwe.Kbps {
		t.Errorf("after 50 %% loss: Estimate = %v, want 750 kbps", r.Estimate)
	}
	if r.State != Decreasing || !r.Ready {
		t.Errorf("after 50 %% loss: State %v, Ready %v; want decreasing, ready", r.State, r.Ready)
	}
	for _, at := range []int64{12_000, 13_000} {
		if got := c.Update(Input{Time: ms(at), RTT: 50 * time.Millisecond}).Estimate; got != r.Estimate {
			t.Errorf("Update at %d ms without a new measurement: Estimate = %v, want %v", at, got, r.Estimate)
		}
	}
}

// libwebrtc send_side_bandwidth_estimation_unittest
// FractionLossIsNotOverflowed: more lost than expected (duplicates) never
// gives a fraction above 255/256.
func TestClassicFractionSaturates(t *testing.T) {
	c := newClassic(t, ClassicConfig{})
	c.SetEstimate(0, bwe.Mbps)
	pk := batch(ms(1000), 40, 40)
	if r := c.Update(Input{Time: ms(1000), Packets: pk}); r.Loss != 255.0/256 {
		t.Errorf("all lost: Loss = %v, want 255/256", r.Loss)
	}
}

// TestClassicRules walks the three loss bands after the start phase.
func TestClassicRules(t *testing.T) {
	tests := []struct {
		name string
		lost int // of 100
		want bwe.Bitrate
	}{
		// 1.08 × 1 Mbps + 0.5, truncated, + 1 kbps.
		{"loss 0: increase", 0, 1_081_000},
		{"loss 2 %: increase", 2, 1_081_000}, // 5/256 = 1.95 %
		{"loss 5 %: hold", 5, bwe.Mbps},
		{"loss 10 %: hold", 10, bwe.Mbps}, // 25/256 = 9.77 %
		// 12 % → q8 30: ×482/512.
		{"loss 12 %: decrease", 12, 941_406},
		{"loss 50 %: decrease", 50, 750_000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newClassic(t, ClassicConfig{})
			c.SetEstimate(0, bwe.Mbps)
			// A first, lossless measurement at 0 opens the start phase;
			// the second update, at 3 s, is past it.
			c.Update(Input{Time: ms(0), Packets: batch(ms(0), 100, 0)})
			c.Update(Input{Time: ms(3000)})
			c.SetEstimate(ms(3000), bwe.Mbps)
			r := c.Update(Input{Time: ms(4001), Packets: batch(ms(4001), 100, tc.lost)})
			if r.Estimate != tc.want {
				t.Errorf("Estimate = %v, want %v", r.Estimate, tc.want)
			}
		})
	}
}

// TestClassicIncreaseStartsFromSlidingMinimum: increases compound only
// once per second, because each starts from the smallest estimate of the
// last second, however often Update is called.
func TestClassicIncreaseStartsFromSlidingMinimum(t *testing.T) {
	c := newClassic(t, ClassicConfig{})
	c.SetEstimate(0, bwe.Mbps)
	c.Update(Input{Time: ms(0), Packets: batch(ms(0), 100, 0)})
	c.Update(Input{Time: ms(2500), Packets: batch(ms(2500), 100, 0)})
	c.SetEstimate(ms(3000), 500*bwe.Kbps)
	var r Result
	for at := int64(3000); at <= 3990; at += 10 {
		r = c.Update(Input{Time: ms(at)})
	}
	// 1.08·500 k + 1 k, every update within the second.
	if r.Estimate != 541*bwe.Kbps {
		t.Fatalf("within the second: Estimate = %v, want 541 kbps", r.Estimate)
	}
	for at := int64(4000); at < 5000; at += 10 {
		r = c.Update(Input{Time: ms(at)})
	}
	// The second step starts from 541 k once 500 k has left the window
	// (at 4000 ms: entries are kept for the window less 1 ms).
	if r.Estimate != 585_280 {
		t.Fatalf("after two seconds: Estimate = %v, want 585280 bps", r.Estimate)
	}
}

// TestClassicDecreaseInterval: above 10 % loss, decreases come at most
// once per measurement and once per DecreaseInterval + RTT.
func TestClassicDecreaseInterval(t *testing.T) {
	cfg := ClassicConfig{LossInterval: 100 * time.Millisecond}
	c := newClassic(t, cfg)
	c.SetEstimate(0, bwe.Mbps)
	rtt := 200 * time.Millisecond
	var cuts []int64
	prev := c.Estimate()
	for at := int64(0); at <= 2000; at += 100 {
		r := c.Update(Input{Time: ms(at), Packets: batch(ms(at), 20, 10), RTT: rtt})
		if r.Estimate < prev {
			cuts = append(cuts, at)
		}
		prev = r.Estimate
	}
	// A measurement every 100 ms, a cut allowed every 300 + 200 ms.
	want := []int64{0, 500, 1000, 1500, 2000}
	if len(cuts) != len(want) {
		t.Fatalf("cuts at %v ms, want %v", cuts, want)
	}
	for i := range want {
		if cuts[i] != want[i] {
			t.Fatalf("cuts at %v ms, want %v", cuts, want)
		}
	}
}

// TestClassicStartPhase: in the first 2 s after the first measurement,
// without loss, the estimate follows the delay-based estimate up; later it
// only grows by the loss rule.
func TestClassicStartPhase(t *testing.T) {
	c := newClassic(t, ClassicConfig{})
	c.SetEstimate(0, 300*bwe.Kbps)
	r := c.Update(Input{Time: ms(100), Packets: batch(ms(100), 5, 0), DelayBased: 2 * bwe.Mbps})
	if r.Estimate != 2*bwe.Mbps {
		t.Fatalf("start phase: Estimate = %v, want the delay-based 2 Mbps", r.Estimate)
	}
	r = c.Update(Input{Time: ms(3000), Packets: batch(ms(3000), 50, 0), DelayBased: 5 * bwe.Mbps})
	if r.Estimate >= 5*bwe.Mbps || r.Estimate < 2*bwe.Mbps {
		t.Fatalf("after the start phase: Estimate = %v, want in [2, 5) Mbps", r.Estimate)
	}
}

// TestClassicCappedByDelayBased: the estimate never exceeds the
// delay-based estimate, and is loss-limited only when below it.
func TestClassicCappedByDelayBased(t *testing.T) {
	c := newClassic(t, ClassicConfig{})
	c.SetEstimate(0, 3*bwe.Mbps)
	c.Update(Input{Time: ms(0), Packets: batch(ms(0), 100, 0)})
	for at := int64(2100); at < 10_000; at += 100 {
		r := c.Update(Input{Time: ms(at), Packets: batch(ms(at), 10, 0), DelayBased: 1 * bwe.Mbps})
		if r.Estimate > bwe.Mbps {
			t.Fatalf("at %d ms: Estimate %v above the delay-based 1 Mbps", at, r.Estimate)
		}
		if r.State != DelayBasedEstimate {
			t.Fatalf("at %d ms: State %v while capped by delay", at, r.State)
		}
	}
}

// TestClassicHonoursLimits: heavy loss cannot take the estimate below the
// configured minimum, nor a long lossless run above the maximum. (A
// hard-coded 100 kbps floor would break the first case.)
func TestClassicHonoursLimits(t *testing.T) {
	tests := []struct {
		name     string
		min, max bwe.Bitrate
		lost     int // of 40 per 100 ms
		want     bwe.Bitrate
	}{
		{"50 % loss, min 300 kbps", 300 * bwe.Kbps, 10 * bwe.Mbps, 20, 300 * bwe.Kbps},
		{"50 % loss, min 20 kbps", 20 * bwe.Kbps, 10 * bwe.Mbps, 20, 20 * bwe.Kbps},
		{"no loss, max 1.2 Mbps", 100 * bwe.Kbps, 1200 * bwe.Kbps, 0, 1200 * bwe.Kbps},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newClassic(t, ClassicConfig{Min: tc.min, Max: tc.max})
			c.SetEstimate(0, bwe.Mbps)
			var r Result
			for at := int64(0); at <= 60_000; at += 100 {
				r = c.Update(Input{Time: ms(at), Packets: batch(ms(at), 40, tc.lost), RTT: 100 * time.Millisecond})
				if r.Estimate < tc.min || r.Estimate > tc.max {
					t.Fatalf("at %d ms: Estimate %v outside [%v, %v]", at, r.Estimate, tc.min, tc.max)
				}
			}
			if r.Estimate != tc.want {
				t.Errorf("after 60 s: Estimate = %v, want %v", r.Estimate, tc.want)
			}
		})
	}
}

// TestClassicCollapsesUnderRandomLoss records the rule's known weakness:
// 10 % random loss on an uncongested link drives it to its minimum.
func TestClassicCollapsesUnderRandomLoss(t *testing.T) {
	c := newClassic(t, ClassicConfig{Min: 50 * bwe.Kbps})
	c.SetEstimate(0, 2*bwe.Mbps)
	rng := rand.New(rand.NewPCG(1, 2))
	pk := make([]bwe.PacketResult, 0, 64)
	for at := int64(0); at <= 120_000; at += 50 {
		pk = pk[:0]
		n := max(int(c.Estimate().Over(50*time.Millisecond)/1200), 1)
		for i := range n {
			pk = append(pk, bwe.PacketResult{Seq: int64(i), SendTime: ms(at - 50), Size: 1200, Received: rng.Float64() >= 0.10})
		}
		c.Update(Input{Time: ms(at), Packets: pk, RTT: 100 * time.Millisecond})
	}
	// Collapse: below a quarter of what the link carries.
	if got := c.Estimate(); got > 500*bwe.Kbps {
		t.Errorf("after 120 s of 10 %% random loss: Estimate = %v, want the collapse below 500 kbps", got)
	}
}

func TestClassicReset(t *testing.T) {
	c := newClassic(t, ClassicConfig{Min: 40 * bwe.Kbps})
	c.SetEstimate(0, bwe.Mbps)
	c.Update(Input{Time: ms(0), Packets: batch(ms(0), 100, 50)})
	c.Reset()
	r := c.Update(Input{Time: ms(10)})
	if r.Ready || r.Estimate != 40*bwe.Kbps {
		t.Errorf("after Reset: Ready %v, Estimate %v; want not ready at Min 40 kbps", r.Ready, r.Estimate)
	}
}

func TestClassicSetLimits(t *testing.T) {
	c := newClassic(t, ClassicConfig{})
	c.SetEstimate(0, 5*bwe.Mbps)
	c.SetLimits(100*bwe.Kbps, 2*bwe.Mbps)
	if got := c.Estimate(); got != 2*bwe.Mbps {
		t.Errorf("after SetLimits(100k, 2M): Estimate = %v, want 2 Mbps", got)
	}
	c.SetLimits(3*bwe.Mbps, bwe.Mbps) // max below min: raised to min
	if got := c.Estimate(); got != 3*bwe.Mbps {
		t.Errorf("after SetLimits(3M, 1M): Estimate = %v, want 3 Mbps", got)
	}
	c.SetLimits(-5, 0) // negative min: 0; zero max: the configured 1 Gbps
	c.SetEstimate(0, 2*bwe.Gbps)
	if got := c.Estimate(); got != bwe.Gbps {
		t.Errorf("after SetLimits(-5, 0): Estimate = %v, want 1 Gbps", got)
	}
}

func TestNewClassicRejects(t *testing.T) {
	tests := []struct {
		cfg   ClassicConfig
		field string
	}{
		{ClassicConfig{Min: -1}, "Min"},
		{ClassicConfig{Min: 2 * bwe.Mbps, Max: bwe.Mbps}, "Max"},
		{ClassicConfig{LowLoss: -0.1}, "LowLoss"},
		{ClassicConfig{LowLoss: math.NaN()}, "LowLoss"},
		{ClassicConfig{HighLoss: 0.01}, "HighLoss"},
		{ClassicConfig{IncreaseFactor: 0.5}, "IncreaseFactor"},
		{ClassicConfig{IncreaseOffset: -1}, "IncreaseOffset"},
		{ClassicConfig{IncreaseWindow: -1}, "IncreaseWindow"},
		{ClassicConfig{DecreaseInterval: -1}, "DecreaseInterval"},
		{ClassicConfig{StartPhase: -1}, "StartPhase"},
		{ClassicConfig{MinPackets: -3}, "MinPackets"},
		{ClassicConfig{LossInterval: -1}, "LossInterval"},
		{ClassicConfig{MaxReportAge: -1}, "MaxReportAge"},
	}
	for _, tc := range tests {
		_, err := NewClassic(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("NewClassic(%+v) error = %v, want one naming %s", tc.cfg, err, tc.field)
		}
	}
}

func TestClassicUpdateDoesNotAllocate(t *testing.T) {
	c := newClassic(t, ClassicConfig{})
	c.SetEstimate(0, bwe.Mbps)
	pk := batch(0, 20, 2)
	at := bwe.Time(0)
	allocs := testing.AllocsPerRun(1000, func() {
		at = at.Add(20 * time.Millisecond)
		c.Update(Input{Time: at, Packets: pk, DelayBased: 2 * bwe.Mbps, RTT: 50 * time.Millisecond})
	})
	if allocs != 0 {
		t.Errorf("Update allocates %v times per call, want 0", allocs)
	}
}

func BenchmarkClassicUpdate(b *testing.B) {
	c := newClassic(b, ClassicConfig{})
	c.SetEstimate(0, bwe.Mbps)
	pk := batch(0, 20, 1)
	at := bwe.Time(0)
	b.ReportAllocs()
	for b.Loop() {
		at = at.Add(20 * time.Millisecond)
		c.Update(Input{Time: at, Packets: pk, DelayBased: 2 * bwe.Mbps, RTT: 50 * time.Millisecond})
	}
}
