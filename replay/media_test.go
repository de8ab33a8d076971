package replay

import (
	"math"
	"testing"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/traces"
)

// videoScenario is one video flow on an ample 10 Mbps link.
func videoScenario(d time.Duration, v traces.VideoConfig) traces.Scenario {
	return traces.Scenario{
		Name:     "video",
		Duration: d,
		Forward:  traces.Path{Capacity: traces.Constant(10 * bwe.Mbps), Delay: 20 * ms},
		Flows:    []traces.Flow{{StartRate: bwe.Mbps, Video: v}},
	}
}

// A video source produces FrameRate frames per second whose sizes average
// the target, packetised at no more than the packet size, and the pacer
// spreads each frame at PacingFactor × the target.
func TestVideoSource(t *testing.T) {
	v := traces.VideoConfig{KeyframeInterval: 2 * time.Second, KeyframeFactor: 3, Variation: 0.1}
	e := emulate(t, videoScenario(20*time.Second, v), fixedRate(bwe.Mbps))
	m := e.flows[0]
	if m.frames != 600 {
		t.Errorf("%d frames in 20 s at 30 fps, want 600", m.frames)
	}
	var total bwe.ByteCount
	for k, p := range m.packets {
		if p.size < 1 || p.size > 1200 {
			t.Fatalf("packet %d: %d bytes", k, p.size)
		}
		total += p.size
	}
	// Ten keyframes 3× the size of a delta frame: the mean rate is
	// (590 + 10·3)/600 of the target, 1.0333 Mbps; frame-size noise of 10 %
	// over 600 frames moves it by about 0.4 %.
	rate := bwe.RateOf(total, 20*time.Second)
	if want := 1.0333e6; math.Abs(rate.Float()-want)/want > 0.02 {
		t.Errorf("mean media rate %v, want %.4g bps ± 2 %%", rate, want)
	}
	// Within a burst the pacer spaces packets at 2.5 Mbps: a 1200-byte
	// packet every 3.84 ms.
	gaps := 0
	for k := 1; k < len(m.packets); k++ {
		p, q := m.packets[k-1], m.packets[k]
		gap := q.send.Sub(p.send)
		if want := time.Duration(p.size.Bits()*1e6/2_500_000) * time.Microsecond; gap < want {
			t.Fatalf("packets %d and %d sent %v apart, want at least %v", k-1, k, gap, want)
		} else if gap <= want+time.Microsecond {
			gaps++
		}
	}
	if gaps < len(m.packets)/3 {
		t.Errorf("only %d of %d packets went out back to back at the pacing rate", gaps, len(m.packets))
	}
}

// The encoder's output follows a target change with a first-order lag.
func TestVideoEncoderLag(t *testing.T) {
	e, err := newEmulation(videoScenario(time.Second, traces.VideoConfig{Lag: 500 * ms, Variation: -1}), fixedRate(bwe.Mbps))
	if err != nil {
		t.Fatal(err)
	}
	m := e.flows[0]
	m.frame(0) // the first frame at the target
	m.target = 2 * bwe.Mbps
	for k := int64(1); k <= 15; k++ {
		m.frame(bwe.Time(k * 1_000_000 / 30))
	}
	// After 0.5 s, one time constant, the encoder has covered 1 − 1/e of
	// the step.
	if want := 1e6 + 1e6*(1-math.Exp(-1)); math.Abs(m.encRate-want) > 1 {
		t.Errorf("encoder rate %.0f bps half a second after a step to 2 Mbps, want %.0f", m.encRate, want)
	}
}

// A paused flow sends nothing during its pause and resumes afterwards,
// with a keyframe.
func TestFlowPauseAndLife(t *testing.T) {
	s := videoScenario(10*time.Second, traces.VideoConfig{KeyframeFactor: 5})
	s.Flows[0].Start = time.Second
	s.Flows[0].Stop = 9 * time.Second
	s.Flows[0].Pauses = []traces.Span{{From: 3 * time.Second, To: 5 * time.Second}}
	e := emulate(t, s, fixedRate(bwe.Mbps))
	m := e.flows[0]
	var inPause, before, after int
	for _, p := range m.packets {
		switch d := duration(p.send); {
		case d < time.Second || d >= 9*time.Second:
			t.Fatalf("packet sent at %v, outside the flow's life [1s, 9s)", d)
		case d >= 3*time.Second && d < 5*time.Second:
			inPause++
		case d < 3*time.Second:
			before++
		default:
			after++
		}
	}
	if inPause != 0 || before == 0 || after == 0 {
		t.Errorf("packets before, during and after the pause: %d, %d, %d", before, inPause, after)
	}
	if want := 6 * 30; m.frames != want {
		t.Errorf("%d frames in 6 s of activity, want %d", m.frames, want)
	}
}

// Flows sharing a bottleneck with cross traffic: every flow gets its own
// estimator and feedback, the reverse flow's feedback crosses the forward
// path, and the summary adds up the forward flows.
func TestMultipleFlows(t *testing.T) {
	s := traces.Scenario{
		Name:     "shared",
		Duration: 30 * time.Second,
		Warmup:   5 * time.Second,
		Forward:  traces.Path{Capacity: traces.Constant(4 * bwe.Mbps), Delay: 25 * ms},
		Backward: traces.Path{Capacity: traces.Constant(2 * bwe.Mbps), Delay: 25 * ms},
		Flows: []traces.Flow{
			{Name: "a"},
			{Name: "b", Start: 5 * time.Second, ExtraDelay: 50 * ms},
			{Name: "back", Reverse: true},
		},
		Cross: []traces.Cross{{Kind: traces.CBR, Rate: 500 * bwe.Kbps}},
	}
	res, err := Run(s, Estimator{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Flows) != 3 || len(res.Cross) != 1 {
		t.Fatalf("%d flow and %d cross results", len(res.Flows), len(res.Cross))
	}
	var sumUtil float64
	for _, f := range res.Flows {
		if f.Feedbacks < 100 || f.Metrics.MeanTarget < 300*bwe.Kbps {
			t.Errorf("flow %s: %d feedbacks, mean target %v", f.Name, f.Feedbacks, f.Metrics.MeanTarget)
		}
		if f.Name != "back" {
			sumUtil += f.Metrics.Utilization
		}
	}
	// The base delay of flow b includes its 50 ms of extra delay; each
	// also includes the service time of its fastest packet, at most
	// 2.4 ms for 1200 bytes at 4 Mbps.
	if a, b := res.Flows[0].Metrics.BaseDelay, res.Flows[1].Metrics.BaseDelay; b-a < 50*ms-2400*time.Microsecond || b-a > 50*ms+2400*time.Microsecond {
		t.Errorf("base delays %v and %v: want 50 ms apart", a, b)
	}
	cbr := res.Cross[0]
	if r := cbr.Throughput; math.Abs(r.Float()-500e3)/500e3 > 0.05 && cbr.Lost == 0 {
		t.Errorf("CBR throughput %v without loss, want 500 kbps", r)
	}
	cbrShare := cbr.Throughput.Float() / 4e6
	if got := res.Summary.Utilization; math.Abs(got-(sumUtil+cbrShare)) > 0.01 {
		t.Errorf("summary utilization %.3f, flows a and b %.3f plus CBR %.3f", got, sumUtil, cbrShare)
	}
	// The forward path carries the reverse flow's feedback, the backward
	// path the forward flows' feedback.
	if res.Forward.Sent <= int64(res.Flows[0].Packets+res.Flows[1].Packets+cbr.Sent) {
		t.Errorf("forward path sent %d packets, no more than the forward flows' own", res.Forward.Sent)
	}
	if res.Summary.Jain <= 0 || res.Summary.Jain > 1 {
		t.Errorf("Jain index %v", res.Summary.Jain)
	}
}

// A long TCP flow alone fills the link; against a media flow both keep a
// share (RFC 8867 §5.6's concern: neither starves).
func TestTCPCrossTraffic(t *testing.T) {
	for _, tc := range []struct {
		name    string
		variant traces.TCPVariant
	}{{"reno", traces.Reno}, {"cubic", traces.Cubic}} {
		t.Run(tc.name, func(t *testing.T) {
			s := traces.Scenario{
				Name:     "tcp",
				Duration: 60 * time.Second,
				Warmup:   10 * time.Second,
				Forward:  traces.Path{Capacity: traces.Constant(2 * bwe.Mbps), Delay: 25 * ms, QueueDelay: 300 * ms},
				Flows:    []traces.Flow{{Start: 5 * time.Second}},
				Cross:    []traces.Cross{{Kind: traces.TCP, Variant: tc.variant}},
			}
			res, err := Run(s, Estimator{})
			if err != nil {
				t.Fatal(err)
			}
			c := res.Cross[0]
			if c.TCP == nil || c.TCP.Reductions == 0 || c.TCP.Acked == 0 {
				t.Fatalf("TCP stats %+v: want acknowledged data and loss episodes", c.TCP)
			}
			if u := res.Summary.Utilization; u < 0.9 {
				t.Errorf("link utilization %.3f with a bulk TCP flow, want ≥ 0.9", u)
			}
			media := res.Flows[0].Metrics.Utilization
			tcpShare := c.Throughput.Float() / 2e6
			if media < 0.05 || tcpShare < 0.05 {
				t.Errorf("media share %.3f, TCP share %.3f: one starves", media, tcpShare)
			}
			t.Logf("%s: media %.3f, TCP %.3f of the link, %d loss episodes", tc.name, media, tcpShare, c.TCP.Reductions)
		})
	}
}

// Short TCP flows download files and go idle.
func TestShortTCPCrossTraffic(t *testing.T) {
	s := traces.Scenario{
		Name:     "short",
		Duration: 60 * time.Second,
		Forward:  traces.Path{Capacity: traces.Constant(2 * bwe.Mbps), Delay: 25 * ms},
		Cross: []traces.Cross{
			{Kind: traces.ShortTCP, StartOn: true, MeanIdle: 2 * time.Second},
			{Kind: traces.ShortTCP, MeanIdle: 2 * time.Second},
		},
	}
	res, err := Run(s, Estimator{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Cross {
		// About 60 s / (2 s idle + well under 1 s per 40 KB file) files.
		if c.TCP == nil || c.TCP.FilesCompleted < 10 || c.TCP.FilesCompleted > 40 || c.TCP.MeanCompletion <= 0 {
			t.Errorf("%s: %+v", c.Name, c.TCP)
		}
	}
}

// The series metrics see what happens: the capacity drop's three phases
// each converge, frames with a lost packet are lost frames, and the score
// is within its range.
func TestFlowSeriesMetrics(t *testing.T) {
	s := scenario(t, "drop-1M-0.5M")
	s.Flows[0].Source = traces.Video
	s.Warmup = 0
	res, err := Run(s, Estimator{})
	if err != nil {
		t.Fatal(err)
	}
	m := res.Flows[0].Metrics
	if len(m.Convergence) != 3 || m.Convergence[1].At != 20*time.Second || m.Convergence[2].At != 40*time.Second {
		t.Fatalf("convergence phases %+v, want three at 0, 20 and 40 s", m.Convergence)
	}
	for _, c := range m.Convergence {
		if !c.Converged || c.Time > 15*time.Second {
			t.Errorf("phase at %v: %+v", c.At, c)
		}
	}
	// Steady values near the capacity of each phase.
	if c := m.Convergence[1].Steady; c < 350*bwe.Kbps || c > 550*bwe.Kbps {
		t.Errorf("steady target at 0.5 Mbps: %v", c)
	}
	if m.Frames != 60*30 || (m.Lost > 0) != (m.FramesLost > 0) || m.FramesLost > m.Lost {
		t.Errorf("%d frames, %d lost, with %d packets lost", m.Frames, m.FramesLost, m.Lost)
	}
	if !(m.Score > 50 && m.Score <= 100) || m.SampledUtilization <= 0 || m.SampledUtilization > 1.5 {
		t.Errorf("score %v, sampled utilization %v", m.Score, m.SampledUtilization)
	}
}
