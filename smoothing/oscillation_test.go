package smoothing

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

const period = 4 * time.Second

// detected is the oscillation verdict of the scenarios: a 4 s swing.
var detected = bwe.Oscillation{Detected: true, Period: period, Amplitude: 500 * bwe.Kbps, Mean: 1500 * bwe.Kbps, Strength: 0.9}

// square is a 1–2 Mbps square wave with a 4 s period, high first.
func square(at bwe.Time) bwe.Bitrate {
	if time.Duration(at.Micros())*time.Microsecond%period < period/2 {
		return 2 * bwe.Mbps
	}
	return bwe.Mbps
}

// sine is 1.5 Mbps ± 0.5 Mbps with a 4 s period.
func sine(at bwe.Time) bwe.Bitrate {
	ph := 2 * math.Pi * float64(at.Micros()) / float64(period.Microseconds())
	return bwe.Bitrate(math.Round(1.5e6 + 0.5e6*math.Sin(ph)))
}

// irregular returns n instants 20–100 ms apart from a seeded generator.
func irregular(seed uint64, n int) []bwe.Time {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]bwe.Time, n)
	at := bwe.Time(0)
	for i := range out {
		out[i] = at
		at = at.Add(time.Duration(20+r.IntN(81)) * time.Millisecond)
	}
	return out
}

// regular returns n instants every 50 ms.
func regular(n int) []bwe.Time {
	out := make([]bwe.Time, n)
	for i := range out {
		out[i] = ms(50 * float64(i))
	}
	return out
}

// oracleQuantile is the type-7 quantile of the estimates made within w
// before times[i] (this one included), computed by sorting: independent of
// the ring and the selection under test.
func oracleQuantile(times []bwe.Time, est []bwe.Bitrate, i int, w time.Duration, q float64) bwe.Bitrate {
	var v []float64
	for j := i; j >= 0 && times[i].Sub(times[j]) < w; j-- {
		v = append(v, est[j].Float())
	}
	sort.Float64s(v)
	h := q * float64(len(v)-1)
	lo := math.Floor(h)
	if int(lo)+1 >= len(v) {
		return bwe.Bitrate(v[len(v)-1])
	}
	return bwe.Bitrate(math.Round(v[int(lo)] + (h-lo)*(v[int(lo)+1]-v[int(lo)])))
}

func newOA(t *testing.T, cfg OscillationAwareConfig) *OscillationAware {
	t.Helper()
	o, err := NewOscillationAware(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestOscillationAwareHoldsUpperPart is scenario (a): a swinging estimate
// with the oscillation detected and nothing corroborating a congestion.
// The delay detector says "overusing" in every trough, as it does under
// jitter; that alone must not release the hold.
func TestOscillationAwareHoldsUpperPart(t *testing.T) {
	const A = 500 * bwe.Kbps
	// Sine at regular 50 ms: the 160 estimates of two periods sit at
	// evenly spaced phases, so the empirical 0.75 quantile is within one
	// sample step of the continuous one, mean + A·sin(π/4); one step is at
	// most the sine's slope there times 50 ms: A·(2π/4 s)·cos(π/4)·50 ms.
	sineQ := 1500*bwe.Kbps + A.Scale(math.Sin(math.Pi/4))
	sineTol := A.Scale(2 * math.Pi / period.Seconds() * math.Cos(math.Pi/4) * 0.05)
	tests := []struct {
		name  string
		times []bwe.Time
		wave  func(bwe.Time) bwe.Bitrate
		q     bwe.Bitrate // the 0.75 quantile of the steady input
		tol   bwe.Bitrate
	}{
		// Square: every window of two periods has more than a quarter of
		// its estimates on the high level (checked below), so its 0.75
		// quantile is exactly 2 Mbps: no tolerance.
		{"square, irregular arrivals", irregular(7, 1000), square, 2 * bwe.Mbps, 0},
		{"sine, every 50 ms", regular(1000), sine, sineQ, sineTol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOA(t, OscillationAwareConfig{})
			est := make([]bwe.Bitrate, len(tt.times))
			var sumIn, sumOut float64
			var n int
			for i, at := range tt.times {
				x := tt.wave(at)
				est[i] = x
				s := bwe.Signals{RTT: 60 * time.Millisecond, Oscillation: detected}
				if x < 1500*bwe.Kbps {
					s.Usage = bwe.Overusing
				}
				got := o.Smooth(at, x, s)
				want := max(x, oracleQuantile(tt.times, est, i, 2*period, 0.75))
				if got != want {
					t.Fatalf("step %d at %v: Smooth(%v) = %v, want max(estimate, Q0.75 of the last 8 s) = %v", i, at, x, got, want)
				}
				st := o.State()
				if !st.Holding || st.Reason != LetGoNone || st.Output != got || st.Oscillation != detected {
					t.Fatalf("step %d at %v: State() = %+v, want holding, no let-go, output %v", i, at, st, got)
				}
				if at < bwe.TimeFromDuration(2*period) {
					continue // warm-up: the window is not two periods yet
				}
				if got < tt.q-tt.tol {
					t.Errorf("step %d at %v: Smooth = %v, below the 0.75 quantile %v − %v", i, at, got, tt.q, tt.tol)
				}
				sumIn += x.Float()
				sumOut += got.Float()
				n++
			}
			meanIn, meanOut := sumIn/float64(n), sumOut/float64(n)
			// A clear margin: half the amplitude above the mean input.
			if meanOut < meanIn+A.Float()/2 {
				t.Errorf("mean output %.0f bps, want at least mean input %.0f + %v", meanOut, meanIn, A/2)
			}
		})
	}
	// The precondition of the square case's zero tolerance.
	times := irregular(7, 1000)
	for i := range times {
		var hi, all int
		for j := i; j >= 0 && times[i].Sub(times[j]) < 2*period; j-- {
			all++
			if square(times[j]) == 2*bwe.Mbps {
				hi++
			}
		}
		if times[i] >= bwe.TimeFromDuration(2*period) && 4*hi <= all {
			t.Fatalf("precondition: window ending %v has %d of %d estimates high", times[i], hi, all)
		}
	}
}

// holdFor runs the square wave with the oscillation detected and steady
// RTT until just before end, and returns the next instant in a trough.
func holdFor(t *testing.T, o *OscillationAware, end time.Duration) bwe.Time {
	t.Helper()
	at := bwe.Time(0)
	for ; at < bwe.TimeFromDuration(end); at = at.Add(50 * time.Millisecond) {
		o.Smooth(at, square(at), bwe.Signals{RTT: 50 * time.Millisecond, Oscillation: detected})
	}
	for square(at) != bwe.Mbps {
		at = at.Add(50 * time.Millisecond)
		o.Smooth(at, square(at), bwe.Signals{RTT: 50 * time.Millisecond, Oscillation: detected})
	}
	if !o.State().Holding || o.State().Output != 2*bwe.Mbps {
		t.Fatalf("setup: at %v State() = %+v, want holding at 2 Mbps", at, o.State())
	}
	return at.Add(50 * time.Millisecond)
}

// TestOscillationAwareLetsGo is scenarios (b) and (c): loss at the
// threshold, or Congested, release the hold at that very call.
func TestOscillationAwareLetsGo(t *testing.T) {
	tests := []struct {
		name   string
		s      bwe.Signals
		hold   bool
		reason LetGoReason
	}{
		{"loss just below the threshold holds", bwe.Signals{Loss: 0.099}, true, LetGoNone},
		{"loss at the threshold lets go", bwe.Signals{Loss: 0.1}, false, LetGoLoss},
		{"heavy loss lets go", bwe.Signals{Loss: 0.5}, false, LetGoLoss},
		{"congested lets go", bwe.Signals{Congested: true}, false, LetGoCongested},
		{"congested and loss: congested", bwe.Signals{Congested: true, Loss: 0.3}, false, LetGoCongested},
		{"overusing alone holds", bwe.Signals{Usage: bwe.Overusing}, true, LetGoNone},
		{"NaN loss is no loss", bwe.Signals{Loss: math.NaN()}, true, LetGoNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOA(t, OscillationAwareConfig{})
			at := holdFor(t, o, 10*time.Second)
			s := tt.s
			s.RTT, s.Oscillation = 50*time.Millisecond, detected
			got := o.Smooth(at, 800*bwe.Kbps, s)
			want := 2 * bwe.Mbps
			if !tt.hold {
				want = 800 * bwe.Kbps
			}
			if got != want {
				t.Errorf("Smooth(%v, 800 kbps, %+v) = %v, want %v", at, tt.s, got, want)
			}
			if st := o.State(); st.Holding != tt.hold || st.Reason != tt.reason || st.Output != got {
				t.Errorf("State() = %+v, want Holding %v, Reason %v", st, tt.hold, tt.reason)
			}
		})
	}
}

// rttScenario feeds a held square wave with an RTT series and returns the
// first instant the hold let go for delay, or −1.
func rttScenario(t *testing.T, rtt func(at bwe.Time) time.Duration, end time.Duration) (bwe.Time, *OscillationAware) {
	t.Helper()
	o := newOA(t, OscillationAwareConfig{})
	for at := bwe.Time(0); at < bwe.TimeFromDuration(end); at = at.Add(50 * time.Millisecond) {
		x := square(at)
		got := o.Smooth(at, x, bwe.Signals{RTT: rtt(at), Oscillation: detected})
		if st := o.State(); st.Reason == LetGoDelay {
			if got != x {
				t.Errorf("let-go at %v: Smooth = %v, want the estimate %v", at, got, x)
			}
			return at, o
		}
	}
	return -1, o
}

// TestOscillationAwareDelay is scenario (d): a sustained rise of the RTT
// lets go within about one period; a periodic swing with a stable mean
// does not.
func TestOscillationAwareDelay(t *testing.T) {
	const rise = 20 * time.Second
	sec := func(at bwe.Time) float64 { return float64(at.Micros()) / 1e6 }
	swing := func(at bwe.Time) time.Duration { // 60 ± 40 ms, period 4 s
		return bwe.DurationFromMillis(60 + 40*math.Sin(2*math.Pi*sec(at)/period.Seconds()))
	}
	squareSwing := func(at bwe.Time) time.Duration { // 60 ± 40 ms, square, period 4 s
		if square(at) == 2*bwe.Mbps {
			return 100 * time.Millisecond
		}
		return 20 * time.Millisecond
	}
	r := rand.New(rand.NewPCG(3, 4))
	noise := func(bwe.Time) time.Duration { // 60 ± 40 ms uniform
		return bwe.DurationFromMillis(20 + 80*r.Float64())
	}
	step := func(base func(bwe.Time) time.Duration) func(bwe.Time) time.Duration {
		return func(at bwe.Time) time.Duration {
			if at >= bwe.TimeFromDuration(rise) {
				return base(at) + 50*time.Millisecond
			}
			return base(at)
		}
	}
	ramp := func(at bwe.Time) time.Duration { // queue grows 25 ms/s after 20 s
		d := swing(at)
		if s := sec(at) - rise.Seconds(); s > 0 {
			d += bwe.DurationFromMillis(25 * 1000 * s / 1000)
		}
		return d
	}
	quiet := []struct {
		name string
		rtt  func(bwe.Time) time.Duration
	}{
		{"sine swing ±40 ms", swing},
		{"square swing ±40 ms", squareSwing},
		{"uniform jitter ±40 ms", noise},
	}
	for _, tt := range quiet {
		t.Run(tt.name+" holds", func(t *testing.T) {
			if at, o := rttScenario(t, tt.rtt, 60*time.Second); at >= 0 {
				t.Errorf("let go for delay at %v (State %+v), want no let-go over 60 s", at, o.State())
			}
		})
	}
	loud := []struct {
		name string
		rtt  func(bwe.Time) time.Duration
	}{
		{"50 ms step on a steady RTT", step(func(bwe.Time) time.Duration { return 60 * time.Millisecond })},
		{"50 ms step on a sine swing", step(swing)},
		{"50 ms step on uniform jitter", step(noise)},
		{"queue growing 25 ms/s", ramp},
	}
	for _, tt := range loud {
		t.Run(tt.name+" lets go", func(t *testing.T) {
			at, o := rttScenario(t, tt.rtt, 60*time.Second)
			lo, hi := bwe.TimeFromDuration(rise), bwe.TimeFromDuration(rise+period)
			if at <= lo || at > hi {
				t.Errorf("let go for delay at %v (State %+v), want within (%v, %v]: one period after the rise", at, o.State(), lo, hi)
			}
		})
	}
	// On a steady RTT the 4 s mean crosses +30 ms after 30/50 of a period
	// (2.4 s), give or take the 100 ms bucket grid.
	at, _ := rttScenario(t, step(func(bwe.Time) time.Duration { return 60 * time.Millisecond }), 60*time.Second)
	if want := rise + 2400*time.Millisecond; at < bwe.TimeFromDuration(want-100*time.Millisecond) || at > bwe.TimeFromDuration(want+100*time.Millisecond) {
		t.Errorf("steady 50 ms step let go at %v, want %v ± 100 ms", at, want)
	}
}

// TestOscillationAwareRearm is scenario (e): after a let-go the hold stays
// off for Rearm (one period by default, at least 1 s), then resumes while
// the oscillation is still detected.
func TestOscillationAwareRearm(t *testing.T) {
	tests := []struct {
		name  string
		cfg   OscillationAwareConfig
		osc   bwe.Oscillation
		rearm time.Duration
	}{
		{"default: one period", OscillationAwareConfig{}, detected, period},
		{"default with a short period: 1 s", OscillationAwareConfig{}, bwe.Oscillation{Detected: true, Period: 400 * time.Millisecond}, time.Second},
		{"explicit 1.5 s", OscillationAwareConfig{Rearm: 1500 * time.Millisecond}, detected, 1500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOA(t, tt.cfg)
			sig := bwe.Signals{RTT: 50 * time.Millisecond, Oscillation: tt.osc}
			at := bwe.Time(0)
			for ; at < bwe.TimeFromDuration(10*time.Second); at = at.Add(50 * time.Millisecond) {
				o.Smooth(at, square(at), sig)
			}
			// Two calls with congestion: the second one extends the rearm.
			c := sig
			c.Congested = true
			o.Smooth(at, 700*bwe.Kbps, c)
			at = at.Add(50 * time.Millisecond)
			if got := o.Smooth(at, 700*bwe.Kbps, c); got != 700*bwe.Kbps {
				t.Fatalf("congested at %v: Smooth = %v, want 700 kbps", at, got)
			}
			letGo := at
			for at = at.Add(50 * time.Millisecond); at < letGo.Add(tt.rearm+time.Second); at = at.Add(50 * time.Millisecond) {
				x := square(at)
				got := o.Smooth(at, x, sig)
				st := o.State()
				wantHold := at.Sub(letGo) >= tt.rearm
				if st.Holding != wantHold || st.Reason != LetGoCongested {
					t.Fatalf("%v after the let-go: State() = %+v, want Holding %v, Reason congested", at.Sub(letGo), st, wantHold)
				}
				if !wantHold && got != x {
					t.Fatalf("%v after the let-go: Smooth = %v, want the estimate %v", at.Sub(letGo), got, x)
				}
			}
		})
	}
}

// walk is a non-oscillating estimate: a seeded random walk with steps,
// at irregular instants, with the delay detector flickering.
func walk(seed uint64, n int) ([]bwe.Time, []bwe.Bitrate, []bwe.Signals) {
	r := rand.New(rand.NewPCG(seed, 2))
	times := irregular(seed, n)
	est := make([]bwe.Bitrate, n)
	sig := make([]bwe.Signals, n)
	x := 2e6
	for i := range est {
		x = max(1e5, x*(1+0.04*(r.Float64()-0.5)))
		if r.IntN(200) == 0 {
			x *= 0.6
		}
		est[i] = bwe.Bitrate(x)
		sig[i] = bwe.Signals{Usage: bwe.Usage(r.IntN(3)), Loss: 0.05 * r.Float64(), RTT: time.Duration(40+r.IntN(20)) * time.Millisecond}
		if r.IntN(50) == 0 {
			sig[i].Oscillation = bwe.Oscillation{Period: 3 * time.Second, Strength: 0.2} // a candidate, not detected
		}
	}
	return times, est, sig
}

// notDetecting is a fake detector that counts its samples and never
// detects.
type notDetecting struct{ n, resets int }

func (d *notDetecting) Add(bwe.Time, bwe.Bitrate) bwe.Oscillation {
	d.n++
	return bwe.Oscillation{Period: 5 * time.Second, Strength: 0.1}
}
func (d *notDetecting) Reset() { d.n, d.resets = 0, d.resets+1 }

// TestOscillationAwarePassThrough is scenario (f): with no oscillation the
// output is the plain pipeline's, bit for bit.
func TestOscillationAwarePassThrough(t *testing.T) {
	times, est, sig := walk(11, 3000)
	mk := func(name string) bwe.Smoother {
		sm, err := NewByName(name)
		if err != nil {
			t.Fatal(err)
		}
		return sm
	}
	tests := []struct {
		name  string
		cfg   OscillationAwareConfig
		plain bwe.Smoother // nil: the raw estimate
	}{
		{"Base nil: the raw estimate", OscillationAwareConfig{}, nil},
		{"Base nil, a detector that does not detect", OscillationAwareConfig{Detector: &notDetecting{}}, nil},
		{"Base EWMA", OscillationAwareConfig{Base: mk("ewma")}, mk("ewma")},
		{"Base asymmetric", OscillationAwareConfig{Base: mk("asymmetric")}, mk("asymmetric")},
		{"Base percentile", OscillationAwareConfig{Base: mk("percentile")}, mk("percentile")},
		{"Base hysteresis", OscillationAwareConfig{Base: mk("hysteresis")}, mk("hysteresis")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOA(t, tt.cfg)
			for i, at := range times {
				want := est[i]
				if tt.plain != nil {
					want = tt.plain.Smooth(at, est[i], sig[i])
				}
				if got := o.Smooth(at, est[i], sig[i]); got != want {
					t.Fatalf("step %d at %v: Smooth(%v) = %v, want the plain pipeline's %v", i, at, est[i], got, want)
				}
				if o.State().Holding {
					t.Fatalf("step %d: holding without an oscillation", i)
				}
			}
			if d, ok := tt.cfg.Detector.(*notDetecting); ok && d.n != len(times) {
				t.Errorf("detector saw %d estimates, want %d", d.n, len(times))
			}
		})
	}
}

// detectAfter is a fake detector that detects a 4 s swing from its tenth
// estimate on, and records the instants it is given.
type detectAfter struct {
	n      int
	last   bwe.Time
	back   bool // an instant went backwards
	resets int
}

func (d *detectAfter) Add(at bwe.Time, _ bwe.Bitrate) bwe.Oscillation {
	if d.n > 0 && at < d.last {
		d.back = true
	}
	d.n++
	d.last = at
	if d.n >= 10 {
		return detected
	}
	return bwe.Oscillation{}
}
func (d *detectAfter) Reset() { d.n, d.resets = 0, d.resets+1 }

// TestOscillationAwareDetector checks that a configured detector replaces
// Signals.Oscillation, sees non-decreasing instants, and is reset.
func TestOscillationAwareDetector(t *testing.T) {
	d := &detectAfter{}
	o := newOA(t, OscillationAwareConfig{Detector: d})
	// The signals claim nothing; the detector decides.
	times := []float64{0, 50, 100, 150, 200, 250, 300, 350, 400, 450, 420, 500}
	for i, at := range times {
		x := bwe.Mbps
		if i%2 == 0 {
			x = 2 * bwe.Mbps
		}
		got := o.Smooth(ms(at), x, bwe.Signals{Oscillation: bwe.Oscillation{Detected: i < 5, Period: time.Second}})
		wantHold := i >= 9
		if st := o.State(); st.Holding != wantHold {
			t.Errorf("step %d: Holding %v, want %v (the detector's verdict, not the signals')", i, st.Holding, wantHold)
		}
		if wantHold && got != 2*bwe.Mbps {
			t.Errorf("step %d: Smooth = %v, want 2 Mbps", i, got)
		}
	}
	if d.back {
		t.Error("the detector was given an instant earlier than the previous one")
	}
	o.Reset()
	if d.resets != 1 {
		t.Errorf("detector reset %d times by Reset, want 1", d.resets)
	}
}

func TestLetGoReasonString(t *testing.T) {
	for r, want := range map[LetGoReason]string{LetGoNone: "none", LetGoCongested: "congested", LetGoLoss: "loss", LetGoDelay: "delay", 9: "letgo(9)"} {
		if got := r.String(); got != want {
			t.Errorf("LetGoReason(%d).String() = %q, want %q", r, got, want)
		}
	}
}

// TestOscillationAwareBounds checks the quantile window against the ring:
// with a tiny ring the window is the last MaxSamples estimates, and the
// output never exceeds their maximum.
func TestOscillationAwareBounds(t *testing.T) {
	o := newOA(t, OscillationAwareConfig{MaxSamples: 4, Quantile: 1})
	vals := []bwe.Bitrate{9, 1, 1, 1, 1, 2, 1}
	want := []bwe.Bitrate{9, 9, 9, 9, 1, 2, 2}
	for i, v := range vals {
		got := o.Smooth(ms(float64(100*i)), v*bwe.Mbps, bwe.Signals{Oscillation: detected})
		if got != want[i]*bwe.Mbps {
			t.Errorf("step %d: Smooth(%d Mbps) = %v, want %d Mbps (max of the last 4)", i, v, got, want[i])
		}
	}
}

// staircase falls by 15 % at every period boundary and climbs 2 % per
// period in between: the trendline's answer to a periodic delay swing.
func staircase(at bwe.Time) bwe.Bitrate {
	k := float64(time.Duration(at.Micros()) * time.Microsecond / period)
	frac := float64(time.Duration(at.Micros())*time.Microsecond%period) / float64(period)
	return bwe.BitrateFromFloat(2e6 * math.Pow(0.85*1.02, k) * (1 + 0.02*frac))
}

// Without Ratchet the hold follows a staircase down a cycle late; with it
// the hold's level never falls while the hold lasts (the output is at
// least the level of the first call), and a let-go starts the next hold
// from the quantile of its own moment.
func TestOscillationAwareRatchet(t *testing.T) {
	times := regular(600) // 30 s: the staircase ends at 2 Mbps × (0.85·1.02)^7 ≈ 0.74 Mbps
	for _, ratchet := range []bool{false, true} {
		o := newOA(t, OscillationAwareConfig{Ratchet: ratchet})
		var out, first bwe.Bitrate
		for i, at := range times {
			out = o.Smooth(at, staircase(at), bwe.Signals{Oscillation: detected})
			if !o.State().Holding {
				t.Fatalf("Ratchet %v, step %d: not holding a detected oscillation", ratchet, i)
			}
			if i == 0 {
				first = out
			}
			if ratchet && out < first {
				t.Fatalf("Ratchet on, step %d at %v: output %v below the hold's first level %v", i, at, out, first)
			}
		}
		last := staircase(times[len(times)-1])
		// Off: the quantile of the last two periods, two steps above the
		// last estimate at most.
		if bound := last.Scale(1 / (0.85 * 0.85)); !ratchet && out > bound {
			t.Errorf("Ratchet off: output ended at %v, want at most %v (two steps above the estimate %v)", out, bound, last)
		}
		if ratchet && out < first {
			t.Errorf("Ratchet on: output ended at %v, want at least the first level %v", out, first)
		}
	}
	// A let-go resets the level.
	o := newOA(t, OscillationAwareConfig{Ratchet: true})
	var at bwe.Time
	for _, at = range times[:200] {
		o.Smooth(at, staircase(at), bwe.Signals{Oscillation: detected})
	}
	held := o.State().Output
	at = at.Add(50 * time.Millisecond)
	if out := o.Smooth(at, 500*bwe.Kbps, bwe.Signals{Congested: true, Oscillation: detected}); out != 500*bwe.Kbps {
		t.Fatalf("Congested during a ratchet hold: output %v, want the estimate 500 kbps", out)
	}
	var out bwe.Bitrate
	for end := at.Add(2 * period); at < end; {
		at = at.Add(50 * time.Millisecond)
		out = o.Smooth(at, 500*bwe.Kbps, bwe.Signals{Oscillation: detected})
	}
	if !o.State().Holding || out != 500*bwe.Kbps {
		t.Errorf("after the rearm on a flat 500 kbps: holding %v at %v, want a new hold at 500 kbps (the old level was %v)", o.State().Holding, out, held)
	}
}

// Linger keeps a hold after the detection stops, for that long; a let-go
// still ends it at once, and a hold never starts from a lingering state.
func TestOscillationAwareLinger(t *testing.T) {
	tests := []struct {
		name    string
		linger  time.Duration
		letGoAt time.Duration // 0: none
		wantEnd time.Duration // instant after the detection stops at which the hold ends
	}{
		{"no linger", 0, 0, 0},
		{"linger 3 s", 3 * time.Second, 0, 3 * time.Second},
		{"linger 3 s, congestion at 1 s", 3 * time.Second, time.Second, time.Second},
	}
	for _, tt := range tests {
		o := newOA(t, OscillationAwareConfig{Linger: tt.linger})
		var at bwe.Time
		for i := range 200 { // 10 s detected
			at = ms(50 * float64(i))
			o.Smooth(at, square(at), bwe.Signals{Oscillation: detected})
		}
		stop := at
		ended := time.Duration(-1)
		for at < stop.Add(6*time.Second) {
			at = at.Add(50 * time.Millisecond)
			sig := bwe.Signals{}
			since := at.Sub(stop)
			if tt.letGoAt > 0 && since == tt.letGoAt {
				sig.Congested = true
			}
			out := o.Smooth(at, square(at), sig)
			holding := o.State().Holding
			if holding && out < square(at) {
				t.Fatalf("%s: at +%v holding with output %v below the estimate %v", tt.name, since, out, square(at))
			}
			if !holding && out != square(at) {
				t.Fatalf("%s: at +%v not holding but output %v, want the estimate %v", tt.name, since, out, square(at))
			}
			if !holding && ended < 0 {
				ended = since
			}
			if holding && ended >= 0 {
				t.Fatalf("%s: at +%v holding again after the hold ended at +%v with no detection", tt.name, since, ended)
			}
		}
		want := max(tt.wantEnd, 50*time.Millisecond)
		if ended != want {
			t.Errorf("%s: the hold ended %v after the detection stopped, want %v", tt.name, ended, want)
		}
	}
}
