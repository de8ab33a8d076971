// Package replay drives bandwidth estimators through emulated and recorded
// networks and measures how they do. Today it holds the closed-loop
// emulator; open-loop replay of recorded feedback traces and bottlenecks
// that follow recorded capacity traces plug into the same pieces.
//
// # Model
//
// A [Link] is a bottleneck: a drop-tail FIFO queue served at a capacity
// that varies over time (a [Capacity]: today a schedule of [Steps]),
// followed by a fixed propagation delay, with optional Bernoulli loss at the
// entry, a per-packet jitter drawn uniformly from [0, J] that never reorders
// packets,
//
//	arrival_i = max(arrival_{i−1}, departure_i + delay + jitter_i + swing(departure_i))
//
// and a slow sinusoidal delay swing A·sin(2π·t/P) like the RTT drift of a
// mobile link. The queue limit is a byte count or a delay at the capacity
// in force (300 ms by default, RFC 8867's common path default). Service
// integrates the capacity exactly across capacity changes, in integer
// arithmetic (see [Link]).
//
// [Run] closes the loop around the send-side estimator of package
// sendside: a sender paces fixed-size packets at the estimator's target
// (never below a floor, never above the application's rate when it is
// application-limited) and sends the probe clusters the estimator asks for;
// the receiver returns transport feedback every 50 ms covering each packet
// whose fate it knows (arrived, or missing once a later packet arrived);
// the feedback reaches the sender one propagation delay later unless a
// feedback outage loses it; the sender feeds it to the estimator, runs the
// estimator's timers every 25 ms, and adopts the new target. A [Scenario]
// describes one such experiment; [Scenarios] returns the built-in ones.
//
// # Metrics
//
// [Metrics] follows the shared vocabulary of DESIGN.md over the steady
// part of a run (after Scenario.Warmup): utilization (bits that left the
// bottleneck ÷ bits its capacity allowed), queuing delay (one-way delay −
// the run's minimum one-way delay) at p50 and p95, loss rate (lost ÷
// sent), mean target and the number of overuse signals. [Sample] holds a
// time series every 100 ms for plots: capacity, target, the delay-based and
// loss-based estimates behind it and what limited it, delivered rate over
// the last 200 ms, sent rate over the last second, queuing delay, the ALR
// state and the detector's usage verdict.
//
// # Units, determinism, concurrency
//
// Instants are [bwe.Time] microseconds on the emulation clock, which reads
// 0 when a run starts; sender and receiver share it (the estimator only
// ever compares instants of one clock). Rates are [bwe.Bitrate], sizes
// [bwe.ByteCount], intervals [time.Duration].
//
// Everything runs in virtual time: no clock is read, no goroutine is
// started, and the random processes draw from math/rand/v2 PCG generators
// seeded from Scenario.Seed, one stream per process. The same scenario and
// estimator configuration give the same [Result], bit for bit. A [Link] is
// not safe for concurrent use; separate runs share nothing and may run in
// parallel.
package replay
