// Package sendside assembles the full send-side bandwidth estimator from
// the pluggable parts of this module, as libwebrtc's
// GoogCcNetworkController assembles GCC (goog_cc_network_control.cc):
//
//	feedback ─┬─► RTT (mean of the last 32 per-batch maxima)
//	          ├─► sends ─► ALR detector, sent rate
//	          ├─► probe packets ─► probe.Estimator ─┐
//	          ├─► delaybased.Estimator ◄────────────┘  (detector: any bwe.DelayDetector)
//	          └─► lossbased.Estimator (capped by the delay-based estimate)
//	                 │
//	                 ▼
//	   target = min(loss-based, SentRateCap × sent rate) within [Min, Max]
//	                 │
//	                 ├─► probe.Controller ─► probe clusters for the pacer
//	                 ├─► oscillation detector (optional) ─┐
//	                 └─► rate controller (optional) ◄─────┴─ signals
//	                          │
//	                          ▼
//	                 encoder target (Result.Encoder)
//
// The last two stages are the ones production pushers added on top of GCC:
// an oscillation detector watching the target (package oscillation) and
// an encoder rate controller (package ratecontrol) that turns the target
// and its signals (usage, loss, RTT, congestion the estimator holds for
// real, oscillation) into the encoder's own target, decoupled from the
// estimate. Without them Result.Encoder is the target. They never change
// the target itself.
//
// One call per feedback batch, [Estimator.Update], returns a [Result]: the
// target and every signal behind it (the delay-based result with the
// detector's usage and trend, the loss-based result, the probe result, the
// RTT, the sent rate and its cap, the ALR state, what limited the target)
// plus the probe clusters to send. [Estimator.Process], called every 25–100
// ms, runs the timers: the probe controller's, and the feedback timeout.
//
// # Beyond libwebrtc
//
// Two safeguards address known failures of GCC implementations:
//
//   - Sent-rate cap. An application that sends less than the estimate
//     (an encoder at the top of its ladder, a static screen) gives
//     feedback that cannot confirm the estimate, yet probes and loss-free
//     feedback keep raising it; pion's estimator is reported to reach
//     31 Mbps for a 0.8 Mbps sender on a 3 Mbps link. The target here
//     never exceeds SentRateCap (2) × the rate actually sent over the last
//     second, and never falls below the start rate because of it. The
//     parts keep their own estimates, so the cap lifts as soon as the
//     sender sends more.
//   - Feedback timeout. When feedback stops (a dead return path, a
//     receiver gone), the last estimate is not held: after
//     FeedbackTimeout without feedback the target is multiplied by 0.8
//     every second (the fraction and interval of libwebrtc's RTT-based
//     backoff), and the parts are reset to it. Nothing learnt before the
//     gap, such as the detector's last usage signal, is applied again:
//     rates change only on feedback, on probe results, and on this
//     backoff.
//
// # Units, determinism, concurrency
//
// Instants are [bwe.Time] (send times on the sender clock, arrival times on
// the receiver clock; the two are never compared), rates [bwe.Bitrate],
// sizes [bwe.ByteCount]. The estimator reads no clock, starts no
// goroutine, and allocates nothing per call in steady state. It is not
// safe for concurrent use.
package sendside
