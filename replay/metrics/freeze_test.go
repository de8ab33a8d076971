package metrics

import (
	"math"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// frames30 returns n frame instants 33 333 µs apart (30 fps), with extra
// time added before the frame at each index of gaps.
func frames30(n int, gaps map[int]time.Duration) []bwe.Time {
	out := make([]bwe.Time, n)
	var t bwe.Time
	for i := range out {
		if i > 0 {
			t = t.Add(33333 * time.Microsecond)
		}
		t = t.Add(gaps[i])
		out[i] = t
	}
	return out
}

func TestCountFreezes(t *testing.T) {
	const frame = 33333 * time.Microsecond
	for _, c := range []struct {
		name   string
		frames []bwe.Time
		want   Freezes
	}{
		// A 400 ms gap at 30 fps: the average of the last 30 intervals,
		// the gap included, is (29·33.333 + 400)/30 = 45.6 ms; the
		// threshold max(136.7, 195.6) = 195.6 ms; 400 ms is a freeze.
		{"400 ms gap", frames30(300, map[int]time.Duration{150: 400*time.Millisecond - frame}),
			Freezes{Count: 1, Total: 400 * time.Millisecond, Intervals: 299}},
		// 190 ms: average 38.56 ms, threshold 188.56 ms: a freeze.
		{"190 ms gap", frames30(300, map[int]time.Duration{150: 190*time.Millisecond - frame}),
			Freezes{Count: 1, Total: 190 * time.Millisecond, Intervals: 299}},
		// 185 ms: average 38.39 ms (the gap is in it), threshold 188.39 ms:
		// no freeze. An average without the gap (33.33 ms, threshold
		// 183.33 ms) would call it one; libwebrtc averages it in.
		{"185 ms gap", frames30(300, map[int]time.Duration{150: 185*time.Millisecond - frame}),
			Freezes{Intervals: 299}},
		// Two freezes.
		{"two gaps", frames30(300, map[int]time.Duration{100: 500*time.Millisecond - frame, 200: 300*time.Millisecond - frame}),
			Freezes{Count: 2, Total: 800 * time.Millisecond, Intervals: 299}},
		// A gap among the first 4 intervals: too early to judge.
		{"early gap", frames30(100, map[int]time.Duration{3: 500*time.Millisecond - frame}),
			Freezes{Intervals: 99}},
		// The 5th interval can be judged: average (4·33.333 + 500)/5.
		{"fifth interval", frames30(100, map[int]time.Duration{5: 500*time.Millisecond - frame}),
			Freezes{Count: 1, Total: 500 * time.Millisecond, Intervals: 99}},
		// A frame earlier than its predecessor is skipped.
		{"reordered", []bwe.Time{0, 33333, 66666, 50000, 99999, 133332, 166665, 199998},
			Freezes{Intervals: 6, Skipped: 1}},
		// At 5 fps the 3× term rules: 200 ms frames, a 700 ms gap:
		// average (29·200 + 700)/30 = 216.7 ms, threshold 650 ms.
		{"5 fps", func() []bwe.Time {
			f := make([]bwe.Time, 100)
			for i := range f {
				f[i] = bwe.Time(i) * 200000
				if i >= 50 {
					f[i] += 500000
				}
			}
			return f
		}(), Freezes{Count: 1, Total: 700 * time.Millisecond, Intervals: 99}},
		{"empty", nil, Freezes{}},
		{"one frame", []bwe.Time{5}, Freezes{}},
		{"extreme instants", []bwe.Time{math.MinInt64, 0, 1, 2, 3, 4, math.MaxInt64},
			Freezes{Count: 1, Total: time.Duration(math.MaxInt64), Intervals: 6}},
	} {
		if got := CountFreezes(c.frames); got != c.want {
			t.Errorf("%s: CountFreezes = %+v, want %+v", c.name, got, c.want)
		}
	}
}
