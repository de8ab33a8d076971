// Package metrics computes the evaluation metrics of real-time congestion
// control from recorded time series: utilization, queuing-delay
// percentiles, loss rate, fairness, convergence time, oscillation, video
// freezes and the MMSys 2021 challenge score. Each function is pure: it
// reads its arguments and returns numbers, so an emulated run, a replayed
// trace and a live capture are scored by the same code.
//
// # Model and sources
//
// The definitions follow RFC 8868 ("Evaluating Congestion Control for
// Interactive Real-Time Media", §4 metrics: rates sampled every 200 ms,
// utilization as send rate over capacity, fairness as throughput ratios
// over 1, 5 and 20 s windows, oscillation between watermarks), W3C
// webrtc-stats (freezeCount, totalFreezesDuration) as libwebrtc
// implements it, and the ACM MMSys 2021 bandwidth-estimation challenge
// (OpenNetLab). Where those leave a choice open (what "steady" means, how
// to treat an idle window) the project's choice is spelled out on the
// function. docs/metrics.md collects every definition with its source.
//
// # Data
//
// A rate over time is a [Series]: a fixed step and one [bwe.Bitrate] per
// step, read as sample and hold. Two series (rate and capacity, two
// flows) share their origin and may have different steps. Capacity phases
// ([Phases]) are the stretches of constant capacity; most rate metrics are
// taken over their steady part, after a settle time ([DefaultSettle]).
// Delays are [time.Duration], instants [bwe.Time], rates [bwe.Bitrate];
// ratios and fractions are float64.
//
// # Degenerate input
//
// No function panics on empty, short or odd input, and none returns NaN
// or ±Inf. Negative rates read as 0. Empty input gives zero results, each
// documented; a result that could be mistaken for a measurement comes with
// a count (samples, windows) or a flag (Converged). Parameters that cannot
// make sense (a negative window, a NaN fraction) are errors naming the
// parameter.
//
// # Determinism, cost, concurrency
//
// Same input, same output, bit for bit: no clock, no randomness, no map
// iteration. Functions allocate nothing unless they return a slice
// (appended to a caller's dst) or an error, or grow a [Spectrum]'s
// buffers. Each costs time linear in the number of samples, whatever the
// steps, except the spectrum: O(N log N) for N, the least power of two ≥
// the number of samples. A [Spectrum] is not safe for concurrent use;
// everything else holds no state.
package metrics
