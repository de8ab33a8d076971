package delaybased

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/trendline"
)

// randomBatch returns n packets continuing from *send and *arrival, with
// the disturbances feedback shows: losses, arrivals reordered, equal
// arrival and send times (ties), and duplicated reports.
func randomBatch(rng *rand.Rand, n int, seq *int64, send, arrival *bwe.Time) []bwe.PacketResult {
	out := make([]bwe.PacketResult, 0, n+2)
	for range n {
		if rng.IntN(6) > 0 {
			*send = send.Add(time.Duration(rng.IntN(8000)) * time.Microsecond)
		}
		if rng.IntN(6) > 0 {
			*arrival = arrival.Add(time.Duration(rng.IntN(8000)) * time.Microsecond)
		}
		p := bwe.PacketResult{Seq: *seq, SendTime: *send, Arrival: *arrival, Size: bwe.ByteCount(rng.IntN(1500)), Received: rng.IntN(5) > 0}
		*seq++
		switch rng.IntN(20) {
		case 0:
			p.Arrival = p.Arrival.Add(-time.Duration(rng.IntN(20)) * time.Millisecond)
		case 1:
			p.Seq -= int64(rng.IntN(3))
		case 2:
			p.SendTime = p.SendTime.Add(-time.Duration(rng.IntN(20)) * time.Millisecond)
		}
		out = append(out, p)
		if rng.IntN(30) == 0 {
			out = append(out, p) // reported twice
		}
	}
	return out
}

// referenceOrder is what the estimator fed to its parts before it worked on
// indices: the batch as is if every packet was received and the batch is
// in arrival order, else its received packets copied and sorted.
func referenceOrder(packets []bwe.PacketResult) []bwe.PacketResult {
	inOrder := true
	for i := range packets {
		if !packets[i].Received || (i > 0 && byArrival(packets[i-1], packets[i]) > 0) {
			inOrder = false
			break
		}
	}
	if inOrder {
		return packets
	}
	var sorted []bwe.PacketResult
	for _, p := range packets {
		if p.Received {
			sorted = append(sorted, p)
		}
	}
	slices.SortFunc(sorted, byArrival)
	return sorted
}

// The received packets in arrival order, through indices or a sorted copy,
// must be exactly the sequence of the reference: same packets, same order
// (ties included).
func TestReceivedOrderMatchesReference(t *testing.T) {
	e, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var seq int64
	var send, arrival bwe.Time
	inOrder, sorted := 0, 0
	for batch := range 20000 {
		packets := randomBatch(rng, rng.IntN(30), &seq, &send, &arrival)
		want := referenceOrder(packets)
		var got []bwe.PacketResult
		idx := e.receivedIndices(packets)
		if inArrivalOrder(packets, idx) {
			inOrder++
			for _, i := range idx {
				got = append(got, packets[i])
			}
		} else {
			sorted++
			for _, i := range idx {
				got = append(got, packets[i])
			}
			slices.SortFunc(got, byArrival)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("batch %d: %d packets in order %v, want %v", batch, len(got), got, want)
		}
	}
	if inOrder < 1000 || sorted < 1000 {
		t.Errorf("%d batches used in place, %d sorted: want at least 1000 of each", inOrder, sorted)
	}
}

func TestInArrivalOrder(t *testing.T) {
	p := func(arrival bwe.Time, received bool) bwe.PacketResult {
		return bwe.PacketResult{Arrival: arrival, SendTime: 1, Seq: 1, Received: received}
	}
	tests := []struct {
		name    string
		packets []bwe.PacketResult
		want    bool
	}{
		{"empty", nil, true},
		{"all received, increasing", []bwe.PacketResult{p(1, true), p(2, true), p(3, true)}, true},
		{"all received, ties", []bwe.PacketResult{p(1, true), p(1, true), p(3, true)}, true},
		{"all received, decreasing", []bwe.PacketResult{p(2, true), p(1, true)}, false},
		{"lost, increasing", []bwe.PacketResult{p(1, true), p(9, false), p(3, true)}, true},
		{"lost, ties", []bwe.PacketResult{p(1, true), p(0, false), p(1, true)}, false},
		{"lost, decreasing", []bwe.PacketResult{p(3, true), p(2, false), p(1, true)}, false},
		{"only lost", []bwe.PacketResult{p(3, false), p(1, false)}, true},
	}
	e, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		if got := inArrivalOrder(tc.packets, e.receivedIndices(tc.packets)); got != tc.want {
			t.Errorf("%s: inArrivalOrder = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// sameThroughput fails unless a and b hold the same window and aggregates.
func sameThroughput(t *testing.T, where string, a, b *Throughput) {
	t.Helper()
	if a.n != b.n || a.irregular != b.irregular || a.total != b.total || a.backTop != b.backTop ||
		a.frontGaps != b.frontGaps || a.hasDiscarded != b.hasDiscarded || a.latestDiscardedSend != b.latestDiscardedSend {
		t.Fatalf("%s: state differs: n %d/%d irregular %d/%d total %v/%v top %v/%v front %d/%d discarded %v %v/%v %v",
			where, a.n, b.n, a.irregular, b.irregular, a.total, b.total, a.backTop, b.backTop, a.frontGaps, b.frontGaps,
			a.hasDiscarded, a.latestDiscardedSend, b.hasDiscarded, b.latestDiscardedSend)
	}
	for i := range a.n {
		if *a.at(i) != *b.at(i) {
			t.Fatalf("%s: packet %d of the window: %+v, %+v", where, i, *a.at(i), *b.at(i))
		}
		if a.irregular == 0 && i > 0 && a.gaps[a.index(i)].gap != b.gaps[b.index(i)].gap {
			t.Fatalf("%s: gap %d: %v, %v", where, i, a.gaps[a.index(i)].gap, b.gaps[b.index(i)].gap)
		}
	}
	if a.irregular == 0 && a.n > 0 && a.ring[a.runStart] != b.ring[b.runStart] {
		t.Fatalf("%s: run start %+v, %+v", where, a.ring[a.runStart], b.ring[b.runStart])
	}
	ra, oka := a.Bitrate()
	rb, okb := b.Bitrate()
	if ra != rb || oka != okb {
		t.Fatalf("%s: Bitrate %d %v, %d %v", where, ra, oka, rb, okb)
	}
}

// refUpdate is Update as first written, one packet and one drop at a time
// through the general insertion and the window test: the reference for the
// fast paths of insert, updateIndexed and trim.
func refUpdate(t *Throughput, packets []bwe.PacketResult) {
	for i := range packets {
		p := &packets[i]
		if !p.Received {
			continue
		}
		if !refInsert(t, ackedPacket{send: p.SendTime, recv: p.Arrival, size: max(p.Size, 0)}) &&
			t.at(t.n-1).recv.Sub(p.Arrival) > maxReordering {
			t.clear()
		}
	}
	for t.firstOutsideWindow() {
		t.dropFront()
	}
}

func refInsert(t *Throughput, p ackedPacket) (atBack bool) {
	slot := t.index(t.n)
	t.ring[slot] = p
	t.n++
	atBack = true
	for i := t.n - 1; i > 0; i-- {
		cur, prev := t.index(i), t.index(i-1)
		if !t.ring[cur].recv.Before(t.ring[prev].recv) {
			break
		}
		t.ring[cur], t.ring[prev] = t.ring[prev], t.ring[cur]
		atBack = false
	}
	switch {
	case !atBack || t.n > 1 && p.send < t.at(t.n-2).send:
		t.irregular = t.n
	case t.irregular == 0:
		q := &t.ring[slot]
		t.total.add(q.size)
		if t.n == 1 {
			t.runStart = slot
			break
		}
		prev := t.at(t.n - 2)
		g := q.recv.Sub(prev.recv)
		t.gaps[slot].gap = g
		t.backTop = t.backTop.push(g)
		if q.send > prev.send {
			t.runStart = slot
		}
	}
	if t.n > t.cfg.MaxWindowPackets {
		t.dropFront()
	}
	return atBack
}

// updateIndexed (the estimator's path) and Update must leave the window as
// the reference leaves it, batch after batch.
func TestThroughputUpdateIndexedMatchesUpdate(t *testing.T) {
	irregular := 0
	defer func() {
		if irregular < 1000 {
			t.Errorf("%d checks of an irregular window, want at least 1000", irregular)
		}
	}()
	for seed := uint64(1); seed <= 40; seed++ {
		rng := rand.New(rand.NewPCG(seed, 17))
		cfg := ThroughputConfig{}
		if seed%2 == 0 {
			cfg = ThroughputConfig{WindowPackets: 1 + rng.IntN(20), MaxWindowPackets: 20 + rng.IntN(40),
				MinWindowDuration: time.Duration(1+rng.IntN(200)) * time.Millisecond, RequiredPackets: 1 + rng.IntN(10)}
			cfg.MaxWindowDuration = cfg.MinWindowDuration + time.Duration(rng.IntN(400))*time.Millisecond
		}
		a, err := NewThroughput(cfg)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := NewThroughput(cfg)
		ref, _ := NewThroughput(cfg)
		raw, _ := NewThroughput(cfg)
		rawRef, _ := NewThroughput(cfg)
		e, _ := New(DefaultConfig())
		var seq int64
		var send, arrival bwe.Time
		for batch := range 400 {
			packets := randomBatch(rng, rng.IntN(40), &seq, &send, &arrival)
			if rng.IntN(50) == 0 {
				arrival = arrival.Add(time.Duration(rng.IntN(3000)-1500) * time.Millisecond)
			}
			ordered := referenceOrder(packets)
			refUpdate(ref, ordered)
			a.Update(ordered)
			refUpdate(rawRef, packets)
			raw.Update(packets)
			idx := e.receivedIndices(packets)
			in := packets
			if !inArrivalOrder(packets, idx) {
				in = ordered
				idx = e.receivedIndices(in)
			}
			b.updateIndexed(in, idx)
			where := fmt.Sprintf("seed %d batch %d", seed, batch)
			sameThroughput(t, where+" (Update)", ref, a)
			sameThroughput(t, where+" (updateIndexed)", ref, b)
			sameThroughput(t, where+" (unsorted)", rawRef, raw)
			if raw.irregular > 0 {
				irregular++
			}
		}
	}
}

// oneByOne hides a detector's UpdateBatch: the estimator then gives it
// its deltas one at a time.
type oneByOne struct{ bwe.DelayDetector }

// sameResult reports whether a and b are equal bit for bit.
func sameResult(a, b Result) bool {
	fa, fb := a.Detection, b.Detection
	a.Detection, b.Detection = bwe.Detection{}, bwe.Detection{}
	return a == b && fa.Usage == fb.Usage &&
		math.Float64bits(fa.Trend) == math.Float64bits(fb.Trend) &&
		math.Float64bits(fa.Modified) == math.Float64bits(fb.Modified) &&
		math.Float64bits(fa.Threshold) == math.Float64bits(fb.Threshold)
}

// The estimator gives the trendline its deltas a batch at a time: the
// results must be those of giving them one at a time.
func TestBatchedDetectionMatchesOneByOne(t *testing.T) {
	newEst := func(wrap bool) *Estimator {
		d, err := trendline.New(trendline.DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		var det bwe.DelayDetector = d
		if wrap {
			det = oneByOne{d}
		}
		e, err := New(Config{Detector: det})
		if err != nil {
			t.Fatal(err)
		}
		if (e.batch != nil) == wrap {
			t.Fatalf("wrap %v: batch detector %v", wrap, e.batch)
		}
		return e
	}
	batched, single := newEst(false), newEst(true)
	rng := rand.New(rand.NewPCG(8, 9))
	var seq int64
	var send, arrival, fbTime bwe.Time
	// A 2 Mbps bottleneck fed at 1.5 to 2.5 Mbps, so that the detector
	// sees queues build and drain, plus the disturbances of randomBatch.
	var free bwe.Time
	for batch := range 3000 {
		packets := randomBatch(rng, 5+rng.IntN(20), &seq, &send, &arrival)
		for i := range packets {
			free = max(free, packets[i].SendTime).Add(time.Duration(packets[i].Size) * 4 * time.Microsecond)
			packets[i].Arrival = max(packets[i].Arrival, free)
		}
		fbTime = fbTime.Add(time.Duration(20+rng.IntN(60)) * time.Millisecond)
		if batch%997 == 996 {
			fbTime = fbTime.Add(3 * time.Second) // stream timeout
		}
		probe := bwe.Bitrate(0)
		if rng.IntN(100) == 0 {
			probe = bwe.Bitrate(500+rng.IntN(3000)) * bwe.Kbps
		}
		fb := bwe.Feedback{Time: fbTime, Packets: packets}
		got := batched.Update(fb, probe, false)
		want := single.Update(fb, probe, false)
		if !sameResult(got, want) {
			t.Fatalf("batch %d: batched %+v, one by one %+v", batch, got, want)
		}
	}
	if got, want := batched.Stats(), single.Stats(); got != want || got.Deltas < 10000 {
		t.Errorf("stats: batched %+v, one by one %+v (want equal, with at least 10000 deltas)", got, want)
	}
}

// The power of the multiplicative increase, remembered between calls,
// must be the one math.Pow gives for each interval.
func TestAIMDPowMemo(t *testing.T) {
	a, err := NewAIMD(DefaultAIMDConfig())
	if err != nil {
		t.Fatal(err)
	}
	a.SetStartBitrate(500 * bwe.Kbps)
	at := bwe.Time(1_000_000)
	a.lastChange, a.hasLastChange = at, true
	for i, gap := range []time.Duration{50, 50, 50, 30, 50, 50, 1500, 2000, 2000, 1, 50} {
		at = at.Add(gap * time.Millisecond)
		x := min(seconds(at.Sub(a.lastChange)), 1)
		want := max(a.current.Scale(math.Pow(multiplicativeBase, x)-1), minMultiplicativeStep)
		if got := a.multiplicativeIncrease(at); got != want {
			t.Fatalf("step %d (gap %v): multiplicativeIncrease = %v, want %v", i, gap, got, want)
		}
		a.lastChange = at
	}
}

// scripted is a detector whose usages follow a script, one per delta.
type scripted struct {
	usages []bwe.Usage
	n      int
}

func (s *scripted) Update(bwe.GroupDelta) bwe.Detection {
	u := s.usages[min(s.n, len(s.usages)-1)]
	s.n++
	return bwe.Detection{Usage: u, Threshold: 12.5}
}

func (s *scripted) Reset() {}

// scriptedBatch is scripted taking its deltas a batch at a time.
type scriptedBatch struct{ scripted }

func (s *scriptedBatch) UpdateBatch(ds []bwe.GroupDelta, out []bwe.Detection) {
	for i := range ds {
		out[i] = s.Update(ds[i])
	}
}

// RecoveredFromOveruse reports a delta of the batch that took the usage
// from underusing to normal, the previous batch's last usage included, and
// is cleared when the batch ends overusing or completes a probe; Deltas
// counts the batch's deltas. The same whether the detector takes its
// deltas one at a time or a batch at a time.
func TestRecoveredFromOveruse(t *testing.T) {
	const (
		N = bwe.Normal
		U = bwe.Underusing
		O = bwe.Overusing
	)
	type batch struct {
		usages    []bwe.Usage // one per delta of the batch
		probe     bwe.Bitrate
		recovered bool
	}
	tests := []struct {
		name    string
		batches []batch
	}{
		{"underuse then normal", []batch{{usages: []bwe.Usage{N, U, N, N}, recovered: true}}},
		{"normal then underuse", []batch{{usages: []bwe.Usage{N, N, U}, recovered: false}}},
		{"across batches", []batch{{usages: []bwe.Usage{N, U}}, {usages: []bwe.Usage{N, N}, recovered: true}}},
		{"underuse, overuse, normal", []batch{{usages: []bwe.Usage{U, O, N}, recovered: false}}},
		{"recovered then overusing", []batch{{usages: []bwe.Usage{U, N, O}, recovered: false}}},
		{"recovered with a probe", []batch{{usages: []bwe.Usage{U, N}, probe: 900 * bwe.Kbps, recovered: false}}},
		{"twice", []batch{{usages: []bwe.Usage{U, N, U, N}, recovered: true}, {usages: []bwe.Usage{N}, recovered: false}}},
	}
	for _, tc := range tests {
		for _, batched := range []bool{false, true} {
			var script []bwe.Usage
			for _, b := range tc.batches {
				script = append(script, b.usages...)
			}
			var det bwe.DelayDetector = &scripted{usages: script}
			if batched {
				det = &scriptedBatch{scripted{usages: script}}
			}
			e, err := New(Config{Detector: det})
			if err != nil {
				t.Fatal(err)
			}
			// One packet every 10 ms, all received: each packet closes a
			// group, and the groups after the first give one delta each.
			// A first batch of two packets gives none.
			send := bwe.Time(0)
			packets := func(n int) []bwe.PacketResult {
				out := make([]bwe.PacketResult, n)
				for i := range out {
					out[i] = bwe.PacketResult{Seq: int64(send), SendTime: send, Arrival: send.Add(30 * time.Millisecond), Size: 1200, Received: true}
					send = send.Add(10 * time.Millisecond)
				}
				return out
			}
			if r := e.Update(bwe.Feedback{Time: send.Add(50 * time.Millisecond), Packets: packets(2)}, 0, false); r.Deltas != 0 {
				t.Fatalf("%s: first batch gave %d deltas, want 0", tc.name, r.Deltas)
			}
			for i, b := range tc.batches {
				r := e.Update(bwe.Feedback{Time: send.Add(50 * time.Millisecond), Packets: packets(len(b.usages))}, b.probe, false)
				if r.Deltas != len(b.usages) || r.RecoveredFromOveruse != b.recovered || r.Detection.Usage != b.usages[len(b.usages)-1] {
					t.Errorf("%s (batched %v), batch %d: Update = %d deltas, recovered %v, usage %v; want %d, %v, %v",
						tc.name, batched, i, r.Deltas, r.RecoveredFromOveruse, r.Detection.Usage, len(b.usages), b.recovered, b.usages[len(b.usages)-1])
				}
			}
		}
	}
}
