package metrics

import (
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// rates decodes fuzz bytes into rates, two bytes a sample: mostly plain
// rates up to ~6.5 Mbps, with the extremes mixed in.
func rates(data []byte) []bwe.Bitrate {
	out := make([]bwe.Bitrate, 0, len(data)/2)
	for i := 0; i+1 < len(data); i += 2 {
		a, b := data[i], data[i+1]
		var r bwe.Bitrate
		switch a {
		case 250:
			r = bwe.MaxBitrate
		case 251:
			r = math.MinInt64
		case 252:
			r = -bwe.Bitrate(b) * bwe.Kbps
		case 253:
			r = bwe.Bitrate(b) << 55
		case 254:
			r = bwe.Bitrate(b)
		default:
			r = (bwe.Bitrate(a)<<8 | bwe.Bitrate(b)) * 100
		}
		out = append(out, r)
	}
	return out
}

// instants decodes fuzz bytes into instants, eight bytes each.
func instants(data []byte) []bwe.Time {
	out := make([]bwe.Time, 0, len(data)/8)
	for i := 0; i+7 < len(data); i += 8 {
		out = append(out, bwe.Time(binary.LittleEndian.Uint64(data[i:])))
	}
	return out
}

// fuzzStep maps a fuzz integer to a step, mostly sensible, sometimes not.
func fuzzStep(x int64) time.Duration {
	switch x % 5 {
	case 0:
		return 100 * time.Millisecond
	case 1:
		return time.Duration(x)
	case 2:
		return time.Second
	case 3:
		return 10 * time.Millisecond
	}
	return time.Duration(x>>3) * time.Microsecond
}

func checkFraction(t *testing.T, what string, x float64) {
	t.Helper()
	if !finite(x) || x < 0 || x > 1 {
		t.Fatalf("%s = %v, want a fraction in [0, 1]", what, x)
	}
}

func checkNonNeg(t *testing.T, what string, x float64) {
	t.Helper()
	if !finite(x) || x < 0 {
		t.Fatalf("%s = %v, want finite and ≥ 0", what, x)
	}
}

var seedRates = []byte{0, 10, 0, 20, 3, 232, 250, 0, 251, 0, 252, 9, 253, 200, 254, 1, 0, 0, 39, 16}

func FuzzPercentile(f *testing.F) {
	f.Add(seedRates, 0.95)
	f.Add([]byte{}, 0.5)
	f.Fuzz(func(t *testing.T, data []byte, p float64) {
		x := rates(data)
		got := Percentile(x, p)
		if len(x) == 0 {
			if got != 0 {
				t.Fatalf("Percentile(empty) = %v", got)
			}
			return
		}
		found := false
		for _, v := range x {
			found = found || v == got
		}
		if !found {
			t.Fatalf("Percentile = %v, not an element of %v", got, x)
		}
		d := make([]time.Duration, len(x))
		for i, v := range x {
			d[i] = time.Duration(v)
		}
		q, base := QueuingDelays(nil, d)
		for _, v := range q {
			if v < 0 {
				t.Fatalf("QueuingDelays gave %v < 0 (base %v)", v, base)
			}
		}
		_ = DelayQuantiles(q)
	})
}

func FuzzSeries(f *testing.F) {
	f.Add(seedRates, int64(0), int64(50e6), int64(300e6))
	f.Fuzz(func(t *testing.T, data []byte, stepSeed, from, to int64) {
		s := Series{Step: fuzzStep(stepSeed), Rates: rates(data)}
		if s.Duration() < 0 {
			t.Fatalf("Duration() = %v", s.Duration())
		}
		if m := s.Mean(); m < 0 {
			t.Fatalf("Mean() = %v", m)
		}
		if r, ok := s.At(time.Duration(from)); r < 0 || (!ok && r != 0) {
			t.Fatalf("At = %v, %v", r, ok)
		}
		w := s.Window(time.Duration(from), time.Duration(to))
		if w.Len() > s.Len() {
			t.Fatalf("Window longer than the series")
		}
		var end time.Duration
		for i, p := range Phases(nil, s) {
			if p.Start < end || p.End <= p.Start || p.Capacity < 0 || (i > 0 && p.Start != end) {
				t.Fatalf("phase %d = %+v after end %v", i, p, end)
			}
			end = p.End
		}
	})
}

func FuzzUtilization(f *testing.F) {
	f.Add(seedRates, seedRates[4:], int64(0), int64(2), int64(5e9))
	f.Fuzz(func(t *testing.T, r, c []byte, rs, cs, settle int64) {
		rate := Series{Step: fuzzStep(rs), Rates: rates(r)}
		capacity := Series{Step: fuzzStep(cs), Rates: rates(c)}
		u, n := Utilization(rate, capacity)
		checkNonNeg(t, "Utilization", u)
		if n < 0 || (n == 0 && u != 0) {
			t.Fatalf("Utilization = %v over %d samples", u, n)
		}
		phases, err := UtilizationByPhase(nil, rate, capacity, time.Duration(settle))
		if (err != nil) != (settle < 0) {
			t.Fatalf("UtilizationByPhase(settle %v) error %v", settle, err)
		}
		for _, p := range phases {
			checkNonNeg(t, "phase utilization", p.Utilization)
		}
		su, _ := SteadyUtilization(phases)
		checkNonNeg(t, "SteadyUtilization", su)
		lost, recv := int(rs%1000), int(cs%1000)
		checkFraction(t, "LossRate", LossRate(lost, recv))
	})
}

func FuzzJain(f *testing.F) {
	f.Add(seedRates)
	f.Fuzz(func(t *testing.T, data []byte) {
		x := rates(data)
		j := Jain(x)
		if len(x) == 0 {
			if j != 0 {
				t.Fatalf("Jain(empty) = %v", j)
			}
			return
		}
		checkFraction(t, "Jain", j)
		if j < 1/float64(len(x))-1e-12 {
			t.Fatalf("Jain = %v below 1/N", j)
		}
	})
}

func FuzzThroughputRatio(f *testing.F) {
	f.Add(seedRates, seedRates[2:], int64(0), int64(0), int64(1e9))
	f.Fuzz(func(t *testing.T, a, b []byte, as, bs, window int64) {
		x := Series{Step: fuzzStep(as), Rates: rates(a)}
		y := Series{Step: fuzzStep(bs), Rates: rates(b)}
		r, err := ThroughputRatio(x, y, time.Duration(window))
		if err == nil {
			checkFraction(t, "Fraction", r.Fraction)
			if r.Within > r.Windows || r.Windows < 0 || r.Idle < 0 {
				t.Fatalf("ThroughputRatio = %+v", r)
			}
		}
		for _, r := range RFC8868Fairness(x, y) {
			checkFraction(t, "RFC 8868 fraction", r.Fraction)
		}
	})
}

func FuzzConvergence(f *testing.F) {
	f.Add(seedRates, int64(0), int64(1e6), 0.1, int64(5e9), int64(5e9))
	f.Fuzz(func(t *testing.T, data []byte, stepSeed, ref int64, band float64, hold, tail int64) {
		s := Series{Step: fuzzStep(stepSeed), Rates: rates(data)}
		cfg := ConvergenceConfig{Band: band, Hold: time.Duration(hold), Tail: time.Duration(tail)}
		for _, self := range []bool{false, true} {
			var c Convergence
			var err error
			if self {
				c, err = ConvergenceSelf(s, cfg)
			} else {
				c, err = ConvergenceTo(s, bwe.Bitrate(ref), cfg)
			}
			if err != nil {
				continue
			}
			if c.Time < 0 || c.Steady < 0 || (!c.Converged && c.Time != 0) || c.Time > s.Duration() {
				t.Fatalf("Convergence = %+v (self %v) for a %v series", c, self, s.Duration())
			}
		}
	})
}

func FuzzSwings(f *testing.F) {
	f.Add(seedRates, int64(1e6), int64(1.1e6))
	f.Fuzz(func(t *testing.T, data []byte, lo, hi int64) {
		s := Series{Step: step, Rates: rates(data)}
		n, err := Swings(s, bwe.Bitrate(lo), bwe.Bitrate(hi))
		if (err != nil) != (lo >= hi) || n < 0 || n > max(s.Len()-1, 0) {
			t.Fatalf("Swings = %d, %v", n, err)
		}
		for _, w := range RFC8868Swings(s) {
			if w.Swings < 0 || w.Swings > max(s.Len()-1, 0) {
				t.Fatalf("RFC8868Swings = %+v", w)
			}
		}
	})
}

func FuzzWindowedCV(f *testing.F) {
	f.Add(seedRates, seedRates[6:], int64(0), int64(2), int64(1e9))
	f.Fuzz(func(t *testing.T, r, c []byte, rs, cs, window int64) {
		rate := Series{Step: fuzzStep(rs), Rates: rates(r)}
		capacity := Series{Step: fuzzStep(cs), Rates: rates(c)}
		st, err := WindowedCV(rate, capacity, time.Duration(window))
		if err != nil {
			return
		}
		checkNonNeg(t, "CV mean", st.Mean)
		checkNonNeg(t, "CV max", st.Max)
		if st.Mean > st.Max*(1+1e-9) || st.Windows < 0 || (st.Windows == 0 && st.Max != 0) {
			t.Fatalf("WindowedCV = %+v", st)
		}
	})
}

func FuzzReversals(f *testing.F) {
	f.Add(seedRates, int64(0), 0.1)
	f.Fuzz(func(t *testing.T, data []byte, stepSeed int64, threshold float64) {
		s := Series{Step: fuzzStep(stepSeed), Rates: rates(data)}
		r, err := CountReversals(s, threshold)
		if err != nil {
			return
		}
		checkNonNeg(t, "PerMinute", r.PerMinute)
		if r.Count < 0 || r.Count > max(s.Len()-2, 0) {
			t.Fatalf("CountReversals = %+v over %d samples", r, s.Len())
		}
	})
}

func FuzzSpectrum(f *testing.F) {
	f.Add(seedRates, seedRates[8:], int64(0), int64(2), int64(0), int64(0), false, int64(5e9))
	f.Fuzz(func(t *testing.T, r, c []byte, rs, cs, minP, maxP int64, linear bool, settle int64) {
		cfg := SpectrumConfig{MinPeriod: time.Duration(minP), MaxPeriod: time.Duration(maxP)}
		if linear {
			cfg.Detrend = DetrendLinear
		}
		sp, err := NewSpectrum(cfg)
		if err != nil {
			return
		}
		rate := Series{Step: fuzzStep(rs), Rates: rates(r)}
		p := sp.Dominant(rate)
		checkFraction(t, "Strength", p.Strength)
		if p.Period < 0 || p.Amplitude < 0 || p.Mean < 0 {
			t.Fatalf("Dominant = %+v", p)
		}
		if p.Period != 0 && (p.Period < sp.Config().MinPeriod || p.Period > sp.Config().MaxPeriod) {
			t.Fatalf("Dominant period %v outside [%v, %v]", p.Period, sp.Config().MinPeriod, sp.Config().MaxPeriod)
		}
		capacity := Series{Step: fuzzStep(cs), Rates: rates(c)}
		o, err := sp.OscillationIndex(rate, capacity, time.Duration(settle))
		if err != nil {
			return
		}
		checkNonNeg(t, "Index", o.Index)
		checkNonNeg(t, "Max", o.Max)
		checkFraction(t, "oscillation strength", o.Strength)
		if o.Phases < 0 || o.Analysed < 0 || o.Period < 0 || o.Index > o.Max*(1+1e-9) {
			t.Fatalf("OscillationIndex = %+v", o)
		}
	})
}

func FuzzFreezes(f *testing.F) {
	f.Add(binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, 0), 33333))
	f.Fuzz(func(t *testing.T, data []byte) {
		frames := instants(data)
		fr := CountFreezes(frames)
		if fr.Count < 0 || fr.Total < 0 || fr.Count > fr.Intervals || fr.Intervals+fr.Skipped != max(len(frames)-1, 0) {
			t.Fatalf("CountFreezes = %+v for %d frames", fr, len(frames))
		}
		if fr.Count == 0 && fr.Total != 0 {
			t.Fatalf("CountFreezes = %+v: duration without freeze", fr)
		}
	})
}

func FuzzMMSys21Score(f *testing.F) {
	f.Add(0.8, 1.0, int64(150e6), int64(50e6), int64(1.2e6), int64(1.5e6), 0.02)
	f.Fuzz(func(t *testing.T, video, audio float64, p95, minD, recv, ref int64, loss float64) {
		s := MMSys21Score(ChallengeInputs{
			Video: video, Audio: audio, DelayP95: time.Duration(p95), DelayMin: time.Duration(minD),
			ReceiveRate: bwe.Bitrate(recv), ReferenceRate: bwe.Bitrate(ref), LossRate: loss,
		})
		for _, x := range []float64{s.Video, s.Audio, s.Delay, s.Rate, s.Loss} {
			checkFraction(t, "term", x)
		}
		if !finite(s.Score) || s.Score < 0 || s.Score > 100 {
			t.Fatalf("Score = %v", s.Score)
		}
	})
}
