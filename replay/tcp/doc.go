// Package tcp holds simple, deterministic, event-driven models of TCP
// senders, used as cross traffic when the emulator in package replay
// runs the RFC 8867 cases with TCP: §5.6 (media against one long-lived TCP
// flow) and §5.7 (media against short TCP flows).
//
// # Models
//
// [Sender] is the sending side of one connection with SACK-style
// acknowledgements. It chooses what to send and when; the caller owns the
// network:
//
//	for s.CanSend(now) {            // or: seg, ok := s.Send(now) until !ok
//		seg, _ := s.Send(now)
//		// the bottleneck decides seg's fate now; if delivered at A, call
//		// s.OnAck(A + return delay, seg.Seq) when that time comes
//	}
//	// and call s.OnTimer(t) at t = s.Deadline()
//
// Calls must come in nondecreasing time order (an earlier time is taken as
// the latest one seen). No pacing: every segment the window allows goes
// out at once, and acknowledgements clock the rest.
//
//   - Loss detection (RFC 6675 §4, DupThresh = 3): a segment is declared
//     lost once DupThresh segments sent after it have been acknowledged.
//     "After" is in transmission order, so a lost retransmission is found
//     the same way. Every declared loss is retransmitted, before new data.
//
//   - Loss recovery (RFC 6675, RFC 6582): the window is reduced once per
//     episode. A loss of data sent before the last reduction belongs to that
//     episode; fast recovery lasts until all of it has been acknowledged,
//     and the window does not grow meanwhile. Sending is governed by the
//     data in flight (RFC 6675 "pipe"); there is no window inflation.
//
//   - Retransmission timer (RFC 6298): SRTT, RTTVAR and RTO =
//     SRTT + 4·RTTVAR within [MinRTO, MaxRTO], initial RTO 1 s, one RTT
//     sample per acknowledged segment that was never retransmitted (Karn),
//     exponential backoff. The timer restarts when the oldest outstanding
//     segment is acknowledged or retransmitted (the latter as Linux does).
//     On expiry every segment in flight is declared lost, the window falls
//     to one segment and the sender slow-starts from the oldest one.
//
//   - [Reno] (RFC 5681): slow start (one segment per segment
//     acknowledged), congestion avoidance with byte counting (one segment
//     per window acknowledged), and on loss
//     ssthresh = cwnd = max(FlightSize/2, 2·SMSS), FlightSize being the
//     data in flight when the loss is detected.
//
//   - [Cubic] (RFC 8312, RFC 9438): after a loss the window follows the
//     cubic below, with t counted from the first acknowledgement in
//     congestion avoidance. β = 0.7, C = 0.4, fast convergence,
//     ssthresh = max(β·cwnd, 2·SMSS). After a timeout the next epoch
//     starts with K = 0 at its own window (RFC 8312 §4.7).
//
// CUBIC's window, in segments and seconds (RFC 9438 §4.2–4.5):
//
//	W_cubic(t) = C·(t − K)³ + W_max,   K = ∛((W_max − cwnd_epoch)/C)
//	per ack:   cwnd += (target − cwnd)/cwnd,   target = W_cubic(t + SRTT) within [cwnd, 1.5·cwnd]
//	Reno-friendly: W_est += α·acked/cwnd, α = 3(1−β)/(1+β) (1 once W_est ≥ the window before the loss);
//	               cwnd = W_est while W_cubic(t) < W_est
//
// [OnOff] is the short-TCP-flow model of RFC 8868 §6.1
// (draft-ietf-rmcat-eval-criteria-06, quoted by ns3-rmcat): files of
// 30–50 KB (KiB by default, as in ns3-rmcat) drawn uniformly, separated by idle times drawn from an
// exponential distribution with a mean of 10 s, some flows starting ON
// and the others OFF (RFC 8867 §5.7 starts 2 of 10 ON). A file starts only
// once the previous one is fully acknowledged and an idle time has passed;
// each file is a new connection, with a fresh initial window and RTT
// estimate. (ns3-rmcat starts each download an idle time after the
// previous start, whether or not it has finished.)
//
// # Defaults and sources
//
//   - Segment size 1000 B: ns3-rmcat's RFC 8867 suite
//     (RMCAT_TC_TCP_PKTSIZE), which also runs NewReno with delayed
//     acknowledgements off.
//   - Initial window 10 segments: RFC 6928.
//   - MinRTO 200 ms (Linux); RFC 6298 and ns-3 use 1 s. MaxRTO 60 s
//     (RFC 6298 §2.5).
//   - MaxWindow 10 000 segments; it also limits how far new data may run
//     ahead of the oldest unacknowledged segment, as a receive window
//     would.
//
// # Simplifications
//
// No connection handshake, no delayed acknowledgements, no receive window
// other than MaxWindow, no Nagle (a partial segment goes out at once), no
// header bytes, no pacing, no HyStart, PRR, RACK, TLP, F-RTO or undo of
// spurious reductions, no restart after idle within a connection, and no
// check that the flow used its window before it grows. The receiver
// acknowledges every segment individually by its number (SACK-like), so
// one lost acknowledgement loses no information beyond its own.
//
// # Units, determinism, concurrency
//
// Times are [bwe.Time] (µs), intervals time.Duration, sizes
// [bwe.ByteCount]; windows are kept in bytes and CUBIC's formula is
// evaluated in segments and seconds. A Sender is fully deterministic; an
// OnOff draws from a math/rand/v2 PCG seeded at construction, so the same
// seed and the same calls give the same results. Send and OnAck allocate
// nothing once the internal buffers have grown to the largest window used
// (MaxWindow bounds them). Values are not safe for concurrent use.
package tcp
