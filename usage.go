package bwe

import "strconv"

// Usage is a delay detector's verdict on the bottleneck queue: the
// "hypothesis" of draft-ietf-rmcat-gcc-02 §3.2 and libwebrtc's
// BandwidthUsage. The zero value is Normal.
type Usage uint8

const (
	// Normal: queuing delay is neither growing nor draining.
	Normal Usage = iota
	// Underusing: the queue is draining; the sender may hold its rate so
	// that the queue empties before it increases again.
	Underusing
	// Overusing: the queue is growing; the sender should back off.
	Overusing
)

// String returns "normal", "underusing" or "overusing".
func (u Usage) String() string {
	switch u {
	case Normal:
		return "normal"
	case Underusing:
		return "underusing"
	case Overusing:
		return "overusing"
	}
	return "usage(" + strconv.Itoa(int(u)) + ")"
}
