package peertest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pion/interceptor/pkg/gcc"
)

// window is the span over which delivered bits are compared with the
// bottleneck's rate. A 100 ms sample can hold the token bucket's burst
// (tbfBurstBytes = 24 kbit, 16 % of 100 ms at 1.5 Mbps); over 1 s the burst
// is below 2 % of the rate.
const window = time.Second

// checkBottleneck fails t if any window of samples delivered more than the
// configured rate plus 10 %.
func checkBottleneck(t *testing.T, samples []Sample, interval time.Duration) {
	t.Helper()
	n := int(window / interval)
	for i := 0; i+n <= len(samples); i++ {
		var delivered, capacity float64
		for _, s := range samples[i : i+n] {
			delivered += float64(s.DeliveredBps)
			capacity += float64(s.BottleneckBps)
		}
		if delivered > 1.1*capacity {
			t.Errorf("window %v..%v: delivered %.0f bps, bottleneck %.0f bps (limit +10 %%)",
				samples[i].Elapsed-interval, samples[i+n-1].Elapsed, delivered/float64(n), capacity/float64(n))
		}
	}
}

// at returns the sample taken at or just after d.
func at(samples []Sample, d time.Duration) Sample {
	for _, s := range samples {
		if s.Elapsed >= d {
			return s
		}
	}
	return samples[len(samples)-1]
}

// TestGCCOnConstantBottleneck runs pion's gcc for 20 s of virtual time on a
// 1.5 Mbps bottleneck and checks the harness: the peers connect, transport
// -wide CC feedback reaches the estimator, media flows, and the bottleneck
// holds its rate.
func TestGCCOnConstantBottleneck(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a full two-peer session")
	}
	synctest.Test(t, func(t *testing.T) {
		const rate = 1_500_000
		cfg := Config{
			Factory:    GCC(gcc.SendSideBWEInitialBitrate(DefaultStartBitrate)),
			Bottleneck: Constant(rate),
			Duration:   20 * time.Second,
		}
		series, err := Run(t.Context(), cfg)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if series.ConnectedAfter > 10*time.Second {
			t.Errorf("ConnectedAfter = %v, want <= 10s", series.ConnectedAfter)
		}
		if series.FeedbackReports == 0 {
			t.Error("FeedbackReports = 0, want > 0")
		}
		changed := false
		for _, s := range series.Samples {
			if s.TargetBps != series.StartBitrate {
				changed = true
				break
			}
		}
		if !changed {
			t.Errorf("target stayed at its start, %d bps, for %d samples", series.StartBitrate, len(series.Samples))
		}
		if series.PacketsSent == 0 || series.PacketsReceived == 0 || series.DeliveredBytes == 0 {
			t.Errorf("PacketsSent = %d, PacketsReceived = %d, DeliveredBytes = %d, want all > 0",
				series.PacketsSent, series.PacketsReceived, series.DeliveredBytes)
		}
		if series.PacketsReceived > series.PacketsSent {
			t.Errorf("PacketsReceived = %d > PacketsSent = %d", series.PacketsReceived, series.PacketsSent)
		}
		if got, want := len(series.Samples), int(cfg.Duration/DefaultSampleInterval); got != want {
			t.Errorf("len(Samples) = %d, want %d", got, want)
		}
		checkBottleneck(t, series.Samples, DefaultSampleInterval)
		for _, d := range []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second} {
			s := at(series.Samples, d)
			t.Logf("t=%v target=%d delivered=%d bottleneck=%d", s.Elapsed, s.TargetBps, s.DeliveredBps, s.BottleneckBps)
		}
		t.Logf("connected after %v; %d RTP packets sent, %d received; %d feedback reports",
			series.ConnectedAfter, series.PacketsSent, series.PacketsReceived, series.FeedbackReports)
	})
}

// TestBottleneckBinds starts gcc well above a 500 kbps bottleneck, so that the
// path, not the source, limits delivery: the delivered rate must stay within
// the bottleneck's rate + 10 % and reach most of it.
func TestBottleneckBinds(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a full two-peer session")
	}
	synctest.Test(t, func(t *testing.T) {
		const rate = 500_000
		cfg := Config{
			Factory:    GCC(gcc.SendSideBWEInitialBitrate(1_000_000)),
			Bottleneck: Constant(rate),
			Duration:   5 * time.Second,
		}
		series, err := Run(t.Context(), cfg)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		checkBottleneck(t, series.Samples, DefaultSampleInterval)
		// While gcc still sends at about 1 Mbps (its first second), the
		// bottleneck is saturated.
		if got, want := meanDelivered(series.Samples[:int(window/DefaultSampleInterval)]), rate*7/10; got < want {
			t.Errorf("first second: delivered %d bps, want >= %d (70 %% of the bottleneck)", got, want)
		}
		if series.OfferedBytes <= series.DeliveredBytes {
			t.Errorf("OfferedBytes = %d <= DeliveredBytes = %d; want a backlog or drops at a saturated bottleneck",
				series.OfferedBytes, series.DeliveredBytes)
		}
	})
}

// TestRateChange checks that a change of Config.Bottleneck reaches the path:
// gcc starts above both rates, so delivery follows the schedule, near
// 800 kbps in the first second and at most 300 kbps + 10 % in the last.
func TestRateChange(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a full two-peer session")
	}
	synctest.Test(t, func(t *testing.T) {
		cfg := Config{
			Factory:    GCC(gcc.SendSideBWEInitialBitrate(2_000_000)),
			Bottleneck: Steps(2*time.Second, 800_000, 300_000),
			Duration:   4 * time.Second,
		}
		series, err := Run(t.Context(), cfg)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		checkBottleneck(t, series.Samples, DefaultSampleInterval)
		n := int(window / DefaultSampleInterval)
		if got, want := meanDelivered(series.Samples[:n]), 800_000*7/10; got < want {
			t.Errorf("first second: delivered %d bps, want >= %d (70 %% of 800 kbps)", got, want)
		}
		if got, want := meanDelivered(series.Samples[len(series.Samples)-n:]), 300_000*11/10; got > want {
			t.Errorf("last second: delivered %d bps, want <= %d (300 kbps + 10 %%)", got, want)
		}
	})
}

func meanDelivered(samples []Sample) int {
	var sum int
	for _, s := range samples {
		sum += s.DeliveredBps
	}
	return sum / len(samples)
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Delay: -time.Millisecond}, "Config.Delay"},
		{Config{QueueLimit: -1}, "Config.QueueLimit"},
		{Config{Duration: -time.Second}, "Config.Duration"},
		{Config{SampleInterval: -1}, "Config.SampleInterval"},
		{Config{ConnectTimeout: -1}, "Config.ConnectTimeout"},
		{Config{Bottleneck: Constant(0)}, "Config.Bottleneck"},
	} {
		_, err := Run(context.Background(), tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Run(%+v) error = %v, want one naming %s", tc.cfg, err, tc.want)
		}
	}
}

func TestSteps(t *testing.T) {
	f := Steps(time.Second, 2_000_000, 1_000_000, 2_000_000)
	for i, tc := range []struct {
		at   time.Duration
		want int
	}{
		{0, 2_000_000},
		{999 * time.Millisecond, 2_000_000},
		{time.Second, 1_000_000},
		{2 * time.Second, 2_000_000},
		{time.Hour, 2_000_000},
		{-time.Second, 2_000_000},
	} {
		if got := f(tc.at); got != tc.want {
			t.Errorf("step %d: f(%v) = %d, want %d", i, tc.at, got, tc.want)
		}
	}
}

func ExampleSteps() {
	bottleneck := Steps(10*time.Second, 2_000_000, 1_000_000, 2_000_000)
	for _, at := range []time.Duration{0, 15 * time.Second, 25 * time.Second, time.Minute} {
		fmt.Printf("%v: %d bps\n", at, bottleneck(at))
	}
	// Output:
	// 0s: 2000000 bps
	// 15s: 1000000 bps
	// 25s: 2000000 bps
	// 1m0s: 2000000 bps
}
