package metrics

import (
	"math"
	"time"

	"github.com/bwelab/bwe"
)

// MMSys21MaxDelay is the delay at which the delay term of the MMSys 2021
// challenge score reaches 0: OpenNetLab Challenge-Environment
// metrics/utils/net_eval_method.py, NetEvalMethodNormal: max_delay = 400
// (ms).
const MMSys21MaxDelay = 400 * time.Millisecond

// ChallengeInputs are the measurements the MMSys 2021 score combines.
type ChallengeInputs struct {
	// Video and Audio are the quality terms, each a fraction in [0, 1].
	// The challenge scored them from the decoded media (video by VMAF,
	// audio by DNSMOS; the published evaluation gave audio full marks);
	// without an encoder the caller supplies a proxy and says which.
	Video, Audio float64
	// DelayP95 and DelayMin are the 95th percentile and the minimum of
	// the one-way delay of the received packets.
	DelayP95, DelayMin time.Duration
	// ReceiveRate is the mean receive rate and ReferenceRate the rate
	// that earns full marks (the challenge's ground-truth receive rate).
	ReceiveRate, ReferenceRate bwe.Bitrate
	// LossRate is the fraction of packets lost, in [0, 1].
	LossRate float64
}

// ChallengeScore is the MMSys 2021 score and its terms.
type ChallengeScore struct {
	// Score is 100·(0.2·Video + 0.1·Audio + 0.2·Delay + 0.2·Rate +
	// 0.3·Loss), in [0, 100].
	Score float64
	// The terms, each clamped to [0, 1]. Loss is 1 − loss rate.
	Video, Audio, Delay, Rate, Loss float64
}

// MMSys21Score computes the score of the ACM MMSys 2021 bandwidth
// estimation challenge (OpenNetLab; evaluation notes, "Metrics" item 8):
//
//	score = 100·(0.2·video + 0.1·audio + 0.2·delay + 0.2·rate + 0.3·(1 − loss))
//	delay = (400 ms − min(p95, 400 ms)) ÷ (400 ms − min delay)
//	rate  = min(1, mean receive rate ÷ reference rate)
//
// (Challenge-Environment metrics/eval.py for the weights,
// metrics/utils/net_eval_method.py for the network terms.)
//
// Each term is clamped to [0, 1], and a NaN input term counts as 0 (the
// worst). Degenerate cases: a minimum delay ≥ 400 ms gives delay = 0
// (every packet was too late); a p95 below the minimum (inconsistent
// input) gives delay = 1 by the clamp; a reference rate ≤ 0 gives
// rate = 0; a negative receive rate reads as 0.
func MMSys21Score(in ChallengeInputs) ChallengeScore {
	var s ChallengeScore
	s.Video = unit(in.Video)
	s.Audio = unit(in.Audio)
	if in.DelayMin < MMSys21MaxDelay {
		p95 := min(in.DelayP95, MMSys21MaxDelay)
		num := float64(MMSys21MaxDelay) - float64(p95)
		den := float64(MMSys21MaxDelay) - float64(in.DelayMin)
		s.Delay = unit(num / den)
	}
	if in.ReferenceRate > 0 {
		s.Rate = unit(max(in.ReceiveRate, 0).Float() / in.ReferenceRate.Float())
	}
	s.Loss = unit(1 - unit(in.LossRate))
	if math.IsNaN(in.LossRate) {
		s.Loss = 0
	}
	s.Score = 100 * (0.2*s.Video + 0.1*s.Audio + 0.2*s.Delay + 0.2*s.Rate + 0.3*s.Loss)
	s.Score = min(max(s.Score, 0), 100)
	return s
}

// unit clamps x to [0, 1]; NaN gives 0.
func unit(x float64) float64 {
	if !(x > 0) {
		return 0
	}
	return min(x, 1)
}
