package bwe

import "time"

// Oscillation is an oscillation detector's view of a series: whether it
// swings periodically, with which period and amplitude, and how sure the
// detector is.
type Oscillation struct {
	// Detected reports a periodic oscillation: Strength has reached the
	// detector's threshold and the period lies within its range.
	Detected bool
	// Period is the estimated period of the oscillation, or 0 when the
	// detector has no candidate.
	Period time.Duration
	// Amplitude is half the peak-to-peak swing of the periodic component
	// (for a sine a·sin(ωt), a), in the unit of the series.
	Amplitude Bitrate
	// Mean is the level the series oscillates around over the detector's
	// window.
	Mean Bitrate
	// Strength is the detector's confidence in [0, 1] that the series is
	// periodic with this period: the normalised autocorrelation, the share
	// of spectral power, or the regularity of peak intervals, by detector.
	Strength float64
}

// OscillationDetector watches a series of rates sampled at irregular
// instants (estimates arrive per feedback) and reports periodic
// oscillation in it. Implementations live in package oscillation.
//
// Add must be called with non-decreasing times; a sample older than the
// last one is ignored. Implementations are deterministic, not safe for
// concurrent use, and allocate nothing in Add.
type OscillationDetector interface {
	// Add consumes the value of the series at the instant at and returns
	// the detector's current view.
	Add(at Time, value Bitrate) Oscillation
	// Reset forgets every sample.
	Reset()
}

// Signals are the congestion signals that come with an estimate: what a
// smoother or a rate controller consults to tell a real congestion from a
// swing of the estimate that nothing else corroborates.
type Signals struct {
	// Usage is the delay detector's verdict.
	Usage Usage
	// Loss is the loss fraction in [0, 1] the estimator last acted on.
	Loss float64
	// RTT is the round-trip time in use, or 0 when unknown.
	RTT time.Duration
	// Congested reports that the estimator itself holds the congestion
	// for real (for example a loss-based decrease in force); a smoother
	// must then follow the estimate down at once.
	Congested bool
	// Oscillation is the state of an oscillation detector run on the
	// estimate, if the caller runs one; the zero value says nothing is
	// known.
	Oscillation Oscillation
	// LossRisk is a network-state predictor's probability, in [0, 1],
	// that the next seconds are lossy, if the caller runs one and it has
	// seen enough; 0 otherwise.
	LossRisk float64
}

// Smoother turns a raw estimate into the rate a consumer should act on.
// Implementations live in package smoothing.
//
// Smooth must be called with non-decreasing times. Its result is never
// negative and, unless the smoother documents otherwise, never above the
// largest estimate it has been given. Implementations are deterministic,
// not safe for concurrent use, and allocate nothing in Smooth.
type Smoother interface {
	// Smooth consumes the estimate at the instant at, with its signals,
	// and returns the smoothed rate.
	Smooth(at Time, estimate Bitrate, s Signals) Bitrate
	// Reset forgets the history, as at the start of a stream.
	Reset()
}

// RateInput is what an encoder rate controller sees at each update.
type RateInput struct {
	// Time is the instant of the update.
	Time Time
	// Estimate is the send-side estimate: what the network allows.
	Estimate Bitrate
	// Signals are the congestion signals behind Estimate, the state of
	// an oscillation detector run on it included.
	Signals Signals
}

// RateController chooses the encoder's target from the estimate. It is
// decoupled from the estimate: it need not follow every swing, but it
// must follow a real congestion down at once. Implementations live in
// package ratecontrol.
//
// Update must be called with non-decreasing times. Implementations are
// deterministic, not safe for concurrent use, and allocate nothing in
// Update.
type RateController interface {
	// Update consumes one input and returns the encoder target.
	Update(in RateInput) Bitrate
	// Reset forgets the history, as at the start of a stream.
	Reset()
}
