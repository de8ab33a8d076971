package pionbwe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/delaybased"
	"github.com/bwelab/bwe/ratecontrol"
	"github.com/bwelab/bwe/sendside"
	"github.com/bwelab/bwe/traces"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// TransportCCURI is the URI of the transport-wide sequence number header
// extension (draft-holmer-rmcat-transport-wide-cc-extensions-01).
const TransportCCURI = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"

// ErrClosed is returned by WriteRTCP after Close.
var ErrClosed = errors.New("pionbwe: estimator closed")

var errNilHeader = errors.New("pionbwe: nil RTP header")

// Sizes of the send history (packets).
const (
	historyInitial = 4096
	historyMax     = 1 << 18 // 2 s of 1200-byte packets at 1 Gbps
)

// Estimator is a [cc.BandwidthEstimator] driven by the send-side
// estimator of package sendside. Make it with [New]; pion's cc
// interceptor calls AddStream, WriteRTCP and Close.
//
// All methods are safe for concurrent use.
type Estimator struct {
	// Settings, fixed by New.
	cfg      sendside.Config
	now      func() time.Time
	epoch    time.Time
	interval time.Duration
	window   time.Duration
	pacing   bool
	paceMult float64
	maxQueue time.Duration
	smoother bwe.Smoother  // WithSmoother: the rate controller's, made in New
	overhead bwe.ByteCount // WithPacketOverhead
	padding  bool
	recTo    io.Writer
	observe  func(sendside.Result)
	passive  bool // a recorder: never sets a transport-wide number

	mu          sync.Mutex
	core        *sendside.Estimator
	started     bool     // the session started: a packet was sent
	nextProcess bwe.Time // next point of the timer grid to run
	lastNow     bwe.Time // latest clock reading
	hist        history
	nextTW      uint16 // transport-wide number for a packet that carries none
	batch       []bwe.PacketResult
	twRef       int64 // last unwrapped TWCC reference time (64 ms units)
	twRefSet    bool
	ccRef       int64 // last unwrapped RFC 8888 report timestamp (1/65536 s)
	ccRefSet    bool
	target      bwe.Bitrate
	encoder     bwe.Bitrate // the media share of the encoder target
	avgSize     float64     // running mean size of media packets, bytes
	last        sendside.Result
	stats       Stats
	rec         *traces.FeedbackWriter
	recErr      error
	pace        pacer
	pad         padder
	closed      bool
	running     bool // the goroutines were started
	manual      bool // tests: start no goroutine
	done        chan struct{}
	wg          sync.WaitGroup
	closeOnce   sync.Once

	sendMu  sync.Mutex // held while a queued packet is sent
	sendHdr rtp.Header // the header of the packet being sent

	note notifier
}

var _ cc.BandwidthEstimator = (*Estimator)(nil)

// New returns an estimator configured by opts. The epoch of its clock
// (the origin of its [bwe.Time] instants and of its timer grid) is the
// clock's reading in New.
func New(opts ...Option) (*Estimator, error) {
	e := &Estimator{
		now:      time.Now,
		interval: DefaultProcessInterval,
		window:   DefaultSendHistory,
		pacing:   true,
		paceMult: PaceMultiplier,
		maxQueue: MaxQueueDelay,
		padding:  true,
		done:     make(chan struct{}),
	}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("pionbwe: nil Option")
		}
		if err := o(e); err != nil {
			return nil, err
		}
	}
	if e.smoother != nil {
		if e.cfg.Rate != nil {
			return nil, errors.New("pionbwe: WithSmoother and WithRateController both given: set the smoother in the rate controller's ratecontrol.Config")
		}
		rc, err := ratecontrol.New(ratecontrol.Config{Smoother: e.smoother})
		if err != nil {
			return nil, fmt.Errorf("pionbwe: WithSmoother: %w", err)
		}
		e.cfg.Rate = rc
	}
	if e.cfg.Start == 0 && e.cfg.Min > 0 {
		// The default start, 300 kbps, within the bounds given.
		d := sendside.DefaultConfig()
		e.cfg.Start = d.Start
		if e.cfg.Max > 0 {
			e.cfg.Start = min(e.cfg.Start, e.cfg.Max)
		}
		e.cfg.Start = max(e.cfg.Start, e.cfg.Min)
	}
	core, err := sendside.New(e.cfg)
	if err != nil {
		return nil, fmt.Errorf("pionbwe: %w", err)
	}
	e.core = core
	e.cfg = core.Config()
	e.avgSize = assumedPacketSize
	e.target, e.encoder = e.cfg.Start, e.mediaShare(e.cfg.Start)
	e.note.target, e.note.encoder = int(e.target), int(e.encoder)
	e.note.dTarget, e.note.dEncoder = e.note.target, e.note.encoder
	e.note.wake = make(chan struct{}, 1)
	e.hist = newHistory(e.window, historyInitial, historyMax)
	e.batch = make([]bwe.PacketResult, 0, 256)
	e.pace = newPacer(e.target, e.paceMult, e.maxQueue)
	if e.recTo != nil {
		h := traces.FeedbackHeader{Meta: []traces.FeedbackMeta{
			{Key: "source", Value: "pionbwe"},
			{Key: "process_interval_us", Value: fmt.Sprint(e.interval.Microseconds())},
		}}
		if e.rec, err = traces.NewFeedbackWriter(e.recTo, h); err != nil {
			return nil, fmt.Errorf("pionbwe: recorder: %w", err)
		}
	}
	e.epoch = e.now()
	return e, nil
}

// clock reads the clock and converts the reading to the estimator's
// time: µs since the epoch, never earlier than a previous reading. It is
// the only place where time.Time becomes bwe.Time. The caller holds mu.
func (e *Estimator) clock() bwe.Time {
	t := bwe.TimeFromDuration(e.now().Sub(e.epoch))
	if t < e.lastNow {
		t = e.lastNow
	}
	e.lastNow = t
	return t
}

// gridAtOrAfter returns the first point of the timer grid at or after t.
func gridAtOrAfter(t bwe.Time, interval time.Duration) bwe.Time {
	iv := bwe.Time(interval / time.Microsecond)
	q := t / iv
	if t > 0 && t%iv != 0 && q < bwe.MaxTime/iv {
		q++
	}
	return q * iv
}

// startLocked starts the session at now, the time of its first packet:
// an empty feedback batch at now starts the estimator (its timeout clock,
// its initial probes) and is recorded, so that a replay of the recording
// starts the same way; the timer grid runs from then on. The caller holds
// mu.
func (e *Estimator) startLocked(now bwe.Time) {
	if e.started {
		return
	}
	e.started = true
	fb := bwe.Feedback{Time: now}
	e.record(fb)
	e.absorb(e.core.Update(fb))
	e.nextProcess = gridAtOrAfter(now, e.interval)
}

// runTimers runs the estimator's timers at every grid point before now
// not yet run: the rule of replay.Replay, which runs them before each
// batch at every grid point earlier than the batch. The caller holds mu.
func (e *Estimator) runTimers(now bwe.Time) {
	if !e.started {
		return
	}
	for e.nextProcess < now && e.nextProcess < bwe.MaxTime {
		e.stats.ProcessCalls++
		e.absorb(e.core.Process(e.nextProcess))
		e.nextProcess = e.nextProcess.Add(e.interval)
	}
}

// absorb takes in a result of the core: the new targets, the pacer's
// rate and probe clusters, and the callbacks. The caller holds mu.
func (e *Estimator) absorb(res sendside.Result) {
	e.target, e.encoder = res.Target, e.mediaShare(res.Encoder)
	if e.pacing {
		e.pace.setTarget(max(res.Target, res.Encoder))
		for _, r := range res.Probes {
			e.pace.addProbe(r)
		}
	} else {
		e.stats.ProbesIgnored += int64(len(res.Probes))
	}
	res.Probes = nil
	e.last = res
	if e.observe != nil {
		e.observe(res)
	}
	e.note.post(int(res.Target), int(e.encoder))
}

// assumedPacketSize is the media packet size the overhead's share is
// computed with before any media has been sent, bytes: a full packet of
// pion's packetizers (its default MTU, 1200 bytes).
const assumedPacketSize = 1200

// mediaShare returns the part of the rate r that media packets carry,
// the rest being the packet overhead ([WithPacketOverhead]) at the mean
// media packet size.
func (e *Estimator) mediaShare(r bwe.Bitrate) bwe.Bitrate {
	if e.overhead == 0 {
		return r
	}
	return r.Scale(e.avgSize / (e.avgSize + float64(e.overhead)))
}

// record writes a batch to the recorder, if any. The caller holds mu.
func (e *Estimator) record(fb bwe.Feedback) {
	if e.rec == nil || e.recErr != nil {
		return
	}
	e.recErr = e.rec.Write(fb)
}

// startGoroutines starts the timer, callback and pacer goroutines once.
// The caller holds mu.
func (e *Estimator) startGoroutines() {
	if e.running || e.closed || e.manual {
		return
	}
	e.running = true
	e.wg.Add(2)
	go e.timerLoop()
	go e.note.loop(e.done, &e.wg)
	if e.pacing {
		e.wg.Add(1)
		go e.pacerLoop()
	}
}

// timerLoop runs the due points of the timer grid every ProcessInterval,
// so that timers (feedback timeout, probe controller) run while no
// feedback comes.
func (e *Estimator) timerLoop() {
	defer e.wg.Done()
	t := time.NewTicker(e.interval)
	defer t.Stop()
	for {
		select {
		case <-e.done:
			return
		case <-t.C:
		}
		e.mu.Lock()
		if !e.closed {
			e.runTimers(e.clock())
		}
		e.mu.Unlock()
	}
}

// AddStream registers a local stream and returns the writer its packets
// must go through. Packets of a stream that negotiated the transport-wide
// CC header extension carry a transport-wide sequence number: the one
// already in the header (set by pion's twcc header-extension interceptor
// registered after this one) or, if none, one this estimator sets. Every
// packet of every stream enters the send history, so that RFC 8888
// feedback, which names packets by SSRC and RTP sequence number, can be
// matched too.
func (e *Estimator) AddStream(info *interceptor.StreamInfo, writer interceptor.RTPWriter) interceptor.RTPWriter {
	w := &streamWriter{e: e, next: writer}
	if info != nil {
		for _, x := range info.RTPHeaderExtensions {
			if x.URI == TransportCCURI && x.ID > 0 && x.ID < 256 {
				w.twID = uint8(x.ID)
				break
			}
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var ssrc uint32
	if info != nil {
		ssrc = info.SSRC
	}
	w.idx = e.hist.stream(ssrc)
	if w.idx == nil {
		w.idx = e.hist.addStream(ssrc)
	}
	w.space = e.pad.space(ssrc)
	e.stats.Streams++
	e.startGoroutines()
	return w
}

// streamWriter is the writer of one stream.
type streamWriter struct {
	e     *Estimator
	next  interceptor.RTPWriter
	idx   *streamIndex
	space *seqSpace // the outgoing sequence numbers of the stream's SSRC
	twID  uint8     // transport-wide CC extension id, 0 if not negotiated
}

// Write sends the packet (pacer off) or queues it (pacer on).
func (w *streamWriter) Write(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
	if h == nil {
		return 0, errNilHeader
	}
	e := w.e
	e.mu.Lock()
	if e.closed {
		return w.writeClosed(h, payload, a) // unlocks mu
	}
	tw, hasTW := w.transportSeq(h)
	if e.pacing {
		return e.enqueue(w, h, payload, a, tw, hasTW) // unlocks mu
	}
	now := e.clock()
	e.sent(w, h.SequenceNumber, tw, hasTW, bwe.ByteCount(h.MarshalSize()+len(payload)), now, 0, false)
	e.mu.Unlock()
	return w.next.Write(h, payload, a)
}

// transportSeq returns the packet's transport-wide sequence number, if its
// stream negotiated one, setting it in the header when the packet carries
// none. The caller holds mu.
func (w *streamWriter) transportSeq(h *rtp.Header) (uint16, bool) {
	if w.twID == 0 {
		return 0, false
	}
	e := w.e
	if ext := h.GetExtension(w.twID); len(ext) >= 2 {
		tw := binary.BigEndian.Uint16(ext)
		e.nextTW = tw + 1
		return tw, true
	}
	if e.passive {
		e.stats.Unnumbered++
		return 0, false
	}
	tw := e.nextTW
	if err := h.SetExtension(w.twID, []byte{byte(tw >> 8), byte(tw)}); err != nil {
		e.stats.Unnumbered++
		return 0, false
	}
	e.nextTW++
	e.stats.Numbered++
	return tw, true
}

// sent enters a packet leaving now into the send history. The caller
// holds mu.
func (e *Estimator) sent(w *streamWriter, rtpSeq, tw uint16, hasTW bool, size bwe.ByteCount, now bwe.Time, probe int32, padding bool) {
	e.startLocked(now)
	e.runTimers(now)
	if !padding {
		// A mean over about the last 32 media packets.
		e.avgSize += (float64(size) - e.avgSize) / 32
	}
	size += e.overhead
	e.hist.add(now, w.idx, rtpSeq, tw, hasTW, size, probe)
	e.stats.PacketsSent++
	if e.cfg.Sends == sendside.SendsFromOnSent {
		e.core.OnSent(now, size)
	}
}

// WriteRTCP consumes the transport-wide CC (TWCC) and RFC 8888 feedback
// among pkts: their reports are matched to the send history and given to
// the estimator as one batch, timed now, after the timers due before now
// have run. Other packets are ignored. Reports of packets unknown, no
// longer in the history, or already reported received are skipped and
// counted in [Stats]. It returns [ErrClosed] after Close, and no other
// error: malformed feedback is counted, not returned.
func (e *Estimator) WriteRTCP(pkts []rtcp.Packet, _ interceptor.Attributes) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	e.batch = e.batch[:0]
	seen := false
	for _, p := range pkts {
		switch fb := p.(type) {
		case *rtcp.TransportLayerCC:
			e.addTWCC(fb)
			seen = true
		case *rtcp.CCFeedbackReport:
			e.addCCFB(fb)
			seen = true
		}
	}
	if !seen {
		return nil
	}
	if len(e.batch) == 0 || !e.started {
		e.stats.EmptyFeedback++
		return nil
	}
	e.finishBatch()
	now := e.clock()
	e.runTimers(now)
	fb := bwe.Feedback{Time: now, Packets: e.batch}
	e.record(fb)
	for i := range e.batch {
		if e.batch[i].Received {
			e.stats.Received++
		} else {
			e.stats.Lost++
		}
	}
	e.stats.Batches++
	e.absorb(e.core.Update(fb))
	return nil
}

// GetTargetBitrate returns the current target in bits per second.
func (e *Estimator) GetTargetBitrate() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return int(e.target)
}

// EncoderBitrate returns the encoder target in bits per second: the rate
// controller's output (see [WithRateController]), or the target without
// one, less the packet overhead's share of it ([WithPacketOverhead]).
func (e *Estimator) EncoderBitrate() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return int(e.encoder)
}

// OnTargetBitrateChange sets the function called with the new target, in
// bits per second, when it changes. Calls come one at a time from one
// goroutine, in the order of the changes; when changes come faster than f
// returns, the intermediate values are skipped and f gets the latest.
func (e *Estimator) OnTargetBitrateChange(f func(bitrate int)) {
	e.note.mu.Lock()
	e.note.onTarget = f
	e.note.mu.Unlock()
}

// OnEncoderBitrateChange is [Estimator.OnTargetBitrateChange] for the
// encoder target ([Estimator.EncoderBitrate]). Both callbacks are called
// from the same goroutine, the target's first.
func (e *Estimator) OnEncoderBitrateChange(f func(bitrate int)) {
	e.note.mu.Lock()
	e.note.onEncoder = f
	e.note.mu.Unlock()
}

// Close stops the estimator's goroutines, waits for them (and for a
// callback in progress) to return, and flushes the recorder, returning
// its error. Packets still queued in the pacer are sent. Later calls
// return the same error. Close must not be called from a callback.
func (e *Estimator) Close() error {
	e.closeOnce.Do(func() {
		e.mu.Lock()
		e.closed = true
		close(e.done)
		e.mu.Unlock()
		e.wg.Wait()
		e.flushQueue()
		e.mu.Lock()
		if e.rec != nil && e.recErr == nil {
			e.recErr = e.rec.Flush()
		}
		e.mu.Unlock()
	})
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.recErr
}

// Stats are the estimator's state and counters.
type Stats struct {
	// Target and Encoder are the current target and encoder target.
	Target, Encoder bwe.Bitrate
	// Last is the estimator's last result (without its probe clusters):
	// what limited the target, the delay- and loss-based estimates, the
	// RTT, the detector's usage.
	Last sendside.Result
	// Core and Delay are the estimator's counters.
	Core  sendside.Stats
	Delay delaybased.Stats

	Streams     int64 // streams added
	PacketsSent int64 // packets entered into the send history
	Numbered    int64 // packets this estimator gave a transport-wide number
	Unnumbered  int64 // packets of a TWCC stream whose number could not be set in the header (tracked by RTP sequence number only)

	FeedbackPackets int64 // TWCC and RFC 8888 packets consumed
	Batches         int64 // feedback batches given to the estimator
	EmptyFeedback   int64 // feedback calls that matched no sent packet
	Received, Lost  int64 // packet results given to the estimator
	Unknown         int64 // reports of packets never sent (ahead of the last sent, or of unknown SSRC)
	Old             int64 // reports of packets no longer in the send history
	Duplicate       int64 // reports of packets already reported received
	NoArrival       int64 // receptions reported without an arrival time
	Malformed       int64 // feedback packets skipped as inconsistent
	Overflow        int64 // reports beyond the largest batch of the trace format

	History        int   // packets in the send history now
	HistoryGrowths int64 // times the send history grew
	Evicted        int64 // packets that left the history never reported received
	ProcessCalls   int64 // runs of the estimator's timers
	ProbesIgnored  int64 // probe clusters not sent (pacer off)

	Pacer PacerStats
}

// PacerStats are the pacer's state and counters.
type PacerStats struct {
	Rate          bwe.Bitrate   // pacing rate before probes and queue draining
	Queued        int           // packets in the queue
	QueuedBytes   bwe.ByteCount // their size
	Sent          int64         // packets sent from the queue
	Flushed       int64         // packets sent early because the queue was full
	ProbePackets  int64         // packets sent as part of a probe cluster
	ProbeClusters int64         // clusters completed
	ProbesExpired int64         // clusters abandoned for lack of media
	ProbesDropped int64         // clusters dropped because too many were pending
	Padding       int64         // padding-only packets sent for probe clusters
	PaddingBytes  bwe.ByteCount // their size
	WriteErrors   int64         // queued packets the next writer failed to send
}

// Stats returns the estimator's state and counters.
func (e *Estimator) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.stats
	s.Target, s.Encoder = e.target, e.encoder
	s.Last = e.last
	s.Core, s.Delay = e.core.Stats(), e.core.DelayStats()
	s.History = e.hist.len()
	s.HistoryGrowths, s.Evicted = e.hist.grown, e.hist.evicted
	s.Pacer = e.pace.stats
	s.Pacer.Rate = e.pace.rate
	s.Pacer.Queued = int(e.pace.tail - e.pace.head)
	s.Pacer.QueuedBytes = e.pace.bytes
	return s
}

// GetStats returns [Estimator.Stats] as the map of cc.BandwidthEstimator,
// with the keys of pion's gcc.SendSideBWE (lossTargetBitrate,
// averageLoss, delayTargetBitrate, delayMeasurement, delayEstimate,
// delayThreshold, usage, state) and more.
func (e *Estimator) GetStats() map[string]any {
	s := e.Stats()
	d := s.Last.Delay
	return map[string]any{
		"lossTargetBitrate":  int(s.Last.Loss.Estimate),
		"averageLoss":        s.Last.Loss.Loss,
		"delayTargetBitrate": int(d.Target),
		"delayMeasurement":   d.Detection.Modified,
		"delayEstimate":      d.Detection.Trend,
		"delayThreshold":     d.Detection.Threshold,
		"usage":              d.Detection.Usage.String(),
		"state":              d.State.String(),
		"targetBitrate":      int(s.Target),
		"encoderBitrate":     int(s.Encoder),
		"limit":              s.Last.Limit.String(),
		"rttMs":              bwe.Millis(s.Last.RTT),
		"packetsSent":        s.PacketsSent,
		"feedbackBatches":    s.Batches,
		"received":           s.Received,
		"lost":               s.Lost,
		"unknown":            s.Unknown,
		"old":                s.Old,
		"duplicate":          s.Duplicate,
		"malformed":          s.Malformed,
		"history":            s.History,
		"pacerQueued":        s.Pacer.Queued,
	}
}

// notifier delivers target changes to the callbacks from one goroutine,
// in order, coalescing to the latest value.
type notifier struct {
	mu                sync.Mutex
	onTarget          func(int)
	onEncoder         func(int)
	target, encoder   int  // latest values
	dTarget, dEncoder int  // last values delivered
	dirty             bool // latest differs from what was delivered
	wake              chan struct{}
}

// post records the latest values; the caller holds the Estimator's mu,
// which orders the posts.
func (n *notifier) post(target, encoder int) {
	n.mu.Lock()
	if target == n.target && encoder == n.encoder {
		n.mu.Unlock()
		return
	}
	n.target, n.encoder, n.dirty = target, encoder, true
	n.mu.Unlock()
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

func (n *notifier) loop(done <-chan struct{}, wg *sync.WaitGroup) {
	defer wg.Done()
	for {
		select {
		case <-done:
			return
		case <-n.wake:
		}
		n.deliver()
	}
}

// deliver calls the callbacks with the latest values, if they changed.
func (n *notifier) deliver() {
	n.mu.Lock()
	if !n.dirty {
		n.mu.Unlock()
		return
	}
	t, enc := n.target, n.encoder
	ft, fe := n.onTarget, n.onEncoder
	callT, callE := t != n.dTarget, enc != n.dEncoder
	n.dTarget, n.dEncoder, n.dirty = t, enc, false
	n.mu.Unlock()
	if callT && ft != nil {
		ft(t)
	}
	if callE && fe != nil {
		fe(enc)
	}
}
