// Package smoothing holds bitrate smoothers: stages that sit between a
// send-side bandwidth estimate and the encoder's rate controller and turn
// the raw estimate into the rate the encoder should act on. All of them
// implement [bwe.Smoother]:
//
//   - [Identity] passes the estimate through (the baseline);
//   - [EWMA] is a first-order low-pass filter with one time constant;
//   - [Asymmetric] follows a fall at once and a rise with a time constant;
//   - [Percentile] outputs a quantile (the median by default) of a sliding
//     time window;
//   - [Hysteresis] holds its output until the estimate has left a band
//     around it for a while, and follows deep falls at once;
//   - [OscillationAware] follows the upper part of a periodic swing that
//     nothing corroborates, and the estimate itself as soon as something
//     does.
//
// [Names] and [NewByName] select them by name with default configurations.
//
// # The problem
//
// Under ordinary RTT jitter (no loss, RTT below 150 ms) the trendline
// delay-based estimator of GCC reads the jitter as a growing queue: it
// signals overuse, the AIMD controller cuts the estimate to 85 % of the
// acknowledged rate (libwebrtc aimd_rate_control.cc: kDefaultBackoffFactor
// = 0.85), the estimate climbs back, and the cycle repeats with
// periods of 2 to 20 s. An encoder that follows the estimate spends its
// troughs at half the rate the link carried a few seconds earlier without
// a single loss. Estimates arrive irregularly, one per feedback (every
// 20–100 ms), sometimes after gaps of seconds.
//
// # Time constants on irregular samples
//
// [EWMA] and [Asymmetric] weight a new estimate arriving Δt after the
// previous one by
//
//	α = 1 − exp(−Δt/τ)
//
// so that their response depends on elapsed time, not on the number of
// estimates: after one τ a step is covered to 1 − 1/e ≈ 63.2 % whether it
// came as one sample or as fifty. [Percentile] and [OscillationAware]
// windows are spans of time, bounded by rings of MaxSamples estimates.
//
// # OscillationAware: the design
//
// While an oscillation is detected (by [bwe.Signals.Oscillation], or by the
// config's own [bwe.OscillationDetector] run on the raw estimate) and
// nothing corroborates a congestion, the output is
//
//	out = max(x, Q_q(estimates over the last Cycles·Period)),   q = 0.75
//
// where x is the current raw estimate. The argument for an upper quantile
// of the cycle rather than its mean:
//
//   - The troughs are the estimator's reaction to jitter, not to capacity:
//     the cut happens because jitter looks like queue growth, and the
//     climb back meets no loss and no queue. Averaging troughs in keeps
//     the waste, only spread out.
//   - The peaks were delivered: the estimate reached them and the link
//     carried them without loss and without a growing RTT (otherwise the
//     hold would have let go, see below). They are evidence of capacity.
//   - A quantile, not the maximum, keeps a margin: one spike of the
//     estimate does not set the rate, and over a sine swing the 0.75
//     quantile sits at mean + 0.71·amplitude, below the crest.
//   - Quantile 0.5 gives the median of the cycle, close to its mean, for
//     those who prefer the conservative choice; it is configurable.
//
// The output is never below x (when the estimate itself is high there is
// nothing to protect) and never above the window's maximum, an estimate
// seen within the last Cycles periods.
//
// The hold lets go at once, returning x at that very call, resetting Base
// and staying off for Rearm (one period, at least 1 s), when any of these
// corroborates a real congestion:
//
//   - [bwe.Signals.Congested]: the estimator itself holds the congestion
//     for real;
//   - [bwe.Signals.Loss] ≥ LossThreshold, 10 % by default, the threshold
//     above which libwebrtc's classic loss-based rule decreases
//     (send_side_bandwidth_estimation.cc: kDefaultHighLossThreshold =
//     0.1f);
//   - a sustained delay rise: the mean RTT over the last max(Period, 1 s)
//     (Period being the last one reported, capped at MaxPeriod)
//     exceeds the lowest such mean within the last RTTWindow (10 s) by
//     more than RTTRise (30 ms). A periodic jitter moves the RTT up and
//     down within every period and leaves the per-period mean level; a
//     growing queue raises it. After a step of d ms the recent mean has
//     risen by RTTRise after RTTRise/d of a period (0.6 period for a 50 ms
//     step). RTT 0 means unknown and is ignored. The test is relative: a
//     queue that stops growing becomes the new baseline once the old
//     baseline has left the window.
//
// [bwe.Overusing] alone is not corroboration: under jitter the delay
// detector says exactly that at every trough, and treating it as a
// congestion would undo the whole point. Loss and a mean RTT that keeps
// rising are what a real queue produces and jitter does not.
//
// A let-go also forgets the estimates before it: the next hold takes its
// level from the estimates after the congestion only.
//
// # When the estimate falls a step per cycle
//
// Under a periodic delay swing the trendline often does not oscillate
// around a level: it cuts at every rising edge of the delay and climbs
// back additively, by less than the cut, so the estimate falls a step per
// cycle, geometrically, until cut and climb balance (docs/oscillation.md
// shows a 4 Mbps link ending near 0.3 Mbps). An upper quantile of the last
// two cycles follows that staircase down one cycle late. Two options hold
// against it:
//
//   - Ratchet: the hold's level never falls while the hold lasts. The
//     encoder then keeps sending the rate the link carried when the hold
//     began; the estimator, which bounds its cuts by the acknowledged rate
//     (to 0.85 × acked), cuts no further than that and climbs back, and the
//     level rises with any quantile above it.
//   - Linger: the hold survives that long after the last detection. Once
//     the encoder holds, the estimator measures the held rate and the
//     shape of its swings changes, so the detector may lose them while
//     their cause goes on.
//
// Both leave the let-go conditions in charge: a real congestion shows as a
// growing RTT or as loss the estimator acts on, and ends the hold at once.
// Both are off by default; the composed "smooth" pipeline of package
// replay turns them on (Linger one minute).
//
// These let-go conditions apply whether or not an oscillation is held:
// [bwe.Smoother] requires following a corroborated congestion down at
// once, and a Base that lags (an [EWMA], say) would not. Without a
// detected oscillation and without a let-go condition, the output is
// Base's output, bit for bit (the raw estimate if Base is nil): an
// OscillationAware that sees no oscillation is the plain pipeline.
//
// # Units, bounds and time
//
// Rates are [bwe.Bitrate] (bps), instants [bwe.Time] (µs), spans
// [time.Duration]. Internally the filters work in float64 bps, converted
// by [bwe.Bitrate.Float] and [bwe.BitrateFromFloat]. Every smoother here
// returns the estimate itself on its first call, never returns a negative
// rate (a negative estimate counts as 0), and never returns more than the
// largest estimate it holds in memory. An instant earlier than the
// previous one is taken as the previous one: Δt = 0, so the low-pass
// filters do not move (a decrease with Asymmetric's Down of 0 is still
// followed) and windows do not slide.
//
// # Determinism and concurrency
//
// Time is an argument: nothing here reads a clock, and the same calls give
// the same outputs, bit for bit. Smooth allocates nothing: rings are sized
// at construction. The smoothers are not safe for concurrent use.
package smoothing
