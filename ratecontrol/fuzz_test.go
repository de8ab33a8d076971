package ratecontrol

import (
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// fuzzConfig decodes the first 8 bytes of data into a valid configuration.
func fuzzConfig(data []byte) (Config, []byte) {
	var h [8]byte
	n := copy(h[:], data)
	data = data[n:]
	mins := [...]bwe.Bitrate{0, 100 * bwe.Kbps, 300 * bwe.Kbps, bwe.Mbps}
	maxs := [...]bwe.Bitrate{0, bwe.Mbps, 2 * bwe.Mbps, 2500 * bwe.Kbps}
	cfg := Config{Min: mins[h[0]%4], Max: maxs[h[1]%4]}
	if cfg.Max > 0 && cfg.Min > cfg.Max {
		cfg.Max = 0
	}
	// Up to 3 rungs between Min (or 200 kbps) and Max (or 4 Mbps).
	lo, hi := max(cfg.Min, 200*bwe.Kbps), cfg.Max
	if hi == 0 {
		hi = 4 * bwe.Mbps
	}
	if nr := int(h[2] % 4); nr > 0 && hi > lo {
		step := (hi - lo) / bwe.Bitrate(nr)
		for i := range nr {
			if r := lo + bwe.Bitrate(i)*step; r > 0 && (i == 0 || r > cfg.Rungs[i-1].Bitrate) {
				cfg.Rungs = append(cfg.Rungs, Rung{Bitrate: r, Width: 16 * i, Height: 9 * i})
			}
		}
		cfg.RungHold = time.Duration(h[2]>>2) * 50 * time.Millisecond
	}
	if h[3] == 0 {
		cfg.Sharp = true
	} else {
		cfg.Smoothness = float64(h[3]) / 255
	}
	cfg.BeyondFactor = 1 + float64(h[4])/64
	cfg.Headroom = float64(h[5]) / 256 * 0.9
	if h[6]&1 != 0 {
		cfg.Smoother = &peakSmoother{}
	}
	cfg.LossThreshold = [...]float64{0, 0.02, 0.5, 1.5}[(h[6]>>1)&3]
	cfg.BeyondMargin = [...]float64{0, 1e-9, 0.05, 1}[(h[6]>>3)&3]
	cfg.BeyondAfter = time.Duration(h[7]&15) * 500 * time.Millisecond
	cfg.CongestionHold = time.Duration(h[7]>>4) * 200 * time.Millisecond
	if h[5]&1 != 0 {
		cfg.Protect = Protection{Threshold: float64(h[4]%100+1) / 100, Reserve: float64(h[5]>>2) / 128, HoldIncreases: h[6]&0x40 != 0,
			Linger: time.Duration(h[7]&7) * time.Second}
	}
	return cfg, data
}

// fuzzInput decodes a 12-byte record into an input at a time moved from
// the previous one by a signed number of milliseconds.
func fuzzInput(prev bwe.Time, r []byte) bwe.RateInput {
	dt := time.Duration(int16(binary.LittleEndian.Uint16(r[0:]))) * time.Millisecond
	in := bwe.RateInput{Time: prev.Add(dt)}
	if r[0]&0x80 != 0 && r[1] == 0x7f {
		in.Time = bwe.MaxTime
	}
	v := binary.LittleEndian.Uint32(r[3:])
	switch r[2] % 8 {
	case 0:
		in.Estimate = 0
	case 1:
		in.Estimate = bwe.MaxBitrate
	case 2:
		in.Estimate = -bwe.Bitrate(v)
	case 3:
		in.Estimate = bwe.Bitrate(v) << 20
	default:
		in.Estimate = bwe.Bitrate(v % uint32(8*bwe.Mbps))
	}
	switch l := r[7]; {
	case l == 250:
		in.Signals.Loss = math.NaN()
	case l == 251:
		in.Signals.Loss = -0.5
	case l == 252:
		in.Signals.Loss = math.Inf(1)
	case l == 253:
		in.Signals.Loss = math.Inf(-1)
	default:
		in.Signals.Loss = float64(l) / 100
	}
	in.Signals.Congested = r[8]&1 != 0
	in.Signals.Usage = bwe.Usage((r[8] >> 1) % 4)
	in.Signals.RTT = time.Duration(r[8]>>3) * 10 * time.Millisecond
	in.Signals.Oscillation = bwe.Oscillation{
		Detected:  r[9]&1 != 0,
		Period:    time.Duration(r[9]>>1) * 100 * time.Millisecond,
		Amplitude: bwe.Bitrate(r[10]) * 10 * bwe.Kbps,
		Mean:      in.Estimate,
		Strength:  float64(r[11]) / 255,
	}
	if r[11] == 255 {
		in.Signals.Oscillation.Strength = math.NaN()
	}
	switch {
	case r[10] == 255:
		in.Signals.LossRisk = math.NaN()
	case r[10] == 254:
		in.Signals.LossRisk = -1
	default:
		in.Signals.LossRisk = float64(r[10]) / 200
	}
	return in
}

func FuzzUpdate(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 2, 3, 0, 32, 0, 0, 0,
		50, 0, 4, 0x80, 0x8d, 0x5b, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{1, 2, 7, 64, 32, 20, 1, 0x21,
		100, 0, 4, 0xc0, 0xc6, 0x2d, 0, 10, 1, 3, 5, 200,
		0x9c, 0xff, 1, 0, 0, 0, 0, 250, 0, 0, 0, 0,
		0, 0, 3, 0xff, 0xff, 0xff, 0xff, 252, 6, 0, 0, 255,
		0x10, 0x27, 2, 1, 2, 3, 4, 251, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, data := fuzzConfig(data)
		c, err := New(cfg)
		if err != nil {
			t.Fatalf("New(%+v): %v", cfg, err)
		}
		cfg = c.Config()
		top := bwe.MaxBitrate
		if cfg.Max > 0 {
			top = max(cfg.Max, cfg.Max.Scale(cfg.BeyondFactor))
		}
		var at bwe.Time
		for i := 0; len(data) >= 12; i++ {
			in := fuzzInput(at, data[:12])
			data = data[12:]
			at = in.Time
			media := c.Update(in)
			st := c.State()
			got := st.Target
			wantMedia := got
			if st.Protection > 0 {
				wantMedia = max(got.Scale(1-st.Protection), cfg.Min)
			}
			usableRaw := c.usable(max(in.Estimate, 0))
			loss := in.Signals.Loss
			congested := in.Signals.Congested || (loss == loss && min(max(loss, 0), 1) >= cfg.LossThreshold)
			switch {
			case media != st.Media || media != wantMedia:
				t.Fatalf("step %d: Update = %v, State().Media = %v, target %v protection %v", i, media, st.Media, got, st.Protection)
			case st.Protection != 0 && (cfg.Protect.Threshold == 0 || st.Protection != cfg.Protect.Reserve):
				t.Fatalf("step %d: protection %v with %+v", i, st.Protection, cfg.Protect)
			case got < 0 || got < cfg.Min:
				t.Fatalf("step %d: Update(%+v) = %v, below Min %v", i, in, got, cfg.Min)
			case got > st.Cap || st.Cap > top:
				t.Fatalf("step %d: Update(%+v) = %v, cap %v, bound %v", i, in, got, st.Cap, top)
			case cfg.Max > 0 && got > cfg.Max && !st.Beyond:
				t.Fatalf("step %d: Update(%+v) = %v above Max %v without Beyond", i, in, got, cfg.Max)
			case cfg.Max > 0 && got > cfg.Max && got.Float() > usableRaw.Float()/(1+cfg.BeyondMargin)+1:
				t.Fatalf("step %d: Update(%+v) = %v beyond Max without the margin below %v", i, in, got, usableRaw)
			case congested && got > max(cfg.Min, usableRaw):
				t.Fatalf("step %d: congested Update(%+v) = %v, above the raw usable estimate %v", i, in, got, usableRaw)
			case st.Smoothed < 0:
				t.Fatalf("step %d: Smoothed %v is negative", i, st.Smoothed)
			case len(cfg.Rungs) == 0 && st.Rung != -1,
				len(cfg.Rungs) > 0 && (st.Rung < 0 || st.Rung >= len(cfg.Rungs)):
				t.Fatalf("step %d: Rung %d with %d rungs", i, st.Rung, len(cfg.Rungs))
			case len(cfg.Rungs) > 0 && st.Rung > 0 && got < cfg.Rungs[st.Rung].Bitrate:
				t.Fatalf("step %d: target %v below rung %d (%v)", i, got, st.Rung, cfg.Rungs[st.Rung].Bitrate)
			case st.Reason.String() == "" || st.Reason > ReasonProtect:
				t.Fatalf("step %d: Reason %d", i, st.Reason)
			}
			if cfg.Sharp && cfg.Smoother == nil && !congested && cfg.Headroom == 0 && cfg.BeyondFactor == 1 &&
				st.Reason != ReasonCongestion && st.Reason != ReasonProtect {
				if want := max(in.Estimate, 0).Clamp(cfg.Min, max(cfg.Min, c.hi)); got != want {
					t.Fatalf("step %d: sharp Update(%+v) = %v, want %v", i, in, got, want)
				}
			}
		}
		if sm, ok := cfg.Smoother.(*peakSmoother); ok && sm.back != 0 {
			t.Fatalf("the smoother saw %d times earlier than a previous one", sm.back)
		}
	})
}
