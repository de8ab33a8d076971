// Package replay drives bandwidth estimators through emulated and recorded
// networks and measures how they do. It drives the send-side estimator of
// package sendside two ways:
//
//   - closed loop ([Run]): the estimator's target drives media senders
//     whose packets cross an emulated network described by a
//     [traces.Scenario], and the feedback that network produces drives the
//     estimator;
//   - open loop ([Replay]): a recorded feedback trace (the format of
//     docs/trace-format.md) is fed to any estimator configuration batch by
//     batch. [RunRecord] records the feedback of a closed-loop run; replaying
//     it with the same estimator reproduces the run's estimates exactly.
//
// An [Estimator] names the configuration (detector, loss-based estimator,
// probing); every media flow gets a fresh estimator built from it.
//
// # Model
//
// Each direction of the path is a [Link]: a drop-tail FIFO queue, limited in
// bytes or in milliseconds at the capacity in force, served at a capacity
// that varies over time (a [traces.Capacity]: a schedule of steps or a
// recorded trace), optionally behind a token bucket that lets up to its
// depth through at once after idle time (a shaper: traces.Path.Bucket),
// followed by a propagation delay with optional jitter
// (with or without reordering), a slow periodic swing and a random walk;
// packets may be lost at entry at random (Bernoulli) or in bursts
// (Gilbert–Elliott). Service integrates the capacity exactly across its
// pieces, in integer arithmetic. Because the capacity does not depend on
// the traffic and the queue is FIFO, a packet's fate is decided when it is
// sent.
//
// A media flow has a source, a pacer and an estimator at the sender, and a
// receiver. A video source produces frames at a frame rate, sized after
// the target through an encoder's first-order lag, with keyframes and
// random size variation, packetised at the flow's packet size; a greedy
// source always has a packet. The pacer sends at 2.5 × the target and
// sends the probe clusters the estimator asks for. The receiver reports
// transport feedback every 50 ms as a packet of its own on the opposite
// path, where it meets that path's delay, loss and capacity. Flows may
// start, stop, pause, run in the reverse direction and add delay of their
// own. Cross traffic shares the paths: bulk and short TCP flows (package
// replay/tcp) and CBR.
//
// # Metrics
//
// [Metrics] describes each media flow over the steady part of a run
// (after Scenario.Warmup), [Summary] the run; docs/metrics.md defines every
// field, computed with package replay/metrics. [Sample] holds each flow's
// time series for plots; [Result.WriteJSON] and [Result.WriteSeriesCSV]
// write results for other tools.
//
// # Units, determinism, concurrency
//
// Instants are [bwe.Time] microseconds on the emulation clock, which reads
// 0 when a run starts; senders and receivers share it. Rates are
// [bwe.Bitrate], sizes [bwe.ByteCount], intervals [time.Duration].
//
// Everything runs in virtual time: no clock is read, no goroutine is
// started, and the random processes draw from math/rand/v2 PCG generators
// seeded from Scenario.Seed, one stream per process. The same scenario and
// estimator give the same [Result], bit for bit, whatever the machine. A
// [Link] is not safe for concurrent use; separate runs share nothing and
// may run in parallel.
package replay
