// Package probe estimates the bottleneck capacity from probe clusters: the
// short bursts a sender paces out above its current target to find out
// whether more bandwidth is available. It is libwebrtc's
// ProbeBitrateEstimator, rewritten for the bwe vocabulary; the tests replay
// every case of its unit test. Sources:
//
//	modules/congestion_controller/goog_cc/probe_bitrate_estimator.cc
//	modules/congestion_controller/goog_cc/probe_bitrate_estimator_unittest.cc
//	rtc_base/units/unit_base.h (rounding of scaled rates)
//
// # What a probe is
//
// A probe cluster is a group of packets that the pacer sends back to back at
// a chosen rate, tagged with the cluster's id ([bwe.PacketResult.ProbeCluster],
// ids start at 1; 0 means "not a probe"). Whoever scheduled the cluster knows
// how many packets and bytes it was meant to carry; [Cluster] passes those
// numbers to [Estimator.Update] alongside each packet, because transport
// feedback only carries the id.
//
// # How the estimate is formed
//
// For every cluster the estimator keeps the first and last send times, the
// first and last arrival times, the size of the packet sent last, the size
// of the packet received first, the total size and the packet count. From
// the packet that brings the cluster to enough of what was scheduled (by
// default 80 % of its packets, truncated, and 80 % of its bytes, rounded to
// the nearest byte) on, every packet of the cluster yields an estimate:
//
//	send_interval = last_send − first_send                (sender clock)
//	recv_interval = last_arrival − first_arrival          (receiver clock)
//	fail unless 0 < send_interval ≤ 1 s and 0 < recv_interval ≤ 1 s
//	send_rate = (total − size_last_sent) / send_interval
//	recv_rate = (total − size_first_received) / recv_interval
//	fail if recv_rate / send_rate > 2
//	estimate  = min(send_rate, recv_rate)
//	estimate  = 0.95·recv_rate   if recv_rate < 0.9·send_rate
//
// The packet sent last and the packet received first are left out of the
// sizes because an interval between n packets spans only n−1 of them. A
// receive rate well below the send rate means the probe found the link's
// capacity, so the estimate backs off slightly from it; a receive rate far
// above the send rate means the arrivals were bunched up (by a buffer or the
// feedback path) and say nothing about capacity.
//
// A cluster whose last arrival is more than 1 s older than the arrival of
// the packet being accounted is forgotten; a later packet with the same id
// starts it afresh. "Now" is therefore the receiver clock of the packets,
// exactly as in libwebrtc.
//
// # Arithmetic
//
// The arithmetic follows libwebrtc's unit types so that results match bit
// for bit: rates are DataSize/TimeDelta, 8·bytes·10⁶/µs truncated
// ([bwe.RateOf]); rates scaled by a factor are rounded half away from zero
// ([bwe.Bitrate.Scale]); the ratio test is done in float64. libwebrtc keeps
// its ratio constants as float (0.9f, 0.95f, 2.0f), so the defaults are those
// float32 values widened to float64.
//
// # Differences from libwebrtc
//
//   - Clusters live in a fixed table of [MaxClusters] slots so that
//     [Estimator.Update] never allocates. When a packet opens a new cluster
//     and every slot holds a live one, the cluster updated least recently
//     (in call order) is evicted and counted in [Stats.Evicted]. libwebrtc's
//     map is unbounded, but with the 1 s history a sender has only a few
//     clusters in flight, far below the bound.
//   - libwebrtc reports 0 bps when the receive rate is zero (all bytes in
//     the first-received packet, a case its debug checks forbid, or a rate
//     that truncates to 0 bps); here such a cluster produces no estimate and
//     is counted in [Stats.ZeroRate], so every estimate is positive. A zero
//     send rate with a positive receive rate fails the ratio test in both.
//   - Packets that libwebrtc would reject with a debug check (cluster id not
//     positive, non-positive MinProbes or MinBytes, negative size) and
//     packets not received or tagged with another cluster are ignored and
//     counted in [Stats.Ignored].
//
// # Units, determinism, concurrency
//
// Times are [bwe.Time] in microseconds, intervals [time.Duration], sizes
// [bwe.ByteCount] and rates [bwe.Bitrate] in bits per second. The estimator
// never reads a clock and uses no randomness: the same packets give the same
// estimates. An [Estimator] is not safe for concurrent use.
package probe
