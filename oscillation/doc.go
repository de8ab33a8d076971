// Package oscillation holds online detectors of periodic oscillation in an
// irregularly sampled rate series, such as a bandwidth estimate that
// arrives with each transport feedback (every 20–100 ms, with jitter and
// occasional gaps of seconds). A trendline delay-based estimator under RTT
// jitter makes its estimate swing with periods of 2–20 s; a smoother
// downstream asks a detector whether a drop is one more swing or a real
// congestion. False alarms are costly there, so steps, ramps, random walks
// and one-off drops must not be reported as oscillation.
//
// All detectors implement [bwe.OscillationDetector]:
//
//   - [Autocorrelation] ("acf"): normalised autocorrelation of the
//     detrended window; the most accurate on short periods and under
//     gaps, O(N·L) per completed bin.
//   - [Spectral] ("spectral"): a bank of Goertzel filters over log-spaced
//     periods on the detrended, Hann-windowed window; the most sensitive,
//     O(N·K) per completed bin.
//   - [Crossing] ("crossing"): mean crossings of a high-pass-filtered
//     series with hysteresis, in both directions; the cheapest (O(1) per
//     completed bin beyond the shared bookkeeping) and the most robust to
//     random walks, but the slowest to confirm long periods, and blind to
//     a swing riding a steep decay (the high-pass leaves an offset larger
//     than the swing).
//
// [Names] and [NewByName] select them by name.
//
// # Model
//
// Samples are resampled onto bins of Config.Step (default 250 ms), aligned
// on the first sample. A bin holds the time-weighted mean of the
// zero-order-held series over it: each sample's value holds until the next
// sample, across empty bins and gaps. Samples older than the last one are
// ignored. The last Window/Step bins (default 160, 40 s) are kept in a
// ring. Bins in which no sample arrived (gaps) are flagged; acf and
// spectral give them no weight; crossing does not let a crossing seen
// just after a gap bound a cycle, and counts a stretch between crossings
// that spans a gap as the whole number of periods it holds (when it is
// within 20 % of one and the gap could have hidden the missing cycles).
//
// All the work happens when a bin completes: the window is copied, its
// mean taken, a weighted least-squares line over the bin index removed
// (the "detrended window"), its amplitude computed, and the detector's
// estimator run. An Add that completes no bin is O(1).
//
// The detectors analyse the logarithm of the rates (floored at a
// thousandth of the window's mean), that is relative swings, unless
// Config.Linear is set. A bandwidth estimate that a periodic delay swing
// knocks down by a fixed fraction per cycle falls geometrically, in a
// staircase: on the rates the curved decay swamps the cycle, in the log
// domain it is close to a line the detrend removes and the cycle remains
// (TestStaircase: acf finds 48 of 48 such staircases with a 12 s window,
// 43 in the linear domain). Amplitude and Mean are reported in rate units
// either way, from the rates themselves.
//
// # Definitions
//
// Mean is the mean of the window's bins. Amplitude, the same for every
// detector, is half the spread between the 10th and 90th percentiles of
// the detrended window (observed bins), scaled by 1/sin(0.4π) ≈ 1.05 so
// that a sine of amplitude a gives a:
//
//	Amplitude = (P90(d) − P10(d)) / (2·sin(0.4π))
//
// Strength, in [0, 1], is per detector:
//
//	acf:       the normalised autocorrelation at the chosen lag k,
//	           Σ d[i]·d[i+k] / √(Σ d[i]² · Σ d[i+k]²) over pairs of observed bins
//	spectral:  the share of the detrended variance explained by the
//	           least-squares sinusoid at the refined peak period
//	crossing:  (1 − CV of the lengths of the last cycles, up to 8
//	           between upward and 8 between downward crossings)
//	           × (1 − CV of their peak-to-trough swings);
//	           the period is the median cycle length
//
// Period is confined to [MinPeriod, MaxPeriod]: a raw estimate up to 10 %
// outside is clamped to the nearer bound, one further out is no candidate
// (Period 0, Strength 0). Detected holds when all of these hold:
//
//   - Strength ≥ Config.Threshold (defaults 0.55 acf, 0.45 spectral, 0.6
//     crossing);
//   - the window holds at least MinCycles (default 2) periods of data;
//   - Amplitude ≥ MinRelAmplitude (default 5 %) of Mean;
//   - the above have held, with a period stable within 15 % from one
//     evaluation to the next, for Config.Confirm (default 2 s).
//
// # Guards against steps, ramps, walks and drops
//
// Detrending removes ramps. acf requires a zero crossing of the
// autocorrelation before its peak and the peak to be a local maximum
// (trends and walks decay without one); it picks the peak on the plain
// autocorrelation, which favours short lags, and prefers a peak near a
// submultiple of the chosen lag when it reaches 85 % of its value, so that
// multiples of the period do not win. spectral extends its bank below
// MinPeriod and up to two thirds of the window and rejects a peak at
// either edge: the spectrum of a step or a random walk keeps rising
// towards long periods. crossing high-passes the series (time constant
// MaxPeriod/π), so that a ramp becomes a constant offset and a step a
// single excursion, and needs 3 regular cycles. All share Confirm. Random
// walks remain the weakest class of acf and spectral: a walk can look like
// two cycles of a swing for several seconds.
//
// A window holding exactly two cycles has a least-squares slope that
// detrending turns into a ramp of about 3/π of the amplitude across the
// window; acf and spectral then report a lower Strength at MaxPeriod
// (≈ 0.75 for a clean sine) than at shorter periods.
//
// # Cost, accuracy, robustness
//
// The three detectors trade these against each other: crossing costs a
// fraction of the others and resists random walks best, but needs three
// cycles and misses swings on a steep decay; acf is accurate, copes with
// gaps and finds the staircases a periodic delay swing gives a trendline
// estimate, at O(N·L) per bin; spectral detects long periods well, at
// O(N·K) per bin, with more false alarms on random walks. docs/oscillation-detectors.md gives the measured
// numbers.
//
// # Units, determinism, concurrency
//
// Times are [bwe.Time], periods [time.Duration], rates [bwe.Bitrate];
// inside, rates are float64 bits per second and times bin indices.
// Negative rates count as zero. Detectors are deterministic (same samples,
// same results), allocate nothing in Add after construction, never emit
// NaN, Inf or negative values, and are not safe for concurrent use.
//
// No reference implementation (libwebrtc has no oscillation detector)
// stands behind the defaults; they are this package's choices, tuned on
// the synthetic series of the quality test.
package oscillation
