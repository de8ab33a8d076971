package traces

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/bwelab/bwe"
)

// Loss-episode scenario parameters.
const (
	episodesRunLength = 120 * time.Second
	// episodesClean and episodesLossy are the mean lengths of the clean
	// stretches and of the loss episodes (exponentially distributed, at
	// least episodesMinSpan), the first episode starting after the
	// warm-up.
	episodesClean   = 20 * time.Second
	episodesLossy   = 8 * time.Second
	episodesMinSpan = 2 * time.Second
	// streamEpisodes is the PCG stream of the episode schedule.
	streamEpisodes = 0x6570697364 // "episd"
)

// LossEpisodes draws a schedule of loss episodes over a run of length d:
// clean stretches and episodes of random loss at rate alternate, their
// lengths exponentially distributed (means 20 s and 8 s, each at least
// 2 s), the first episode starting after from.
func LossEpisodes(rate float64, from, d time.Duration, seed uint64) []LossEpisode {
	rng := rand.New(rand.NewPCG(seed, streamEpisodes))
	span := func(mean time.Duration) time.Duration {
		return max(episodesMinSpan, time.Duration(rng.ExpFloat64()*float64(mean)).Round(100*time.Millisecond))
	}
	var out []LossEpisode
	t := from + span(episodesClean)
	for t < d {
		end := min(t+span(episodesLossy), d)
		out = append(out, LossEpisode{From: t, To: end, Rate: rate})
		t = end + span(episodesClean)
	}
	return out
}

// Episodes returns the loss-episode scenarios: one video flow on a link
// of constant capacity (RFC 8867's 50 ms one-way delay and 300 ms queue)
// that is clean but for episodes of random loss at a fixed rate, drawn
// by [LossEpisodes] from the seed (120 s, 10 s warm-up):
//
//	episodes-{2,4}mbps-loss{5,10,20}
//
// They are the stretches a network-state predictor should see coming or
// at least see lasting: loss that starts suddenly and persists for
// seconds.
func Episodes(seed uint64) []Scenario {
	var out []Scenario
	for _, c := range []bwe.Bitrate{2 * bwe.Mbps, 4 * bwe.Mbps} {
		for _, pct := range []int{5, 10, 20} {
			s := genSteady(fmt.Sprintf("episodes-%dmbps-loss%d", c/bwe.Mbps, pct), seed, c)
			s.Duration = episodesRunLength
			s.Forward.LossEpisodes = LossEpisodes(float64(pct)/100, genWarmup, s.Duration, seed)
			out = append(out, s)
		}
	}
	return out
}
