package pionbwe

import (
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// Arbitrary bytes, decoded as RTCP, never panic WriteRTCP nor push the
// target out of its bounds.
func FuzzWriteRTCP(f *testing.F) {
	seed := []rtcp.Packet{
		mkTWCC(65530, 6, 100, []rtcp.PacketStatusChunk{rl(small, 3), sv(lost, large, small)}, deltas(250, 500, 750, -1000, 250)),
		ccfb(10<<16, block(testSSRC, 65534, rx(3), miss, rx(0x1FFF))),
	}
	for _, p := range seed {
		b, err := p.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(3))
	}
	f.Fuzz(func(t *testing.T, data []byte, gapMs uint8) {
		pkts, err := rtcp.Unmarshal(data)
		if err != nil {
			return
		}
		clk := newFakeClock()
		e, err := New(WithClock(clk.Now), WithPacer(false), withManual(), WithMinBitrate(50_000), WithMaxBitrate(5_000_000))
		if err != nil {
			t.Fatal(err)
		}
		w := e.AddStream(twccInfo(testSSRC), &sink{})
		for i := range 40 {
			clk.Advance(time.Millisecond)
			w.Write(twHeader(testSSRC, uint16(65520+i), uint16(65520+i)), make([]byte, 100), nil)
		}
		for range 3 {
			clk.Advance(time.Duration(gapMs) * time.Millisecond)
			if err := e.WriteRTCP(pkts, nil); err != nil {
				t.Fatal(err)
			}
			if r := e.GetTargetBitrate(); r < 50_000 || r > 5_000_000 {
				t.Fatalf("target %d outside [50k, 5M]", r)
			}
		}
		for _, p := range e.batch {
			if p.Seq < 0 || p.Seq >= 40 {
				t.Fatalf("result for send index %d of 40", p.Seq)
			}
		}
	})
}

// Arbitrary RTP headers through the write path, paced or not, never
// panic and are tracked.
func FuzzWrite(f *testing.F) {
	h := twHeader(testSSRC, 1, 2)
	b, _ := h.Marshal()
	f.Add(b, true)
	f.Add([]byte{0x90, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0x11, 0x11, 0xbe, 0xde, 0, 1, 0x31, 0xff, 0xff, 0}, false)
	f.Fuzz(func(t *testing.T, data []byte, pacing bool) {
		var h rtp.Header
		n, err := h.Unmarshal(data)
		if err != nil {
			return
		}
		clk := newFakeClock()
		e, err := New(WithClock(clk.Now), WithPacer(pacing), withManual())
		if err != nil {
			t.Fatal(err)
		}
		out := &sink{}
		w := e.AddStream(twccInfo(h.SSRC), out)
		for range 3 {
			clk.Advance(time.Millisecond)
			hh := h.Clone()
			if _, err := w.Write(&hh, data[n:], nil); err != nil {
				continue
			}
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		if st := e.Stats(); st.PacketsSent != int64(out.n) {
			t.Fatalf("%d packets tracked, %d written", st.PacketsSent, out.n)
		}
	})
}
