// Package bwe is the vocabulary shared by every stage of the bwe bandwidth
// estimators: instants and durations, bit rates and byte counts, the
// per-packet results carried by transport-wide congestion-control feedback
// (RTCP TWCC, RFC 8888), the delay-detector usage signal, and the small
// interfaces at the seams where stages are pluggable.
//
// The algorithm packages built on it (trendline, delaybased, and the ones
// that follow) are sans-IO: every method takes the current [Time] as an
// argument and none reads a clock, starts a goroutine or takes a lock. Feeding
// the same inputs gives the same outputs, bit for bit, which is what lets a
// recorded trace be replayed, fuzzed and compared against golden files.
//
// # Clocks
//
// Two clocks appear in feedback and they cannot be compared with each other:
// send times are read on the sender's clock, arrival times on the receiver's
// clock, whose offset to the sender is unknown and may jump. Only differences
// within one clock are meaningful. [PacketResult] keeps them in separate,
// documented fields.
//
// # Units
//
// [Time] is an instant in microseconds (the resolution of libwebrtc's
// Timestamp), intervals are [time.Duration], rates are [Bitrate] in bits per
// second and sizes are [ByteCount]. Conversions to float64 happen only in the
// named helpers ([Bitrate.Float], [Millis]).
package bwe
