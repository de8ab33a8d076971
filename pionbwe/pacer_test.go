package pionbwe

import (
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// burst returns how many queued packets the pacer sends back to back at
// now, accounting each as sent.
func burst(p *pacer, now bwe.Time) int {
	n := 0
	for {
		act, _, _ := p.due(now, false)
		if act != actMedia {
			return n
		}
		p.sentHead(0)
		n++
	}
}

// queue puts n packets of size bytes in the pacer's queue at now.
func queue(p *pacer, n int, size bwe.ByteCount, now bwe.Time) {
	for range n {
		s := &p.slots[p.tail%int64(len(p.slots))]
		s.size, s.enq = size, now
		p.tail++
		p.bytes += size
	}
}

// A pacer that wakes late sends what it owes back to back, up to
// maxCatchUp of its rate; the time its queue stood empty earns nothing.
func TestPacerCatchUp(t *testing.T) {
	ms := func(d float64) bwe.Time { return bwe.Time(0).Add(time.Duration(d * float64(time.Millisecond))) }
	// 1 Mbps, 125-byte packets: one packet a millisecond; 2 ms of catch-up
	// is two packets.
	p := newPacer(bwe.Mbps, 1, MaxQueueDelay)
	queue(&p, 40, 125, 0)
	steps := []struct {
		at   bwe.Time
		want int
	}{
		{ms(0), 1},  // the first packet, then 1 ms of debt
		{ms(1), 1},  // on time: one packet
		{ms(2), 1},  // on time
		{ms(4), 2},  // 1 ms late: the packet due and the one it missed
		{ms(10), 3}, // 5 ms late: the packet due and 2 ms of catch-up
		{ms(10.5), 0},
		{ms(11), 1},
	}
	for i, s := range steps {
		if got := burst(&p, s.at); got != s.want {
			t.Errorf("step %d at %v: %d packets back to back, want %d", i, s.at, got, s.want)
		}
	}

	// Empty for a second, then two packets: the first leaves at once,
	// the second a packet time later.
	p = newPacer(bwe.Mbps, 1, MaxQueueDelay)
	queue(&p, 1, 125, 0)
	if got := burst(&p, 0); got != 1 {
		t.Fatalf("first packet: %d sent, want 1", got)
	}
	if got := burst(&p, ms(1000)); got != 0 {
		t.Fatalf("empty queue: %d sent", got)
	}
	queue(&p, 2, 125, ms(1000))
	if got := burst(&p, ms(1000)); got != 1 {
		t.Errorf("after an idle second: %d packets back to back, want 1", got)
	}
}
