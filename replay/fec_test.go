package replay

import (
	"math"
	"testing"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/traces"
)

// fecScenario is a 1 Mbps video flow, pinned, on a 4 Mbps link with
// random loss: frames of about 4 packets.
func fecScenario(loss float64, group int) traces.Scenario {
	return traces.Scenario{
		Name:     "fec",
		Duration: 60 * time.Second,
		Warmup:   5 * time.Second,
		Forward:  traces.Path{Capacity: traces.Constant(4 * bwe.Mbps), Delay: 20 * ms, QueueDelay: 300 * ms, Loss: loss},
		Flows:    []traces.Flow{{StartRate: bwe.Mbps, MinRate: bwe.Mbps, FECGroup: group}},
	}
}

// TestFECParity: one parity packet per group of at most k media packets of
// a frame, as large as the largest; on a lossless link nothing is lost.
func TestFECParity(t *testing.T) {
	for _, k := range []int{1, 2, 4, 10} {
		e := emulate(t, fecScenario(0, k), fixedRate(bwe.Mbps))
		m := e.flows[0]
		groups := map[int64][]packet{}
		frames := map[int64]int{}
		for _, p := range m.packets {
			if p.group == 0 {
				if p.frame > 0 {
					t.Fatalf("k=%d: a media packet of frame %d has no FEC group", k, p.frame)
				}
				continue
			}
			groups[p.group] = append(groups[p.group], p)
			if !p.parity {
				frames[p.frame]++
			}
		}
		var media, parity int
		for g, ps := range groups {
			last := ps[len(ps)-1]
			if !last.parity || len(ps) < 2 || len(ps) > k+1 {
				t.Fatalf("k=%d: group %d has %d packets, parity last %v; want 1–%d media then a parity", k, g, len(ps), last.parity, k)
			}
			var largest bwe.ByteCount
			for _, p := range ps[:len(ps)-1] {
				if p.parity || p.frame != last.frame {
					t.Fatalf("k=%d: group %d mixes frames or parities", k, g)
				}
				largest = max(largest, p.size)
				media++
			}
			if last.size != largest {
				t.Errorf("k=%d: group %d parity %d bytes, largest media packet %d", k, g, last.size, largest)
			}
			parity++
		}
		want := 0
		for _, n := range frames {
			want += (n + k - 1) / k
		}
		if parity != want {
			t.Errorf("k=%d: %d parity packets, want ⌈n/k⌉ per frame: %d", k, parity, want)
		}
		r := e.finish()
		if fm := r.Flows[0].Metrics; fm.Lost != 0 || fm.ResidualLoss != 0 || fm.Parity == 0 || fm.FramesLost != 0 {
			t.Errorf("k=%d lossless: lost %d, residual %v, parity %d, frames lost %d", k, fm.Lost, fm.ResidualLoss, fm.Parity, fm.FramesLost)
		}
		// The pinned encoder's 1 Mbps all arrives; parity does not count.
		if g := r.Flows[0].Metrics.MediaGoodput; g < 950*bwe.Kbps || g > 1050*bwe.Kbps {
			t.Errorf("k=%d lossless: media goodput %v, want about 1 Mbps", k, g)
		}
	}
}

// TestFECRepair: with independent loss p, a media packet of a group of k
// media and one parity packet stays lost if one of the k others is lost
// too: residual loss p·(1 − (1 − p)^k), against p without FEC.
func TestFECRepair(t *testing.T) {
	const p = 0.05
	plain, err := Run(fecScenario(p, 0), fixedRate(bwe.Mbps))
	if err != nil {
		t.Fatal(err)
	}
	pm := plain.Flows[0].Metrics
	if math.Abs(pm.ResidualLoss-pm.LossRate) > 1e-12 || pm.Parity != 0 {
		t.Errorf("without FEC: residual %v, loss %v, parity %d; want residual = loss", pm.ResidualLoss, pm.LossRate, pm.Parity)
	}
	for _, k := range []int{2, 4} {
		r, err := Run(fecScenario(p, k), fixedRate(bwe.Mbps))
		if err != nil {
			t.Fatal(err)
		}
		m := r.Flows[0].Metrics
		media := m.Sent - m.Parity
		want := p * (1 - math.Pow(1-p, float64(k)))
		// Frames end in partial groups, which repair a little better.
		sd := math.Sqrt(want / float64(media))
		if m.ResidualLoss > want+4*sd || m.ResidualLoss < want/2 {
			t.Errorf("k=%d: residual loss %.4f over %d media packets, want about %.4f", k, m.ResidualLoss, media, want)
		}
		if want := pm.MediaGoodput.Float() * (1 - m.ResidualLoss) / (1 - pm.ResidualLoss); math.Abs(m.MediaGoodput.Float()-want) > 0.03*want {
			t.Errorf("k=%d: media goodput %v, want about %.0f (the same media, less of it lost)", k, m.MediaGoodput, want)
		}
		if m.FramesLost*3 > pm.FramesLost {
			t.Errorf("k=%d: %d frames lost, without FEC %d", k, m.FramesLost, pm.FramesLost)
		}
		t.Logf("k=%d: loss %.4f, residual %.4f (p(1-(1-p)^k) = %.4f), parity %d of %d, frames lost %d (without FEC %d)",
			k, m.LossRate, m.ResidualLoss, want, m.Parity, m.Sent, m.FramesLost, pm.FramesLost)
	}
}
