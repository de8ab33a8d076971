// Package pionbwe plugs the send-side bandwidth estimator of package
// sendside into pion/webrtc: [Estimator] implements pion's
// cc.BandwidthEstimator, so that replacing pion's GCC is one line:
//
//	cc.NewInterceptor(func() (cc.BandwidthEstimator, error) {
//		return pionbwe.New(pionbwe.WithStartBitrate(1_000_000))
//	})
//
// # The contract
//
// pion's cc interceptor calls [Estimator.AddStream] for every local
// stream, [Estimator.WriteRTCP] for every RTCP compound packet received,
// and [Estimator.Close] when the peer connection closes. The application
// reads the target with [Estimator.GetTargetBitrate] or is told of its
// changes by [Estimator.OnTargetBitrateChange].
//
// Packets of streams that negotiated the transport-wide CC header extension
// (draft-holmer-rmcat-transport-wide-cc-extensions-01) carry a
// transport-wide sequence number: the one pion's twcc header-extension
// interceptor set, when it is registered after this interceptor (as in
// pion's examples), or else one this estimator sets. Every packet of every
// stream enters a send history kept by time (2 s by default, whatever the
// packet rate: a 20 Mbps stream with a 200 ms RTT needs 1000 packets,
// four times the 250 that pion's gcc keeps), with one index by
// transport-wide sequence number for TWCC feedback and one by (SSRC, RTP
// sequence number) for RFC 8888 feedback. Each WriteRTCP call turns the
// TWCC and RFC 8888 packets it holds into one [bwe.Feedback] batch: every
// report matched to its sent packet, sorted by send order, arrival times
// on the receiver's clock. Reports of packets never sent, no longer in
// the history or already reported received are skipped and counted in
// [Stats]; malformed feedback is counted, never a panic.
//
// [bwe.PacketResult].Seq in the batches is the packet's send index: its
// rank among all packets of the history, from 0. With TWCC on every
// stream, it is the unwrapped transport-wide sequence number less the
// first one.
//
// # The clock edge
//
// The estimator reads its clock (time.Now, or [WithClock]) in one place
// and converts the reading at once to [bwe.Time]: microseconds since the
// epoch, the clock's reading in [New]. A reading earlier than a previous
// one is taken as that one, so the estimator's time never goes back. Send
// times and feedback times are on this clock; arrival times on the
// receiver's (unwrapped TWCC reference time × 64 ms plus the receive
// deltas; RFC 8888 report timestamp minus arrival time offset).
//
// # The lock, the goroutines
//
// One mutex guards the estimator, the send history and the pacer's
// queue. The estimator starts three goroutines at the first AddStream: a
// ticker that runs the estimator's timers, the callback deliverer and
// the pacer. Close stops them and waits for them; it is idempotent.
//
// # Ordered callbacks
//
// Target changes are delivered by one goroutine, in order: a change
// overwrites a one-value mailbox, which the goroutine empties. A slow
// callback therefore sees fewer values, the latest, never an older after
// a newer one, and never blocks the estimator. pion's gcc starts a
// goroutine per change, which may deliver them out of order.
//
// # The grid that makes replays exact
//
// The session starts with its first packet: an empty feedback batch at
// that instant starts the estimator (its feedback-timeout clock, its
// initial probe clusters). From then on, the estimator's timers
// (sendside.Estimator.Process) run at every multiple of the process
// interval (25 ms) of estimator time, and before every feedback batch
// every grid point earlier than the batch's time has run and no later
// one: the rule of replay.Replay. The ticker, the write path and
// WriteRTCP all run due grid points; which of them does makes no
// difference. With [WithRecorder] the batches (the empty first one
// included) are written as given to the estimator, so that replaying the
// recording with the same configuration gives the same target after
// every batch, bit for bit. Exactness needs the default send source
// (sendside.SendsFromFeedback: send times travel in the feedback) and
// the default 25 ms interval. To record a session whose bandwidth is
// estimated by something else (pion's gcc), register the interceptor of
// [NewRecorder] instead; [WithObserver] sees every result as it is made.
//
// # The pacer
//
// With the pacer on (the default), the writer that AddStream returns
// copies each packet into a preallocated queue slot and returns; the
// pacer goroutine sends the queue at 2.5 × max(target, encoder target)
// (libwebrtc kDefaultPaceMultiplier), faster when the queue would take
// more than 2 s to drain (libwebrtc kMaxExpectedQueueLength), and at a
// probe cluster's rate while one is pending. [WithPacing] changes both
// numbers. The pacer sleeps with real timers; one that wakes late sends
// the packets it missed back to back, up to 2 ms of its rate. A packet enters the send
// history when it leaves the queue. If the queue fills up (2048
// packets), its oldest packets are sent at once rather than dropped.
// Probe clusters are sent with queued media, tagged with their cluster
// id, and, when the queue is empty, with padding (see below). A cluster
// that cannot be sent for 1 s is abandoned ([PacerStats].ProbesExpired).
// The pacer decides with the estimator's clock and sleeps with real
// timers.
//
// # Padding
//
// With padding on (the default, [WithPadding]), a probe cluster due while
// the queue is empty is filled with padding-only RTP packets at the
// cluster's rate until it has sent its minimum bytes and packets: padding
// bit set, no payload, 224 bytes of padding (the last one its length;
// libwebrtc rtp_sender.cc kMaxPaddingLength = 224), on the SSRC, payload
// type and RTP timestamp of the last media packet sent with a
// transport-wide number, marker clear, a transport-wide number of their
// own. They enter the send history as probe packets, and feedback treats
// them like media. Nothing is padded before a stream has sent media.
//
// Padding packets take numbers the packetizer (and an upstream
// transport-wide numbering interceptor) never gave out, so this writer
// rewrites numbers on the way out: per SSRC, an offset, the number of
// padding packets inserted so far, is added to every media packet's RTP
// sequence number, and likewise a single offset to every transport-wide
// number. The receiver sees both sequences gapless. Interceptors between
// this one and the transport see the rewritten numbers; those between the
// application and this one see the packetizer's. pion's interceptor.Chain
// binds local streams in registration order, each wrapping the writer
// made by those registered before it, so a packet passes through the
// interceptors from the last registered to the first: those registered
// before the cc interceptor see what this writer sends, those registered
// after it see what the application wrote. A NACK responder
// (nack.NewResponderInterceptor) must therefore be registered before the
// cc interceptor: it keeps the packets under the numbers the receiver
// NACKs, and its retransmissions go straight to the transport (unpaced,
// out of the send history). Registered after it, it would keep media
// under the packetizer's numbers and answer a NACK with the wrong packet,
// or none. The transport-wide numbering interceptor may be registered
// either way (pion's examples register it after; its numbers are then
// shifted here). Turn padding off when an interceptor registered after
// this one must see the numbers the receiver sees.
//
// # Live push
//
// The defaults are libwebrtc's. For a live pusher (a steady encoder with
// a keyframe every few seconds, a shaped uplink), docs/pion.md measures
// and recommends the configuration of replay's "live" preset (the robust
// detector, probe clusters measured over their queued packets and a
// backoff to 0.9 × the acknowledged rate), paced at 1.1 × the target and
// told the packet overhead of the path ([WithPacketOverhead]):
//
//	est, _ := replay.ParseEstimator("live")
//	cfg, _ := est.Config()
//	pionbwe.New(pionbwe.WithConfig(cfg), pionbwe.WithPacing(1.1, pionbwe.MaxQueueDelay),
//		pionbwe.WithPacketOverhead(16+8+20))
//
// In the two-peer test (0.8–4 Mbps, 2 s keyframes) its target is within
// ±15 % of the bottleneck for good from 0.3–1.0 s on, where the defaults
// settle near 70 % of it.
//
// # Cost
//
// In steady state the write path and the feedback path allocate nothing
// (a packet that needs a transport-wide number set by this estimator
// costs one small allocation inside rtp.Header.SetExtension).
package pionbwe
