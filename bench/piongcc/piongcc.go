// Package piongcc runs pion/interceptor's send-side bandwidth estimator
// (gcc.NewSendSideBWE, pion/interceptor v0.1.51) in this module's
// emulator, so that it is judged on the same scenarios, source, pacer,
// links and metrics as the estimators of this module.
//
// pion's estimator reads the wall clock: when a packet leaves, when
// feedback arrives, and inside its detectors. A [Flow] therefore runs only
// inside a testing/synctest bubble (see internal/bubble), where it sleeps
// until each emulator event's virtual instant before it hands the event
// over, so that every packet has its own departure time and every
// feedback its own arrival time, exactly as the emulator scheduled them.
// pion's delay controller processes feedback on goroutines of its own; a
// Flow waits for them (synctest.Wait) before it reads the estimate.
//
// The estimator is used unmodified, as a pusher would use it: its
// feedback adapter takes the RTP packets with their transport-wide
// sequence numbers (header extension 1) and TWCC reports built by pion's
// own receiver-side recorder (pion/interceptor/pkg/twcc) from the
// emulator's arrivals. It runs with pion's no-op pacer: the emulator's
// pacer sends at 2.5 × the estimate, as for every other estimator. pion's
// estimator does not probe, so the emulator's pacer has no probe clusters
// to execute.
package piongcc

import (
	"errors"
	"fmt"
	"testing/synctest"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/replay"
	"github.com/bwelab/bwe/sendside"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtp"
)

// Name is the estimator's name in tables.
const Name = "pion-gcc"

// Identifiers of the emulated stream.
const (
	mediaSSRC  = 0x6d656469 // "medi"
	senderSSRC = 0x72656376 // "recv"
	extID      = 1          // transport-wide sequence number extension
)

// transportCCURI names the transport-wide sequence number extension.
const transportCCURI = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"

// bubbleEpoch is where the clock of every synctest bubble starts.
var bubbleEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Estimator returns the emulator's estimator specification for pion's
// gcc: runs built from it must run inside synctest bubbles.
func Estimator() replay.Estimator {
	return replay.Estimator{Name: Name, New: New}
}

// Flow is pion's estimator driving one emulated media flow. It implements
// replay.FlowEstimator.
type Flow struct {
	est    *gcc.SendSideBWE
	writer interceptor.RTPWriter
	rec    *twcc.Recorder
	origin time.Time
	now    bwe.Time

	hdr     rtp.Header
	ext     []byte
	payload []byte
	attrs   interceptor.Attributes

	res    sendside.Result
	closed bool
}

// New returns pion's estimator for one flow, starting at cfg.Start and
// bounded by cfg.Min and cfg.Max where they are set (pion's own defaults
// otherwise: 10 kbps start, 5 kbps to 50 Mbps). The other fields of cfg
// name parts of this module's estimator and are ignored.
//
// It must be called inside a synctest bubble, before the bubble's clock
// has moved: the emulation's time 0 is the bubble's start.
func New(cfg sendside.Config) (replay.FlowEstimator, error) {
	now := time.Now()
	if !now.Equal(bubbleEpoch) {
		return nil, fmt.Errorf("piongcc: the clock reads %v: pion's gcc must run in a new synctest bubble (internal/bubble), where the emulator's virtual time can drive it", now.UTC())
	}
	var opts []gcc.Option
	if cfg.Start > 0 {
		opts = append(opts, gcc.SendSideBWEInitialBitrate(clampInt(cfg.Start)))
	}
	if cfg.Min > 0 {
		opts = append(opts, gcc.SendSideBWEMinBitrate(clampInt(cfg.Min)))
	}
	if cfg.Max > 0 {
		opts = append(opts, gcc.SendSideBWEMaxBitrate(clampInt(cfg.Max)))
	}
	opts = append(opts, gcc.SendSideBWEPacer(gcc.NewNoOpPacer()))
	est, err := gcc.NewSendSideBWE(opts...)
	if err != nil {
		return nil, fmt.Errorf("piongcc: %w", err)
	}
	f := &Flow{
		est:     est,
		rec:     twcc.NewRecorder(senderSSRC),
		origin:  now,
		payload: make([]byte, 0, 1500),
		attrs:   interceptor.Attributes{},
	}
	f.writer = est.AddStream(&interceptor.StreamInfo{
		SSRC:                mediaSSRC,
		ClockRate:           90000,
		RTPHeaderExtensions: []interceptor.RTPHeaderExtension{{URI: transportCCURI, ID: extID}},
	}, interceptor.RTPWriterFunc(func(*rtp.Header, []byte, interceptor.Attributes) (int, error) { return 0, nil }))
	f.hdr = rtp.Header{Version: 2, PayloadType: 96, SSRC: mediaSSRC}
	f.res = sendside.Result{Target: bwe.Bitrate(est.GetTargetBitrate()), Limit: sendside.LimitStart}
	f.res.Encoder = f.res.Target
	return f, nil
}

// clampInt converts a rate to pion's int bits per second.
func clampInt(r bwe.Bitrate) int {
	return int(min(r, bwe.Bitrate(1<<31-1)))
}

// advance sleeps until the emulator's instant t.
func (f *Flow) advance(t bwe.Time) {
	if t <= f.now {
		return
	}
	f.now = t
	if d := time.Until(f.origin.Add(time.Duration(t) * time.Microsecond)); d > 0 {
		time.Sleep(d)
	}
}

// Target is the estimate before any feedback.
func (f *Flow) Target() bwe.Bitrate { return f.res.Target }

// OnSent hands pion the RTP packet p describes, at its send time.
func (f *Flow) OnSent(p bwe.PacketResult) {
	if f.closed {
		return
	}
	f.advance(p.SendTime)
	seq := uint16(p.Seq)
	f.hdr.SequenceNumber = seq
	f.hdr.Timestamp = uint32(p.SendTime * 9 / 100) // 90 kHz
	f.ext = append(f.ext[:0], byte(seq>>8), byte(seq))
	f.hdr.Extensions = f.hdr.Extensions[:0]
	f.hdr.Extension = false
	if err := f.hdr.SetExtension(extID, f.ext); err != nil {
		return // a two-byte extension always fits
	}
	n := max(int(p.Size)-f.hdr.MarshalSize(), 0)
	if cap(f.payload) < n {
		f.payload = make([]byte, n)
	}
	f.writer.Write(&f.hdr, f.payload[:n], f.attrs)
}

// Update hands pion a TWCC report of the batch at its arrival time, waits
// until pion has processed it and returns pion's estimate.
func (f *Flow) Update(fb bwe.Feedback) sendside.Result {
	if f.closed {
		return f.res
	}
	f.advance(fb.Time)
	recorded := false
	for _, p := range fb.Packets {
		if p.Received {
			f.rec.Record(mediaSSRC, uint16(p.Seq), int64(p.Arrival))
			recorded = true
		}
	}
	f.res.Time, f.res.Feedback = fb.Time, true
	if !recorded {
		return f.res
	}
	if pkts := f.rec.BuildFeedbackPacket(); len(pkts) > 0 {
		f.est.WriteRTCP(pkts, nil)
		synctest.Wait()
		f.read()
	}
	return f.res
}

// read takes pion's estimate and statistics into the result.
func (f *Flow) read() {
	f.res.Target = bwe.Bitrate(f.est.GetTargetBitrate())
	f.res.Encoder = f.res.Target
	st := f.est.GetStats()
	delay, _ := st["delayTargetBitrate"].(int)
	loss, _ := st["lossTargetBitrate"].(int)
	f.res.Delay.Target = bwe.Bitrate(max(delay, 0))
	f.res.Loss.Estimate = bwe.Bitrate(max(loss, 0))
	f.res.Limit = sendside.LimitDelay
	if loss > 0 && loss < delay {
		f.res.Limit = sendside.LimitLoss
	}
	switch u, _ := st["usage"].(string); u {
	case "overuse":
		f.res.Delay.Detection.Usage = bwe.Overusing
	case "underuse":
		f.res.Delay.Detection.Usage = bwe.Underusing
	default:
		f.res.Delay.Detection.Usage = bwe.Normal
	}
}

// Process returns the last estimate: pion's estimator changes it only on
// feedback.
func (f *Flow) Process(now bwe.Time) sendside.Result {
	f.res.Time, f.res.Feedback = now, false
	return f.res
}

// Close stops pion's goroutines, which the bubble waits for.
func (f *Flow) Close() error {
	if f.closed {
		return nil
	}
	f.closed = true
	if err := f.est.Close(); err != nil && !errors.Is(err, gcc.ErrSendSideBWEClosed) {
		return fmt.Errorf("piongcc: closing: %w", err)
	}
	return nil
}
