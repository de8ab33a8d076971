// Package delaybased is the delay-based half of a GCC-style send-side
// bandwidth estimator: it turns transport feedback into a rate that keeps
// the bottleneck queue short.
//
// # Pipeline
//
// [Estimator.Update] takes one feedback batch and runs, in order:
//
//  1. [InterArrival]: received packets, in arrival order, are accumulated
//     into send-time groups (5 ms, bursts capped at 100 ms), and each
//     completed group yields a [bwe.GroupDelta] against its predecessor
//     (libwebrtc goog_cc/inter_arrival_delta.cc).
//
//  2. A [bwe.DelayDetector] (by default libwebrtc's trendline, from package
//     trendline) turns the deltas into a usage signal: normal, overusing or
//     underusing.
//
//  3. [Throughput] estimates the acknowledged throughput (libwebrtc's
//     RobustThroughputEstimator, goog_cc/robust_throughput_estimator.cc).
//
//  4. [AIMD] turns usage and throughput into a rate (libwebrtc
//     remote_bitrate_estimator/aimd_rate_control.cc): multiplicative
//     increase of 8 %/s (at least 1 kbps per update) until a link capacity
//     is known, then additive increase of about half a packet per response
//     time; on overuse, a single step down to
//
//     0.85 × acknowledged throughput − 5 kbps
//
//     followed by a hold; increases are capped at
//
//     1.5 × acknowledged throughput + 10 kbps
//
//     so the estimate cannot run far ahead of what the path delivered.
//     [LinkCapacity] tracks the throughput seen at overuse events (mean and
//     deviation) to decide between the two increase modes.
//
// The composition follows libwebrtc's DelayBasedBwe
// (goog_cc/delay_based_bwe.cc): while overusing, only a decrease may
// happen, at most once per clamp(RTT, 10 ms, 200 ms) unless throughput
// collapsed below half the estimate; otherwise a probe result, if present,
// replaces the estimate; otherwise AIMD updates it. A feedback gap of more
// than 2 s resets grouping and detector.
//
// # Signals
//
// Every call returns a [Result] with the estimate and the intermediate
// signals (detector trend, modified trend and threshold, usage, AIMD state,
// acknowledged throughput), so a run can be plotted and explained.
//
// # Units, determinism, concurrency
//
// Times are [bwe.Time] microseconds: send times on the sender clock,
// arrival times on the receiver clock, feedback times on the sender clock.
// Rates are [bwe.Bitrate]. Nothing here reads a clock, starts a goroutine or
// takes a lock: the same feedback gives the same estimates, bit for bit.
// Types are not safe for concurrent use. Update allocates nothing in steady
// state.
package delaybased
