// Package ratecontrol chooses the encoder's target bitrate from the
// send-side bandwidth estimate, decoupled from it.
//
// A send-side estimator (trendline, AIMD, loss-based) produces an
// estimate per transport feedback, every 20–100 ms. Under RTT jitter that
// estimate swings although the path's capacity does not, and an encoder
// that obeys every swing wastes bitrate on the way down and quality on the
// way up. A [Controller] gives the encoder its own rate controller: it
// need not follow every swing, it may go above the bitrate ladder's top
// when the estimate has stayed well above it for a while, and it still
// follows real congestion down at once.
//
// # Model
//
// At each [Controller.Update], the estimate first goes through the
// configured [bwe.Smoother] (the raw estimate without one). The composer
// passes an oscillation-aware smoother, which already lets go to the raw
// estimate on real congestion. Both the smoothed and the raw estimate then
// lose the Headroom share:
//
//	input = smoothed × (1 − Headroom)
//	raw   = estimate × (1 − Headroom)
//
// Real congestion is Signals.Congested, or Signals.Loss ≥ LossThreshold
// (0.10, libwebrtc's high-loss threshold). It makes the input
// min(input, raw), so the target falls to the raw estimate even when the
// smoother holds higher, and it blocks increases for CongestionHold (1 s).
// Delay overuse alone is not real congestion: it is exactly what RTT
// jitter fakes; the estimator's own decrease reaches the target through
// the smoother when the smoother lets it.
//
// The input is then bounded to [Min, cap], where the cap is Max or beyond
// it (below). Min wins over everything: with the estimate below Min the
// target is Min.
//
// Decreases are immediate: whenever the bounded input is at or below the
// target, the target becomes the input.
//
// Increases follow the preference between sharpness and smoothness,
// Smoothness s in [0, 1]. A higher input less than s × MaxDeadBand (5 %)
// of the target above it starts nothing, sparing the encoder tiny
// reconfigurations. Otherwise the target approaches the input
// exponentially with time constant τ = s × MaxRampTime (4 s), moving at
// most once per s × MaxIncreaseInterval (1 s):
//
//	target += (input − target) × (1 − exp(−Δt/τ))
//
// where Δt is the time since the ramp last moved the target (or began).
// After one τ at constant input, 63 % of a step is covered. The ramp ends
// on the input once what remains is within the dead band. At s = 0
// (Config.Sharp) the target is the bounded input at every update.
//
// # Beyond the ladder's top
//
// When the raw (headroom-reduced) estimate has stayed ≥ Max × (1 +
// BeyondMargin) at every update for BeyondAfter, with no congestion, the
// cap rises to
//
//	cap = min(Max × BeyondFactor, raw ÷ (1 + BeyondMargin))
//
// so the target may exceed Max (reaching it through the usual ramp) but
// keeps the margin below the estimate. Congestion, or the estimate falling
// below Max × (1 + BeyondMargin), puts the cap back to Max at once, and
// the target with it. BeyondFactor 1 never goes beyond.
//
// # Rungs
//
// With Config.Rungs, [State] reports the rung the target is on. The rung
// goes down at once when the target falls below its bitrate, and up when
// the target has stayed ≥ the next rung's bitrate × (1 + RungMargin) for
// RungHold.
//
// # Protection against predicted loss
//
// With Config.Protect set, the controller acts on a network-state
// predictor's probability that the next seconds are lossy
// (bwe.Signals.LossRisk, from package netstate through the composed
// estimator): at or above Protect.Threshold, and for Protect.Linger
// after, it reserves Protect.Reserve of its target for redundancy. Update
// then returns the media share, (1 − Reserve) × the target (never below
// Min), and [Controller.Protection] the reserved share, from which the
// sender sizes its FEC; with HoldIncreases the target does not rise
// meanwhile. Protecting before the loss arrives repairs it at the
// receiver instead of retransmitting it a round trip later.
//
// # Degenerate input
//
// Update never fails. A time earlier than the latest seen is taken as the
// latest (and counted); a negative estimate counts as 0, a huge one is
// bounded by the cap; a loss fraction is clamped to [0, 1], NaN counting
// as no loss (the smoother sees the cleaned fraction too). The output is
// always within [Min, cap], never negative; a NaN or negative risk never
// starts protection.
//
// # Sources
//
//	modules/congestion_controller/goog_cc/send_side_bandwidth_estimation.cc
//	  (kDefaultHighLossThreshold = 0.1, kBweIncreaseInterval = 1000 ms)
//	modules/remote_bitrate_estimator/aimd_rate_control.cc
//	  (kDefaultBackoffFactor = 0.85)
//
// The decoupled controller itself, its beyond-the-ladder rule and the
// sharpness/smoothness preference come from live-push practice rather than
// libwebrtc, whose encoder follows the target it is given.
//
// # Units, determinism, concurrency
//
// Rates are [bwe.Bitrate] (bits per second), instants [bwe.Time]
// (microseconds), intervals [time.Duration]. Time comes only from the
// arguments: the same inputs give the same targets, bit for bit. A
// Controller is not safe for concurrent use, and Update allocates nothing
// (provided its smoother does not).
package ratecontrol
