package oscillation

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// decodeSamples turns bytes into (time, value) samples, 5 bytes each:
//
//	byte 0:    how time moves (bits 0–2) and the value's scale (bits 3–5)
//	bytes 1–2: time delta (int16)
//	bytes 3–4: value (uint16)
//
// Time deltas reach zero, backwards steps, milliseconds, seconds, hours
// and the ends of the Time range; values reach 0 and bwe.MaxBitrate.
//
// At most maxFuzzSamples samples are decoded: longer inputs add nothing a
// fuzzer could use and make every execution (and the minimisation of
// each new input) slow enough to starve it.
func decodeSamples(data []byte, fn func(at bwe.Time, v bwe.Bitrate)) {
	var at bwe.Time
	for n := 0; len(data) >= 5 && n < maxFuzzSamples; n++ {
		sel := data[0]
		dt := int64(int16(binary.LittleEndian.Uint16(data[1:])))
		v := int64(binary.LittleEndian.Uint16(data[3:]))
		switch sel & 7 {
		case 0, 1, 2:
			at = at.Add(time.Duration(dt) * time.Millisecond)
		case 3:
			at = at.Add(time.Duration(dt) * time.Microsecond)
		case 4:
			at = at.Add(time.Duration(dt) * time.Second)
		case 5:
			at = at.Add(time.Duration(dt) * time.Hour)
		case 6:
			at = bwe.MaxTime - bwe.Time(dt&0xff)
		}
		var r bwe.Bitrate
		switch sel >> 3 & 7 {
		case 0, 1, 2:
			r = bwe.Bitrate(v) * bwe.Kbps
		case 3:
			r = bwe.Bitrate(v)
		case 4:
			r = bwe.MaxBitrate - bwe.Bitrate(v)
		case 5:
			r = bwe.Bitrate(v) << 40
		case 6:
			r = -bwe.Bitrate(v)
		}
		fn(at, r)
		data = data[5:]
	}
}

// maxFuzzSamples bounds the samples of one fuzz input: enough, at the
// seeds' 50–89 ms spacing, to fill the fuzz configurations' windows.
const maxFuzzSamples = 48

// sineBytes encodes n samples of a sine of period samples, 50–89 ms
// apart.
func sineBytes(n int, period int) []byte {
	var b []byte
	for i := range n {
		v := uint16(2000 + 500*math.Sin(2*math.Pi*float64(i)/float64(period)))
		b = append(b, 0, byte(50+i%40), 0, byte(v), byte(v>>8))
	}
	return b
}

func FuzzAdd(f *testing.F) {
	f.Add(sineBytes(40, 12))
	f.Add(sineBytes(40, 5))
	f.Add(append(sineBytes(36, 8), 4, 100, 0, 1, 0, 0x20, 1, 0, 0xff, 0xff, 6, 0, 0, 0, 0))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0x80, 0, 0, 0})
	f.Add([]byte{6, 0, 0, 1, 0, 0x26, 0, 0, 2, 0, 0x05, 1, 0, 2, 0})
	f.Fuzz(checkSamples)
}

// Seeded random bytes through the fuzz body, so that plain `go test`
// exercises hostile input beyond the seed corpus.
func TestRandomSamples(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for range 500 {
		data := make([]byte, rng.IntN(400))
		for i := range data {
			data[i] = byte(rng.IntN(256))
		}
		checkSamples(t, data)
	}
}

// checkSamples feeds the samples decoded from data to every detector and
// checks every result.
func checkSamples(t *testing.T, data []byte) {
	// Small windows, so that the few samples of a fuzz input fill them
	// and reach every decision; one in the log domain, one linear.
	cfg := Config{Step: 50 * time.Millisecond, Window: 2 * time.Second, MinPeriod: 200 * time.Millisecond, MaxPeriod: time.Second}
	if len(data) > 0 && data[0]&0x80 != 0 {
		cfg = Config{Step: 100 * time.Millisecond, Window: 3 * time.Second, MinPeriod: 200 * time.Millisecond, MaxPeriod: 1500 * time.Millisecond, Linear: true}
	}
	dets := newAll(t, cfg)
	maxP := 20 * time.Second
	if cfg.MaxPeriod != 0 {
		maxP = cfg.MaxPeriod
	}
	minP := 2 * time.Second
	if cfg.MinPeriod != 0 {
		minP = cfg.MinPeriod
	}
	step := 0
	decodeSamples(data, func(at bwe.Time, v bwe.Bitrate) {
		step++
		for name, d := range dets {
			st := d.Add(at, v)
			switch {
			case st.Amplitude < 0 || st.Mean < 0:
				t.Fatalf("step %d: %s Add(%v, %v) = %+v: negative amplitude or mean", step, name, at, v, st)
			case !(st.Strength >= 0 && st.Strength <= 1):
				t.Fatalf("step %d: %s Add(%v, %v) = %+v: strength out of [0, 1]", step, name, at, v, st)
			case st.Period < 0 || st.Period > maxP:
				t.Fatalf("step %d: %s Add(%v, %v) = %+v: period out of [0, %v]", step, name, at, v, st, maxP)
			case st.Detected && (st.Period < minP || st.Period > maxP):
				t.Fatalf("step %d: %s Add(%v, %v) = %+v: detected with a period out of range", step, name, at, v, st)
			}
		}
	})
}
