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
// # Token buckets
//
// A token-bucket bottleneck (a kernel tbf, a traffic shaper, a radio
// scheduler that grants in bursts) forwards a cluster's first packets at
// line rate while its bucket holds tokens, and only then queues the rest,
// which leave at the token rate. Measured from the first arrival to the
// last, the receive rate then overstates the capacity by about the
// bucket's depth over the cluster's bytes: a 15 ms cluster of padding at
// 4.5 Mbps through a 3000-byte bucket at 1.5 Mbps measures 2.5 Mbps. With
// Config.QueuedRate the receive rate of a cluster is measured over its
// queued packets only, those whose one-way delay (arrival − send) exceeds
// the lowest of the cluster's earlier packets by more than
// Config.QueueDelay (1 ms): they left a queue, so at the bottleneck's
// rate. It takes at least Config.MinQueued (4) of them, and applies only
// when it is lower than the whole cluster's receive rate; the rest of the
// formula is unchanged. Off by default, as libwebrtc has no such rule.
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
// # Probe controller
//
// [Controller] decides when to send probe clusters and at which rates; it is
// libwebrtc's ProbeController (2024 revision, with BandwidthLimitedCause and
// repeated initial probing), and its tests replay the cases of its unit test
// that need no network state estimate, and the probe expectations of
// goog_cc_network_control's.
// Sources:
//
//	modules/congestion_controller/goog_cc/probe_controller.{h,cc}
//	modules/congestion_controller/goog_cc/probe_controller_unittest.cc
//	modules/congestion_controller/goog_cc/goog_cc_network_control.cc
//
// The owner of the controller (a send-side estimator) feeds it the
// configured rates ([Controller.SetBitrates]), each new target with the
// reason it is limited ([Controller.SetEstimatedBitrate]), the ALR state, the
// allocated rate, recovery requests, and calls [Controller.Process] on every
// process tick; on a route change it calls [Controller.Reset] and then
// SetBitrates again. Every call that may start probing returns the clusters
// to send now as [Request]s; [Request.Cluster] is what the [Estimator] needs
// when the probe packets come back. With the default configuration:
//
//	initial     start·3 and start·6, once rates are set and the network is up
//	further     while waiting: estimate > 0.7·last probe ⇒ probe 2·estimate
//	timeout     no such estimate within 1 s ⇒ probing complete
//	max raised  probing complete, new max > old max and > estimate ⇒ probe max
//	allocation  probing complete, in ALR, allocated rate changed and above
//	            the estimate ⇒ probe 1× and 2× the allocated rate
//	periodic    (opt-in) in ALR, every 5 s ⇒ probe 2·estimate
//	repeated    (opt-in) for 5 s after start, 1 s after the last ⇒ 3·estimate
//	recovery    RequestProbe less than 5 s after the estimate fell below 0.66
//	            of the previous one, in ALR or less than 3 s after it ⇒
//	            probe 0.85·pre-drop rate if 0.95 of that is above the
//	            estimate; recovery probes at least 5 s apart
//
// A probe at or above the cap is lowered to it and ends exponential probing.
// The cap is the max rate (5 Mbps when none is set), or twice the max total
// allocated rate when that is lower, or, while the cause is
// [CauseLossIncreasing], 1.5 times the estimate. No probe at all is sent
// while the cause is [CauseDelayIncreased], [CauseLossDecreasing] or
// [CauseRTTBackoff]. Scaled rates are rounded half away from zero like
// libwebrtc's DataRate·double ([bwe.Bitrate.Scale]).
//
// The requests returned alias a buffer inside the controller: they are valid
// until the next call on it. The controller allocates nothing after
// construction, never reads a clock and is not safe for concurrent use.
//
// Differences from libwebrtc's ProbeController:
//
//   - The network is taken to be available from construction; libwebrtc's
//     controller starts unavailable and GoogCcNetworkController reports it
//     available before its first process interval.
//   - Probes are never below the min rate (unless the min is above the cap)
//     nor below 1 bps; libwebrtc ignores the min rate except as a fallback
//     start rate, so a loss-limited cap or a small allocation can take its
//     probes below it. Initial probing does not start without a positive
//     start or min rate, where libwebrtc would request 0 bps probes (its
//     debug checks forbid that case); it is counted in
//     [ControllerStats.NoStartRate].
//   - "No probe yet" is a time before every other, where libwebrtc uses its
//     clock's origin (Timestamp::Zero) after construction and Reset. The
//     two agree whenever the clock is more than a few seconds past its
//     origin, as in libwebrtc's tests, which start at 100 s; here the origin
//     of [bwe.Time] is arbitrary.
//   - The ALR start time keeps its microseconds; libwebrtc passes whole
//     milliseconds.
//   - The NetworkStateEstimate inputs (network_state_interval and related
//     settings, off by default in libwebrtc) are not modelled.
//   - Allocation probes are not limited by the current estimate by default
//     (alloc_current_bwe_limit unset, as in the revision whose unit test is
//     replayed; later revisions default it to 2);
//     [ControllerConfig.AllocationCurrentLimit] sets it.
//   - [Request.Cluster] promises at least 1 byte, because the [Estimator]
//     ignores clusters that promise none.
//
// # Units, determinism, concurrency
//
// Times are [bwe.Time] in microseconds, intervals [time.Duration], sizes
// [bwe.ByteCount] and rates [bwe.Bitrate] in bits per second. The estimator
// never reads a clock and uses no randomness: the same packets give the same
// estimates. An [Estimator] is not safe for concurrent use.
package probe
