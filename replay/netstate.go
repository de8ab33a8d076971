package replay

import (
	"fmt"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/netstate"
	"github.com/bwelab/bwe/traces"
)

// RunNetState runs s like [Run] and also returns, for each media flow,
// the per-interval network statistics its sender could have measured
// (netstate.Extractor with cfg over every feedback batch that reached it,
// with the estimate and the RTT after the batch): the series a network-
// state predictor observes, each step with the loss of its interval for
// labelling. Intervals are on the sender's clock from the flow's first
// feedback; every interval that ended before the run's end is included.
func RunNetState(s traces.Scenario, est Estimator, cfg netstate.ExtractorConfig) (*Result, [][]netstate.Step, error) {
	e, err := newEmulation(s, est)
	if err != nil {
		return nil, nil, err
	}
	for _, f := range e.flows {
		if f.netstate, err = netstate.NewExtractor(cfg); err != nil {
			return nil, nil, fmt.Errorf("replay: %w", err)
		}
	}
	if err := e.run(); err != nil {
		return nil, nil, err
	}
	out := make([][]netstate.Step, len(e.flows))
	for i, f := range e.flows {
		f.stepNetState(e.end)
		out[i] = f.steps
	}
	return e.finish(), out, nil
}

// observeNetState hands the extractor the batch the sender received at
// t and the estimator's answer.
func (m *mediaFlow) observeNetState(fb bwe.Feedback, target bwe.Bitrate, rtt time.Duration) {
	if m.netstate == nil {
		return
	}
	m.netstate.Add(fb, target, rtt)
	m.stepNetState(fb.Time)
}

// stepNetState collects the intervals that ended by t.
func (m *mediaFlow) stepNetState(t bwe.Time) {
	for {
		_, raw, ok := m.netstate.Step(t)
		if !ok {
			return
		}
		m.steps = append(m.steps, raw.Step())
	}
}
