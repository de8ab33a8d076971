package sendside_test

import (
	"testing"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/lossbased"
	"github.com/bwelab/bwe/replay"
	"github.com/bwelab/bwe/sendside"
	"github.com/bwelab/bwe/traces"
)

// link returns a scenario on a constant-capacity bottleneck with RFC 8867's
// common path: 50 ms one-way, a 300 ms drop-tail queue.
// The sender is greedy: it paces packets at exactly the target.
func link(name string, capacity bwe.Bitrate, d time.Duration) traces.Scenario {
	return traces.Scenario{
		Name:     name,
		Seed:     1,
		Duration: d,
		Warmup:   d / 3,
		Forward: traces.Path{
			Capacity:   traces.Constant(capacity),
			Delay:      50 * time.Millisecond,
			QueueDelay: 300 * time.Millisecond,
		},
		Flows: []traces.Flow{{Source: traces.Greedy}},
	}
}

// runScenario runs s with the default estimator as edit changes it, and
// returns the result of its one flow.
func runScenario(t *testing.T, s traces.Scenario, edit func(*sendside.Config)) replay.FlowResult {
	t.Helper()
	res, err := replay.Run(s, replay.Estimator{Edit: edit})
	if err != nil {
		t.Fatal(err)
	}
	return res.Flows[0]
}

// An application that sends 0.8 Mbps on a 3 Mbps link: probes find the
// link's room, but the target stays within twice what is sent for the
// rest of the minute once a full second of sends has been reported (2 s:
// the 1 s window plus the feedback delay; before that the sent rate is
// not yet defined, and the initial probes lift the target to 1.8 Mbps).
// Without the cap the same run ends far above it: the runaway the cap
// exists for.
func TestAppLimitedTargetStaysNearSentRate(t *testing.T) {
	s := link("app-limited", 3*bwe.Mbps, 60*time.Second)
	s.Flows[0].AppRate = 800 * bwe.Kbps
	res := runScenario(t, s, nil)
	worst := 0.0
	for _, x := range res.Series {
		if x.At < bwe.TimeFromDuration(2*time.Second) {
			continue
		}
		ratio := x.Target.Float() / x.Sent.Float()
		worst = max(worst, ratio)
		if ratio > 2 {
			t.Fatalf("at %v: target %v is %.2f × the %v sent (limit %v)", x.At, x.Target, ratio, x.Sent, x.Limit)
		}
	}
	alr := 0
	for _, x := range res.Series {
		if x.InALR {
			alr++
		}
	}
	if alr < len(res.Series)/2 {
		t.Errorf("ALR detected in %d of %d samples, want most", alr, len(res.Series))
	}
	t.Logf("capped: highest target/sent %.2f; ALR in %d of %d samples; %d probe packets", worst, alr, len(res.Series), res.ProbePackets)

	uncapped := runScenario(t, s, func(c *sendside.Config) { c.SentRateCap = -1 })
	end := uncapped.Series[len(uncapped.Series)-1]
	if end.Target.Float() <= 2*end.Sent.Float() {
		t.Errorf("without the cap: target %v for %v sent; the scenario no longer shows the runaway", end.Target, end.Sent)
	}
	t.Logf("uncapped: target %v for %v sent at the end", end.Target, end.Sent)
}

// 10 % random loss on an uncongested 4 Mbps link, measured over the last
// 40 s of two minutes. The likelihood-based estimator tuned for lossy
// links holds its target at most of the link (its delivered utilization
// cannot exceed 0.9 at 10 % loss); the classic rule collapses (each
// measurement above 10 % cuts, none is low enough to grow). libwebrtc's
// own LossBasedBweV2 defaults are measured and logged: their TCP-fair
// upper bound, 75 kbps / (loss − 5 %), is 1.5 Mbps at 10 % loss.
func TestRandomLoss(t *testing.T) {
	s := link("random-loss-4M", 4*bwe.Mbps, 120*time.Second)
	s.Warmup = 80 * time.Second
	s.Forward.Loss = 0.10
	held := map[string]float64{} // mean target ÷ capacity
	for _, name := range lossbased.Names() {
		res, err := replay.Run(s, replay.Estimator{Loss: name})
		if err != nil {
			t.Fatal(err)
		}
		m := res.Flows[0].Metrics
		held[name] = m.MeanTarget.Float() / 4e6
		t.Logf("%s: mean target %v (%.3f of the link), utilization %.3f, loss %.3f", name, m.MeanTarget, held[name], m.Utilization, m.LossRate)
	}
	if h := held["lossy"]; h < 0.80 {
		t.Errorf("lossy likelihood: mean target %.3f of the link, want ≥ 0.80", h)
	}
	if h := held["classic"]; h > 0.25 {
		t.Errorf("classic: mean target %.3f of the link, want the collapse below 0.25", h)
	}
}

// The return path dies for 2 s: the target falls while no feedback
// arrives, and climbs back once it returns.
func TestFeedbackOutage(t *testing.T) {
	s := link("outage", 2*bwe.Mbps, 60*time.Second)
	s.FeedbackOutages = []traces.Span{{From: 30 * time.Second, To: 32 * time.Second}}
	res := runScenario(t, s, nil)
	sample := func(d time.Duration) replay.Sample {
		return res.Series[int(d/traces.DefaultSampleInterval)]
	}
	before, during := sample(30*time.Second), sample(32*time.Second+50*time.Millisecond)
	if during.Target >= before.Target {
		t.Errorf("target %v after the 2 s outage, want below the %v before it", during.Target, before.Target)
	}
	if res.Estimator.Timeouts == 0 {
		t.Errorf("no timeout counted")
	}
	if end := res.Series[len(res.Series)-1]; end.Target < before.Target*3/4 {
		t.Errorf("target %v at the end, want it back near the %v before the outage", end.Target, before.Target)
	}
	t.Logf("before %v, after the outage %v, %d timeouts", before.Target, during.Target, res.Estimator.Timeouts)
}
