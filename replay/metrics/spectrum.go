package metrics

import (
	"fmt"
	"math"
	"math/bits"
	"time"

	"github.com/bwelab/bwe"
)

// Detrend selects what [Spectrum] removes from a series before its
// transform.
type Detrend int

const (
	// DetrendMean removes the mean (the default).
	DetrendMean Detrend = iota
	// DetrendLinear removes the least-squares straight line, so that a
	// slow ramp does not leak into the longest periods.
	DetrendLinear
)

// SpectrumConfig sets the period range and detrending of a [Spectrum]. The
// zero value of each field means its default.
type SpectrumConfig struct {
	// MinPeriod and MaxPeriod bound the periods searched for the dominant
	// one. Defaults 1 s and 60 s (this project's choice: a target that
	// swings faster than once a second is noise for an encoder, one that
	// swings slower than once a minute is tracking the network).
	MinPeriod, MaxPeriod time.Duration
	// Detrend is what is removed before the transform. Default
	// DetrendMean.
	Detrend Detrend
}

// DefaultSpectrumConfig returns the defaults spelled out.
func DefaultSpectrumConfig() SpectrumConfig {
	return SpectrumConfig{MinPeriod: time.Second, MaxPeriod: time.Minute, Detrend: DetrendMean}
}

// resolve applies defaults and rejects impossible values.
func (c SpectrumConfig) resolve() (SpectrumConfig, error) {
	d := DefaultSpectrumConfig()
	switch {
	case c.MinPeriod < 0:
		return c, fmt.Errorf("metrics: SpectrumConfig.MinPeriod %v is negative", c.MinPeriod)
	case c.MaxPeriod < 0:
		return c, fmt.Errorf("metrics: SpectrumConfig.MaxPeriod %v is negative", c.MaxPeriod)
	case c.Detrend != DetrendMean && c.Detrend != DetrendLinear:
		return c, fmt.Errorf("metrics: SpectrumConfig.Detrend %d is unknown", c.Detrend)
	}
	if c.MinPeriod == 0 {
		c.MinPeriod = d.MinPeriod
	}
	if c.MaxPeriod == 0 {
		c.MaxPeriod = d.MaxPeriod
	}
	if c.MinPeriod > c.MaxPeriod {
		return c, fmt.Errorf("metrics: SpectrumConfig.MinPeriod %v exceeds MaxPeriod %v", c.MinPeriod, c.MaxPeriod)
	}
	return c, nil
}

// Spectrum finds the dominant period of a rate series from its power
// spectrum. It keeps its work buffers between calls, so that analysing
// series no longer than before allocates nothing. The zero Spectrum is not
// usable: build one with [NewSpectrum]. A Spectrum is not safe for
// concurrent use.
type Spectrum struct {
	cfg    SpectrumConfig
	re, im []float64 // transform buffer, length a power of two
	cos    []float64 // twiddles cos(2πk/N), sin(2πk/N) for k < N/2
	sin    []float64
	twN    int // the N the twiddles were made for
}

// NewSpectrum returns a Spectrum with the given configuration, or an error
// naming the first impossible field.
func NewSpectrum(cfg SpectrumConfig) (*Spectrum, error) {
	cfg, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	return &Spectrum{cfg: cfg}, nil
}

// Config returns the configuration in force, defaults applied.
func (sp *Spectrum) Config() SpectrumConfig { return sp.cfg }

// Periodicity describes the dominant periodic component of a series.
type Periodicity struct {
	// Period is the dominant period, refined between bins by Gaussian
	// interpolation of the peak (by at most half a bin, and kept within
	// [MinPeriod, MaxPeriod]); 0 when none was found (fewer than 8
	// samples, no peak in the period range, or a series without
	// variation). Strength and Amplitude are 0 then.
	Period time.Duration
	// Strength is the share of the series' variation (power without DC)
	// that the peak carries, in [0, 1]: near 1 for a pure sinusoid, near
	// 0 for white noise.
	Strength float64
	// Amplitude is the estimated amplitude A of the dominant component
	// (half its peak-to-peak swing), from the power of the peak.
	Amplitude bwe.Bitrate
	// Mean is the mean of the analysed samples.
	Mean bwe.Bitrate
}

// minSpectrumSamples is the fewest samples Dominant analyses.
const minSpectrumSamples = 8

// Dominant returns the dominant periodic component of s. The method:
//
//  1. x = the n samples as bits per second; remove the mean (or the
//     least-squares line, DetrendLinear);
//  2. multiply by the symmetric Hann window w_i = ½ − ½·cos(2πi/(n−1));
//  3. zero-pad to N, the least power of two ≥ n, and take the radix-2 FFT
//     X_k; the one-sided power is P_k = |X_k|², bin k standing for the
//     period N·Step/k;
//  4. the peak is the bin of largest P_k among those whose period lies in
//     [MinPeriod, MaxPeriod], is no longer than half the series (at least
//     two cycles observed) and no shorter than two samples (Nyquist), and
//     that dominate their own main lobe (P_k ≥ P_j for every bin j ≠ 0
//     within ±h, see 5, in range or not). A range that holds only the
//     flank of a stronger component outside it has no peak;
//  5. Strength = E_peak / E_total, where E_total is the power of every bin
//     but DC and E_peak that of the bins within ±h of the peak (DC
//     excluded), h = ⌈2N/n⌉ padded bins: the half-width of the Hann main
//     lobe, ±2 bins at the unpadded resolution 1/(n·Step). Summing the
//     lobe absorbs the leakage of a tone that falls between bins; bins 1
//     to N/2−1 count twice (they stand for their mirror images too), N/2
//     once, so that E_total is the whole two-sided power but DC;
//  6. Amplitude = √(2·E_peak / (N·Σw_i²)) by Parseval's theorem, since a
//     sinusoid of amplitude A windowed by w carries A²/2·Σw_i² per sample
//     of energy.
//
// Cost: O(N log N) time, N < 2n; the buffers (3N float64) are kept for the
// next call. Negative samples read as 0.
func (sp *Spectrum) Dominant(s Series) Periodicity {
	n := s.Len()
	var p Periodicity
	if n < minSpectrumSamples {
		if n > 0 {
			p.Mean = s.Mean()
		}
		return p
	}
	p.Mean = s.Mean()
	N := 1 << bits.Len(uint(n-1))
	sp.grow(N)
	re, im := sp.re[:N], sp.im[:N]

	// 1. Detrend.
	mean := s.sum(0, n) / float64(n)
	var slope, ic float64 // x ≈ mean + slope·(i − ic)
	if sp.cfg.Detrend == DetrendLinear {
		ic = float64(n-1) / 2
		var sxy, sxx float64
		for i := range n {
			d := float64(i) - ic
			sxy += d * (s.at(i).Float() - mean)
			sxx += d * d
		}
		slope = sxy / sxx
	}
	var energy, resid float64 // Σx², Σ(detrended)²
	for i := range n {
		x := s.at(i).Float()
		r := x - mean - slope*(float64(i)-ic)
		energy += x * x
		resid += r * r
		re[i] = r
	}
	if !(resid > 1e-24*energy) {
		// No variation beyond rounding: nothing periodic.
		return p
	}

	// 2. Window. 3. Pad and transform.
	var sumW2 float64
	for i := range n {
		w := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n-1))
		re[i] *= w
		sumW2 += w * w
	}
	clear(re[n:])
	clear(im)
	sp.fft(re, im)

	// 4. Peak in range.
	half := N / 2
	power := func(k int) float64 { return re[k]*re[k] + im[k]*im[k] }
	weight := func(k int) float64 {
		if k == half {
			return 1
		}
		return 2
	}
	span := float64(N) * s.Step.Seconds() // period of bin k is span/k seconds
	kLo := max(1, toInt(math.Ceil(span/sp.cfg.MaxPeriod.Seconds()-1e-9), half+1),
		toInt(math.Ceil(2*float64(N)/float64(n)-1e-9), half+1))
	kHi := min(half, toInt(math.Floor(span/sp.cfg.MinPeriod.Seconds()+1e-9), half))
	var total float64
	for k := 1; k <= half; k++ {
		total += weight(k) * power(k)
	}
	if kLo > kHi || !(total > 0) {
		return p
	}
	h := int(math.Ceil(2 * float64(N) / float64(n))) // Hann main-lobe half-width
	peak := 0
	for k := kLo; k <= kHi; k++ {
		pk := power(k)
		if !(pk > 0) || (peak != 0 && pk <= power(peak)) || !dominates(re, im, k, h, half) {
			continue
		}
		peak = k
	}
	if peak == 0 {
		return p
	}

	// 5. Strength over the main lobe.
	var lobe float64
	for k := max(1, peak-h); k <= min(half, peak+h); k++ {
		lobe += weight(k) * power(k)
	}
	p.Strength = min(max(lobe/total, 0), 1)

	// Period, refined by a parabola through the log powers of the peak
	// and its neighbours (exact for a Gaussian lobe, close for Hann).
	kf := float64(peak)
	if peak > 1 && peak < half {
		a, b, c := power(peak-1), power(peak), power(peak+1)
		if a > 0 && b > 0 && c > 0 {
			la, lb, lc := math.Log(a), math.Log(b), math.Log(c)
			if den := la - 2*lb + lc; den < 0 {
				kf += min(max(0.5*(la-lc)/den, -0.5), 0.5)
			}
		}
	}
	p.Period = min(max(durationFromSeconds(span/kf), sp.cfg.MinPeriod), sp.cfg.MaxPeriod)

	// 6. Amplitude.
	if sumW2 > 0 {
		a := math.Sqrt(2 * lobe / (float64(N) * sumW2))
		p.Amplitude = bwe.BitrateFromFloat(math.Round(min(a, math.MaxInt64)))
	}
	return p
}

// dominates reports whether bin k has at least the power of every bin
// within ±h of it, DC excluded.
func dominates(re, im []float64, k, h, half int) bool {
	pk := re[k]*re[k] + im[k]*im[k]
	for j := max(1, k-h); j <= min(half, k+h); j++ {
		if re[j]*re[j]+im[j]*im[j] > pk {
			return false
		}
	}
	return true
}

// grow makes the buffers and twiddles fit a transform of size N.
func (sp *Spectrum) grow(N int) {
	if cap(sp.re) < N {
		sp.re = make([]float64, N)
		sp.im = make([]float64, N)
	}
	if sp.twN != N {
		if cap(sp.cos) < N/2 {
			sp.cos = make([]float64, N/2)
			sp.sin = make([]float64, N/2)
		}
		sp.cos, sp.sin = sp.cos[:N/2], sp.sin[:N/2]
		for k := range N / 2 {
			sp.sin[k], sp.cos[k] = math.Sincos(2 * math.Pi * float64(k) / float64(N))
		}
		sp.twN = N
	}
}

// fft replaces (re, im) by its discrete Fourier transform
// X_k = Σ x_j·e^(−2πijk/N): iterative radix-2 decimation in time, in
// place, after a bit-reversal permutation. len(re) must be a power of two
// matching the twiddles.
func (sp *Spectrum) fft(re, im []float64) {
	N := len(re)
	if N < 2 {
		return
	}
	shift := 64 - bits.Len(uint(N-1))
	for i := range N {
		j := int(bits.Reverse64(uint64(i)) >> shift)
		if j > i {
			re[i], re[j] = re[j], re[i]
			im[i], im[j] = im[j], im[i]
		}
	}
	for size := 2; size <= N; size <<= 1 {
		halfSize := size / 2
		stride := N / size
		for start := 0; start < N; start += size {
			for k := range halfSize {
				wr, wi := sp.cos[k*stride], -sp.sin[k*stride]
				a, b := start+k, start+k+halfSize
				tr := wr*re[b] - wi*im[b]
				ti := wr*im[b] + wi*re[b]
				re[b], im[b] = re[a]-tr, im[a]-ti
				re[a], im[a] = re[a]+tr, im[a]+ti
			}
		}
	}
}

// Oscillation is the oscillation index of a run and what it was computed
// from.
type Oscillation struct {
	// Index is the oscillation index: the duration-weighted mean, over
	// the steady parts of the capacity phases analysed, of
	// 2·Amplitude ÷ Mean of the dominant periodic component (see
	// [Spectrum.OscillationIndex]); ≥ 0, 0 when nothing was analysed.
	Index float64
	// Max is the largest per-phase index, Period the dominant period of
	// that phase, Strength its strength.
	Max      float64
	Period   time.Duration
	Strength float64
	// Phases is the number of steady parts analysed and Analysed their
	// total duration.
	Phases   int
	Analysed time.Duration
}

// OscillationIndex computes the project's oscillation index of a target
// (or sending) rate while the capacity is steady (DESIGN.md "Metrics"):
//
//	I = Σ_p T_p · (2·A_p / μ_p) / Σ_p T_p
//
// where p runs over the capacity phases (see [Phases]; an empty capacity
// series is one phase covering the whole rate series), each cut to its
// steady part [Start+settle, End) of duration T_p; A_p is the amplitude
// and μ_p the mean of the dominant periodic component of the rate over
// that part ([Spectrum.Dominant]). 2·A/μ is the peak-to-peak swing of the
// dominant sinusoid relative to the mean: a rate swinging as a sinusoid
// between 0.9 and 1.1 Mbps has I = 0.2. A steady part is analysed when it
// holds at least 8 samples and lasts at least twice MinPeriod; one without
// a periodic component (or with μ = 0) contributes 0.
//
// The project computes it with [DefaultSpectrumConfig] and settle =
// [DefaultSettle]. A negative settle is an error.
func (sp *Spectrum) OscillationIndex(rate, capacity Series, settle time.Duration) (Oscillation, error) {
	var o Oscillation
	if err := checkSettle(settle); err != nil {
		return o, err
	}
	if rate.Len() == 0 {
		return o, nil
	}
	var sum, weight float64
	analyse := func(from, to time.Duration) {
		part := rate.Window(satAddDur(from, settle), to)
		d := part.Duration()
		if part.Len() < minSpectrumSamples || d < 2*sp.cfg.MinPeriod {
			return
		}
		p := sp.Dominant(part)
		idx := 0.0
		if p.Period > 0 && p.Mean > 0 {
			idx = 2 * p.Amplitude.Float() / p.Mean.Float()
		}
		w := d.Seconds()
		sum += idx * w
		weight += w
		o.Phases++
		o.Analysed = satAddDur(o.Analysed, d)
		if o.Phases == 1 || idx > o.Max {
			o.Max, o.Period, o.Strength = idx, p.Period, p.Strength
		}
	}
	n := capacity.Len()
	if n == 0 {
		analyse(0, rate.Duration())
	} else {
		start := 0
		for i := 1; i <= n; i++ {
			if i < n && capacity.at(i) == capacity.at(start) {
				continue
			}
			analyse(mulSat(start, capacity.Step), mulSat(i, capacity.Step))
			start = i
		}
	}
	if weight > 0 {
		o.Index = sum / weight
	}
	return o, nil
}

// toInt converts a non-negative float to int, limited to [0, limit].
func toInt(f float64, limit int) int {
	if !(f > 0) {
		return 0
	}
	if f >= float64(limit) {
		return limit
	}
	return int(f)
}

// durationFromSeconds converts seconds to a duration, rounding to the
// nanosecond and limited to [0, the largest duration].
func durationFromSeconds(sec float64) time.Duration {
	ns := math.Round(sec * 1e9)
	switch {
	case !(ns > 0):
		return 0
	case ns >= float64(maxDuration):
		return maxDuration
	}
	return time.Duration(ns)
}
