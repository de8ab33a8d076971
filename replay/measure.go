package replay

import (
	"slices"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/replay/metrics"
)

// Windows and thresholds of the series metrics (docs/metrics.md).
const (
	cvWindow          = 10 * time.Second
	reversalThreshold = 0.10
)

// series returns the flow's sampled targets, delivered rates and
// capacities over [from, to), as metric series.
func (m *mediaFlow) series(from, to bwe.Time) (target, delivered, capacity metrics.Series) {
	step := m.e.s.SampleInterval
	target.Step, delivered.Step, capacity.Step = step, step, step
	for _, x := range m.samples {
		if x.At < from || x.At >= to {
			continue
		}
		target.Rates = append(target.Rates, x.Target)
		delivered.Rates = append(delivered.Rates, x.Delivered)
		capacity.Rates = append(capacity.Rates, x.Capacity)
	}
	return target, delivered, capacity
}

// seriesMetrics fills in the metrics computed from the sampled series.
func (m *mediaFlow) seriesMetrics(out *Metrics) {
	from, to := max(m.e.warmup, m.start), min(m.e.end, m.stop)
	if from >= to {
		return
	}
	target, delivered, capacity := m.series(from, to)
	if phases, err := metrics.UtilizationByPhase(nil, delivered, capacity, metrics.DefaultSettle); err == nil {
		out.SampledUtilization, _ = metrics.SteadyUtilization(phases)
	}
	if sp, err := metrics.NewSpectrum(metrics.DefaultSpectrumConfig()); err == nil {
		if o, err := sp.OscillationIndex(target, capacity, metrics.DefaultSettle); err == nil {
			out.Oscillation, out.OscillationPeriod, out.OscillationPower = o.Index, o.Period, o.Strength
		}
	}
	if cv, err := metrics.WindowedCV(target, capacity, cvWindow); err == nil {
		out.TargetCV, out.TargetCVMax = cv.Mean, cv.Max
	}
	for i, w := range metrics.RFC8868Swings(target) {
		out.Swings[i] = w.Swings
	}
	if r, err := metrics.CountReversals(target, reversalThreshold); err == nil {
		out.Reversals = r.PerMinute
	}

	// Convergence after the flow's start and every capacity change in its
	// life, over the whole run (the warm-up is where the start converges).
	// Phases shorter than the hold plus the tail (10 s) are skipped: their
	// own steady value is read from the very samples being judged.
	target, _, capacity = m.series(m.start, m.stop)
	origin := duration(m.start)
	cc := metrics.DefaultConvergenceConfig()
	for _, p := range metrics.Phases(nil, capacity) {
		if p.End-p.Start < cc.Hold+cc.Tail {
			continue
		}
		c, err := metrics.ConvergenceSelf(target.Window(p.Start, p.End), cc)
		if err != nil {
			continue
		}
		out.Convergence = append(out.Convergence, PhaseConvergence{At: origin + p.Start, Time: c.Time, Converged: c.Converged, Steady: c.Steady})
	}
}

// frameMetrics fills in the frame, freeze and score metrics; arr holds the
// flow's arrivals in order of arrival, groupLost the losses of each FEC
// group (groupLosses).
func (m *mediaFlow) frameMetrics(out *Metrics, arr []arrival, groupLost []int32) {
	video := 1.0
	if m.frames > 0 {
		// A frame is rendered when its last packet arrives, if all of its
		// media packets arrive or are repaired by FEC.
		type frame struct {
			done    bwe.Time
			missing bool
			sent    bwe.Time
		}
		frames := make([]frame, m.frameNo+1)
		for i := range m.packets {
			p := &m.packets[i]
			if p.frame <= 0 {
				continue
			}
			f := &frames[p.frame]
			if f.sent == 0 {
				f.sent = p.send
			}
			switch {
			case p.fate.Outcome == Delivered:
				// A repair waits for the group's parity: the frame is
				// done when every packet of it that arrived has arrived.
				f.done = max(f.done, p.fate.Arrival)
			case !p.parity && !repaired(p, groupLost):
				f.missing = true
			}
		}
		var rendered []bwe.Time
		for _, f := range frames {
			if f.sent == 0 || f.sent < m.e.warmup {
				continue
			}
			out.Frames++
			if f.missing {
				out.FramesLost++
				continue
			}
			rendered = append(rendered, f.done)
		}
		slices.Sort(rendered)
		fz := metrics.CountFreezes(rendered)
		out.Freezes, out.FreezeTime = fz.Count, fz.Total
		if out.Frames > 0 {
			video = float64(out.Frames-out.FramesLost) / float64(out.Frames)
		}
	}
	var delays []time.Duration
	var bytes bwe.ByteCount
	for _, a := range arr {
		if a.departure >= m.e.warmup { // departure holds the send time here
			delays = append(delays, a.at.Sub(a.departure))
			bytes += a.size
		}
	}
	slices.Sort(delays)
	if len(delays) == 0 {
		return
	}
	from, to := max(m.e.warmup, m.start), min(m.e.end, m.stop)
	share := bwe.BitrateFromFloat(capacityBits(m.out, from, to) / (float64(to-from) / 1e6) / float64(len(m.e.flows)))
	q := metrics.DelayQuantiles(delays)
	out.Score = metrics.MMSys21Score(metrics.ChallengeInputs{
		Video:         video,
		Audio:         1 - out.LossRate,
		DelayP95:      q.P95,
		DelayMin:      delays[0],
		ReceiveRate:   bwe.RateOf(bytes, duration(to-from)),
		ReferenceRate: share,
		LossRate:      out.LossRate,
	}).Score
}
