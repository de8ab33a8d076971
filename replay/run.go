package replay

import (
	"fmt"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/delaybased"
	"github.com/bwelab/bwe/sendside"
	"github.com/bwelab/bwe/traces"
)

// Result is the outcome of one [Run].
type Result struct {
	// Scenario is the scenario that ran, with its defaults filled in, and
	// Estimator the estimator configuration every media flow used.
	Scenario  traces.Scenario `json:"-"`
	Estimator Estimator       `json:"estimator"`
	// Flows holds one result per media flow, in the order of
	// Scenario.Flows, and Cross one per cross-traffic flow.
	Flows []FlowResult  `json:"flows"`
	Cross []CrossResult `json:"cross,omitempty"`
	// Summary describes the run as a whole.
	Summary Summary `json:"summary"`
	// Forward and Backward count what each path did with its packets
	// (media, feedback and cross traffic).
	Forward  LinkStats `json:"forward"`
	Backward LinkStats `json:"backward"`
}

// FlowResult is the outcome of one media flow.
type FlowResult struct {
	Name string `json:"name"`
	// Metrics summarises the steady part of the run.
	Metrics Metrics `json:"metrics"`
	// Series samples the flow every Scenario.SampleInterval, from 0.
	Series []Sample `json:"-"`
	// Estimator is the flow's send-side estimator's own account of what
	// it consumed, and Delay its delay-based part's.
	Estimator sendside.Stats   `json:"estimator_stats"`
	Delay     delaybased.Stats `json:"delay_stats"`
	// Packets and ProbePackets count the packets the sender sent, and
	// those of them that belonged to probe clusters; Frames counts the
	// frames of a video source; Feedbacks the feedback reports that
	// reached the sender, FeedbackLost those lost on the way.
	Packets      int `json:"packets"`
	ProbePackets int `json:"probe_packets"`
	Frames       int `json:"frames"`
	Feedbacks    int `json:"feedbacks"`
	FeedbackLost int `json:"feedback_lost"`
}

// Run emulates scenario s in closed loop, every media flow driven by a
// send-side estimator built from est, and returns the metrics and time
// series of the run.
//
// The loop, in emulated time from 0 to s.Duration, for every media flow
// between its Start and Stop and outside its pauses:
//
//   - a video source produces frames at its frame rate, sized after the
//     target through an encoder's lag, packetised at the flow's packet
//     size and queued at a pacer that sends at PacingFactor × the target
//     (a greedy source instead always has a packet and paces at exactly
//     the target); the media rate is never below MinRate and, for an
//     application-limited flow, never above AppRate;
//   - when the estimator asks for probe clusters, the pacer sends them
//     first, in order, each at its probe rate until it has carried its
//     bytes and packet count, its packets tagged with the cluster id; they
//     carry queued media when there is some, padding otherwise;
//   - each packet goes through its path's [Link], which decides its fate;
//   - every s.FeedbackInterval the receiver reports, in sequence order,
//     every packet up to the highest one that has arrived and that no
//     earlier report covered: those that arrived, with their arrival time,
//     and the others as lost (a packet reordered behind a report stays
//     lost to the estimator). Empty reports are not sent. The report is a
//     packet of its own on the opposite path (the transport-wide feedback
//     size, see feedbackSize), and reaches the sender when that path
//     delivers it, unless it falls in one of s.FeedbackOutages;
//   - the sender gives each report to the estimator, calls its Process
//     every s.ProcessInterval, and adopts its target.
//
// Cross traffic shares the paths: TCP flows send as their congestion
// windows allow, their acknowledgements returning one reverse propagation
// delay after each arrival; CBR flows send at their rate.
//
// Events due at the same instant run in a fixed order: media flows in
// order (each: report delivery, process, frame, send, receiver report),
// then cross traffic in order, then sampling. Run is deterministic: the
// same scenario and estimator give the same result, bit for bit.
//
// Run returns an error naming the field if s or est is invalid.
func Run(s traces.Scenario, est Estimator) (*Result, error) {
	e, err := newEmulation(s, est)
	if err != nil {
		return nil, err
	}
	if err := e.run(); err != nil {
		return nil, err
	}
	return e.finish(), nil
}

// emulation is the state of one closed-loop run.
type emulation struct {
	s      traces.Scenario
	est    Estimator
	fwd    *Link
	bwd    *Link
	end    bwe.Time
	warmup bwe.Time
	flows  []*mediaFlow
	cross  []*crossFlow

	nextSample bwe.Time
	samples    int

	record    *traces.FeedbackWriter // where flow 0's feedback is recorded, if set
	recordErr error
}

// newEmulation prepares the run of s with estimators built from est.
func newEmulation(s traces.Scenario, est Estimator) (*emulation, error) {
	s, err := s.WithDefaults()
	if err != nil {
		return nil, err
	}
	est, err = est.WithDefaults()
	if err != nil {
		return nil, err
	}
	e := &emulation{
		s:      s,
		est:    est,
		end:    bwe.TimeFromDuration(s.Duration),
		warmup: bwe.TimeFromDuration(s.Warmup),
	}
	if e.fwd, err = NewLink(s.Forward, s.Seed); err != nil {
		return nil, fmt.Errorf("replay: scenario %q: Forward: %w", s.Name, err)
	}
	// The backward path's processes draw from streams of their own.
	if e.bwd, err = NewLink(s.Backward, s.Seed^0x6261636b77617264); err != nil {
		return nil, fmt.Errorf("replay: scenario %q: Backward: %w", s.Name, err)
	}
	for i, f := range s.Flows {
		m, err := newMediaFlow(e, i, f)
		if err != nil {
			e.closeEstimators()
			return nil, fmt.Errorf("replay: scenario %q: flow %q: %w", s.Name, f.Name, err)
		}
		e.flows = append(e.flows, m)
	}
	for i, c := range s.Cross {
		x, err := newCrossFlow(e, i, c)
		if err != nil {
			e.closeEstimators()
			return nil, fmt.Errorf("replay: scenario %q: cross flow %q: %w", s.Name, c.Name, err)
		}
		e.cross = append(e.cross, x)
	}
	return e, nil
}

// paths returns the link a flow sends over and the link its feedback or
// acknowledgements return over.
func (e *emulation) paths(reverse bool) (out, back *Link) {
	if reverse {
		return e.bwd, e.fwd
	}
	return e.fwd, e.bwd
}

// run runs the emulation to its end and closes the flows' estimators.
func (e *emulation) run() error {
	e.loop()
	return e.closeEstimators()
}

// closeEstimators closes the estimators of the flows that have a Close
// method (an adapter may hold goroutines or files), and returns the first
// error.
func (e *emulation) closeEstimators() error {
	var first error
	for _, f := range e.flows {
		if c, ok := f.est.(interface{ Close() error }); ok {
			if err := c.Close(); err != nil && first == nil {
				first = fmt.Errorf("replay: scenario %q: flow %q: closing the estimator: %w", e.s.Name, f.cfg.Name, err)
			}
		}
	}
	return first
}

// loop runs events in time order until the end of the run.
func (e *emulation) loop() {
	for {
		t := e.nextSample
		for _, f := range e.flows {
			t = min(t, f.next)
		}
		for _, c := range e.cross {
			t = min(t, c.next)
		}
		if t >= e.end {
			return
		}
		e.step(t)
	}
}

// step runs the first event due at t.
func (e *emulation) step(t bwe.Time) {
	for _, f := range e.flows {
		if f.next == t {
			f.step(t)
			return
		}
	}
	for _, c := range e.cross {
		if c.next == t {
			c.step(t)
			return
		}
	}
	for _, f := range e.flows {
		f.sample(t)
	}
	for _, c := range e.cross {
		c.sample(t)
	}
	e.samples++
	e.nextSample = t.Add(e.s.SampleInterval)
}

// finish computes the metrics of the run.
func (e *emulation) finish() *Result {
	r := &Result{
		Scenario:  e.s,
		Estimator: e.est,
		Forward:   e.fwd.Stats(),
		Backward:  e.bwd.Stats(),
	}
	for _, f := range e.flows {
		r.Flows = append(r.Flows, f.finish())
	}
	for _, c := range e.cross {
		r.Cross = append(r.Cross, c.finish())
	}
	r.Summary = e.summarize(r)
	return r
}

// duration converts an emulation instant to the time since the start.
func duration(t bwe.Time) time.Duration { return time.Duration(t) * time.Microsecond }
