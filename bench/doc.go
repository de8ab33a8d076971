// Package bench measures the per-packet cost of bandwidth estimation on
// one recorded session, side by side: pion's gcc (pion/interceptor
// v0.1.51 gcc.NewSendSideBWE), our pion adapter (package pionbwe) and our
// bare composed estimator (sendside.Estimator). It holds benchmarks and
// their tests only.
//
// # What is measured
//
// BenchmarkSession replays the session into a cc.BandwidthEstimator:
// every RTP header through the writer AddStream returned (its next
// writer discards), every feedback packet through WriteRTCP. One op is
// one replay of the whole session. Sub-benchmarks:
//
//	impl=pion-gcc           pion's gcc with its default LeakyBucketPacer
//	impl=pion-gcc-nopacer   pion's gcc with gcc.NewNoOpPacer()
//	impl=bwe-<cfg>          pionbwe.New, pacer off
//	impl=bwe-<cfg>-paced    pionbwe.New, pacer on (padding off)
//
// BenchmarkCore replays, into the bare sendside.Estimator, the feedback
// batches the adapter (pacer off) gives its own estimator on this
// session — read back from the adapter's recorder (pionbwe.WithRecorder)
// — with Process on the adapter's 25 ms timer grid: what our estimator
// costs once feedback is parsed. Sub-benchmarks config=<cfg>.
//
// Our configurations <cfg>:
//
//	plain   sendside.DefaultConfig(): trendline detector, likelihood
//	        loss-based estimator, probing
//	robust  the same with trendline.NewByName("robust")
//	smooth  replay.ParseEstimator("smooth").Config(): oscillation
//	        detector, oscillation-aware smoother, encoder rate controller
//
// Every benchmark reports, besides ns/op, B/op and allocs/op of one
// session, the cost per RTP packet of the session: ns/packet (wall
// time), cpu-ns/packet (CPU time of the whole process, user and system,
// on unix: the work of the estimators' own goroutines, pion's ack
// pipelines and our pacer, counts here even when it overlaps the
// replaying goroutine), allocs/packet and B/packet (the whole process,
// measured with runtime.ReadMemStats around the measured stretches).
//
// # Method
//
// Each estimator is built once, replays the session warmups (2) times
// unmeasured, then once per b.Loop iteration. Replay k continues replay
// k-1: RTP and transport-wide sequence numbers are shifted by k × 5000
// (mod 2^16), the TWCC base sequence numbers alike, the TWCC reference
// times by k × 19.2 s (300 units of 64 ms, so that every arrival shifts
// by exactly the session's length) and the feedback packet counts by k
// × the number of feedback packets; our estimators' clocks (the
// adapter's pionbwe.WithClock, the batches' times) read k × 19.2 s plus
// the event's time. The measured cost is thus the steady state of a
// long session: no construction, no buffer growth. The shifts, a few ns
// per packet, are measured with it, for every implementation alike.
//
// The exception is impl=pion-gcc: its LeakyBucketPacer sends on the wall
// clock at 1.5 × a target that starts at 10 kbps, so in a tight loop its
// queue (an unbounded list, 1.5 kB per packet) only grows. That
// estimator is closed and replaced after every replay, with the timer
// stopped and the allocation counts paused.
//
// # Caveats
//
// pion's gcc reads time.Now for departure times; it cannot be given the
// session's clock. Replayed in a tight loop, its packets leave
// microseconds apart, so its arrival-group accumulator, which closes a
// group 5 ms of departure time after it opened, closes one group per
// 5 ms of wall time: its Kalman filter, overuse detector and rate
// controller run far less often than at the session's real pace. Its
// numbers here are therefore a lower bound of its cost.
//
// The paced variants replay open loop too: our adapter's pacer runs in
// its own goroutine on the session's clock, and in a tight loop it
// seldom gets the processor before its queue (2048 packets) is full;
// most packets then leave through the writer's forced flush, 2048
// packets late, and the recorded feedback reports packets the adapter
// has not sent yet (counted as unknown, not given to the estimator).
// pion's default pacer sends almost nothing (see above), so its
// feedback matches nothing either. The paced rows measure the write
// path with queueing and the feedback parsing, not the estimators.
//
// # The session
//
// Generated once per test binary, deterministically (math/rand/v2 PCG,
// seed 1): 5000 RTP packets of 1200 bytes (12-byte header, 8 bytes of
// transport-wide CC extension, 1180 bytes of payload), one every 3.84 ms
// (2.5 Mbps) for 19.2 s, through a 2 Mbps bottleneck with a 300 ms
// drop-tail queue, 40 ms one-way delay both ways and 1 % random loss. The
// sender does not follow any estimate, so the queue fills and drops
// about a fifth of the packets (4900 reported, 18.8 % of them lost). The
// receiver (pion's twcc.Recorder, on a clock 7 h ahead of the sender's)
// builds TWCC feedback every 50 ms from what has arrived; each
// reaches the sender 40 ms later, marshalled and unmarshalled as
// pion's RTCP reader delivers it: 383 feedback packets. Feedback is
// delivered before a packet sent at the same instant.
//
// TestSessionInputsIdentical checks that the generator is deterministic,
// that our adapter matches every status of every feedback packet, replay
// after replay, and that pion's gcc takes every packet and feedback
// packet and updates its statistics. TestCoreSeesAdapterBatches checks
// that the bare estimator given the recorded batches yields the
// adapter's target after every batch. TestSteadyStateAllocs checks that
// a replay allocates nothing once warm, for the adapter (pacer off) and
// the bare estimator of every configuration.
//
// # Running and comparing
//
//	go test -run '^$' -bench . -benchmem -count 10 ./bench/ | tee new.txt
//	benchstat new.txt
//
// benchstat groups the rows by the impl= and config= keys; compare two
// versions with benchstat old.txt new.txt.
//
// Not safe for concurrent use: the session's packets are rewritten in
// place by every replay, so benchmarks and tests must not run in
// parallel.
package bench
