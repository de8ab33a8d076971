// Package traces holds the inputs of the bench: what a network does and
// what an estimator was told.
//
//   - Scenarios: a [Scenario] describes one closed-loop experiment as data
//     — forward and return [Path] (bottleneck capacity over time, drop-tail
//     queue, optional token bucket, propagation delay, random and bursty
//     loss, jitter with or without reordering, slow periodic or random-walk
//     delay), media [Flow]s (video-like or greedy sources) and [Cross]
//     traffic (TCP bulk, short TCP, CBR). The generators build the families
//     of the literature (RFC 8867 cases, the RFC 8868 grid, weak networks,
//     RTT jitter, bursty loss, application-limited senders, token-bucket
//     shapers), each a value with a name and a seed. The emulator of
//     package replay runs them.
//   - Capacity traces: a [Capacity] is the bottleneck's rate over time;
//     [Steps] is a hand-written schedule and [Trace] a recorded one, read
//     from the formats of public measurement campaigns (Mahimahi, Pensieve
//     rate files, per-second CSVs, OpenNetLab JSON). The traces whose
//     licence allows it are embedded ([Corpus]); the others are read from
//     the directory named by the BWE_TRACES environment variable.
//   - Feedback traces: a recorded transport-wide-CC feedback log in the
//     native text format of docs/trace-format.md, written and read one
//     feedback batch at a time ([FeedbackWriter], [FeedbackReader]), for
//     open-loop replay.
//
// # Units and determinism
//
// Instants are [bwe.Time] microseconds, intervals [time.Duration], rates
// [bwe.Bitrate], sizes [bwe.ByteCount]. Scenario generators are pure: the
// same arguments give the same scenario. Readers never panic on bad input:
// they return a [ParseError] naming the file, line and field.
package traces
