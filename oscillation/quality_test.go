package oscillation

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// The quality test: labelled synthetic series around 2 Mbps, sampled
// irregularly, fed to every detector.
//
// Sampling: inter-sample intervals uniform in [20, 100] ms; in the "gaps"
// variant, after each sample a gap of uniform [1, 3] s replaces the
// interval with probability 0.003 (about one gap per 20 s).
//
// Positives: m + A·shape(t/P + φ) + n(t), m = 2 Mbps, shape ∈ {sine,
// square, sawtooth} with values in [−1, 1], P ∈ {2, 3, 5, 8, 12, 20} s,
// A ∈ {10, 20, 30, 40} % of m, φ uniform, n white Gaussian noise drawn per
// sample with variance Ps/SNR, Ps the power of A·shape (A²/2 sine, A²
// square, A²/3 sawtooth), SNR ∈ {3, 5, 10}. Length Window + 3P.
//
// Negatives (60 s, plus white noise of σ uniform in [0, 5] % of m):
// steps up and down by 10–50 % at a uniform instant in [10, 50] s; linear
// ramps up and down over the whole series (±10, 25, 50 % about m) or over
// [10, 40] s only; random walks with Gaussian increments of σ·√Δt, σ ∈ {2,
// 5, 10} % of m per √s, kept above 20 % of m; single drops of 1–5 s and
// 20–50 % at a uniform instant in [15, 55] s, recovering at once or along
// a ramp of 3–8 s; pure noise of σ ∈ {2, 5, 10, 15, 20} % of m.

const qualityMean = 2 * bwe.Mbps

type labelled struct {
	class  string // breakdown key
	pos    bool
	period float64 // s, positives only
	snr    float64
	at     []bwe.Time
	v      []bwe.Bitrate
}

// sampler produces the irregular sample instants.
type sampler struct {
	rng  *rand.Rand
	gaps bool
}

func (s sampler) times(dst []bwe.Time, length time.Duration) []bwe.Time {
	dst = dst[:0]
	t := time.Duration(s.rng.IntN(100)) * time.Millisecond
	for t <= length {
		dst = append(dst, bwe.TimeFromDuration(t))
		dt := 20*time.Millisecond + time.Duration(s.rng.Float64()*float64(80*time.Millisecond))
		if s.gaps && s.rng.Float64() < 0.003 {
			dt = time.Second + time.Duration(s.rng.Float64()*float64(2*time.Second))
		}
		t += dt
	}
	return dst
}

func shapeValue(shape string, phase float64) float64 {
	f := phase - math.Floor(phase)
	switch shape {
	case "sine":
		return math.Sin(2 * math.Pi * f)
	case "square":
		if f < 0.5 {
			return 1
		}
		return -1
	}
	return 2*f - 1 // sawtooth: slow rise, sudden drop
}

func shapePower(shape string) float64 {
	switch shape {
	case "sine":
		return 0.5
	case "square":
		return 1
	}
	return 1.0 / 3
}

var (
	qualityShapes  = []string{"sine", "square", "sawtooth"}
	qualityPeriods = []float64{2, 3, 5, 8, 12, 20}
	qualityAmps    = []float64{0.1, 0.2, 0.3, 0.4}
	qualitySNRs    = []float64{3, 5, 10}
)

func clampRate(v float64) bwe.Bitrate { return bwe.BitrateFromFloat(max(v, 0)) }

func secs(t bwe.Time) float64 { return float64(t) / 1e6 }

// positives returns one series per shape × period × amplitude × SNR ×
// {regular, gaps}.
func positives(seed uint64, window time.Duration) []labelled {
	rng := rand.New(rand.NewPCG(seed, 0x05c1))
	var out []labelled
	for _, shape := range qualityShapes {
		for _, p := range qualityPeriods {
			for _, a := range qualityAmps {
				for _, snr := range qualitySNRs {
					for _, gaps := range []bool{false, true} {
						length := window + time.Duration(3*p*float64(time.Second))
						at := sampler{rng, gaps}.times(nil, length)
						m := qualityMean.Float()
						amp := a * m
						sigma := math.Sqrt(amp * amp * shapePower(shape) / snr)
						phi := rng.Float64()
						v := make([]bwe.Bitrate, len(at))
						for i, t := range at {
							v[i] = clampRate(m + amp*shapeValue(shape, secs(t)/p+phi) + sigma*rng.NormFloat64())
						}
						out = append(out, labelled{
							class: fmt.Sprintf("%s %gs", shape, p), pos: true, period: p, snr: snr, at: at, v: v,
						})
					}
				}
			}
		}
	}
	return out
}

// negatives returns reps replicates of every negative class.
func negatives(seed uint64, reps int) []labelled {
	rng := rand.New(rand.NewPCG(seed, 0x0e9a))
	m := qualityMean.Float()
	const length = 60 * time.Second
	var out []labelled
	add := func(class string, gaps bool, noise float64, f func(t float64) float64) {
		at := sampler{rng, gaps}.times(nil, length)
		sigma := noise * m
		v := make([]bwe.Bitrate, len(at))
		for i, t := range at {
			v[i] = clampRate(f(secs(t)) + sigma*rng.NormFloat64())
		}
		out = append(out, labelled{class: class, at: at, v: v})
	}
	u := func(lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }
	for r := range reps {
		gaps := r%2 == 1
		for _, dir := range []float64{1, -1} {
			for _, size := range []float64{0.1, 0.2, 0.3, 0.4, 0.5} {
				at := u(10, 50)
				add("step", gaps, u(0, 0.05), func(t float64) float64 {
					if t < at {
						return m
					}
					return m * (1 + dir*size)
				})
			}
			for _, size := range []float64{0.1, 0.25, 0.5} {
				add("ramp", gaps, u(0, 0.05), func(t float64) float64 {
					return m * (1 + dir*size*(t/30-1))
				})
			}
			for _, size := range []float64{0.2, 0.5} {
				add("ramp (partial)", gaps, u(0, 0.05), func(t float64) float64 {
					x := min(max(t, 10), 40)
					return m * (1 + dir*size*((x-10)/30-0.5))
				})
			}
		}
		for _, s := range []float64{0.02, 0.05, 0.1} {
			for range 3 {
				// The walk advances with the sample instants, so it is
				// drawn on the fly from its own state.
				level, last := m, 0.0
				walkRng := rand.New(rand.NewPCG(rng.Uint64(), 1))
				add(fmt.Sprintf("random walk %g%%", s*100), gaps, u(0, 0.05), func(t float64) float64 {
					dt := t - last
					last = t
					level += s * m * math.Sqrt(max(dt, 0)) * walkRng.NormFloat64()
					if level < 0.2*m {
						level = 0.4*m - level
					}
					return level
				})
			}
		}
		for _, dur := range []float64{1, 2, 3, 5} {
			for _, depth := range []float64{0.2, 0.35, 0.5} {
				at := u(15, 55)
				rec := 0.0
				if rng.IntN(2) == 1 {
					rec = u(3, 8)
				}
				add("drop", gaps, u(0, 0.05), func(t float64) float64 {
					switch {
					case t < at:
						return m
					case t < at+dur:
						return m * (1 - depth)
					case t < at+dur+rec:
						return m * (1 - depth*(1-(t-at-dur)/rec))
					}
					return m
				})
			}
		}
		for _, s := range []float64{0.02, 0.05, 0.1, 0.15, 0.2} {
			add("noise", gaps, s, func(float64) float64 { return m })
		}
	}
	return out
}

// outcome is one detector's result on one series.
type outcome struct {
	detected  bool    // positives: Detected at the end with the period within 10 %
	relErr    float64 // positives: |period − truth| / truth at the end
	anyFlag   bool    // negatives: Detected at any instant once the window filled
	flagged   int     // negatives: instants flagged once the window filled
	instants  int     // negatives: instants once the window filled
	endPeriod time.Duration
}

func runSeries(det bwe.OscillationDetector, s *labelled, window time.Duration) outcome {
	det.Reset()
	var o outcome
	var last bwe.Oscillation
	filled := s.at[0].Add(window)
	for i, t := range s.at {
		last = det.Add(t, s.v[i])
		if !s.pos && t >= filled {
			o.instants++
			if last.Detected {
				o.flagged++
				o.anyFlag = true
			}
		}
	}
	o.endPeriod = last.Period
	if s.pos && last.Detected {
		o.relErr = math.Abs(last.Period.Seconds()-s.period) / s.period
		o.detected = o.relErr <= 0.1
	}
	return o
}

type qualityRow struct {
	name                   string
	pos, det, neg, fa      int
	flagged, instants      int
	errs                   []float64
	badPeriod              int // Detected at the end but period off by more than 10 %
	posByClass, detByClass map[string]int
	negByClass, faByClass  map[string]int
	posBySNR, detBySNR     map[float64]int
}

// qualityShortfalls are the detectors known to miss an acceptance bound,
// with what they miss, as measured by TestQuality and reported in
// docs/oscillation-detectors.md. For them the test reports the numbers
// instead of failing, and fails as soon as one meets every bound, so that
// the list cannot go stale. Every other detector must meet every bound.
var qualityShortfalls = map[string]string{}

func TestQuality(t *testing.T) {
	if testing.Short() {
		t.Skip("quality test skipped in -short mode")
	}
	cfg := DefaultConfig()
	var series []labelled
	for _, seed := range []uint64{1, 2} {
		series = append(series, positives(seed, cfg.Window)...)
	}
	series = append(series, negatives(11, 4)...)
	series = append(series, negatives(12, 4)...)

	var rows []*qualityRow
	for _, name := range Names() {
		det, err := NewByName(name, Config{})
		if err != nil {
			t.Fatal(err)
		}
		r := &qualityRow{name: name,
			posByClass: map[string]int{}, detByClass: map[string]int{},
			negByClass: map[string]int{}, faByClass: map[string]int{},
			posBySNR: map[float64]int{}, detBySNR: map[float64]int{}}
		for i := range series {
			s := &series[i]
			o := runSeries(det, s, cfg.Window)
			if s.pos {
				r.pos++
				r.posByClass[s.class]++
				r.posBySNR[s.snr]++
				if det.(interface{ State() bwe.Oscillation }).State().Detected && !o.detected {
					r.badPeriod++
				}
				if o.detected {
					r.det++
					r.detByClass[s.class]++
					r.detBySNR[s.snr]++
					r.errs = append(r.errs, o.relErr)
				}
				continue
			}
			r.neg++
			r.negByClass[s.class]++
			r.flagged += o.flagged
			r.instants += o.instants
			if o.anyFlag {
				r.fa++
				r.faByClass[s.class]++
			}
		}
		rows = append(rows, r)
	}

	if testing.Verbose() {
		t.Log("\n" + qualityTables(rows))
	}
	for _, r := range rows {
		detRate := float64(r.det) / float64(r.pos)
		faRate := float64(r.fa) / float64(r.neg)
		if why, known := qualityShortfalls[r.name]; known {
			if detRate >= 0.95 && faRate <= 0.05 && r.badPeriod == 0 {
				t.Errorf("%s now meets every bound (detection %.1f %%, false alarms %.1f %%): remove it from qualityShortfalls and update docs/oscillation-detectors.md", r.name, 100*detRate, 100*faRate)
			} else {
				t.Logf("%s: known shortfall (%s): detection %.1f %%, false alarms %.1f %%, %d detections off by more than 10 %%", r.name, why, 100*detRate, 100*faRate, r.badPeriod)
			}
			continue
		}
		if detRate < 0.95 {
			t.Errorf("%s: detection %.1f %% of %d positives, want ≥ 95 %%", r.name, 100*detRate, r.pos)
		}
		if faRate > 0.05 {
			t.Errorf("%s: false alarms %.1f %% of %d negatives, want ≤ 5 %%", r.name, 100*faRate, r.neg)
		}
		if r.badPeriod > 0 {
			t.Errorf("%s: %d positives detected with a period off by more than 10 %%", r.name, r.badPeriod)
		}
	}
}

func pct(a, b int) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f", 100*float64(a)/float64(b))
}

func qualityTables(rows []*qualityRow) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| detector | detection %% | false alarms %% (any instant) | flagged instants %% | median period error %% | max period error %% |\n")
	fmt.Fprintf(&b, "| --- | ---: | ---: | ---: | ---: | ---: |\n")
	for _, r := range rows {
		slices.Sort(r.errs)
		med, mx := 0.0, 0.0
		if len(r.errs) > 0 {
			med, mx = r.errs[len(r.errs)/2], r.errs[len(r.errs)-1]
		}
		fmt.Fprintf(&b, "| %s | %s (%d/%d) | %s (%d/%d) | %s | %.2f | %.2f |\n", r.name,
			pct(r.det, r.pos), r.det, r.pos, pct(r.fa, r.neg), r.fa, r.neg,
			pct(r.flagged, r.instants), 100*med, 100*mx)
	}
	b.WriteString("\nDetection % by SNR:\n\n| detector |")
	for _, snr := range qualitySNRs {
		fmt.Fprintf(&b, " SNR %g |", snr)
	}
	b.WriteString("\n| --- |" + strings.Repeat(" ---: |", len(qualitySNRs)) + "\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s |", r.name)
		for _, snr := range qualitySNRs {
			fmt.Fprintf(&b, " %s |", pct(r.detBySNR[snr], r.posBySNR[snr]))
		}
		b.WriteString("\n")
	}
	b.WriteString("\nDetection % by positive class:\n\n| class |")
	for _, r := range rows {
		fmt.Fprintf(&b, " %s |", r.name)
	}
	b.WriteString("\n| --- |" + strings.Repeat(" ---: |", len(rows)) + "\n")
	for _, shape := range qualityShapes {
		for _, p := range qualityPeriods {
			c := fmt.Sprintf("%s %gs", shape, p)
			fmt.Fprintf(&b, "| %s |", c)
			for _, r := range rows {
				fmt.Fprintf(&b, " %s |", pct(r.detByClass[c], r.posByClass[c]))
			}
			b.WriteString("\n")
		}
	}
	b.WriteString("\nFalse alarms % (any instant) by negative class:\n\n| class | series |")
	for _, r := range rows {
		fmt.Fprintf(&b, " %s |", r.name)
	}
	b.WriteString("\n| --- | ---: |" + strings.Repeat(" ---: |", len(rows)) + "\n")
	var classes []string
	for c := range rows[0].negByClass {
		classes = append(classes, c)
	}
	slices.Sort(classes)
	for _, c := range classes {
		fmt.Fprintf(&b, "| %s | %d |", c, rows[0].negByClass[c])
		for _, r := range rows {
			fmt.Fprintf(&b, " %s |", pct(r.faByClass[c], r.negByClass[c]))
		}
		b.WriteString("\n")
	}
	return b.String()
}
