// Package trendline holds delay-gradient detectors: stages that read the
// change of one-way delay between consecutive arrival groups and say whether
// the bottleneck queue is growing ([bwe.Overusing]), draining
// ([bwe.Underusing]) or neither ([bwe.Normal]). All of them implement
// [bwe.DelayDetector]:
//
//   - [Estimator] is libwebrtc's TrendlineEstimator, the detector of today's
//     send-side GCC, ported to reproduce its numbers exactly;
//   - [Kalman] is libwebrtc's older OveruseEstimator and OveruseDetector, the
//     Kalman filter of draft-ietf-rmcat-gcc-02, also an exact port;
//   - [Robust] is this package's own detector, designed to stop mistaking
//     path jitter for congestion.
//
// Each detector takes one [bwe.GroupDelta] per completed arrival group
// (libwebrtc calls its trendline per packet, but it acts only when a new
// group delta exists; here the caller makes that call only then).
//
// # Units and time
//
// Inside the detectors, delays are float64 milliseconds, converted once by
// [bwe.Millis]. Estimator and Kalman put their samples on a time axis of
// whole milliseconds: d.Arrival rounded to the nearest millisecond with ties
// upward, which is what libwebrtc's Timestamp::ms() gives them. Robust uses
// the arrival time at full resolution. Floating-point products are written so
// that the compiler cannot fuse them into FMA instructions, keeping results
// identical to the reference's separate rounding on every platform.
//
// # Adaptive threshold and usage state machine
//
// Estimator and Kalman reduce each delta to a statistic m (in ms) and hand it
// to the same state machine (libwebrtc trendline_estimator.cc Detect and
// UpdateThreshold; overuse_detector.cc has the same code):
//
//	n < 2:        Normal; threshold left alone
//	m >  thr:     t_over += (first excursion ? ts_delta/2 : ts_delta);  count++
//	              Overusing when t_over > 10 ms and count > 1 and trend ≥ previous trend
//	              (then t_over = 0, count = 0); otherwise the state is kept
//	m < −thr:     Underusing
//	otherwise:    Normal
//
// ts_delta is the group's send delta. The threshold thr then adapts:
//
//	skip when |m| > thr + 15                 (a spike: leave thr alone)
//	k   = 0.039 if |m| < thr, else 0.0087    (per ms)
//	thr = clamp(thr + k·(|m| − thr)·min(Δt_ms, 100), 6, 600),  thr₀ = 12.5
//
// Because k_down exceeds k_up, on a quiet path thr falls from 12.5 to its
// floor of 6 within two updates 20 ms apart, and it never rises for
// excursions larger than thr + 15. [ThresholdConfig] holds these constants.
//
// # Estimator: the trendline
//
// libwebrtc goog_cc/trendline_estimator.cc, defaults of [DefaultConfig]:
//
//	delta       = ArrivalDelta − SendDelta                        (ms)
//	accumulated = accumulated + delta
//	smoothed    = 0.9·smoothed + 0.1·accumulated
//	window     ← (arrival_ms − first_arrival_ms, smoothed), last 20 points
//	trend       = Σ(x−x̄)(y−ȳ) / Σ(x−x̄)²   when the window is full, else the previous trend
//	m           = min(n, 60)·trend·4,      n = number of deltas, capped at 1000
//
// Detection.Trend is the slope, Modified is m and Threshold the threshold m
// was compared with. On libwebrtc's unit-test fixture (20 ms send spacing,
// 22 ms receive spacing) m is 4.73, 5.23, 5.73, 6.23, 6.73 at deltas 20 to 24
// and the state turns Overusing at delta 24 exactly; see the Example.
//
// # Kalman: draft-ietf-rmcat-gcc-02 style
//
// libwebrtc remote_bitrate_estimator/overuse_estimator.cc with
// overuse_detector.cc, defaults of [DefaultKalmanConfig]. The model of one
// group delta, with t_delta = ArrivalDelta and ts_delta = SendDelta in ms and
// size_delta = SizeDelta in bytes, is
//
//	t_delta − ts_delta = slope·size_delta + offset + v,    v ~ N(avg, var)
//
// and a two-state Kalman filter tracks θ = [slope, offset]:
//
//	E        += diag(1e-13, 1e-3);  E11 += 10·1e-3 when overusing while the offset fell,
//	            or underusing while it rose
//	h         = [size_delta, 1];  residual = t_delta − ts_delta − h·θ
//	K         = E·h / (var + hᵀ·E·h);  θ += K·residual;  E = (I − K·hᵀ)·E
//	θ₀ = [8/512, 0],  E₀ = diag(100, 0.1)
//
// In the Normal hypothesis only, before the gain is computed, the noise
// statistics follow the residual clipped to ±3·√var:
//
//	alpha = 0.01 (0.002 after 300 deltas)
//	beta  = (1 − alpha)^(min_frame_period_ms · 30/1000)
//	avg   = beta·avg + (1 − beta)·residual
//	var   = max(beta·var + (1 − beta)·(avg − residual)², 1),   var₀ = 50
//
// where min_frame_period_ms is the smallest send delta of the last 60. The
// exponent is in milliseconds: a port that put a duration in nanoseconds
// there would make beta zero and pin var to its floor of 1, so jitter would
// never raise the noise estimate (NoiseVariance exposes it; a test checks
// that it rises under jitter and decays on a clean path). The detector then
// compares T = min(n, 60)·offset with the adaptive threshold: no gain, no
// regression. Detection.Trend is the offset (ms), Modified is T.
//
// The port reproduces every Run100000Samples/RunUntilOveruse case of
// libwebrtc's overuse_detector_unittest.cc to the frame (for example 7
// frames for SimpleOveruse2000Kbit30fps, 44 for
// HighGaussianVariance2000Kbit30fps), with libwebrtc's random generator and
// RTP grouping re-implemented in the test.
//
// # Robust: the lower envelope and two significance tests
//
// The failure it addresses: on a path whose delay varies by tens of
// milliseconds (Wi-Fi, cellular, RTT below 150 ms, no loss, no congestion),
// the trendline keeps declaring overuse and the estimate oscillates. Two
// properties of the trendline make that happen: jitter raises the slope of a
// 20-point regression as readily as a queue does, and the threshold it is
// compared with learns nothing from jitter (k_down drives it to the floor
// of 6 on any quiet stretch, and the 15 ms guard stops it from rising for
// the large excursions). Robust changes what is regressed and what the slope
// is compared with:
//
// Lower envelope. Jitter only ever adds delay to some packets, while a
// growing queue delays every packet, even the fastest. So the accumulated
// delay variation (as in the trendline, without smoothing) is reduced to its
// minimum over each BucketWidth (100 ms) of arrival time, and a line is
// fitted to those minima over the last Buckets (10) buckets, a 1 s window:
//
//	y_b = min{ accumulated_i : arrival_i in bucket b },   x_b = arrival time of that minimum
//	b̂   = Σ(x−x̄)(y−ȳ) / Σ(x−x̄)²
//
// Consistency. A queue that grows raises nearly every later minimum above
// every earlier one; a single jump of the path delay orders only the pairs
// that straddle it, and i.i.d. noise orders pairs at random. The
// Mann–Kendall statistic of the k minima
//
//	S = Σ_{i<j} sign(y_j − y_i)
//	Z = (S − sign S) / √((k(k−1)(2k+5) − Σ_ties t(t−1)(2t+5)) / 18)
//
// must reach Z ≥ 3 (Z ≤ −3 for underuse), with the sign of b̂. With 10
// untied points that means S ≥ 35: at least 40 of the 45 pairs in order.
// Fewer than 7 untied points can never reach it.
//
// Magnitude against the noise. The slope must also exceed
//
//	bound = min(max(MinSlope, 3·σ/√Σ(x−x̄)²), MaxSlope)
//	σ²    = max(s², running average of s²),   s² = Σ residual² / (k − 2)
//
// with a running average of time constant 10 s: the bound adapts to the
// observed jitter instead of falling to a fixed floor. MinSlope (0.02: a
// sender 2 % above the capacity) keeps clock drift and rounding from
// counting; a slope above MaxSlope (1: twice the capacity) counts whatever
// the tests say.
//
// The usage state machine is libwebrtc's, run on every delta with the
// latest fit: m = b̂·window (delay growth over the window, ms) against
// thr = bound·window (MaxSlope·window while the trend test fails), overuse
// after 10 ms of send time and two consecutive samples with a non-decreasing
// slope; underuse and normal immediately. Detection.Trend is b̂, Modified is
// m, Threshold is thr.
//
// Measured on the synthetic paths of the package tests (1200-byte packets,
// 60 s per case at 1 and 4 Mbps, jitter uniform in [0, 50 ms] and
// [0, 100 ms], FIFO arrivals, libwebrtc's send-time grouping; overuse
// episodes summed over the four cases):
//
//	jitter                         Estimator   Kalman   Robust
//	i.i.d. per packet                     50        0        0
//	held Exp(200 ms) per level           340       46       11
//	held Exp(1 s) per level               99        6        0
//
// Both halves are needed: over the i.i.d. and 200 ms-held cases at
// [0, 100 ms], the envelope without the tests misfires 108 times, the tests
// without the envelope 76 times, the combination 4 times. The Kalman filter
// is itself far more robust than the trendline, because its noise model
// learns the jitter; it is also slower to react.
//
// What it costs:
//
//   - Latency. A point exists only once its bucket closes (up to 100 ms), and
//     the trend test needs most of the window to agree. From a flat path to a
//     queue growing at 5 % of the capacity (95 % → 105 % load on a 2 and a
//     20 Mbps link), overuse comes 518 and 522 ms after the receiver first
//     sees the queue, against 182 and 105 ms for the trendline and 346 and
//     379 ms for the Kalman filter. With jitter uniform in [0, 50 ms] and
//     [0, 100 ms] on the 2 Mbps link it took 555 and 549 ms (Kalman 483 and
//     648 ms; the trendline 240 and 465 ms, after 2 and 5 false alarms in the
//     preceding 10 s). A reversal, growth straight into a drain, takes longer
//     (about 850 ms in the tests) since the window must first lose its peak.
//     After a Reset nothing can be called before 5 to 7 buckets have closed.
//   - CPU. Most updates only compare with the bucket minimum (about 40 ns);
//     an update that closes a bucket refits k points and runs k(k−1)/2 sign
//     comparisons (about 200 ns at k = 10), against about 90 ns per update
//     for the trendline and 210 ns for the Kalman filter.
//
// Its blind spot, shared by every delay-gradient detector: a swing of the
// path delay slower than the window, one that keeps rising for a second or
// more before it falls back (a radio link whose scheduling delay wanders, a
// periodic cross-traffic pattern upstream), is on the evidence of one-way
// delay alone the same thing as queue build-up, and Robust calls it overuse.
// So it does for a staircase of delay steps close enough together to look
// like a ramp. Only other evidence (loss, delivered rate against send rate,
// the periodicity of the swings) can tell those apart.
//
// # Differences from libwebrtc
//
//   - Hostile input is absorbed instead of propagated: non-finite
//     intermediate values are clamped to finite ones, Kalman saturates
//     size_delta to the int32 range (libwebrtc's int), treats a negative
//     minimum frame period as zero, and restarts its filter (counted by
//     FilterResets) where libwebrtc would only log a covariance that lost
//     positive semi-definiteness. None of this changes results on valid
//     input.
//   - Kalman takes t_delta with microsecond resolution; libwebrtc's legacy
//     path has whole milliseconds. Results are identical when arrival times
//     are whole milliseconds, as in its unit tests.
//   - The trendline's field-trial options (slope cap, sorting, window from
//     WebRTC-BweWindowSizeInPackets) and the network state predictor are not
//     implemented; libwebrtc has them off by default.
//   - OveruseDetector's overusing time is 10 ms, its value with the adaptive
//     threshold on (the default, and the value that reproduces the unit-test
//     frame counts).
//
// # Sources
//
//   - libwebrtc modules/congestion_controller/goog_cc/trendline_estimator.{h,cc}
//     and trendline_estimator_unittest.cc;
//   - libwebrtc modules/remote_bitrate_estimator/overuse_estimator.{h,cc},
//     overuse_detector.{h,cc}, inter_arrival.cc and overuse_detector_unittest.cc;
//   - draft-ietf-rmcat-gcc-02 (Holmer, Lundin, Carlucci, De Cicco, Mascolo,
//     2016): the arrival-time filter and the over-use detector;
//   - H. B. Mann, "Nonparametric tests against trend", Econometrica 13
//     (1945), and M. G. Kendall, Rank Correlation Methods (1975), for the
//     trend test.
//
// # Determinism and concurrency
//
// The detectors read no clock, start no goroutine and use no randomness: the
// same deltas give the same detections, bit for bit. Update (and
// Estimator.UpdateBatch) allocates nothing. A detector is not safe for
// concurrent use.
package trendline
