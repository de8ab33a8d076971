// Package peertest runs a real two-peer pion/webrtc session in one process
// over an emulated, bandwidth-limited path, so that a send-side bandwidth
// estimator can be judged live.
//
// # Model
//
// [Run] builds two PeerConnections, a sender and a receiver, each with its
// own pion vnet Net (github.com/pion/transport/v4/vnet) behind a 1:1 NAT, and
// negotiates ICE, DTLS-SRTP and transport-wide congestion control between
// them: the sender registers the cc interceptor (built from
// [Config].Factory) and the transport-wide sequence-number header extension;
// the receiver generates transport-wide CC feedback.
//
// The path between them is a vnet WAN router that delays every datagram by
// [Config].Delay in each direction. The sender → receiver direction then
// crosses a bottleneck: vnet's token-bucket queue (TBFQueue) with a depth of
// two 1500-byte datagrams and a drop-tail bound of [Config].QueueLimit worth
// of bytes at the current rate. [Config].Bottleneck sets its rate, in bits
// per second, once per sample interval. The receiver → sender direction
// (feedback) has no rate limit.
//
// The source is a synthetic video stream: a VP8 TrackLocalStaticSample fed
// [FrameRate] frames per second, packetised by pion. Each keyframe interval
// ([KeyframeInterval]) carries the encoder bitrate times the interval, split
// so that the keyframe is [KeyframeWeight] times a delta frame. The encoder
// bitrate is the estimator's EncoderBitrate() when it has that method, and
// its GetTargetBitrate() otherwise.
//
// Every sample interval Run records a [Sample]: target and encoder bitrate,
// the bottleneck rate, and the rates measured on the path (source RTP before
// pacing, UDP payload offered to and delivered by the bottleneck).
//
// # Time
//
// The harness reads the clock, sleeps on tickers and runs goroutines, as pion
// does. Inside a testing/synctest bubble it all runs on virtual time: a 20 s
// session takes well under a second of wall time and is immune to CPU
// starvation. Outside a bubble (for instance in a command) it runs on the
// wall clock, and a loaded machine can delay packets beyond what the path
// models.
//
// # Choosing the estimator
//
// [Config].Factory is a cc.BandwidthEstimatorFactory; [GCC] wraps pion's
// gcc.NewSendSideBWE. Any other cc.BandwidthEstimator plugs in the same way.
//
// # The kernel path
//
// [RunNetns] (Linux only) runs the same session through the kernel: each
// peer in a network namespace of its own, made for the session and deleted
// after it, the two joined by a veth pair with a tbf qdisc on the sender's
// end as the bottleneck, its rate changed with `tc qdisc change` as
// [Config].Bottleneck moves. Each peer's pion Net makes its sockets on an
// OS thread that has joined the peer's namespace (setns), so both peers
// live in one process. The kernel provides no delay (that would take
// netem): each socket holds its datagrams for [Config].Delay in a
// user-space delay line, timed by Go timers on the wall clock. The tbf
// counts Ethernet frames (UDP payload + 42 bytes), vnet's bucket payload
// only. RunNetns documents the rest.
//
// It needs root, iproute2 (ip, tc) and a kernel with veth and sch_tbf;
// [CheckNetns] tells whether the machine has them. Its tests run only when
// BWE_NETNS is set, and skip with the reason when the machine lacks them:
//
//	sudo BWE_NETNS=1 go test ./internal/peertest -run Netns -v
//	sudo BWE_NETNS=1 go test ./pionbwe -run Netns -v
//
// A session takes its duration in wall time, plus about a second to build
// the path and connect the peers.
//
// Run and RunNetns are safe to call from several goroutines; each call
// builds its own network and peers.
package peertest
