package sendside

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/lossbased"
)

// FuzzEstimator decodes bytes into a sequence of Update, Process and
// OnSent calls with arbitrary batches (lost, reordered, duplicated, probe
// packets of known and unknown clusters, times going backwards, huge and
// negative sizes), with either loss estimator, and checks that the target
// stays within [Min, Max], that probes are positive, and that the signals
// are well-formed.
func FuzzEstimator(f *testing.F) {
	f.Add([]byte{0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17})
	f.Add([]byte("\x01\x02\x00\x10\x00\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\x7f\x00\x05\x06"))
	f.Fuzz(func(t *testing.T, data []byte) {
		next := func(n int) uint64 {
			var b [8]byte
			k := copy(b[:], data[:min(n, len(data))])
			data = data[k:]
			return binary.LittleEndian.Uint64(b[:])
		}
		cfg := Config{
			Min:   bwe.Bitrate(next(2)+1) * bwe.Kbps / 16,
			Start: 300 * bwe.Kbps,
			Sends: SendSource(next(1) % 2),
		}
		cfg.Max = cfg.Min + bwe.Bitrate(next(2)+1)*bwe.Kbps
		cfg.Start = min(max(cfg.Start, cfg.Min), cfg.Max)
		if next(1)%2 == 0 {
			cfg.Loss, _ = lossbased.NewClassic(lossbased.ClassicConfig{})
		}
		e, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		lo, hi := e.Config().Min, e.Config().Max
		check := func(r Result) {
			if r.Target < lo || r.Target > hi {
				t.Fatalf("target %v outside [%v, %v]", r.Target, lo, hi)
			}
			if r.RTT < 0 || r.Cap < 0 || r.Sent < 0 || r.Probe < 0 {
				t.Fatalf("negative signal in %+v", r)
			}
			for _, p := range r.Probes {
				if p.ID <= 0 || p.Bitrate <= 0 || p.MinProbes <= 0 || p.Duration <= 0 {
					t.Fatalf("bad probe request %+v", p)
				}
			}
		}
		now := bwe.Time(0)
		var pk []bwe.PacketResult
		var seq int64
		for len(data) > 0 {
			now = now.Add(time.Duration(int64(int16(next(2)))) * 100 * time.Microsecond)
			switch next(1) % 4 {
			case 0:
				check(e.Process(now))
			case 1:
				e.OnSent(now, bwe.ByteCount(int64(int16(next(2)))))
			default:
				pk = pk[:0]
				n := int(next(1) % 48)
				for range n {
					seq += int64(int8(next(1)))
					send := now.Add(-time.Duration(next(2)) * 50 * time.Microsecond)
					p := bwe.PacketResult{Seq: seq, SendTime: send, Size: bwe.ByteCount(int64(int16(next(2)))), Received: next(1)%4 != 0}
					if p.Received {
						p.Arrival = send.Add(time.Duration(int64(int16(next(2)))) * 50 * time.Microsecond)
					}
					if k := next(1); k%5 == 0 {
						p.ProbeCluster = int32(k % 7)
					}
					pk = append(pk, p)
				}
				check(e.Update(bwe.Feedback{Time: now, Packets: pk}))
			}
		}
	})
}
