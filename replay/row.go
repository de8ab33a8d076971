package replay

import (
	"math"

	"github.com/bwelab/bwe"
)

// Row is one line of a results table: one estimator on one scenario with
// one seed, over the steady part of the run. Where a scenario has several
// media flows, delays, oscillation and variability are those of the worst
// flow, loss pools every flow's packets, utilizations add up, and the
// mean target, convergence time and score average the flows.
type Row struct {
	Scenario  string `json:"scenario"`
	Estimator string `json:"estimator"`
	Seed      uint64 `json:"seed"`
	// Flows and Cross count the media and cross-traffic flows.
	Flows int `json:"flows"`
	Cross int `json:"cross"`
	// Utilization is the share of the bottleneck's capacity every flow
	// used (media and cross traffic), MediaUtilization the share the
	// media flows used, SampledUtilization the media flows' RFC 8868
	// utilization (200 ms samples, steady part of each capacity phase).
	Utilization        float64 `json:"utilization"`
	MediaUtilization   float64 `json:"media_utilization"`
	SampledUtilization float64 `json:"sampled_utilization"`
	// QueueP50Ms, QueueP95Ms and QueueP99Ms are queuing-delay percentiles.
	QueueP50Ms float64 `json:"queue_p50_ms"`
	QueueP95Ms float64 `json:"queue_p95_ms"`
	QueueP99Ms float64 `json:"queue_p99_ms"`
	// LossPct is the share of the media flows' packets lost, in percent
	// (parity included), and ResidualLossPct the share of their media
	// packets lost and not repaired by FEC.
	LossPct         float64 `json:"loss_pct"`
	ResidualLossPct float64 `json:"residual_loss_pct"`
	// MediaGoodputMbps is the media rate that reached the receivers or
	// was repaired there, summed over the media flows.
	MediaGoodputMbps float64 `json:"media_goodput_mbps"`
	// MeanTargetMbps is the mean target of the media flows, and
	// MaxEstimateMbps the highest estimate of any of them.
	MeanTargetMbps  float64 `json:"mean_target_mbps"`
	MaxEstimateMbps float64 `json:"max_estimate_mbps"`
	// RampUpS is the slowest media flow's ramp-up time (Metrics.RampUp),
	// null if a flow never reached RampUpShare of the capacity.
	RampUpS *float64 `json:"ramp_up_s"`
	// Jain is Jain's fairness index of the media flows' throughputs, and
	// Fairness1s, 5s, 20s RFC 8868's self-fairness of the first two media
	// flows (0 with one flow).
	Jain        float64 `json:"jain"`
	Fairness1s  float64 `json:"fairness_1s"`
	Fairness5s  float64 `json:"fairness_5s"`
	Fairness20s float64 `json:"fairness_20s"`
	// Oscillation is the oscillation index of the target, TargetCV its
	// mean coefficient of variation over 10 s windows of steady capacity.
	Oscillation float64 `json:"oscillation"`
	TargetCV    float64 `json:"target_cv"`
	// ConvergenceS is the mean time the targets took to settle after the
	// flows' starts and the capacity changes, over the events after which
	// they settled (null if none), and Unconverged counts the others.
	ConvergenceS *float64 `json:"convergence_s"`
	Unconverged  int      `json:"unconverged"`
	// Score is the MMSys 2021 challenge score.
	Score float64 `json:"score"`
	// Freezes counts the video freezes, Overuses the overuse signals.
	Freezes  int `json:"freezes"`
	Overuses int `json:"overuses"`
}

// RowOf summarises a result as a table row.
func RowOf(r *Result) Row {
	out := Row{
		Scenario:    r.Scenario.Name,
		Estimator:   r.Estimator.Name,
		Seed:        r.Scenario.Seed,
		Flows:       len(r.Flows),
		Cross:       len(r.Cross),
		Utilization: r.Summary.Utilization,
		Jain:        r.Summary.Jain,
		Fairness1s:  r.Summary.Fairness[0],
		Fairness5s:  r.Summary.Fairness[1],
		Fairness20s: r.Summary.Fairness[2],
	}
	var sent, lost, settled, media, residual int
	var target, score, settle, ramp float64
	ramped := len(r.Flows) > 0
	for _, f := range r.Flows {
		m := f.Metrics
		out.MaxEstimateMbps = max(out.MaxEstimateMbps, m.MaxEstimate.Float()/1e6)
		ramped = ramped && m.RampedUp
		ramp = max(ramp, m.RampUp.Seconds())
		out.MediaUtilization += m.Utilization
		out.SampledUtilization += m.SampledUtilization
		out.QueueP50Ms = max(out.QueueP50Ms, bwe.Millis(m.QueueP50))
		out.QueueP95Ms = max(out.QueueP95Ms, bwe.Millis(m.QueueP95))
		out.QueueP99Ms = max(out.QueueP99Ms, bwe.Millis(m.QueueP99))
		out.Oscillation = max(out.Oscillation, m.Oscillation)
		out.TargetCV = max(out.TargetCV, m.TargetCV)
		sent += m.Sent
		lost += m.Lost
		media += m.Sent - m.Parity
		residual += int(math.Round(m.ResidualLoss * float64(m.Sent-m.Parity)))
		out.MediaGoodputMbps += m.MediaGoodput.Float() / 1e6
		target += m.MeanTarget.Float()
		score += m.Score
		out.Freezes += m.Freezes
		out.Overuses += m.Overuses
		for _, c := range m.Convergence {
			if c.Converged {
				settled++
				settle += c.Time.Seconds()
			} else {
				out.Unconverged++
			}
		}
	}
	if sent > 0 {
		out.LossPct = 100 * float64(lost) / float64(sent)
	}
	if media > 0 {
		out.ResidualLossPct = 100 * float64(residual) / float64(media)
	}
	if n := float64(len(r.Flows)); n > 0 {
		out.MeanTargetMbps = target / n / 1e6
		out.Score = score / n
	}
	if settled > 0 {
		c := settle / float64(settled)
		out.ConvergenceS = &c
	}
	if ramped {
		out.RampUpS = &ramp
	}
	return out
}
