//go:build linux

package pionbwe_test

import (
	"bytes"
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/internal/peertest"
	"github.com/bwelab/bwe/pionbwe"
	"github.com/bwelab/bwe/sendside"
)

// netnsSession is liveSession through the kernel path
// (peertest.RunNetns), on the wall clock.
func netnsSession(t *testing.T, spec string, opts []pionbwe.Option, bottleneck func(time.Duration) int, d time.Duration) (peertest.Series, []sendside.Result, []byte) {
	t.Helper()
	factory, recorded := recordingFactory(t, spec, opts)
	s, err := peertest.RunNetns(context.Background(), peertest.Config{Factory: factory, Bottleneck: bottleneck, Duration: d})
	if err != nil {
		t.Fatal(err)
	}
	results, trace := recorded()
	return s, results, trace
}

// logTargets logs the target, the bottleneck and the delivered rate once a
// second.
func logTargets(t *testing.T, samples []peertest.Sample) {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("t, target, bottleneck, delivered:")
	next := time.Second
	for _, s := range samples {
		if s.Elapsed < next {
			continue
		}
		next += time.Second
		b.WriteString("\n\t" + s.Elapsed.Round(100*time.Millisecond).String() + " " +
			bwe.Bitrate(s.TargetBps).String() + " " + bwe.Bitrate(s.BottleneckBps).String() + " " + bwe.Bitrate(s.DeliveredBps).String())
	}
	t.Log(b.String())
}

// netnsOverhead is what the kernel tbf counts of a packet beyond its RTP
// header and payload: the SRTP tag (16 bytes with AEAD_AES_GCM), UDP (8),
// IPv4 (20) and the Ethernet header (14).
const netnsOverhead = 16 + 8 + 20 + 14

// The checks of TestLiveSessionTracksBottleneck, with the live-push
// configuration (livePush), through a real kernel bottleneck: two network
// namespaces, a veth pair, a tbf on the sender's end (peertest.RunNetns),
// 25 ms of one-way delay each way from the sockets' delay lines. From
// 300 kbps the target converges within ±15 % of a constant 1.5 Mbps tbf
// within 10 s (enters the band by 10 s and never leaves it again in the
// rest of the 20 s session); after a drop of the tbf
// from 2 to 1 Mbps it is within +15 % of the new rate within 2 s. Each
// session's recorded trace replays exactly. The tbf counts Ethernet
// frames, so the packet overhead given to the estimator is the kernel
// path's (netnsOverhead) in place of vnet's.
//
// It needs root and runs in about 50 s of wall time:
//
//	sudo BWE_NETNS=1 go test ./pionbwe -run Netns -v
func TestNetnsTracksBottleneck(t *testing.T) {
	// livePush's options, the last of which (the packet overhead)
	// overrides vnet's.
	opts := append(slices.Clone(livePush.opts), pionbwe.WithPacketOverhead(netnsOverhead))
	if os.Getenv("BWE_NETNS") == "" {
		t.Skip("runs two peers through network namespaces and a kernel tbf; set BWE_NETNS=1 and run as root")
	}
	if err := peertest.CheckNetns(); err != nil {
		t.Skipf("BWE_NETNS is set but the kernel path is unavailable: %v", err)
	}
	const (
		tol  = 0.15
		hold = 5 * time.Second
	)

	t.Run("constant 1.5 Mbps", func(t *testing.T) {
		const rate = 1_500_000
		s, live, trace := netnsSession(t, livePush.spec, opts, peertest.Constant(rate), 20*time.Second)
		logTargets(t, s.Samples)
		conv, held := settled(s.Samples, tol, hold), converged(s.Samples, tol, hold)
		mean, lowest, within := after(s.Samples, 10*time.Second, tol)
		t.Logf("connected after %v; within ±15 %% for good from %v (for 5 s from %v); target at 1/5/10/20 s: %v %v %v %v; from 10 s: mean %.3f, lowest %.3f of the bottleneck, %.0f %% of the time within ±15 %%; %d feedback reports, %d bytes offered, %d delivered",
			s.ConnectedAfter, conv, held,
			bwe.Bitrate(at(s.Samples, time.Second).TargetBps), bwe.Bitrate(at(s.Samples, 5*time.Second).TargetBps),
			bwe.Bitrate(at(s.Samples, 10*time.Second).TargetBps), bwe.Bitrate(s.Samples[len(s.Samples)-1].TargetBps),
			mean, lowest, 100*within, s.FeedbackReports, s.OfferedBytes, s.DeliveredBytes)
		if conv < 0 || conv > 10*time.Second {
			t.Errorf("constant %v: the target stayed within ±15 %% of the bottleneck from %v on (-1: it left the band by the end), want from 10 s at the latest; lowest %.3f of it after 10 s",
				bwe.Bitrate(rate), conv, lowest)
		}
		checkReplay(t, livePush.spec, live, trace)
	})

	t.Run("2 → 1 Mbps", func(t *testing.T) {
		const drop = 15 * time.Second
		d, live, trace := netnsSession(t, livePush.spec, opts, peertest.Steps(drop, 2_000_000, 1_000_000), 25*time.Second)
		logTargets(t, d.Samples)
		var follow time.Duration = -1
		for _, x := range d.Samples {
			if x.Elapsed > drop && float64(x.TargetBps) <= 1.15e6 {
				follow = x.Elapsed - drop
				break
			}
		}
		t.Logf("2 → 1 Mbps at 15 s: target %v before, within +15 %% of 1 Mbps after %v; converged within ±15 %% of 2 Mbps at %v",
			bwe.Bitrate(at(d.Samples, drop).TargetBps), follow, converged(d.Samples[:int(drop/peertest.DefaultSampleInterval)], tol, hold))
		if follow < 0 || follow > 2*time.Second {
			t.Errorf("capacity drop 2 → 1 Mbps: the target fell within +15 %% of 1 Mbps after %v, want within 2 s", follow)
		}
		checkReplay(t, livePush.spec, live, trace)
	})
}
