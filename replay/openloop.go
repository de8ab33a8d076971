package replay

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/delaybased"
	"github.com/bwelab/bwe/sendside"
	"github.com/bwelab/bwe/traces"
)

// ReplayResult is the outcome of an open-loop [Replay].
type ReplayResult struct {
	// Estimator is the configuration replayed, Header the trace's header.
	Estimator Estimator             `json:"estimator"`
	Header    traces.FeedbackHeader `json:"header"`
	// Batches counts the feedback batches, Packets the packet results in
	// them and Lost those reported lost.
	Batches int `json:"batches"`
	Packets int `json:"packets"`
	Lost    int `json:"lost"`
	// Series holds one sample per feedback batch.
	Series []ReplaySample `json:"-"`
	// MeanTarget is the mean of the targets after each batch, and
	// MinTarget and MaxTarget their extremes.
	MeanTarget bwe.Bitrate `json:"mean_target_bps"`
	MinTarget  bwe.Bitrate `json:"min_target_bps"`
	MaxTarget  bwe.Bitrate `json:"max_target_bps"`
	// Estimator statistics.
	Stats sendside.Stats   `json:"estimator_stats"`
	Delay delaybased.Stats `json:"delay_stats"`
}

// ReplaySample is the estimator's state after one feedback batch.
type ReplaySample struct {
	// At is the batch's time (the sender's clock of the trace).
	At bwe.Time
	// Packets and Lost count the batch's packet results.
	Packets, Lost int
	// Target and what set it; the delay-based and loss-based estimates
	// behind it; the acknowledged rate, if known.
	Target                bwe.Bitrate
	Limit                 sendside.Limit
	DelayBased, LossBased bwe.Bitrate
	Acked                 bwe.Bitrate
	// RTT is the estimator's round-trip time, Usage the detector's verdict.
	RTT   time.Duration
	Usage bwe.Usage
}

// replayProcessInterval is how often, in the trace's time, an open-loop
// replay runs the estimator's timers between batches: as often as the
// emulator does by default.
const replayProcessInterval = traces.DefaultProcessInterval

// Replay feeds a recorded feedback trace, batch by batch, to a send-side
// estimator built from est (open loop: the estimator's target changes
// nothing in the trace), and returns its estimate after every batch.
// Between batches it runs the estimator's timers at every multiple of
// 25 ms of trace time, as the emulator does (the emulator's clock starts
// at 0, so a trace it recorded replays exactly as it ran). It reads the trace as a stream; the series
// grows by one sample per batch.
//
// Replay returns the reader's error, naming the file and line, if the
// trace is malformed, and an error if est is invalid. A batch whose time
// is earlier than the previous one's is passed on as it is: the estimator
// copes with clock jumps.
func Replay(r *traces.FeedbackReader, est Estimator) (*ReplayResult, error) {
	est, err := est.WithDefaults()
	if err != nil {
		return nil, err
	}
	cfg, err := est.Config()
	if err != nil {
		return nil, err
	}
	res := &ReplayResult{Estimator: est, Header: r.Header()}
	var e *sendside.Estimator
	var nextProcess bwe.Time
	var sum float64
	for {
		fb, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if e == nil {
			// The estimator's clock starts with the first batch's time.
			if e, err = sendside.New(cfg); err != nil {
				return nil, fmt.Errorf("replay: estimator %q: %w", est.Name, err)
			}
			nextProcess = processGrid(fb.Time)
		}
		for nextProcess < fb.Time && nextProcess < bwe.MaxTime {
			e.Process(nextProcess)
			nextProcess = nextProcess.Add(replayProcessInterval)
		}
		out := e.Update(fb)
		lost := 0
		for _, p := range fb.Packets {
			if !p.Received {
				lost++
			}
		}
		res.Batches++
		res.Packets += len(fb.Packets)
		res.Lost += lost
		s := ReplaySample{
			At:         fb.Time,
			Packets:    len(fb.Packets),
			Lost:       lost,
			Target:     out.Target,
			Limit:      out.Limit,
			DelayBased: out.Delay.Target,
			LossBased:  out.Loss.Estimate,
			RTT:        out.RTT,
			Usage:      out.Delay.Detection.Usage,
		}
		if out.Delay.AckedValid {
			s.Acked = out.Delay.Acked
		}
		res.Series = append(res.Series, s)
		sum += out.Target.Float()
		if res.Batches == 1 || out.Target < res.MinTarget {
			res.MinTarget = out.Target
		}
		res.MaxTarget = max(res.MaxTarget, out.Target)
	}
	if e != nil {
		res.Stats, res.Delay = e.Stats(), e.DelayStats()
		res.MeanTarget = bwe.BitrateFromFloat(sum / float64(res.Batches))
	}
	return res, nil
}

// RunRecord runs s like [Run] and writes the feedback that reached the
// first media flow's sender, batch by batch as the estimator saw it, to w
// (which it flushes at the end). Replaying that trace open loop with the
// same estimator gives the same targets after each batch as the closed
// loop, up to the estimator's timers, which the replay runs on a 25 ms
// grid of its own.
func RunRecord(s traces.Scenario, est Estimator, w *traces.FeedbackWriter) (*Result, error) {
	e, err := newEmulation(s, est)
	if err != nil {
		return nil, err
	}
	e.record = w
	if err := e.run(); err != nil {
		return nil, err
	}
	if e.recordErr != nil {
		return nil, fmt.Errorf("replay: scenario %q: recording feedback: %w", e.s.Name, e.recordErr)
	}
	if err := w.Flush(); err != nil {
		return nil, fmt.Errorf("replay: scenario %q: recording feedback: %w", e.s.Name, err)
	}
	return e.finish(), nil
}

// processGrid returns the first multiple of the process interval at or
// after t.
func processGrid(t bwe.Time) bwe.Time {
	iv := bwe.Time(replayProcessInterval / time.Microsecond)
	q := t / iv
	if t > 0 && t%iv != 0 && q < bwe.MaxTime/iv {
		q++
	}
	return q * iv
}
