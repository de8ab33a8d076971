package metrics

import (
	"math"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

func TestMMSys21Score(t *testing.T) {
	// Hand computation: video 0.8, audio 1, p95 150 ms, min 50 ms,
	// 1.2 of 1.5 Mbps received, 2 % loss.
	//   delay = (400 − 150)/(400 − 50) = 0.714285…
	//   rate  = 1.2/1.5 = 0.8, loss term = 0.98
	//   score = 100·(0.16 + 0.1 + 0.142857… + 0.16 + 0.294) = 85.685714…
	got := MMSys21Score(ChallengeInputs{
		Video: 0.8, Audio: 1, DelayP95: 150 * time.Millisecond, DelayMin: 50 * time.Millisecond,
		ReceiveRate: 1200 * bwe.Kbps, ReferenceRate: 1500 * bwe.Kbps, LossRate: 0.02,
	})
	want := ChallengeScore{Score: 85.0 + 0.6 + 0.08571428571428, Video: 0.8, Audio: 1, Delay: 250.0 / 350, Rate: 0.8, Loss: 0.98}
	if !near(got.Score, want.Score, 1e-9) || !near(got.Delay, want.Delay, 1e-12) || !near(got.Rate, want.Rate, 1e-12) ||
		!near(got.Loss, want.Loss, 1e-12) || got.Video != want.Video || got.Audio != want.Audio {
		t.Errorf("MMSys21Score = %+v, want %+v", got, want)
	}

	for _, c := range []struct {
		name string
		in   ChallengeInputs
		want ChallengeScore
	}{
		{"p95 clipped at 400 ms", ChallengeInputs{DelayP95: time.Second, DelayMin: 100 * time.Millisecond, ReferenceRate: 1, LossRate: 1},
			ChallengeScore{}},
		{"min delay at 400 ms", ChallengeInputs{DelayP95: 400 * time.Millisecond, DelayMin: 400 * time.Millisecond, LossRate: 1},
			ChallengeScore{}},
		{"min delay above 400 ms", ChallengeInputs{DelayP95: 300 * time.Millisecond, DelayMin: time.Second, LossRate: 1},
			ChallengeScore{}},
		{"p95 below min", ChallengeInputs{DelayP95: 10 * time.Millisecond, DelayMin: 50 * time.Millisecond, LossRate: 1},
			ChallengeScore{Score: 20, Delay: 1}},
		{"perfect", ChallengeInputs{Video: 1, Audio: 1, ReceiveRate: 2 * bwe.Mbps, ReferenceRate: bwe.Mbps},
			ChallengeScore{Score: 100, Video: 1, Audio: 1, Delay: 1, Rate: 1, Loss: 1}},
		{"NaN terms are worst", ChallengeInputs{Video: math.NaN(), Audio: math.NaN(), LossRate: math.NaN(), DelayMin: 400 * time.Millisecond},
			ChallengeScore{}},
		{"out of range terms clamp", ChallengeInputs{Video: 7, Audio: -2, LossRate: -1, ReceiveRate: -5, ReferenceRate: bwe.Mbps, DelayMin: 400 * time.Millisecond},
			ChallengeScore{Score: 50, Video: 1, Loss: 1}},
		{"no reference rate", ChallengeInputs{ReceiveRate: bwe.Mbps, LossRate: 1, DelayMin: 400 * time.Millisecond},
			ChallengeScore{}},
		{"extreme delays", ChallengeInputs{DelayP95: math.MinInt64, DelayMin: math.MinInt64, LossRate: 1},
			ChallengeScore{Score: 20, Delay: 1}},
	} {
		got := MMSys21Score(c.in)
		if !near(got.Score, c.want.Score, 1e-9) || got.Video != c.want.Video || got.Audio != c.want.Audio ||
			!near(got.Delay, c.want.Delay, 1e-12) || got.Rate != c.want.Rate || got.Loss != c.want.Loss {
			t.Errorf("%s: MMSys21Score = %+v, want %+v", c.name, got, c.want)
		}
	}
}
