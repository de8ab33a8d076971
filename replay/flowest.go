package replay

import (
	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/sendside"
)

// A FlowEstimator is a whole send-side estimator as the emulator drives
// one media flow with it. The flows of [Run] use this package's composed
// estimator ([sendside.Estimator]) unless [Estimator.New] builds another
// one, such as an estimator from a different code base driven through an
// adapter, so that it is judged on the same scenarios, with the same
// source, pacer, link and metrics.
//
// The emulator calls the methods in the order of its virtual time, never
// concurrently, with non-decreasing times. If the estimator has a method
// Close() error, the emulator calls it once the run ends.
type FlowEstimator interface {
	// Target is the estimate before any feedback.
	Target() bwe.Bitrate
	// OnSent tells of a packet as it leaves the pacer: its transport
	// sequence number, send time, size and probe cluster (Received is
	// false).
	OnSent(p bwe.PacketResult)
	// Update takes a feedback batch and returns the estimate after it.
	// The pacer executes the result's Probes; the source follows its
	// Encoder target (Target if Encoder is zero), and the pacer carries
	// max(Target, Encoder) at the flow's pacing factor. The other fields
	// are plotted and counted where the estimator fills them
	// (Delay.Target, Loss.Estimate, Delay.Detection.Usage, Limit, InALR).
	Update(fb bwe.Feedback) sendside.Result
	// Process runs the estimator's timers at now (every
	// Scenario.ProcessInterval).
	Process(now bwe.Time) sendside.Result
}

// coreFlow drives the composed estimator, which learns of sends from the
// feedback (sendside.SendsFromFeedback), so OnSent has nothing to do.
type coreFlow struct{ *sendside.Estimator }

func (coreFlow) OnSent(bwe.PacketResult) {}
