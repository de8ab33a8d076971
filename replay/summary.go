package replay

import (
	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/delaybased"
	"github.com/bwelab/bwe/replay/metrics"
	"github.com/bwelab/bwe/sendside"
)

// Summary describes a run as a whole, over its steady part.
type Summary struct {
	// Utilization is the bits of every flow (media and cross traffic)
	// that left the forward bottleneck during the steady part, divided by
	// the bits its capacity could have carried then.
	Utilization float64 `json:"utilization"`
	// Jain is Jain's fairness index, (Σx)² ÷ (N·Σx²), of the throughputs
	// x of the media flows over the steady part (1 with a single flow).
	Jain float64 `json:"jain"`
	// Fairness is, for runs with two media flows or more, RFC 8868's
	// self-fairness between the first two: the share of 1 s, 5 s and 20 s
	// windows of their common life in which the ratio of their delivered
	// rates lies within [1/3, 3].
	Fairness [3]float64 `json:"fairness"`
}

// finish completes the flow's samples and returns its result.
func (m *mediaFlow) finish() FlowResult {
	var st sendside.Stats
	var ds delaybased.Stats
	if c, ok := m.est.(coreFlow); ok {
		st, ds = c.Stats(), c.DelayStats()
	}
	return FlowResult{
		Name:         m.cfg.Name,
		Metrics:      m.metrics(),
		Series:       m.samples,
		Estimator:    st,
		Delay:        ds,
		Packets:      len(m.packets),
		ProbePackets: m.probePackets,
		Frames:       m.frames,
		Feedbacks:    m.feedbacks,
		FeedbackLost: m.fbLost,
	}
}

// steadyBits returns the bits of a media flow's packets that left its
// bottleneck during the steady part.
func (m *mediaFlow) steadyBits() int64 {
	var bits int64
	for i := range m.packets {
		p := &m.packets[i]
		if p.fate.Outcome == Delivered && p.fate.Departure >= m.e.warmup && p.fate.Departure < m.e.end {
			bits += p.size.Bits()
		}
	}
	return bits
}

// summarize computes the run's summary.
func (e *emulation) summarize(r *Result) Summary {
	var s Summary
	var fwd int64
	shares := make([]bwe.Bitrate, 0, len(e.flows))
	for _, f := range e.flows {
		b := f.steadyBits()
		if !f.cfg.Reverse {
			fwd += b
		}
		shares = append(shares, bwe.Bitrate(b)) // bits over the same span: proportional to the rates
	}
	for _, x := range e.cross {
		if x.cfg.Reverse {
			continue
		}
		for _, a := range x.arrivals {
			if a.departure >= e.warmup && a.departure < e.end {
				fwd += a.size.Bits()
			}
		}
	}
	if c := capacityBits(e.fwd, e.warmup, e.end); c > 0 {
		s.Utilization = min(float64(fwd)/c, 1)
	}
	s.Jain = metrics.Jain(shares)
	if len(e.flows) >= 2 {
		a, b := e.flows[0], e.flows[1]
		from, to := max(a.start, b.start, e.warmup), min(a.stop, b.stop, e.end)
		if from < to {
			_, da, _ := a.series(from, to)
			_, db, _ := b.series(from, to)
			for i, w := range metrics.RFC8868Fairness(da, db) {
				s.Fairness[i] = w.Fraction
			}
		}
	}
	return s
}
