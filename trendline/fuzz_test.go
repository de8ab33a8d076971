package trendline

import (
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// decodeDeltas turns arbitrary bytes into group deltas, 12 bytes each:
//
//	byte 0:     scale of SendDelta (bits 0–1), ArrivalDelta (2–3), SizeDelta (4–5),
//	            and how Arrival moves (6–7)
//	bytes 1–4:  SendDelta value (int32)
//	bytes 5–8:  ArrivalDelta value (int32)
//	bytes 9–10: SizeDelta value (int16)
//	byte 11:    Arrival jump value
//
// Scales reach zero, negative, sub-millisecond and extreme values; Arrival
// usually advances by ArrivalDelta but may jump back, forward by hours, or to
// the ends of the Time range.
func decodeDeltas(data []byte) []bwe.GroupDelta {
	dur := func(v int64, sel byte) time.Duration {
		switch sel & 3 {
		case 0:
			return time.Duration(v) * time.Microsecond
		case 1:
			return time.Duration(v) * time.Millisecond / 16
		case 2:
			return time.Duration(v) * time.Second
		}
		if v < 0 {
			return time.Duration(math.MinInt64)
		}
		return time.Duration(math.MaxInt64)
	}
	var out []bwe.GroupDelta
	var arrival, send bwe.Time
	for len(data) >= 12 {
		sel := data[0]
		sd := dur(int64(int32(binary.LittleEndian.Uint32(data[1:]))), sel)
		ad := dur(int64(int32(binary.LittleEndian.Uint32(data[5:]))), sel>>2)
		sz := int64(int16(binary.LittleEndian.Uint16(data[9:])))
		switch sel >> 4 & 3 {
		case 1:
			sz *= 1 << 20
		case 2:
			sz *= 1 << 48
		case 3:
			sz = math.MinInt64 + sz
		}
		jump := int64(int8(data[11]))
		switch sel >> 6 {
		case 0:
			arrival = arrival.Add(ad)
		case 1:
			arrival = arrival.Add(time.Duration(jump) * time.Second)
		case 2:
			arrival = arrival.Add(time.Duration(jump) * time.Hour)
		default:
			if jump < 0 {
				arrival = bwe.MinTime
			} else {
				arrival = bwe.MaxTime
			}
		}
		send = send.Add(sd)
		out = append(out, bwe.GroupDelta{
			SendDelta: sd, ArrivalDelta: ad, SizeDelta: bwe.ByteCount(sz),
			Arrival: arrival, SendTime: send,
		})
		data = data[12:]
	}
	return out
}

// fuzzSeeds adds a few well-formed and hostile inputs.
func fuzzSeeds(f *testing.F) {
	rec := func(sel byte, sendUs, arrUs int32, size int16, jump int8) []byte {
		b := make([]byte, 12)
		b[0] = sel
		binary.LittleEndian.PutUint32(b[1:], uint32(sendUs))
		binary.LittleEndian.PutUint32(b[5:], uint32(arrUs))
		binary.LittleEndian.PutUint16(b[9:], uint16(size))
		b[11] = byte(jump)
		return b
	}
	var steady, ramp, hostile []byte
	for i := range 80 {
		steady = append(steady, rec(0, 20000, 20000, 0, 0)...)
		ramp = append(ramp, rec(0, 20000, 22000+int32(i%7)*100, int16(i), 0)...)
		hostile = append(hostile, rec(byte(i*37), int32(-i*1000), int32(i*99991), int16(i*311), int8(-i))...)
	}
	f.Add(steady)
	f.Add(ramp)
	f.Add(hostile)
	f.Add(rec(0xff, math.MaxInt32, math.MinInt32, math.MinInt16, -1))
}

// checkDetection fails unless det is a well-formed detection whose threshold
// lies in [lo, hi].
func checkDetection(t *testing.T, i int, d bwe.GroupDelta, det bwe.Detection, lo, hi float64) {
	t.Helper()
	for _, v := range []float64{det.Trend, det.Modified, det.Threshold} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("step %d: Update(%+v) = %+v: non-finite output", i, d, det)
		}
	}
	if det.Threshold < lo || det.Threshold > hi {
		t.Fatalf("step %d: Update(%+v) = %+v: threshold outside [%v, %v]", i, d, det, lo, hi)
	}
	switch det.Usage {
	case bwe.Normal, bwe.Underusing, bwe.Overusing:
	default:
		t.Fatalf("step %d: Update(%+v) = %+v: unknown usage", i, d, det)
	}
}

func FuzzEstimator(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := New(Config{})
		if err != nil {
			t.Fatal(err)
		}
		for i, d := range decodeDeltas(data) {
			checkDetection(t, i, d, e.Update(d), 6, 600)
		}
	})
}

func FuzzKalman(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := NewKalman(KalmanConfig{})
		if err != nil {
			t.Fatal(err)
		}
		for i, d := range decodeDeltas(data) {
			checkDetection(t, i, d, k.Update(d), 6, 600)
			if v := k.NoiseVariance(); !(v >= 1) || math.IsInf(v, 0) {
				t.Fatalf("step %d: NoiseVariance() = %v, want finite and ≥ 1", i, v)
			}
		}
	})
}

func FuzzRobust(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewRobust(RobustConfig{})
		if err != nil {
			t.Fatal(err)
		}
		// Default bound in [MinSlope, MaxSlope] = [0.02, 1] times a 1 s window.
		for i, d := range decodeDeltas(data) {
			checkDetection(t, i, d, r.Update(d), 20, 1000)
		}
	})
}
