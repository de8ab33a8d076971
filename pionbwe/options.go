package pionbwe

import (
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/lossbased"
	"github.com/bwelab/bwe/probe"
	"github.com/bwelab/bwe/sendside"
)

// Option configures an [Estimator] made by [New]. Options apply in order;
// an option given an impossible value makes New fail with an error naming
// the option.
type Option func(*Estimator) error

// Defaults of the adapter's own settings.
const (
	// DefaultProcessInterval is how often the estimator's timers run: the
	// grid of open-loop replays (replay.Replay runs them every 25 ms of
	// trace time; traces.DefaultProcessInterval).
	DefaultProcessInterval = 25 * time.Millisecond
	// DefaultSendHistory is how long a sent packet is remembered for
	// matching feedback. Feedback comes every 50–250 ms (libwebrtc
	// remote_estimator_proxy.cc sends at most every 250 ms); a report
	// later than 2 s finds an estimator that has already backed off for
	// missing feedback (sendside FeedbackTimeout, 1 s). libwebrtc keeps
	// 60 s (transport_feedback_adapter.cc kSendTimeHistoryWindow): 60
	// times the memory for reports nothing uses.
	DefaultSendHistory = 2 * time.Second
	// DefaultMaxBitrate is the default upper bound of the target,
	// 1 Gbps (sendside.DefaultConfig, libwebrtc
	// send_side_bandwidth_estimation.cc kDefaultMaxBitrate).
	DefaultMaxBitrate = int(bwe.Gbps)
	// PaceMultiplier is the default pacing rate's factor over
	// max(target, encoder target): libwebrtc pacing_controller.h
	// kDefaultPaceMultiplier = 2.5.
	PaceMultiplier = 2.5
	// MaxQueueDelay is the default of how long a packet may wait in the
	// pacer: when the
	// queue would take longer to drain, the pacing rate is raised so that
	// it drains in time (libwebrtc pacing_controller.h
	// kMaxExpectedQueueLength = 2 s).
	MaxQueueDelay = 2 * time.Second
)

// WithStartBitrate sets the target before any feedback, in bits per
// second. Default 300 kbps (sendside.DefaultConfig).
func WithStartBitrate(bps int) Option {
	return func(e *Estimator) error {
		if bps <= 0 {
			return fmt.Errorf("pionbwe: WithStartBitrate(%d): not positive", bps)
		}
		e.cfg.Start = bwe.Bitrate(bps)
		return nil
	}
}

// WithMinBitrate sets the lower bound of the target, in bits per second.
// Default 5 kbps (sendside.DefaultConfig).
func WithMinBitrate(bps int) Option {
	return func(e *Estimator) error {
		if bps <= 0 {
			return fmt.Errorf("pionbwe: WithMinBitrate(%d): not positive", bps)
		}
		e.cfg.Min = bwe.Bitrate(bps)
		return nil
	}
}

// WithMaxBitrate sets the upper bound of the target, in bits per second.
// Default [DefaultMaxBitrate], 1 Gbps.
func WithMaxBitrate(bps int) Option {
	return func(e *Estimator) error {
		if bps <= 0 {
			return fmt.Errorf("pionbwe: WithMaxBitrate(%d): not positive", bps)
		}
		e.cfg.Max = bwe.Bitrate(bps)
		return nil
	}
}

// WithConfig replaces the whole estimator configuration built so far
// (give it first; later options edit it). The parts it holds (detector,
// loss estimator, oscillation detector, rate controller) become the
// estimator's own: build fresh ones for every estimator, inside the
// factory given to cc.NewInterceptor, never share them between peer
// connections.
func WithConfig(cfg sendside.Config) Option {
	return func(e *Estimator) error {
		e.cfg = cfg
		return nil
	}
}

// WithDelayDetector sets the delay-gradient detector (package trendline).
// Default libwebrtc's trendline. The detector must not be shared.
func WithDelayDetector(d bwe.DelayDetector) Option {
	return func(e *Estimator) error {
		if d == nil {
			return errors.New("pionbwe: WithDelayDetector(nil)")
		}
		e.cfg.Delay.Detector = d
		return nil
	}
}

// WithLossEstimator sets the loss-based estimator (package lossbased).
// Default lossbased.Likelihood. It must not be shared.
func WithLossEstimator(l lossbased.Estimator) Option {
	return func(e *Estimator) error {
		if l == nil {
			return errors.New("pionbwe: WithLossEstimator(nil)")
		}
		e.cfg.Loss = l
		return nil
	}
}

// WithOscillationDetector sets a detector of periodic oscillation run on
// the target (package oscillation); its state reaches the rate
// controller. Default none. It must not be shared.
func WithOscillationDetector(d bwe.OscillationDetector) Option {
	return func(e *Estimator) error {
		if d == nil {
			return errors.New("pionbwe: WithOscillationDetector(nil)")
		}
		e.cfg.Oscillation = d
		return nil
	}
}

// WithRateController sets the encoder's rate controller (package
// ratecontrol): [Estimator.EncoderBitrate] and the callbacks of
// [Estimator.OnEncoderBitrateChange] then follow it instead of the
// target. Default none. It must not be shared.
func WithRateController(rc bwe.RateController) Option {
	return func(e *Estimator) error {
		if rc == nil {
			return errors.New("pionbwe: WithRateController(nil)")
		}
		e.cfg.Rate = rc
		return nil
	}
}

// WithSmoother gives the encoder a rate controller (package ratecontrol,
// its defaults) that follows the smoothed estimate (package smoothing, or
// any bwe.Smoother): [Estimator.EncoderBitrate] then follows it instead
// of the target. To tune the rest of the controller, build it with the
// smoother in its ratecontrol.Config and pass it to [WithRateController]
// instead; giving both options is an error. The smoother must not be
// shared.
func WithSmoother(s bwe.Smoother) Option {
	return func(e *Estimator) error {
		if s == nil {
			return errors.New("pionbwe: WithSmoother(nil)")
		}
		e.smoother = s
		return nil
	}
}

// WithPacketOverhead sets the bytes each packet costs on the path beyond
// its RTP header and payload: the SRTP authentication tag (10 bytes for
// AES_CM_128_HMAC_SHA1_80, 16 for the AEAD_AES_GCM profiles pion prefers),
// UDP and IP (8 + 20 for IPv4, 8 + 40 for IPv6), and whatever framing the
// bottleneck counts (a Linux tbf on an Ethernet device counts its 14-byte
// header). It is added to every packet's size in the send history, so
// that the estimator measures the path in the bytes its bottleneck counts,
// as libwebrtc does (transport_feedback_adapter.cc AddPacket: a packet's
// size is its length plus the transport overhead). The target is then a
// rate of such bytes, and [Estimator.EncoderBitrate] the media's share of
// it, at the mean size of the media packets sent.
//
// Without it (the default, 0, as pion's gcc counts) the estimator counts
// RTP bytes only. The difference is small for full media packets (44
// bytes are 4 % of 1200) but not for the 224-byte padding of probe
// clusters (17 %): a probe that saturates a link measures the link's rate
// less the overhead of its small packets, and the start-up target comes
// out that much low. bytes must be in [0, 1000].
func WithPacketOverhead(bytes int) Option {
	return func(e *Estimator) error {
		if bytes < 0 || bytes > 1000 {
			return fmt.Errorf("pionbwe: WithPacketOverhead(%d): not in [0, 1000]", bytes)
		}
		e.overhead = bwe.ByteCount(bytes)
		return nil
	}
}

// WithProbeEstimator sets how probe clusters are turned into rates
// (package probe). Default probe.DefaultConfig(), libwebrtc's
// measurement. probe.Config.QueuedRate suits paths shaped by a token
// bucket, whose burst otherwise inflates the start-up probes (see package
// probe). The configuration is checked by New.
func WithProbeEstimator(cfg probe.Config) Option {
	return func(e *Estimator) error {
		e.cfg.ProbeEstimator = cfg
		return nil
	}
}

// WithClock sets the clock the estimator reads, for tests. Default
// time.Now. The clock should not go backwards; readings earlier than a
// previous one are taken as that one.
func WithClock(now func() time.Time) Option {
	return func(e *Estimator) error {
		if now == nil {
			return errors.New("pionbwe: WithClock(nil)")
		}
		e.now = now
		return nil
	}
}

// WithProcessInterval sets the grid of the estimator's timers. Default
// [DefaultProcessInterval], 25 ms: the grid of replay.Replay, which
// recorded traces replay exactly only with.
func WithProcessInterval(d time.Duration) Option {
	return func(e *Estimator) error {
		if d < time.Millisecond {
			return fmt.Errorf("pionbwe: WithProcessInterval(%v): below 1 ms", d)
		}
		e.interval = d
		return nil
	}
}

// WithSendHistory sets how long sent packets are remembered for matching
// feedback; feedback about older packets is skipped and counted in
// [Stats].Old. The history is kept by time, whatever the packet rate.
// Default [DefaultSendHistory], 2 s.
func WithSendHistory(d time.Duration) Option {
	return func(e *Estimator) error {
		if d < 100*time.Millisecond || d > time.Minute {
			return fmt.Errorf("pionbwe: WithSendHistory(%v): not in [100ms, 1m]", d)
		}
		e.window = d
		return nil
	}
}

// WithPacer turns the pacer on or off. Default on: packets written to the
// streams are queued and sent at [PaceMultiplier] × max(target, encoder
// target), and probe clusters are sent. Off: packets go out at once and
// probe clusters are not executed.
func WithPacer(enabled bool) Option {
	return func(e *Estimator) error {
		e.pacing = enabled
		return nil
	}
}

// WithPacing sets the pacer's rate, as a multiple of max(target, encoder
// target), and how long a packet may wait in its queue before the rate is
// raised to drain it in time. Default [PaceMultiplier] (2.5) and
// [MaxQueueDelay] (2 s), libwebrtc's for video. mult must be finite and
// at least 1, maxDelay positive.
//
// A multiplier near 1 keeps a keyframe's burst in the sender's queue
// instead of the bottleneck's. Paced at 2.5 × the target, a keyframe
// four times a delta frame reaches a link near capacity faster than the
// link drains it, and the queue it builds there is read by the
// delay-based detector as overuse once per keyframe interval. The frame
// takes as long to cross either way (the bottleneck is no faster for it
// waiting there), but in the pacer it sends no congestion signal. The
// live-push configuration of docs/pion.md paces at 1.1, libwebrtc's
// strict pacing (video/video_send_stream_impl.cc: kStrictPacingMultiplier
// = 1.1); libwebrtc paces screen sharing at 1.0
// (rtc_base/experiments/alr_experiment.cc, the screenshare probing
// settings: pacing factor 1.0, max paced queue time 2875 ms).
func WithPacing(mult float64, maxDelay time.Duration) Option {
	return func(e *Estimator) error {
		if !(mult >= 1) || math.IsInf(mult, 1) {
			return fmt.Errorf("pionbwe: WithPacing(%v, %v): the multiplier must be finite and at least 1", mult, maxDelay)
		}
		if maxDelay <= 0 {
			return fmt.Errorf("pionbwe: WithPacing(%v, %v): the queue delay must be positive", mult, maxDelay)
		}
		e.paceMult, e.maxQueue = mult, maxDelay
		return nil
	}
}

// WithRecorder writes the session's feedback trace to w (the format of
// package traces): a header, then every batch exactly as the estimator
// was given it. Replaying it with replay.Replay and the same
// configuration gives the same targets after every batch. The output is
// buffered and flushed by Close; a write error stops the recording and
// is returned by Close.
func WithRecorder(w io.Writer) Option {
	return func(e *Estimator) error {
		if w == nil {
			return errors.New("pionbwe: WithRecorder(nil)")
		}
		e.recTo = w
		return nil
	}
}

// WithObserver calls f with every result of the estimator (after each
// feedback batch and each timer run), in order, while the estimator's
// lock is held: for logging and tests. f must return quickly and must not
// call the Estimator. The result's Probes slice is nil; the result is a
// copy f may keep.
func WithObserver(f func(sendside.Result)) Option {
	return func(e *Estimator) error {
		if f == nil {
			return errors.New("pionbwe: WithObserver(nil)")
		}
		e.observe = f
		return nil
	}
}
