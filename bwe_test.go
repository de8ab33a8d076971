package bwe

import (
	"math"
	"testing"
	"time"
)

func TestTimeArithmetic(t *testing.T) {
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"Add truncates to µs", Time(10).Add(1500 * time.Nanosecond), Time(11)},
		{"Add negative", Time(10).Add(-3 * time.Microsecond), Time(7)},
		{"Add saturates high", MaxTime.Add(time.Second), MaxTime},
		{"Add saturates low", MinTime.Add(-time.Second), MinTime},
		{"Sub", Time(2_500_000).Sub(Time(500_000)), 2 * time.Second},
		{"Sub negative", Time(0).Sub(Time(1)), -time.Microsecond},
		{"Sub saturates", MaxTime.Sub(MinTime), time.Duration(math.MaxInt64)},
		{"Sub saturates low", MinTime.Sub(MaxTime), time.Duration(math.MinInt64)},
		{"Sub beyond Duration range", Time(math.MaxInt64 / 2).Sub(0), time.Duration(math.MaxInt64)},
		{"TimeFromDuration", TimeFromDuration(1500 * time.Millisecond), Time(1_500_000)},
		{"String", Time(12_345_678).String(), "12.345678s"},
		{"String negative", Time(-1_000_001).String(), "-1.000001s"},
		{"String small", Time(7).String(), "0.000007s"},
		{"Millis", Millis(1500 * time.Microsecond), 1.5},
		{"DurationFromMillis", DurationFromMillis(2.5), 2500 * time.Microsecond},
		{"DurationFromMillis NaN", DurationFromMillis(math.NaN()), time.Duration(0)},
		{"DurationFromMillis +Inf", DurationFromMillis(math.Inf(1)), time.Duration(math.MaxInt64)},
		{"SatAdd", SatAdd(Time(3), 4), Time(7)},
		{"SatAdd high", SatAdd(time.Duration(math.MaxInt64-1), 5), time.Duration(math.MaxInt64)},
		{"SatAdd low", SatAdd(int64(math.MinInt64+1), -5), int64(math.MinInt64)},
		{"SatSub", SatSub(ByteCount(3), 4), ByteCount(-1)},
		{"SatSub high", SatSub(int64(math.MaxInt64), -1), int64(math.MaxInt64)},
		{"SatSub low", SatSub(int64(0), math.MinInt64), int64(math.MaxInt64)},
		{"SatSub low wrap", SatSub(int64(-2), math.MaxInt64), int64(math.MinInt64)},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}

func TestBitrate(t *testing.T) {
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"Scale rounds half away", Bitrate(5).Scale(0.5), Bitrate(3)},
		{"Scale 0.85", (260 * Kbps).Scale(0.85), Bitrate(221_000)},
		{"Scale NaN", Mbps.Scale(math.NaN()), Bitrate(0)},
		{"Scale saturates", MaxBitrate.Scale(2), MaxBitrate},
		{"FromFloat truncates", BitrateFromFloat(999.9), Bitrate(999)},
		{"FromFloat negative truncates toward zero", BitrateFromFloat(-1.5), Bitrate(-1)},
		{"FromFloat +Inf", BitrateFromFloat(math.Inf(1)), MaxBitrate},
		{"FromFloat NaN", BitrateFromFloat(math.NaN()), Bitrate(0)},
		{"RateOf", RateOf(1200, 20*time.Millisecond), 480 * Kbps},
		{"RateOf truncates", RateOf(1, 3*time.Microsecond), Bitrate(2_666_666)},
		{"RateOf zero duration", RateOf(1200, 0), Bitrate(0)},
		{"RateOf huge size", RateOf(math.MaxInt64, time.Microsecond), MaxBitrate},
		{"Over", (480 * Kbps).Over(20 * time.Millisecond), ByteCount(1200)},
		{"Over rounds half up", Bitrate(90_000).Over(33_333 * time.Microsecond), ByteCount(375)},
		{"Over rounds down", Bitrate(1).Over(3 * time.Second), ByteCount(0)},
		{"Over huge", MaxBitrate.Over(time.Hour), ByteCount(math.MaxInt64)},
		{"Clamp", (7 * Mbps).Clamp(Kbps, 5*Mbps), 5 * Mbps},
		{"String Mbps", (1500 * Kbps).String(), "1.5 Mbps"},
		{"String kbps", (300 * Kbps).String(), "300 kbps"},
		{"String bps", Bitrate(800).String(), "800 bps"},
		{"Kilobits", (1500 * BitPerSecond).Kilobits(), 1.5},
		{"Bits", ByteCount(1200).Bits(), int64(9600)},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}

func TestUsageString(t *testing.T) {
	var zero Usage
	if zero != Normal {
		t.Fatalf("zero Usage = %v, want normal", zero)
	}
	for u, want := range map[Usage]string{Normal: "normal", Underusing: "underusing", Overusing: "overusing", 9: "usage(9)"} {
		if got := u.String(); got != want {
			t.Errorf("Usage(%d).String() = %q, want %q", u, got, want)
		}
	}
}

func TestSeqUnwrapper(t *testing.T) {
	steps := []struct {
		in   uint16
		want int64
	}{
		{65533, 65533},
		{65535, 65535},
		{0, 65536},             // forward wrap
		{65534, 65534},         // reordered across the wrap
		{2, 65538},             // forward again
		{32770, 65536 + 32770}, // exactly half way counts as forward
		{1, 65536*2 + 1},
	}
	var u SeqUnwrapper
	for i, s := range steps {
		if got := u.Unwrap(s.in); got != s.want {
			t.Fatalf("step %d: Unwrap(%d) = %d, want %d", i, s.in, got, s.want)
		}
	}
	u.Reset()
	if got := u.Unwrap(7); got != 7 {
		t.Fatalf("after Reset: Unwrap(7) = %d, want 7", got)
	}
}

// FuzzSeqUnwrapper checks the unwrapper's two invariants on arbitrary
// sequences: the result is congruent to the input modulo 2^16, and it lies
// within half the sequence space of the previous result.
func FuzzSeqUnwrapper(f *testing.F) {
	f.Add([]byte{0xff, 0xff, 0, 0, 0x80, 0, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		var u SeqUnwrapper
		var prev int64
		for i := 0; i+1 < len(data); i += 2 {
			s := uint16(data[i])<<8 | uint16(data[i+1])
			got := u.Unwrap(s)
			if uint16(got) != s {
				t.Fatalf("Unwrap(%d) = %d: not congruent mod 65536", s, got)
			}
			if i > 0 && (got-prev > 32768 || prev-got > 32767) {
				t.Fatalf("Unwrap(%d) = %d after %d: jump beyond half the space", s, got, prev)
			}
			prev = got
		}
	})
}
