package lossbased

import (
	"strconv"
	"time"

	"github.com/bwelab/bwe"
)

// Input is one transport-feedback batch as a loss-based estimator sees it,
// with the signals the rest of the send side has derived from it.
type Input struct {
	// Time is when the feedback reached the sender (sender clock).
	Time bwe.Time
	// Packets is every packet the batch reports, received or lost, in any
	// order. The estimator reads it during Update only and keeps no
	// reference to it.
	Packets []bwe.PacketResult
	// DelayBased is the delay-based estimate in force. It caps the
	// loss-based estimate, as libwebrtc's delay_based_limit does. Zero means
	// "no delay-based estimate yet": no cap but the configured maximum.
	DelayBased bwe.Bitrate
	// Acked is the acknowledged throughput; zero means unknown.
	Acked bwe.Bitrate
	// InALR reports that the sender is application-limited: it sends less
	// than the estimate because it has nothing more to send.
	InALR bool
	// RTT is the current round-trip time; zero means unknown.
	RTT time.Duration
}

// Result is a loss-based estimator's answer to one [Input].
type Result struct {
	// Estimate is the loss-based estimate: already capped by
	// Input.DelayBased and always within the configured [min, max]
	// (see Estimator.SetLimits). It is never negative.
	Estimate bwe.Bitrate
	// State says whether, and in which direction, loss is limiting the
	// estimate.
	State State
	// Ready reports that the estimator has seen enough feedback to act on
	// loss. Before that its Estimate only follows the delay-based estimate
	// and the start rate.
	Ready bool
	// Loss is the loss fraction, in [0, 1], of the most recent loss
	// measurement the estimator acted on.
	Loss float64
}

// Estimator is the seam every loss-based estimator implements. The send
// side calls Update once per feedback batch; SetEstimate when something
// else (a start rate, a probe result, a feedback-timeout backoff) dictates
// the estimate; SetLimits when the configured bounds change.
//
// Implementations are deterministic, take time only from their arguments,
// allocate nothing in Update, and never return NaN, a negative rate or a
// rate outside [min, max]. They are not safe for concurrent use.
type Estimator interface {
	// Update absorbs one feedback batch and returns the new estimate.
	Update(in Input) Result
	// SetEstimate makes r (bounded by the limits) the current estimate, as
	// of time at.
	SetEstimate(at bwe.Time, r bwe.Bitrate)
	// SetLimits sets the bounds of the estimate. A zero max means the
	// estimator's default maximum; max below min is raised to min.
	SetLimits(min, max bwe.Bitrate)
	// Reset forgets everything learnt from feedback (a route change),
	// keeping configuration and limits.
	Reset()
}

// State is what loss is doing to the estimate: libwebrtc's
// LossBasedState, with the state that means "loss is not limiting" as the
// zero value.
type State uint8

const (
	// DelayBasedEstimate: loss is not limiting; the estimate is the
	// delay-based one (libwebrtc kDelayBasedEstimate).
	DelayBasedEstimate State = iota
	// Increasing: loss limits the estimate, which is recovering
	// (libwebrtc kIncreasing).
	Increasing
	// IncreaseUsingPadding: as Increasing, and the sender should pad up to
	// the estimate to test it (libwebrtc kIncreaseUsingPadding).
	IncreaseUsingPadding
	// Decreasing: loss limits the estimate, which is falling or held
	// after a fall (libwebrtc kDecreasing).
	Decreasing
)

// String returns "delay-based", "increasing", "increase-using-padding" or
// "decreasing".
func (s State) String() string {
	switch s {
	case DelayBasedEstimate:
		return "delay-based"
	case Increasing:
		return "increasing"
	case IncreaseUsingPadding:
		return "increase-using-padding"
	case Decreasing:
		return "decreasing"
	}
	return "state(" + strconv.Itoa(int(s)) + ")"
}

// LossLimited reports whether loss, rather than delay, sets the estimate.
func (s State) LossLimited() bool { return s != DelayBasedEstimate }
