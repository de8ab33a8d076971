package metrics

import (
	"time"

	"github.com/bwelab/bwe"
)

// Freeze detection constants, after W3C webrtc-stats (freezeCount) and its
// implementation in libwebrtc.
const (
	// FreezeWindow is the number of latest inter-frame intervals averaged:
	// webrtc-stats freezeCount, "linear average of durations of last 30
	// rendered frames"; libwebrtc video_quality_observer2.cc:
	// kAvgInterframeDelaysWindowSizeFrames = 30.
	FreezeWindow = 30
	// FreezeMinIntervals is the number of intervals the average must hold
	// before a freeze can be detected: libwebrtc
	// video_quality_observer2.cc: kMinFrameSamplesToDetectFreeze = 5.
	FreezeMinIntervals = 5
	// FreezeMinIncrease is the least excess over the average interval that
	// is a freeze: webrtc-stats freezeCount "avg_frame_duration_ms + 150";
	// libwebrtc video_quality_observer2.cc: kMinIncreaseForFreezeMs = 150.
	FreezeMinIncrease = 150 * time.Millisecond
)

// Freezes counts video freezes.
type Freezes struct {
	// Count is the number of freezes (webrtc-stats freezeCount).
	Count int
	// Total is the summed duration of the frozen intervals
	// (webrtc-stats totalFreezesDuration).
	Total time.Duration
	// Intervals is the number of inter-frame intervals examined, and
	// Skipped the number of frames skipped because they were earlier than
	// the frame before them.
	Intervals, Skipped int
}

// CountFreezes detects freezes in a list of frame render (or arrival)
// instants, as W3C webrtc-stats defines freezeCount and
// totalFreezesDuration: an inter-frame interval d (the time between two
// consecutively rendered frames) is a freeze when
//
//	d ≥ max(3·avg, avg + 150 ms)
//
// where avg is the linear average of the durations of the last 30 frames.
// Where the W3C text is silent, CountFreezes follows libwebrtc
// (video_quality_observer2.cc, OnRenderedFrame): the average covers the
// last 30 intervals including d itself, it is rounded down (to the
// nanosecond here, to the millisecond there), and no freeze is detected
// until 5 intervals have been averaged. The duration of a freeze is its
// whole interval d.
//
// frames should be non-decreasing; a frame earlier than the frame kept
// before it is skipped (counted in Skipped). Sums saturate. CountFreezes
// does not allocate.
func CountFreezes(frames []bwe.Time) Freezes {
	var f Freezes
	if len(frames) == 0 {
		return f
	}
	var ring [FreezeWindow]time.Duration
	n, head := 0, 0
	prev := frames[0]
	for _, t := range frames[1:] {
		if t < prev {
			f.Skipped++
			continue
		}
		d := t.Sub(prev)
		prev = t
		f.Intervals++
		ring[head] = d
		head = (head + 1) % FreezeWindow
		n = min(n+1, FreezeWindow)
		if n < FreezeMinIntervals {
			continue
		}
		var sum time.Duration
		for _, v := range ring[:n] {
			sum = bwe.SatAdd(sum, v)
		}
		avg := sum / time.Duration(n)
		threshold := max(bwe.SatAdd(bwe.SatAdd(avg, avg), avg), bwe.SatAdd(avg, FreezeMinIncrease))
		if d >= threshold {
			f.Count++
			f.Total = bwe.SatAdd(f.Total, d)
		}
	}
	return f
}
