package tcp

import (
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// pipeline is an allocation-free bottleneck for the allocation tests and
// benchmarks: each step serves at most one packet from a drop-tail queue
// of 128 packets and returns its acknowledgement 200 steps later. With
// 100 µs steps that is 1000 B per 100 µs (80 Mbps), a 20 ms base RTT and
// a 12.8 ms queue, so the window saws between about 160 and 330 segments
// and every step sends and acknowledges about one segment.
type pipeline struct {
	f     flow
	now   bwe.Time
	queue [128]int64
	qh    int
	qn    int
	acks  [1024]ackEvent
	ah    int
	an    int
	steps int64
	acked int64
}

const (
	pipelineStep  = 100 * time.Microsecond
	pipelineDelay = 200 * pipelineStep
)

func (p *pipeline) step() {
	p.now = p.now.Add(pipelineStep)
	p.steps++
	for p.an > 0 && p.acks[p.ah].at <= p.now {
		p.f.OnAck(p.now, p.acks[p.ah].seq)
		p.ah = (p.ah + 1) % len(p.acks)
		p.an--
		p.acked++
	}
	if p.f.Deadline() <= p.now {
		p.f.OnTimer(p.now)
	}
	if p.qn > 0 {
		if p.an == len(p.acks) {
			panic("pipeline: ack ring full")
		}
		p.acks[(p.ah+p.an)%len(p.acks)] = ackEvent{at: p.now.Add(pipelineDelay), seq: p.queue[p.qh]}
		p.an++
		p.qh = (p.qh + 1) % len(p.queue)
		p.qn--
	}
	for {
		seg, ok := p.f.Send(p.now)
		if !ok {
			break
		}
		if p.qn == len(p.queue) {
			continue // tail drop
		}
		p.queue[(p.qh+p.qn)%len(p.queue)] = seg.Seq
		p.qn++
	}
}

func bulk(t testing.TB, v Variant) *Sender {
	s := mustSender(t, Config{Variant: v})
	s.SetUnlimited()
	return s
}

func TestNoAllocs(t *testing.T) {
	shortFiles := func(t testing.TB) flow {
		return mustOnOff(t, OnOffConfig{StartOn: true, MeanIdle: 50 * time.Millisecond}, 9)
	}
	tests := []struct {
		name     string
		f        flow
		wantLoss bool
	}{
		{"reno", bulk(t, Reno), true},
		{"cubic", bulk(t, Cubic), true},
		{"onoff", shortFiles(t), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &pipeline{f: tt.f}
			for range 300_000 { // 30 s: past slow start and the buffers' growth
				p.step()
			}
			before, files := stats(tt.f), p.files()
			if allocs := testing.AllocsPerRun(100_000, p.step); allocs != 0 {
				t.Errorf("allocations per step = %v, want 0", allocs)
			}
			after := stats(tt.f)
			// The measured steps must include loss recovery (bulk flows)
			// or file starts (on/off), not only clean acknowledgements.
			lossy := after.Reductions+after.Timeouts > before.Reductions+before.Timeouts
			if lossy != tt.wantLoss || after.Acked-before.Acked < 3000 || (!tt.wantLoss && p.files()-files < 10) {
				t.Errorf("measured steps: %d reductions, %d timeouts, %d acks, %d files",
					after.Reductions-before.Reductions, after.Timeouts-before.Timeouts, after.Acked-before.Acked, p.files()-files)
			}
		})
	}
}

func (p *pipeline) files() int64 {
	if f, ok := p.f.(*OnOff); ok {
		return f.Stats().FilesCompleted
	}
	return 0
}

func stats(f flow) Stats {
	switch f := f.(type) {
	case *Sender:
		return f.Stats()
	case *OnOff:
		return f.Stats().Sender
	}
	panic("unknown flow")
}

// BenchmarkSendAck measures one step of a saturated bulk flow: about one
// Send and one OnAck, loss recovery included.
func BenchmarkSendAck(b *testing.B) {
	for _, v := range []Variant{Reno, Cubic} {
		b.Run(v.String(), func(b *testing.B) {
			p := &pipeline{f: bulk(b, v)}
			for range 300_000 {
				p.step()
			}
			acked := p.acked
			b.ReportAllocs()
			b.ResetTimer()
			n := 0
			for b.Loop() {
				p.step()
				n++
			}
			b.ReportMetric(float64(p.acked-acked)/float64(n), "acks/op")
		})
	}
}
