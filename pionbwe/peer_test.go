package pionbwe_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/internal/peertest"
	"github.com/bwelab/bwe/pionbwe"
	"github.com/bwelab/bwe/replay"
	"github.com/bwelab/bwe/sendside"
	"github.com/bwelab/bwe/traces"
)

// liveSession runs two real pion/webrtc PeerConnections (ICE, DTLS, SRTP,
// transport-wide CC) over a vnet bottleneck in a synctest bubble with our
// estimator configured by the replay specification spec and opts,
// recording its feedback trace, and returns the harness's samples, the
// estimator's result after every feedback batch, and the recorded trace.
func liveSession(t *testing.T, spec string, opts []pionbwe.Option, bottleneck func(time.Duration) int, d time.Duration) (peertest.Series, []sendside.Result, []byte) {
	t.Helper()
	factory, recorded := recordingFactory(t, spec, opts)
	s, err := peertest.Run(context.Background(), peertest.Config{Factory: factory, Bottleneck: bottleneck, Duration: d})
	if err != nil {
		t.Fatal(err)
	}
	results, trace := recorded()
	return s, results, trace
}

// recordingFactory returns a factory of our estimator configured by the
// replay specification spec and opts, which records its feedback trace
// and its results after every feedback batch, and a function that returns
// them. Both are guarded by a mutex, for sessions whose goroutines run in
// parallel on the wall clock.
func recordingFactory(t *testing.T, spec string, opts []pionbwe.Option) (cc.BandwidthEstimatorFactory, func() ([]sendside.Result, []byte)) {
	t.Helper()
	est, err := replay.ParseEstimator(spec)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu      sync.Mutex
		rec     lockedBuffer
		results []sendside.Result
	)
	rec.mu = &mu
	factory := func() (cc.BandwidthEstimator, error) {
		cfg, err := est.Config()
		if err != nil {
			return nil, err
		}
		return pionbwe.New(append([]pionbwe.Option{
			pionbwe.WithConfig(cfg),
			pionbwe.WithStartBitrate(peertest.DefaultStartBitrate),
			pionbwe.WithRecorder(&rec),
			pionbwe.WithObserver(func(r sendside.Result) {
				if r.Feedback {
					mu.Lock()
					results = append(results, r)
					mu.Unlock()
				}
			})}, opts...)...)
	}
	return factory, func() ([]sendside.Result, []byte) {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(results), bytes.Clone(rec.b.Bytes())
	}
}

// lockedBuffer is a bytes.Buffer written under mu.
type lockedBuffer struct {
	mu *sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// checkReplay fails t unless trace, replayed with spec, gives the very
// results the live estimator gave, batch by batch.
func checkReplay(t *testing.T, spec string, live []sendside.Result, trace []byte) {
	t.Helper()
	r, err := traces.NewFeedbackReader(bytes.NewReader(trace), "live")
	if err != nil {
		t.Fatal(err)
	}
	est, err := replay.ParseEstimator(spec)
	if err != nil {
		t.Fatal(err)
	}
	rr, err := replay.Replay(r, est)
	if err != nil {
		t.Fatal(err)
	}
	if len(live) < 100 || len(rr.Series) != len(live) {
		t.Fatalf("live session gave %d feedback results, replay %d batches; want equal and at least 100", len(live), len(rr.Series))
	}
	for i, x := range rr.Series {
		if x.At != live[i].Time || x.Target != live[i].Target || x.Limit != live[i].Limit {
			t.Fatalf("batch %d: replay %v at %v (%v), live %v at %v (%v)", i, x.Target, x.At, x.Limit, live[i].Target, live[i].Time, live[i].Limit)
		}
	}
	t.Logf("the trace replays exactly: %d batches", len(live))
}

// converged returns the first instant from which every sample's target
// stays within ±tol of the bottleneck rate for at least hold, or -1 if
// there is none: the convergence time of ../shared evaluation's metrics
// (the rate stays within a band for 5 s), with the band around the
// bottleneck.
func converged(samples []peertest.Sample, tol float64, hold time.Duration) time.Duration {
	from := time.Duration(-1)
	for _, s := range samples {
		if !inBand(s, tol) {
			from = -1
			continue
		}
		if from < 0 {
			from = s.Elapsed
		}
		if s.Elapsed-from >= hold {
			return from
		}
	}
	return -1
}

// settled returns the time from which every sample's target is within
// ±tol of the bottleneck until the end of the session, provided that is
// at least hold before the last sample; -1 otherwise.
func settled(samples []peertest.Sample, tol float64, hold time.Duration) time.Duration {
	from := time.Duration(-1)
	for _, s := range samples {
		switch {
		case !inBand(s, tol):
			from = -1
		case from < 0:
			from = s.Elapsed
		}
	}
	if from < 0 || samples[len(samples)-1].Elapsed-from < hold {
		return -1
	}
	return from
}

func inBand(s peertest.Sample, tol float64) bool {
	return float64(s.TargetBps) >= (1-tol)*float64(s.BottleneckBps) && float64(s.TargetBps) <= (1+tol)*float64(s.BottleneckBps)
}

// after summarizes the samples from d on: the mean and the lowest target
// over the bottleneck rate, and the share of samples within ±tol of it.
func after(samples []peertest.Sample, d time.Duration, tol float64) (mean, lowest, within float64) {
	lowest = math.Inf(1)
	var n int
	for _, s := range samples {
		if s.Elapsed < d {
			continue
		}
		r := float64(s.TargetBps) / float64(s.BottleneckBps)
		mean += r
		lowest = min(lowest, r)
		if inBand(s, tol) {
			within++
		}
		n++
	}
	if n == 0 {
		return 0, 0, 0
	}
	return mean / float64(n), lowest, within / float64(n)
}

// The recorded trace of a live session replays, offline, to the very
// estimates the live estimator gave after every batch, with the
// libwebrtc-equivalent configuration and with the live-push one.
func TestLiveSessionReplaysExactly(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a two-peer session")
	}
	for _, c := range []struct {
		spec string
		opts []pionbwe.Option
	}{{"plain", nil}, {livePush.spec, livePush.opts}} {
		spec := c.spec
		t.Run(spec, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				_, live, trace := liveSession(t, spec, c.opts, peertest.Steps(5*time.Second, 2_000_000, 1_000_000, 2_000_000), 15*time.Second)
				checkReplay(t, spec, live, trace)
			})
		})
	}
}

// livePush is the configuration this module recommends to a live pusher
// (docs/pion.md): the live preset (the robust detector, probe clusters
// measured over their queued packets), pacing at 1.1 × the target, and
// the packet overhead the bottleneck counts: on vnet, whose token bucket
// counts UDP payloads, the SRTP tag of the AEAD_AES_GCM profiles two pion
// peers negotiate, 16 bytes.
var livePush = struct {
	spec string
	opts []pionbwe.Option
}{"live", []pionbwe.Option{pionbwe.WithPacing(1.1, pionbwe.MaxQueueDelay), pionbwe.WithPacketOverhead(vnetOverhead)}}

// vnetOverhead is what vnet's token bucket counts of a packet beyond its
// RTP header and payload: the SRTP tag (16 bytes with AEAD_AES_GCM).
const vnetOverhead = 16

// Convergence and tracking through real pion peers, configured for live
// push (livePush): from 300 kbps the target converges within ±15 % of a
// constant bottleneck (0.8 to 4 Mbps) within 10 s, that is, it enters the
// band by 10 s and never leaves it again in the rest of the 30 s session;
// and after a capacity drop from 2 to 1 Mbps it is within +15 % of the new
// capacity within 2 s.
//
// The libwebrtc-equivalent configuration (plain, paced at 2.5 × the
// target) is run alongside for the record. It does not converge: the
// source's keyframes (4 × a delta frame every 2 s) leave the pacer at
// 2.5 × the target and build queues at the bottleneck that its trendline
// reads as overuse, and vnet's token bucket lets its start-up probes
// through at line rate, so that they measure up to 2.2 Mbps on a 1.5 Mbps
// link. Nor would libwebrtc's backoff let it stay in the band: from a
// capacity it has found, it drops to 0.85 × the acknowledged rate less
// 5 kbps, just outside; the live preset backs off to 0.9 ×.
func TestLiveSessionTracksBottleneck(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a two-peer session")
	}
	const (
		tol  = 0.15
		hold = 5 * time.Second
	)
	configs := []struct {
		name, spec string
		opts       []pionbwe.Option
		assert     bool
	}{
		{"plain", "plain", nil, false},
		{"live push", livePush.spec, livePush.opts, true},
	}
	synctest.Test(t, func(t *testing.T) {
		for _, c := range configs {
			for _, rate := range []int{800_000, 1_000_000, 1_500_000, 2_500_000, 4_000_000} {
				s, _, _ := liveSession(t, c.spec, c.opts, peertest.Constant(rate), 30*time.Second)
				conv, held := settled(s.Samples, tol, hold), converged(s.Samples, tol, hold)
				mean, lowest, within := after(s.Samples, 10*time.Second, tol)
				t.Logf("%s, constant %v: within ±15 %% for good from %v (for 5 s from %v); target at 1/5/10/30 s: %v %v %v %v; from 10 s: mean %.3f, lowest %.3f of the bottleneck, %.0f %% of the time within ±15 %%",
					c.name, bwe.Bitrate(rate), conv, held,
					bwe.Bitrate(at(s.Samples, time.Second).TargetBps), bwe.Bitrate(at(s.Samples, 5*time.Second).TargetBps),
					bwe.Bitrate(at(s.Samples, 10*time.Second).TargetBps), bwe.Bitrate(s.Samples[len(s.Samples)-1].TargetBps),
					mean, lowest, 100*within)
				if !c.assert {
					continue
				}
				if conv < 0 || conv > 10*time.Second {
					t.Errorf("%s, constant %v: the target stayed within ±15 %% of the bottleneck from %v on (-1: it left the band by the end), want from 10 s at the latest; lowest %.3f of it after 10 s",
						c.name, bwe.Bitrate(rate), conv, lowest)
				}
			}

			d, _, _ := liveSession(t, c.spec, c.opts, peertest.Steps(15*time.Second, 2_000_000, 1_000_000), 25*time.Second)
			var follow time.Duration = -1
			for _, x := range d.Samples {
				if x.Elapsed > 15*time.Second && float64(x.TargetBps) <= 1.15e6 {
					follow = x.Elapsed - 15*time.Second
					break
				}
			}
			t.Logf("%s, 2 → 1 Mbps at 15 s: target %v before, within +15 %% of 1 Mbps after %v", c.name, bwe.Bitrate(at(d.Samples, 15*time.Second).TargetBps), follow)
			if follow < 0 || follow > 2*time.Second {
				t.Errorf("%s, capacity drop 2 → 1 Mbps: the target fell within +15 %% of 1 Mbps after %v, want within 2 s", c.name, follow)
			}
		}
	})
}

// at returns the sample taken at or just after d.
func at(samples []peertest.Sample, d time.Duration) peertest.Sample {
	for _, s := range samples {
		if s.Elapsed >= d {
			return s
		}
	}
	return samples[len(samples)-1]
}

// The recording interceptor, next to pion's own gcc in a real two-peer
// session, records a trace that this module's estimator replays: one
// batch per feedback report that carried news, every packet matched.
func TestRecorderNextToPionGCC(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a two-peer session")
	}
	synctest.Test(t, func(t *testing.T) {
		var rec bytes.Buffer
		f, err := pionbwe.NewRecorder(&rec)
		if err != nil {
			t.Fatal(err)
		}
		s, err := peertest.Run(context.Background(), peertest.Config{
			Interceptors: []interceptor.Factory{f},
			Bottleneck:   peertest.Constant(1_500_000),
			Duration:     10 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		r, err := traces.NewFeedbackReader(bytes.NewReader(rec.Bytes()), "gcc-session")
		if err != nil {
			t.Fatal(err)
		}
		rr, err := replay.Replay(r, replay.Estimator{})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("pion gcc session: %d feedback reports, %d packets sent; trace: %d batches, %d packets, %d lost; replayed target %v at the end",
			s.FeedbackReports, s.PacketsSent, rr.Batches, rr.Packets, rr.Lost, rr.Series[len(rr.Series)-1].Target)
		if rr.Batches < int(s.FeedbackReports)*9/10 || rr.Batches > int(s.FeedbackReports)+1 {
			t.Errorf("trace has %d batches for %d feedback reports", rr.Batches, s.FeedbackReports)
		}
		if rr.Packets < int(s.PacketsSent)*9/10 {
			t.Errorf("trace reports %d packets of the %d sent", rr.Packets, s.PacketsSent)
		}
	})
}

// TestLivePushMatrix prints the table of docs/pion.md: every detector
// configuration at every pacing multiplier, with and without the packet
// overhead vnet counts, through every constant bottleneck of the two-peer
// session: convergence time within ±15 % (the instant from which the
// target stays in the band to the end of the session, at least 5 s),
// then the mean and the lowest target over the bottleneck from 10 s to
// 30 s. It runs with BWE_PION_MATRIX=1:
//
//	BWE_PION_MATRIX=1 go test ./pionbwe -run LivePushMatrix -v
func TestLivePushMatrix(t *testing.T) {
	if os.Getenv("BWE_PION_MATRIX") == "" {
		t.Skip("prints docs/pion.md's table; set BWE_PION_MATRIX=1")
	}
	rates := []int{800_000, 1_000_000, 1_500_000, 2_500_000, 4_000_000}
	var b strings.Builder
	b.WriteString("| estimator | pacing | overhead |")
	for _, r := range rates {
		fmt.Fprintf(&b, " %v |", bwe.Bitrate(r))
	}
	b.WriteString("\n|---|---|---|")
	for range rates {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	synctest.Test(t, func(t *testing.T) {
		fmt.Fprintf(&b, "| pion gcc | 2.5 | 0 |")
		for _, r := range rates {
			s, err := peertest.Run(context.Background(), peertest.Config{Bottleneck: peertest.Constant(r), Duration: 30 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			b.WriteString(matrixCell(s))
		}
		b.WriteString("\n")
		for _, spec := range []string{"plain", "robust", "probes=queued", "detector=robust,probes=queued", "live"} {
			for _, overhead := range []int{0, vnetOverhead} {
				for _, pace := range []float64{pionbwe.PaceMultiplier, 1.5, 1.1} {
					fmt.Fprintf(&b, "| %s | %.1f | %d |", spec, pace, overhead)
					opts := []pionbwe.Option{pionbwe.WithPacing(pace, pionbwe.MaxQueueDelay), pionbwe.WithPacketOverhead(overhead)}
					for _, r := range rates {
						s, _, _ := liveSession(t, spec, opts, peertest.Constant(r), 30*time.Second)
						b.WriteString(matrixCell(s))
					}
					b.WriteString("\n")
				}
			}
		}
	})
	t.Log("\n" + b.String())
}

// matrixCell formats one session for TestLivePushMatrix.
func matrixCell(s peertest.Series) string {
	conv := "—"
	if c := settled(s.Samples, 0.15, 5*time.Second); c >= 0 {
		conv = fmt.Sprintf("%.1f s", c.Seconds())
	}
	mean, lowest, _ := after(s.Samples, 10*time.Second, 0.15)
	return fmt.Sprintf(" %s, %.2f / %.2f |", conv, mean, lowest)
}
