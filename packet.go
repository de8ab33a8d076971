package bwe

import "time"

// PacketResult is what transport feedback says about one sent packet.
//
// SendTime is on the sender's clock and Arrival on the receiver's clock; the
// two cannot be compared directly (see the package doc). Arrival is
// meaningful only when Received is true: a packet reported lost, or not yet
// reported, has Received false. The zero value is a lost packet of size 0
// with sequence number 0.
type PacketResult struct {
	// Seq is the transport-wide sequence number, unwrapped to 64 bits
	// (see [SeqUnwrapper]).
	Seq int64
	// SendTime is when the packet left the sender (sender clock).
	SendTime Time
	// Arrival is when the packet reached the receiver (receiver clock).
	Arrival Time
	// Size is the packet's size on the wire as the sender accounts it.
	Size ByteCount
	// Received reports whether the feedback acknowledged the packet.
	Received bool
	// ProbeCluster identifies the probe cluster the packet was sent in;
	// 0 means the packet is not a probe. Cluster ids start at 1.
	ProbeCluster int32
}

// Feedback is one batch of transport feedback, as it reached the sender.
type Feedback struct {
	// Time is when the feedback reached the sender (sender clock).
	Time Time
	// Packets holds the results the batch reported, usually in sequence
	// order. Estimators read it during the call and keep no reference.
	Packets []PacketResult
}

// GroupDelta is the change between two consecutive arrival groups, the unit
// of input of a delay-gradient detector (libwebrtc InterArrivalDelta output;
// draft-ietf-rmcat-gcc-02 §5.1). An arrival group is a run of packets sent
// within a short interval (5 ms by default); the group's times are those of
// its last packet.
type GroupDelta struct {
	// SendDelta is the difference of the two groups' send times (sender
	// clock).
	SendDelta time.Duration
	// ArrivalDelta is the difference of the two groups' arrival times
	// (receiver clock). ArrivalDelta−SendDelta is the one-way delay
	// variation the detectors track.
	ArrivalDelta time.Duration
	// SizeDelta is the difference of the groups' sizes.
	SizeDelta ByteCount
	// Arrival is the arrival time (receiver clock) of the packet that
	// closed the previous group by opening a new one. Detectors use it as
	// their time axis.
	Arrival Time
	// SendTime is the send time (sender clock) of that same packet.
	SendTime Time
}

// Detection is a delay detector's output for one group delta: its usage
// verdict and, for plots and tests, the numbers behind it.
type Detection struct {
	// Usage is the detector's current verdict.
	Usage Usage
	// Trend is the detector's raw delay-gradient estimate: for the
	// trendline the regression slope (ms of delay per ms of time, unitless),
	// for the Kalman filter the estimated queuing-delay offset in ms.
	Trend float64
	// Modified is the statistic compared with Threshold, in ms: the trend
	// scaled by the number of deltas seen (and by the threshold gain).
	Modified float64
	// Threshold is the adaptive threshold in ms.
	Threshold float64
}

// DelayDetector turns group deltas into a usage verdict. Implementations
// live in package trendline; the delay-based estimator consumes them.
// Implementations are not safe for concurrent use and must not allocate in
// Update.
type DelayDetector interface {
	// Update consumes one group delta and returns the current detection.
	Update(d GroupDelta) Detection
	// Reset returns the detector to its initial state, as after a stream
	// timeout.
	Reset()
}
