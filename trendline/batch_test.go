package trendline

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// sameDetection reports whether a and b are equal bit for bit.
func sameDetection(a, b bwe.Detection) bool {
	return a.Usage == b.Usage &&
		math.Float64bits(a.Trend) == math.Float64bits(b.Trend) &&
		math.Float64bits(a.Modified) == math.Float64bits(b.Modified) &&
		math.Float64bits(a.Threshold) == math.Float64bits(b.Threshold)
}

// randomDeltas returns n deltas of a session whose delay ramps up and down
// with jitter, so that the detector goes through every state, with an
// occasional arrival jump backwards.
func randomDeltas(rng *rand.Rand, n int) []bwe.GroupDelta {
	out := make([]bwe.GroupDelta, n)
	var arrival, send bwe.Time
	for i := range out {
		sd := time.Duration(1+rng.IntN(10)) * time.Millisecond
		drift := time.Duration(int64(math.Sin(float64(i)/40)*3000)) * time.Microsecond
		ad := sd + drift + time.Duration(rng.IntN(4001)-2000)*time.Microsecond
		if rng.IntN(200) == 0 {
			ad = -time.Duration(rng.IntN(50)) * time.Millisecond
		}
		arrival, send = arrival.Add(ad), send.Add(sd)
		out[i] = bwe.GroupDelta{SendDelta: sd, ArrivalDelta: ad, SizeDelta: bwe.ByteCount(rng.IntN(3000) - 1500), Arrival: arrival, SendTime: send}
	}
	return out
}

// UpdateBatch must give what Update gives for each delta in turn, bit for
// bit, whatever the batch sizes (one to seven: pairs, triples and the odd
// ones), the window (down to the smallest) and the point in the session
// (window not yet full, counter below 2, after a Reset).
func TestUpdateBatchMatchesUpdate(t *testing.T) {
	for _, window := range []int{2, 3, 4, 20, 37} {
		t.Run(fmt.Sprintf("window=%d", window), func(t *testing.T) {
			cfg := Config{WindowSize: window}
			one, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			batched, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(uint64(window), 99))
			ds := randomDeltas(rng, 3000)
			out := make([]bwe.Detection, 8)
			for i := 0; i < len(ds); {
				n := min(1+rng.IntN(7), len(ds)-i)
				batched.UpdateBatch(ds[i:i+n], out)
				for k := range n {
					want := one.Update(ds[i+k])
					if got := out[k]; !sameDetection(got, want) {
						t.Fatalf("delta %d (batch of %d at %d): UpdateBatch gave %+v, Update gave %+v", i+k, n, i, got, want)
					}
				}
				i += n
				if i%1000 < n {
					one.Reset()
					batched.Reset()
				}
			}
			if one.trend != batched.trend || one.smoothed != batched.smoothed || one.det != batched.det {
				t.Errorf("final state differs: trend %v/%v, smoothed %v/%v", one.trend, batched.trend, one.smoothed, batched.smoothed)
			}
		})
	}
}

// slopes and slopes3 fit each window exactly as slope does.
func TestSlopesMatchSlope(t *testing.T) {
	e, err := New(Config{WindowSize: 5})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for step := range 200 {
		var start [3]int
		for k := range start {
			st := e.advance(&bwe.GroupDelta{
				SendDelta:    5 * time.Millisecond,
				ArrivalDelta: time.Duration(rng.IntN(10000)) * time.Microsecond,
				Arrival:      bwe.Time(int64(step*3+k) * 5000),
			})
			start[k] = st.start
		}
		if start[0] < 0 {
			continue
		}
		ka, oka, kb, okb := e.slopes(start[0], start[1])
		wa, woka := e.slope(start[0])
		wb, wokb := e.slope(start[1])
		if math.Float64bits(ka) != math.Float64bits(wa) || oka != woka || math.Float64bits(kb) != math.Float64bits(wb) || okb != wokb {
			t.Fatalf("step %d: slopes = %v %v %v %v, slope = %v %v %v %v", step, ka, oka, kb, okb, wa, woka, wb, wokb)
		}
		ka, oka, kb, okb, kc, okc := e.slopes3(start[0], start[1], start[2])
		wc, wokc := e.slope(start[2])
		if math.Float64bits(ka) != math.Float64bits(wa) || oka != woka || math.Float64bits(kb) != math.Float64bits(wb) ||
			okb != wokb || math.Float64bits(kc) != math.Float64bits(wc) || okc != wokc {
			t.Fatalf("step %d: slopes3 = %v %v %v %v %v %v, slope = %v %v %v %v %v %v", step, ka, oka, kb, okb, kc, okc, wa, woka, wb, wokb, wc, wokc)
		}
	}
}

// UpdateBatch allocates nothing.
func TestUpdateBatchAllocatesNothing(t *testing.T) {
	e, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	src := deltaSource{spacing: 5 * time.Millisecond}
	ds := make([]bwe.GroupDelta, 5)
	out := make([]bwe.Detection, 5)
	fill := func() {
		for i := range ds {
			ds[i] = src.next()
		}
	}
	for range 50 {
		fill()
		e.UpdateBatch(ds, out)
	}
	if n := testing.AllocsPerRun(200, func() {
		fill()
		e.UpdateBatch(ds, out)
	}); n != 0 {
		t.Errorf("UpdateBatch allocates %v times per call, want 0", n)
	}
}

// mannKendallSwitch is mannKendall as a switch per pair, the reference for
// the branch-free count.
func mannKendallSwitch(ys []float64) float64 {
	k := len(ys)
	s, ties := 0, 0
	for i, yi := range ys {
		t := 1
		for j, yj := range ys {
			switch {
			case j == i:
			case yj == yi:
				t++
			case j > i && yj > yi:
				s++
			case j > i && yj < yi:
				s--
			}
		}
		ties += (t - 1) * (2*t + 5)
	}
	v := float64(k*(k-1)*(2*k+5)-ties) / 18
	switch {
	case v <= 0 || s == 0:
		return 0
	case s > 0:
		return float64(s-1) / math.Sqrt(v)
	}
	return float64(s+1) / math.Sqrt(v)
}

func TestMannKendallMatchesSwitch(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for trial := range 2000 {
		ys := make([]float64, 3+rng.IntN(30))
		for i := range ys {
			switch rng.IntN(10) {
			case 0:
				ys[i] = math.NaN()
			case 1, 2:
				ys[i] = float64(rng.IntN(3)) // ties
			case 3:
				ys[i] = math.Inf(rng.IntN(2)*2 - 1)
			default:
				ys[i] = rng.NormFloat64()
			}
		}
		got, want := mannKendall(ys), mannKendallSwitch(ys)
		if math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("trial %d: mannKendall(%v) = %v, want %v", trial, ys, got, want)
		}
	}
}

// FuzzUpdateBatch splits decoded deltas into batches whose sizes come from
// the input: UpdateBatch must give what Update gives, and well-formed
// detections.
func FuzzUpdateBatch(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		one, err := New(Config{})
		if err != nil {
			t.Fatal(err)
		}
		batched, err := New(Config{})
		if err != nil {
			t.Fatal(err)
		}
		ds := decodeDeltas(data)
		out := make([]bwe.Detection, 8)
		for i := 0; i < len(ds); {
			n := min(1+int(data[i%len(data)]%8), len(ds)-i)
			batched.UpdateBatch(ds[i:i+n], out)
			for k := range n {
				want := one.Update(ds[i+k])
				checkDetection(t, i+k, ds[i+k], out[k], 6, 600)
				if !sameDetection(out[k], want) {
					t.Fatalf("step %d: UpdateBatch gave %+v, Update gave %+v", i+k, out[k], want)
				}
			}
			i += n
		}
	})
}
