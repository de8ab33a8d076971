package smoothing

import (
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// call is one decoded Smooth call.
type call struct {
	at  bwe.Time
	est bwe.Bitrate
	s   bwe.Signals
}

// decodeCalls turns arbitrary bytes into a sequence of Smooth calls, 8
// bytes each:
//
//	0–1  Δt in ms, signed (negative: time going backwards); 0x7fff: a jump of an hour
//	2–3  estimate magnitude v
//	4    bits 0–1: estimate mode (v kbps, v bps, MaxBitrate − v, −v kbps);
//	     bit 2: Congested; bit 3: Oscillation.Detected; bits 4–5: Usage
//	5    loss: /200 (above 1 up to 1.27); 255 NaN, 254 +Inf
//	6    RTT in 2 ms steps (0: unknown); 255 a huge RTT
//	7    period in 100 ms steps (0: none)
//
// Only the first 128 calls are decoded: longer sequences add few paths
// (FuzzOscillationAware fills its small rings well before) and slow the
// fuzzer down.
func decodeCalls(data []byte) []call {
	data = data[:min(len(data), 8*128)]
	var out []call
	at := bwe.Time(1_000_000)
	for len(data) >= 8 {
		b := data[:8]
		data = data[8:]
		dt := int16(binary.LittleEndian.Uint16(b[0:2]))
		if dt == math.MaxInt16 {
			at = at.Add(time.Hour)
		} else {
			at = at.Add(time.Duration(dt) * time.Millisecond)
		}
		v := bwe.Bitrate(binary.LittleEndian.Uint16(b[2:4]))
		var est bwe.Bitrate
		switch b[4] & 3 {
		case 0:
			est = v * bwe.Kbps
		case 1:
			est = v
		case 2:
			est = bwe.MaxBitrate - v
		case 3:
			est = -v * bwe.Kbps
		}
		s := bwe.Signals{
			Congested: b[4]&4 != 0,
			Usage:     bwe.Usage(b[4] >> 4 & 3),
			Loss:      float64(b[5]) / 200,
			RTT:       time.Duration(b[6]) * 2 * time.Millisecond,
		}
		switch b[5] {
		case 255:
			s.Loss = math.NaN()
		case 254:
			s.Loss = math.Inf(1)
		}
		if b[6] == 255 {
			s.RTT = math.MaxInt64
		}
		s.Oscillation = bwe.Oscillation{
			Detected: b[4]&8 != 0,
			Period:   time.Duration(b[7]) * 100 * time.Millisecond,
			Strength: float64(b[7]) / 255,
		}
		out = append(out, call{at, est, s})
	}
	return out
}

// checkSeq runs calls through sm and checks the invariants every smoother
// promises: the first output is the estimate itself, no output is negative
// or above the largest estimate seen.
func checkSeq(t *testing.T, name string, sm bwe.Smoother, calls []call) {
	t.Helper()
	var hi bwe.Bitrate
	for i, c := range calls {
		x := max(c.est, 0)
		hi = max(hi, x)
		got := sm.Smooth(c.at, c.est, c.s)
		switch {
		case i == 0 && got != x:
			t.Fatalf("%s: first Smooth(%v, %v) = %v, want the estimate", name, c.at, c.est, got)
		case got < 0:
			t.Fatalf("%s: call %d: Smooth(%v, %v) = %v, negative", name, i, c.at, c.est, got)
		case got > hi:
			t.Fatalf("%s: call %d: Smooth(%v, %v) = %v, above the largest estimate seen %v", name, i, c.at, c.est, got, hi)
		}
		if o, ok := sm.(*OscillationAware); ok {
			if st := o.State(); st.Output != got {
				t.Fatalf("%s: call %d: State().Output = %v, Smooth returned %v", name, i, st.Output, got)
			}
			if (c.s.Congested || c.s.Loss >= 0.1) && got != x {
				t.Fatalf("%s: call %d: congestion corroborated but Smooth = %v, want the estimate %v", name, i, got, x)
			}
		}
	}
}

func fuzzSeeds(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{50, 0, 0xe8, 0x03, 8, 0, 25, 40, 50, 0, 0xd0, 0x07, 8, 0, 25, 40, 50, 0, 0xe8, 0x03, 12, 30, 25, 40})
	f.Add([]byte{0, 0, 0xff, 0xff, 2, 0, 0, 0, 0xce, 0xff, 5, 0, 3, 255, 255, 1, 0xff, 0x7f, 1, 0, 9, 254, 0, 200})
	sq := make([]byte, 0, 8*200)
	for i := range 200 {
		v := uint16(1000)
		if i/40%2 == 0 {
			v = 2000
		}
		sq = append(sq, 50, 0, byte(v), byte(v>>8), 8, 0, byte(30+i%20), 40)
	}
	f.Add(sq)
}

// FuzzSmooth runs every smoother, by name, on decoded call sequences.
func FuzzSmooth(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		calls := decodeCalls(data)
		for _, name := range Names() {
			sm, err := NewByName(name)
			if err != nil {
				t.Fatal(err)
			}
			checkSeq(t, name, sm, calls)
			sm.Reset()
			checkSeq(t, name+" after Reset", sm, calls)
		}
	})
}

// FuzzOscillationAware runs an OscillationAware with short windows, a small
// ring, an Asymmetric Base and a configured detector on decoded sequences.
func FuzzOscillationAware(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		calls := decodeCalls(data)
		base, _ := NewAsymmetric(AsymmetricConfig{})
		cfg := OscillationAwareConfig{
			Base: base, Detector: &detectAfter{}, MaxSamples: 16, RTTWindow: time.Second,
			MaxPeriod: 2 * time.Second, Cycles: 1.5, Quantile: 0.9,
		}
		if len(data) > 0 {
			// The first byte also picks the hold's options.
			cfg.Ratchet = data[0]&1 != 0
			cfg.Linger = time.Duration(data[0]>>1) * 100 * time.Millisecond
		}
		o, err := NewOscillationAware(cfg)
		if err != nil {
			t.Fatal(err)
		}
		checkSeq(t, "oscillation+base+detector", o, calls)
	})
}
