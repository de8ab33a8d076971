package lossbased

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// FuzzClassic decodes bytes into a sequence of SetEstimate, SetLimits and
// Update calls with arbitrary batches, and checks that every estimate is
// within the limits, capped by the delay-based estimate, and that the loss
// fraction is a fraction.
func FuzzClassic(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	f.Add([]byte("\x02\x10\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\x7f\x00\x05"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := NewClassic(ClassicConfig{LossInterval: 50 * time.Millisecond, MinPackets: 3})
		if err != nil {
			t.Fatal(err)
		}
		lo, hi := c.Config().Min, c.Config().Max
		at := bwe.Time(0)
		pk := make([]bwe.PacketResult, 0, 64)
		next := func(n int) uint64 {
			var b [8]byte
			k := copy(b[:], data[:min(n, len(data))])
			data = data[k:]
			return binary.LittleEndian.Uint64(b[:])
		}
		for len(data) > 0 {
			op := next(1)
			switch op % 4 {
			case 0:
				c.SetEstimate(at, bwe.Bitrate(int64(next(8))))
			case 1:
				lo, hi = bwe.Bitrate(int64(next(4))), bwe.Bitrate(int64(next(8)))
				c.SetLimits(lo, hi)
				lo = max(lo, 0)
				if hi <= 0 {
					hi = c.Config().Max
				}
				hi = max(hi, lo)
			default:
				at = at.Add(time.Duration(int64(next(2))-1000) * time.Microsecond * 100)
				n := int(next(1) % 64)
				pk = pk[:0]
				for i := range n {
					pk = append(pk, bwe.PacketResult{
						Seq:      int64(i),
						SendTime: bwe.Time(int64(next(2))),
						Size:     bwe.ByteCount(int64(int16(next(2)))),
						Received: next(1)%3 != 0,
					})
				}
				in := Input{Time: at, Packets: pk, DelayBased: bwe.Bitrate(int64(next(8))), Acked: bwe.Bitrate(int64(next(4))), RTT: time.Duration(int64(int32(next(4))))}
				r := c.Update(in)
				if r.Estimate < lo || r.Estimate > hi {
					t.Fatalf("Estimate %v outside [%v, %v]", r.Estimate, lo, hi)
				}
				if in.DelayBased > 0 && r.Estimate > max(in.DelayBased, lo) {
					t.Fatalf("Estimate %v above the delay-based %v (min %v)", r.Estimate, in.DelayBased, lo)
				}
				if !(r.Loss >= 0 && r.Loss < 1) {
					t.Fatalf("Loss %v is not a fraction", r.Loss)
				}
				if r.State > Decreasing {
					t.Fatalf("State %v is not a state", r.State)
				}
			}
		}
	})
}
