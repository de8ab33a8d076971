package pionbwe

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/bwelab/bwe"
	"github.com/pion/rtcp"
)

// fbFixture is an estimator that has sent ten packets, 1 ms apart, with
// transport-wide numbers 65530..65535, 0..3 and RTP sequence numbers
// 65533..65535, 0..6 on SSRC testSSRC; send index i went out at (i+1) ms.
type fbFixture struct {
	e   *Estimator
	clk *fakeClock
	w   *streamWriter
}

func newFBFixture(t *testing.T) *fbFixture {
	t.Helper()
	clk := newFakeClock()
	e, err := New(WithClock(clk.Now), WithPacer(false), withManual())
	if err != nil {
		t.Fatal(err)
	}
	f := &fbFixture{e: e, clk: clk, w: e.AddStream(twccInfo(testSSRC), &sink{}).(*streamWriter)}
	for i := range 10 {
		clk.Advance(time.Millisecond)
		f.send(t, uint16(65533+i), uint16(65530+i))
	}
	return f
}

func (f *fbFixture) send(t *testing.T, seq, tw uint16) {
	t.Helper()
	if _, err := f.w.Write(twHeader(testSSRC, seq, tw), make([]byte, 100), nil); err != nil {
		t.Fatal(err)
	}
}

// sentAt is the send time of send index i.
func sentAt(i int64) bwe.Time { return bwe.Time((i + 1) * 1000) }

// pkt is the expected result of send index i; arrival < 0 means lost.
func pkt(i int64, arrival bwe.Time) bwe.PacketResult {
	r := bwe.PacketResult{Seq: i, SendTime: sentAt(i), Size: 12 + 8 + 100}
	if arrival >= 0 {
		r.Received, r.Arrival = true, arrival
	}
	return r
}

func rl(sym, n uint16) rtcp.PacketStatusChunk {
	return &rtcp.RunLengthChunk{Type: rtcp.TypeTCCRunLengthChunk, PacketStatusSymbol: sym, RunLength: n}
}

func sv(syms ...uint16) rtcp.PacketStatusChunk {
	return &rtcp.StatusVectorChunk{Type: rtcp.TypeTCCStatusVectorChunk, SymbolSize: rtcp.TypeTCCSymbolSizeTwoBit, SymbolList: syms}
}

func deltas(us ...int64) []*rtcp.RecvDelta {
	out := make([]*rtcp.RecvDelta, len(us))
	for i, d := range us {
		typ := rtcp.TypeTCCPacketReceivedSmallDelta
		if d < 0 || d > 63750 {
			typ = rtcp.TypeTCCPacketReceivedLargeDelta
		}
		out[i] = &rtcp.RecvDelta{Type: typ, Delta: d}
	}
	return out
}

func mkTWCC(base, count uint16, ref uint32, chunks []rtcp.PacketStatusChunk, d []*rtcp.RecvDelta) *rtcp.TransportLayerCC {
	p := &rtcp.TransportLayerCC{BaseSequenceNumber: base, PacketStatusCount: count, ReferenceTime: ref, PacketChunks: chunks, RecvDeltas: d}
	raw := 4 + 16 + 2*len(chunks)
	for _, x := range d {
		raw += 2
		if x.Type == rtcp.TypeTCCPacketReceivedSmallDelta {
			raw--
		}
	}
	n := p.MarshalSize()
	p.Header = rtcp.Header{Count: rtcp.FormatTCC, Type: rtcp.TypeTransportSpecificFeedback, Padding: raw != n, Length: uint16(n/4 - 1)}
	return p
}

// wire sends p through the wire format, as pion's RTCP reader gives it.
func wire(t *testing.T, p rtcp.Packet) rtcp.Packet {
	t.Helper()
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	q, err := rtcp.Unmarshal(b)
	if err != nil || len(q) != 1 {
		t.Fatalf("unmarshal: %v, %d packets", err, len(q))
	}
	return q[0]
}

const (
	small = rtcp.TypeTCCPacketReceivedSmallDelta
	large = rtcp.TypeTCCPacketReceivedLargeDelta
	lost  = rtcp.TypeTCCPacketNotReceived
)

// counts are the feedback counters a case checks.
type counts struct {
	Batches, EmptyFeedback, Unknown, Old, Duplicate, NoArrival, Malformed int64
}

func countsOf(s Stats) counts {
	return counts{s.Batches, s.EmptyFeedback, s.Unknown, s.Old, s.Duplicate, s.NoArrival, s.Malformed}
}

func TestFeedbackParsing(t *testing.T) {
	ref := func(r int64) bwe.Time { return bwe.Time(r * 64000) }
	for _, tc := range []struct {
		name string
		// calls are the WriteRTCP calls, in order; the last one's batch
		// is checked.
		calls  [][]rtcp.Packet
		before func(f *fbFixture) // run before the calls
		want   []bwe.PacketResult
		counts counts
	}{
		{
			name:   "run-length, sequence wrap",
			calls:  [][]rtcp.Packet{{mkTWCC(65534, 4, 100, []rtcp.PacketStatusChunk{rl(small, 4)}, deltas(1000, 1000, 250, 0))}},
			want:   []bwe.PacketResult{pkt(4, ref(100)+1000), pkt(5, ref(100)+2000), pkt(6, ref(100)+2250), pkt(7, ref(100)+2250)},
			counts: counts{Batches: 1},
		},
		{
			name:   "status vector, lost, negative large delta",
			calls:  [][]rtcp.Packet{{mkTWCC(65530, 4, 7, []rtcp.PacketStatusChunk{sv(small, lost, large, small)}, deltas(5000, -2000, 250))}},
			want:   []bwe.PacketResult{pkt(0, ref(7)+5000), pkt(1, -1), pkt(2, ref(7)+3000), pkt(3, ref(7)+3250)},
			counts: counts{Batches: 1},
		},
		{
			name: "reference time wrap",
			calls: [][]rtcp.Packet{
				{mkTWCC(65530, 1, 0xFFFFFF, []rtcp.PacketStatusChunk{rl(small, 1)}, deltas(1000))},
				{mkTWCC(65531, 1, 0, []rtcp.PacketStatusChunk{rl(small, 1)}, deltas(500))},
			},
			want:   []bwe.PacketResult{pkt(1, ref(0x1000000)+500)},
			counts: counts{Batches: 2},
		},
		{
			name: "reference time wrap backwards",
			calls: [][]rtcp.Packet{
				{mkTWCC(65531, 1, 3, []rtcp.PacketStatusChunk{rl(small, 1)}, deltas(1000))},
				{mkTWCC(65530, 1, 0xFFFFFE, []rtcp.PacketStatusChunk{rl(small, 1)}, deltas(500))},
			},
			want:   []bwe.PacketResult{{Seq: 0, SendTime: sentAt(0), Size: 120, Received: true, Arrival: ref(-2) + 500}},
			counts: counts{Batches: 2},
		},
		{
			name: "out of order within one call, sorted",
			calls: [][]rtcp.Packet{{
				mkTWCC(2, 2, 9, []rtcp.PacketStatusChunk{rl(small, 2)}, deltas(4000, 1000)),
				mkTWCC(65530, 2, 9, []rtcp.PacketStatusChunk{rl(small, 2)}, deltas(1000, 1000)),
			}},
			want:   []bwe.PacketResult{pkt(0, ref(9)+1000), pkt(1, ref(9)+2000), pkt(8, ref(9)+4000), pkt(9, ref(9)+5000)},
			counts: counts{Batches: 1},
		},
		{
			name: "lost then received in one call: the reception wins",
			calls: [][]rtcp.Packet{{
				mkTWCC(65530, 2, 9, []rtcp.PacketStatusChunk{rl(lost, 2)}, nil),
				mkTWCC(65531, 1, 9, []rtcp.PacketStatusChunk{rl(small, 1)}, deltas(750)),
			}},
			want:   []bwe.PacketResult{pkt(0, -1), pkt(1, ref(9)+750)},
			counts: counts{Batches: 1, Duplicate: 1},
		},
		{
			name: "duplicate feedback: skipped",
			calls: [][]rtcp.Packet{
				{mkTWCC(65530, 2, 9, []rtcp.PacketStatusChunk{rl(small, 2)}, deltas(1000, 1000))},
				{mkTWCC(65530, 2, 9, []rtcp.PacketStatusChunk{rl(small, 2)}, deltas(1000, 1000))},
			},
			want:   []bwe.PacketResult{},
			counts: counts{Batches: 1, EmptyFeedback: 1, Duplicate: 2},
		},
		{
			name: "lost, then received later",
			calls: [][]rtcp.Packet{
				{mkTWCC(65530, 1, 9, []rtcp.PacketStatusChunk{rl(lost, 1)}, nil)},
				{mkTWCC(65530, 1, 9, []rtcp.PacketStatusChunk{rl(small, 1)}, deltas(1000))},
			},
			want:   []bwe.PacketResult{pkt(0, ref(9)+1000)},
			counts: counts{Batches: 2},
		},
		{
			name:   "never sent: unknown",
			calls:  [][]rtcp.Packet{{mkTWCC(3, 3, 9, []rtcp.PacketStatusChunk{rl(small, 3)}, deltas(1000, 1000, 1000))}},
			want:   []bwe.PacketResult{pkt(9, ref(9)+1000)},
			counts: counts{Batches: 1, Unknown: 2},
		},
		{
			name: "older than the send history: old",
			before: func(f *fbFixture) {
				f.clk.Advance(2500 * time.Millisecond)
				f.send(t, 7, 4)
			},
			calls:  [][]rtcp.Packet{{mkTWCC(65530, 11, 9, []rtcp.PacketStatusChunk{rl(small, 11)}, deltas(250, 250, 250, 250, 250, 250, 250, 250, 250, 250, 250))}},
			want:   []bwe.PacketResult{{Seq: 10, SendTime: 2_510_000, Size: 120, Received: true, Arrival: ref(9) + 2750}},
			counts: counts{Batches: 1, Old: 10},
		},
		{
			name:   "received without delta",
			calls:  [][]rtcp.Packet{{mkTWCC(65530, 2, 9, []rtcp.PacketStatusChunk{sv(rtcp.TypeTCCPacketReceivedWithoutDelta, small)}, deltas(250))}},
			want:   []bwe.PacketResult{pkt(1, ref(9)+250)},
			counts: counts{Batches: 1, NoArrival: 1},
		},
		{
			name:   "missing receive delta: malformed, skipped whole",
			calls:  [][]rtcp.Packet{{mkTWCC(65530, 3, 9, []rtcp.PacketStatusChunk{rl(small, 3)}, deltas(250, 250))}},
			want:   []bwe.PacketResult{},
			counts: counts{EmptyFeedback: 1, Malformed: 1},
		},
		{
			name:   "status count bounds a longer run",
			calls:  [][]rtcp.Packet{{mkTWCC(65530, 2, 9, []rtcp.PacketStatusChunk{rl(lost, 500)}, nil)}},
			want:   []bwe.PacketResult{pkt(0, -1), pkt(1, -1)},
			counts: counts{Batches: 1},
		},
		{
			name:   "nil and foreign packets",
			calls:  [][]rtcp.Packet{{nil, (*rtcp.TransportLayerCC)(nil), &rtcp.PictureLossIndication{}, (*rtcp.CCFeedbackReport)(nil)}},
			want:   []bwe.PacketResult{},
			counts: counts{EmptyFeedback: 1, Malformed: 2},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFBFixture(t)
			if tc.before != nil {
				tc.before(f)
			}
			for i, c := range tc.calls {
				f.clk.Advance(10 * time.Millisecond)
				for j := range c {
					if c[j] != nil && c[j] != rtcp.Packet((*rtcp.TransportLayerCC)(nil)) && c[j] != rtcp.Packet((*rtcp.CCFeedbackReport)(nil)) {
						if _, ok := c[j].(*rtcp.PictureLossIndication); !ok && tc.counts.Malformed == 0 {
							c[j] = wire(t, c[j])
						}
					}
				}
				if err := f.e.WriteRTCP(c, nil); err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
			}
			got := f.e.batch
			if countsOf(f.e.Stats()).EmptyFeedback > 0 && len(tc.want) == 0 {
				got = []bwe.PacketResult{}
			}
			checkBatch(t, got, tc.want)
			if got := countsOf(f.e.Stats()); got != tc.counts {
				t.Errorf("counts %+v, want %+v", got, tc.counts)
			}
		})
	}
}

func ccfb(rts uint32, blocks ...rtcp.CCFeedbackReportBlock) *rtcp.CCFeedbackReport {
	return &rtcp.CCFeedbackReport{SenderSSRC: 1, ReportTimestamp: rts, ReportBlocks: blocks}
}

func block(ssrc uint32, begin uint16, mbs ...rtcp.CCFeedbackMetricBlock) rtcp.CCFeedbackReportBlock {
	return rtcp.CCFeedbackReportBlock{MediaSSRC: ssrc, BeginSequence: begin, MetricBlocks: mbs}
}

func rx(ato uint16) rtcp.CCFeedbackMetricBlock {
	return rtcp.CCFeedbackMetricBlock{Received: true, ArrivalTimeOffset: ato}
}

var miss = rtcp.CCFeedbackMetricBlock{}

func TestCCFBParsing(t *testing.T) {
	// Report timestamp 10 s (NTP 16.16); 1/1024 s = 976.5625 µs.
	const rts = 10 << 16
	const rtsUs = bwe.Time(10_000_000)
	for _, tc := range []struct {
		name   string
		calls  [][]rtcp.Packet
		want   []bwe.PacketResult
		counts counts
	}{
		{
			name:   "RTP sequence wrap, offsets",
			calls:  [][]rtcp.Packet{{ccfb(rts, block(testSSRC, 65535, rx(1024), miss, rx(16), rx(0)))}},
			want:   []bwe.PacketResult{pkt(2, rtsUs-1_000_000), pkt(3, -1), pkt(4, rtsUs-15625), pkt(5, rtsUs)},
			counts: counts{Batches: 1},
		},
		{
			name:   "over-range and unavailable offsets",
			calls:  [][]rtcp.Packet{{ccfb(rts, block(testSSRC, 65533, rx(0x1FFE), rx(0x1FFF), rx(1)))}},
			want:   []bwe.PacketResult{pkt(2, rtsUs-976)},
			counts: counts{Batches: 1, NoArrival: 2},
		},
		{
			name:   "unknown SSRC and unsent sequence numbers",
			calls:  [][]rtcp.Packet{{ccfb(rts, block(0x2222, 0, rx(0), rx(0)), block(testSSRC, 6, rx(0), rx(0), rx(0)))}},
			want:   []bwe.PacketResult{pkt(9, rtsUs)},
			counts: counts{Batches: 1, Unknown: 4},
		},
		{
			name: "report timestamp wrap",
			calls: [][]rtcp.Packet{
				{ccfb(0xFFFF0000, block(testSSRC, 65533, rx(0)))},
				{ccfb(0x00010000, block(testSSRC, 65534, rx(0)))},
			},
			// 0xFFFF0000 is 65535 s; the next report, 2 s later, is
			// 65537 s.
			want:   []bwe.PacketResult{pkt(1, 65537_000_000)},
			counts: counts{Batches: 2},
		},
		{
			name: "duplicate report",
			calls: [][]rtcp.Packet{
				{ccfb(rts, block(testSSRC, 65533, rx(0)))},
				{ccfb(rts, block(testSSRC, 65533, rx(0), rx(0)))},
			},
			want:   []bwe.PacketResult{pkt(1, rtsUs)},
			counts: counts{Batches: 2, Duplicate: 1},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFBFixture(t)
			for i, c := range tc.calls {
				f.clk.Advance(10 * time.Millisecond)
				for j := range c {
					c[j] = wire(t, c[j])
				}
				if err := f.e.WriteRTCP(c, nil); err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
			}
			checkBatch(t, f.e.batch, tc.want)
			if got := countsOf(f.e.Stats()); got != tc.counts {
				t.Errorf("counts %+v, want %+v", got, tc.counts)
			}
		})
	}
}

func checkBatch(t *testing.T, got, want []bwe.PacketResult) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("last batch:\n got %s\nwant %s", fmtBatch(got), fmtBatch(want))
	}
}

func fmtBatch(b []bwe.PacketResult) string {
	s := ""
	for _, p := range b {
		s += fmt.Sprintf("{%d send %d size %d rx %v at %d} ", p.Seq, p.SendTime, p.Size, p.Received, p.Arrival)
	}
	return s
}
