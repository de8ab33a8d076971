// Command push streams a synthetic video track between two pion/webrtc peers
// in one process, over an emulated path whose bottleneck steps from 2 Mbps to
// 1 Mbps and back to 2 Mbps, and prints once a second how the sender's
// bandwidth estimate follows it.
//
// Run it from the module root:
//
//	go run ./examples/push
//	go run ./examples/push -spec live -pace 1.1 -overhead 16
//	go run ./examples/push -estimator gcc -duration 45s -high 3000000 -low 800000
//
// -estimator bwe (the default) uses this module's pionbwe estimator, built
// from -spec (an estimator specification of package replay: a preset such
// as plain, the libwebrtc-equivalent default, or live, the live-push
// configuration, or key=value settings), paced at -pace × its target, and
// told of -overhead bytes per packet beyond RTP;
// -estimator gcc uses pion's own gcc.NewSendSideBWE. The session runs on
// the wall clock, so on a busy machine packets can be delayed beyond what
// the path models.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/gcc"

	"github.com/bwelab/bwe/internal/peertest"
	"github.com/bwelab/bwe/pionbwe"
	"github.com/bwelab/bwe/replay"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "push:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("push", flag.ContinueOnError)
	estimator := fs.String("estimator", "bwe", "bandwidth estimator: bwe (pionbwe) or gcc (pion's gcc)")
	duration := fs.Duration("duration", 45*time.Second, "media duration; the bottleneck changes at 1/3 and 2/3 of it")
	high := fs.Int("high", 2_000_000, "bottleneck rate of the first and last third, bits per second")
	low := fs.Int("low", 1_000_000, "bottleneck rate of the middle third, bits per second")
	start := fs.Int("start", 1_000_000, "estimator start bitrate, bits per second")
	delay := fs.Duration("delay", 25*time.Millisecond, "one-way delay of each direction")
	spec := fs.String("spec", "plain", "estimator specification for -estimator bwe: a preset (plain, live, smooth, protect) or key=value settings")
	pace := fs.Float64("pace", pionbwe.PaceMultiplier, "pacing rate over the target for -estimator bwe, at least 1 (1.1 for live push)")
	overhead := fs.Int("overhead", 0, "bytes each packet costs beyond its RTP header and payload, for -estimator bwe (16 on this emulated path: the SRTP tag)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *duration < 3*time.Second || *high <= 0 || *low <= 0 || *start <= 0 || *delay <= 0 {
		return errors.New("want -duration >= 3s and positive -high, -low, -start and -delay")
	}

	var factory cc.BandwidthEstimatorFactory
	switch *estimator {
	case "gcc":
		factory = peertest.GCC(gcc.SendSideBWEInitialBitrate(*start))
	case "bwe":
		est, err := replay.ParseEstimator(*spec)
		if err != nil {
			return err
		}
		factory = func() (cc.BandwidthEstimator, error) {
			cfg, err := est.Config()
			if err != nil {
				return nil, err
			}
			return pionbwe.New(pionbwe.WithConfig(cfg), pionbwe.WithStartBitrate(*start), pionbwe.WithPacing(*pace, pionbwe.MaxQueueDelay), pionbwe.WithPacketOverhead(*overhead))
		}
	default:
		return fmt.Errorf("-estimator %q: want bwe or gcc", *estimator)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	fmt.Fprintf(out, "%-6s %12s %12s %12s %12s\n", "time", "bottleneck", "target", "encoder", "delivered")
	// Ticks can be late on a busy machine: print at the first sample of
	// each new second rather than at exact multiples.
	var delivered, n int
	printed := time.Duration(0)
	cfg := peertest.Config{
		Factory:    factory,
		Bottleneck: peertest.Steps(*duration/3, *high, *low, *high),
		Delay:      *delay,
		Duration:   *duration,
		OnSample: func(s peertest.Sample) {
			delivered += s.DeliveredBps
			n++
			sec := (s.Elapsed + peertest.DefaultSampleInterval/2).Truncate(time.Second)
			if sec <= printed {
				return
			}
			printed = sec
			fmt.Fprintf(out, "%-6v %12s %12s %12s %12s\n", sec,
				kbps(s.BottleneckBps), kbps(s.TargetBps), kbps(s.EncoderBps), kbps(delivered/n))
			delivered, n = 0, 0
		},
	}
	series, err := peertest.Run(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "connected after %v; %d RTP packets sent, %d received; %d feedback reports\n",
		series.ConnectedAfter.Round(time.Millisecond), series.PacketsSent, series.PacketsReceived, series.FeedbackReports)
	return nil
}

func kbps(bps int) string {
	return fmt.Sprintf("%d kbps", bps/1000)
}
