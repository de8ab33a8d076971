package peertest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/logging"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
)

// Defaults applied to zero fields of [Config].
const (
	// DefaultBottleneckBps is the constant bottleneck rate used when
	// Config.Bottleneck is nil, in bits per second.
	DefaultBottleneckBps = 1_500_000
	// DefaultDelay is the one-way delay of each direction.
	DefaultDelay = 25 * time.Millisecond
	// DefaultQueueLimit bounds the drop-tail queue of the bottleneck, as
	// time to drain it at the current rate.
	DefaultQueueLimit = 300 * time.Millisecond
	// DefaultDuration is how long media flows once connected.
	DefaultDuration = 20 * time.Second
	// DefaultSampleInterval is the spacing of [Sample]s.
	DefaultSampleInterval = 100 * time.Millisecond
	// DefaultConnectTimeout bounds ICE + DTLS set-up.
	DefaultConnectTimeout = 10 * time.Second
	// DefaultStartBitrate is the start bitrate given to pion's gcc when
	// Config.Factory is nil, in bits per second (the value pion's
	// bandwidth-estimation-from-disk example uses; gcc's own default is
	// 10 kbps).
	DefaultStartBitrate = 300_000
)

// Source parameters of the synthetic video stream.
const (
	// FrameRate is the number of frames per second.
	FrameRate = 30
	// KeyframeInterval is the spacing of keyframes.
	KeyframeInterval = 2 * time.Second
	// KeyframeWeight is a keyframe's size relative to a delta frame.
	KeyframeWeight = 4
)

// Config describes one session. The zero value of each field selects its
// default.
type Config struct {
	// Factory builds the sender's bandwidth estimator. Nil means pion's
	// gcc.NewSendSideBWE started at DefaultStartBitrate (see [GCC]).
	Factory cc.BandwidthEstimatorFactory
	// Bottleneck gives the rate of the sender → receiver bottleneck, in bits
	// per second, as a function of the time since the peers connected. It
	// is evaluated once per sample interval. Nil means
	// Constant(DefaultBottleneckBps).
	Bottleneck func(elapsed time.Duration) int
	// Delay is the one-way propagation delay of each direction. Zero means
	// DefaultDelay.
	Delay time.Duration
	// QueueLimit bounds the bottleneck's drop-tail queue, as drain time at
	// the current rate. Zero means DefaultQueueLimit.
	QueueLimit time.Duration
	// Duration is how long media flows after the peers connect. Zero means
	// DefaultDuration.
	Duration time.Duration
	// SampleInterval is the spacing of samples. Zero means
	// DefaultSampleInterval.
	SampleInterval time.Duration
	// ConnectTimeout bounds ICE and DTLS set-up. Zero means
	// DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// OnSample, if not nil, is called from Run's goroutine with each sample
	// as it is taken.
	OnSample func(Sample)
	// LoggerFactory receives pion's and vnet's logs. Nil means pion's
	// default factory (errors only, to stderr).
	LoggerFactory logging.LoggerFactory
	// Interceptors are extra sender-side interceptor factories (a trace
	// recorder, say), registered first: a packet passes through the
	// interceptors from the last registered to the first, so these see
	// it last, numbered and paced, as it leaves for the network.
	Interceptors []interceptor.Factory
}

// Sample is the state of the session at one instant. Rates are in bits per
// second; the measured ones are averages over the preceding interval.
type Sample struct {
	// Elapsed is the time since the peers connected.
	Elapsed time.Duration
	// TargetBps is the estimator's GetTargetBitrate.
	TargetBps int
	// EncoderBps is the rate the source encodes at: EncoderBitrate() when the
	// estimator has that method, else TargetBps.
	EncoderBps int
	// BottleneckBps is the bottleneck's configured rate.
	BottleneckBps int
	// SourceBps is the RTP (header + payload) rate the source handed to the
	// sender's interceptors, before pacing.
	SourceBps int
	// OfferedBps is the UDP payload rate that arrived at the bottleneck.
	OfferedBps int
	// DeliveredBps is the UDP payload rate that left the bottleneck.
	DeliveredBps int
}

// Series is the outcome of one session.
type Series struct {
	// ConnectedAfter is the time from Run's start until the sender's
	// PeerConnection reported connected.
	ConnectedAfter time.Duration
	// StartBitrate is the estimator's target when media started.
	StartBitrate int
	// Samples holds one Sample per interval, in time order.
	Samples []Sample
	// PacketsSent counts RTP packets the source handed to the sender's
	// interceptors.
	PacketsSent int64
	// PacketsReceived counts RTP packets the receiving application read.
	PacketsReceived int64
	// FeedbackReports counts transport-wide CC feedback packets that reached
	// the sender.
	FeedbackReports int64
	// OfferedBytes and DeliveredBytes are the UDP payload bytes that
	// reached and left the bottleneck over the whole session.
	OfferedBytes, DeliveredBytes int64
}

// Constant returns a bottleneck schedule fixed at bps.
func Constant(bps int) func(time.Duration) int {
	return func(time.Duration) int { return bps }
}

// Steps returns a bottleneck schedule that holds bps[0] for the first period,
// bps[1] for the next, and so on, keeping the last value afterwards.
func Steps(period time.Duration, bps ...int) func(time.Duration) int {
	if period <= 0 || len(bps) == 0 {
		panic("peertest: Steps needs a positive period and at least one rate")
	}
	rates := append([]int(nil), bps...)
	return func(elapsed time.Duration) int {
		i := int(elapsed / period)
		if i < 0 {
			i = 0
		}
		if i >= len(rates) {
			i = len(rates) - 1
		}
		return rates[i]
	}
}

// GCC returns a factory of pion's gcc.SendSideBWE with opts.
func GCC(opts ...gcc.Option) cc.BandwidthEstimatorFactory {
	return func() (cc.BandwidthEstimator, error) {
		return gcc.NewSendSideBWE(opts...)
	}
}

// encoderRater is implemented by estimators that also give the encoder its
// own target, distinct from the transport's.
type encoderRater interface {
	EncoderBitrate() int
}

func (c Config) withDefaults() (Config, error) {
	if c.Factory == nil {
		c.Factory = GCC(gcc.SendSideBWEInitialBitrate(DefaultStartBitrate))
	}
	if c.Bottleneck == nil {
		c.Bottleneck = Constant(DefaultBottleneckBps)
	}
	durations := []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"Delay", &c.Delay, DefaultDelay},
		{"QueueLimit", &c.QueueLimit, DefaultQueueLimit},
		{"Duration", &c.Duration, DefaultDuration},
		{"SampleInterval", &c.SampleInterval, DefaultSampleInterval},
		{"ConnectTimeout", &c.ConnectTimeout, DefaultConnectTimeout},
	}
	for _, d := range durations {
		if *d.v < 0 {
			return c, fmt.Errorf("peertest: Config.%s = %v, want >= 0", d.name, *d.v)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if c.LoggerFactory == nil {
		c.LoggerFactory = logging.NewDefaultLoggerFactory()
	}
	if r := c.Bottleneck(0); r <= 0 {
		return c, fmt.Errorf("peertest: Config.Bottleneck(0) = %d bps, want > 0", r)
	}
	return c, nil
}

// Run connects a sender and a receiver PeerConnection through the emulated
// path, streams the synthetic source for cfg.Duration and returns the
// sampled series. It returns early with an error if ctx ends, the peers fail
// to connect within cfg.ConnectTimeout, or the bottleneck schedule returns a
// non-positive rate.
func Run(ctx context.Context, cfg Config) (Series, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Series{}, err
	}
	start := time.Now()

	p, err := newPath(cfg.Delay, cfg.QueueLimit, cfg.Bottleneck(0), cfg.LoggerFactory)
	if err != nil {
		return Series{}, err
	}
	return run(ctx, cfg, p, start)
}

// network is the path between the two peers: the vnet emulation of [Run]
// or the kernel path of RunNetns.
type network interface {
	// configure gives the sender's (tx) or the receiver's setting engine
	// its network.
	configure(se *webrtc.SettingEngine, tx bool) error
	// setRate sets the bottleneck rate, in bits per second.
	setRate(rateBps int) error
	// counters returns the bottleneck rate and the UDP payload bytes
	// offered to and delivered by the bottleneck so far.
	counters() (rateBps int, offered, delivered int64)
	// close tears the path down.
	close() error
}

// run is Run and RunNetns once the path p is built: it owns p and closes
// it. start is when the caller started.
func run(ctx context.Context, cfg Config, p network, start time.Time) (series Series, err error) {
	s := &session{cfg: cfg, path: p}
	defer func() {
		if cerr := s.close(); cerr != nil && err == nil {
			err = cerr
		}
	}()

	if err := s.setup(); err != nil {
		return Series{}, err
	}
	if err := s.connect(ctx); err != nil {
		return Series{}, err
	}
	series.ConnectedAfter = time.Since(start)
	series.StartBitrate = s.estimator.GetTargetBitrate()
	err = s.stream(ctx, &series)
	return series, err
}

// session holds the live objects of one Run.
type session struct {
	cfg  Config
	path network

	tx, rx    *webrtc.PeerConnection
	track     *webrtc.TrackLocalStaticSample
	estimator cc.BandwidthEstimator
	counter   *counter

	received  atomic.Int64
	connected chan struct{}
	failed    chan struct{}
	wg        sync.WaitGroup
}

func (s *session) setup() error {
	estimators := make(chan cc.BandwidthEstimator, 1)
	ccFactory, err := cc.NewInterceptor(s.cfg.Factory)
	if err != nil {
		return fmt.Errorf("peertest: cc interceptor: %w", err)
	}
	ccFactory.OnNewPeerConnection(func(_ string, e cc.BandwidthEstimator) {
		select {
		case estimators <- e:
		default:
		}
	})

	txMedia := &webrtc.MediaEngine{}
	if err := txMedia.RegisterDefaultCodecs(); err != nil {
		return fmt.Errorf("peertest: sender codecs: %w", err)
	}
	txReg := &interceptor.Registry{}
	for _, f := range s.cfg.Interceptors {
		txReg.Add(f)
	}
	txReg.Add(ccFactory)
	if err := webrtc.ConfigureTWCCHeaderExtensionSender(txMedia, txReg); err != nil {
		return fmt.Errorf("peertest: sender TWCC: %w", err)
	}
	s.counter = &counter{}
	txReg.Add(s.counter)

	rxMedia := &webrtc.MediaEngine{}
	if err := rxMedia.RegisterDefaultCodecs(); err != nil {
		return fmt.Errorf("peertest: receiver codecs: %w", err)
	}
	rxReg := &interceptor.Registry{}
	if err := webrtc.ConfigureTWCCSender(rxMedia, rxReg); err != nil {
		return fmt.Errorf("peertest: receiver TWCC: %w", err)
	}

	txSettings, err := s.settings(true)
	if err != nil {
		return err
	}
	rxSettings, err := s.settings(false)
	if err != nil {
		return err
	}
	txAPI := webrtc.NewAPI(
		webrtc.WithMediaEngine(txMedia),
		webrtc.WithInterceptorRegistry(txReg),
		webrtc.WithSettingEngine(txSettings),
	)
	rxAPI := webrtc.NewAPI(
		webrtc.WithMediaEngine(rxMedia),
		webrtc.WithInterceptorRegistry(rxReg),
		webrtc.WithSettingEngine(rxSettings),
	)

	if s.tx, err = txAPI.NewPeerConnection(webrtc.Configuration{}); err != nil {
		return fmt.Errorf("peertest: sender PeerConnection: %w", err)
	}
	if s.rx, err = rxAPI.NewPeerConnection(webrtc.Configuration{}); err != nil {
		return fmt.Errorf("peertest: receiver PeerConnection: %w", err)
	}
	select {
	case s.estimator = <-estimators:
	default:
		return errors.New("peertest: the cc interceptor gave no estimator")
	}

	s.track, err = webrtc.NewTrackLocalStaticSample(
		webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "video", "peertest")
	if err != nil {
		return fmt.Errorf("peertest: track: %w", err)
	}
	sender, err := s.tx.AddTrack(s.track)
	if err != nil {
		return fmt.Errorf("peertest: AddTrack: %w", err)
	}
	// Incoming RTCP reaches the interceptors (and so the estimator) only
	// while someone reads it.
	s.wg.Go(func() {
		buf := make([]byte, 1500)
		for {
			if _, _, err := sender.Read(buf); err != nil {
				return
			}
		}
	})
	s.rx.OnTrack(func(remote *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		// Reading drives the receiver's interceptors, which stamp arrival
		// times for the transport-wide CC feedback.
		buf := make([]byte, 1500)
		for {
			if _, _, err := remote.Read(buf); err != nil {
				return
			}
			s.received.Add(1)
		}
	})

	s.connected = make(chan struct{})
	s.failed = make(chan struct{})
	var once sync.Once
	s.tx.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		switch st {
		case webrtc.PeerConnectionStateConnected:
			once.Do(func() { close(s.connected) })
		case webrtc.PeerConnectionStateFailed:
			once.Do(func() { close(s.failed) })
		}
	})
	return nil
}

// settings gives the sender (tx) or the receiver its network from the path
// and turns off what the path lacks (mDNS, IPv6, TCP).
func (s *session) settings(tx bool) (webrtc.SettingEngine, error) {
	var se webrtc.SettingEngine
	if err := s.path.configure(&se, tx); err != nil {
		return se, err
	}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.LoggerFactory = s.cfg.LoggerFactory
	return se, nil
}

// connect exchanges a non-trickle offer and answer and waits for the sender
// to report connected.
func (s *session) connect(ctx context.Context) error {
	offer, err := s.tx.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("peertest: CreateOffer: %w", err)
	}
	txGathered := webrtc.GatheringCompletePromise(s.tx)
	if err := s.tx.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("peertest: sender SetLocalDescription: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ConnectTimeout)
	defer cancel()
	if err := wait(ctx, txGathered, "sender ICE gathering"); err != nil {
		return err
	}
	if err := s.rx.SetRemoteDescription(*s.tx.LocalDescription()); err != nil {
		return fmt.Errorf("peertest: receiver SetRemoteDescription: %w", err)
	}
	answer, err := s.rx.CreateAnswer(nil)
	if err != nil {
		return fmt.Errorf("peertest: CreateAnswer: %w", err)
	}
	rxGathered := webrtc.GatheringCompletePromise(s.rx)
	if err := s.rx.SetLocalDescription(answer); err != nil {
		return fmt.Errorf("peertest: receiver SetLocalDescription: %w", err)
	}
	if err := wait(ctx, rxGathered, "receiver ICE gathering"); err != nil {
		return err
	}
	if err := s.tx.SetRemoteDescription(*s.rx.LocalDescription()); err != nil {
		return fmt.Errorf("peertest: sender SetRemoteDescription: %w", err)
	}
	select {
	case <-s.connected:
		return nil
	case <-s.failed:
		return errors.New("peertest: sender PeerConnection failed to connect")
	case <-ctx.Done():
		return fmt.Errorf("peertest: waiting for connected: %w", ctx.Err())
	}
}

func wait(ctx context.Context, done <-chan struct{}, what string) error {
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("peertest: waiting for %s: %w", what, ctx.Err())
	}
}

// stream runs the source and samples the session until cfg.Duration has
// passed since the connection or ctx ends.
func (s *session) stream(ctx context.Context, series *Series) (err error) {
	begin := time.Now()
	stop := make(chan struct{})
	srcDone := make(chan error, 1)
	go func() { srcDone <- s.source(stop) }()
	defer func() {
		close(stop)
		if srcErr := <-srcDone; err == nil {
			err = srcErr
		}
	}()

	tick := time.NewTicker(s.cfg.SampleInterval)
	defer tick.Stop()
	last := begin
	var lastSource, lastOffered, lastDelivered int64
	series.Samples = make([]Sample, 0, int(s.cfg.Duration/s.cfg.SampleInterval)+1)
	for {
		var now time.Time
		select {
		case <-ctx.Done():
			return ctx.Err()
		case now = <-tick.C:
		}
		elapsed := now.Sub(begin)
		dt := now.Sub(last)
		last = now

		source := s.counter.rtpBytes.Load()
		rate, offered, delivered := s.path.counters()
		smp := Sample{
			Elapsed:       elapsed,
			TargetBps:     s.estimator.GetTargetBitrate(),
			EncoderBps:    s.encoderBitrate(),
			BottleneckBps: rate,
			SourceBps:     bitsPerSecond(source-lastSource, dt),
			OfferedBps:    bitsPerSecond(offered-lastOffered, dt),
			DeliveredBps:  bitsPerSecond(delivered-lastDelivered, dt),
		}
		lastSource, lastOffered, lastDelivered = source, offered, delivered
		series.Samples = append(series.Samples, smp)
		series.PacketsSent = s.counter.rtpPackets.Load()
		series.PacketsReceived = s.received.Load()
		series.FeedbackReports = s.counter.feedback.Load()
		series.OfferedBytes = offered
		series.DeliveredBytes = delivered
		if s.cfg.OnSample != nil {
			s.cfg.OnSample(smp)
		}
		if elapsed >= s.cfg.Duration {
			return nil
		}
		r := s.cfg.Bottleneck(elapsed)
		if r <= 0 {
			return fmt.Errorf("peertest: Config.Bottleneck(%v) = %d bps, want > 0", elapsed, r)
		}
		if err := s.path.setRate(r); err != nil {
			return err
		}
	}
}

func bitsPerSecond(bytes int64, d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int(bytes * 8 * int64(time.Second) / int64(d))
}

func (s *session) encoderBitrate() int {
	if e, ok := s.estimator.(encoderRater); ok {
		return e.EncoderBitrate()
	}
	return s.estimator.GetTargetBitrate()
}

// source writes frames at FrameRate until stop is closed. The frame sizes of
// one keyframe interval add up to the encoder bitrate times the interval,
// with the keyframe KeyframeWeight times the size of a delta frame.
func (s *session) source(stop <-chan struct{}) error {
	const (
		frameDuration  = time.Second / FrameRate
		framesPerGroup = int(KeyframeInterval / frameDuration)
		groupWeight    = KeyframeWeight + framesPerGroup - 1
	)
	tick := time.NewTicker(frameDuration)
	defer tick.Stop()
	var buf []byte
	for frame := 0; ; frame++ {
		rate := int64(s.encoderBitrate())
		// bytes per unit of weight: rate * interval / 8 / groupWeight
		unit := rate * int64(KeyframeInterval/time.Millisecond) / (8 * 1000 * int64(groupWeight))
		size := unit
		if frame%framesPerGroup == 0 {
			size *= KeyframeWeight
		}
		size = max(size, 1)
		if int64(cap(buf)) < size {
			buf = make([]byte, size)
		}
		data := buf[:size]
		// A VP8 payload descriptor bit 0 clear marks a keyframe; the content
		// is otherwise opaque to pion.
		data[0] = 1
		if frame%framesPerGroup == 0 {
			data[0] = 0
		}
		if err := s.track.WriteSample(media.Sample{Data: data, Duration: frameDuration}); err != nil {
			return fmt.Errorf("peertest: WriteSample: %w", err)
		}
		select {
		case <-stop:
			return nil
		case <-tick.C:
		}
	}
}

// close tears the session down and returns the first error.
func (s *session) close() error {
	var errs []error
	if s.tx != nil {
		errs = append(errs, s.tx.Close())
	}
	if s.rx != nil {
		errs = append(errs, s.rx.Close())
	}
	s.wg.Wait()
	errs = append(errs, s.path.close())
	return errors.Join(errs...)
}

// counter observes the sender's interceptor chain: RTP the source produced
// and transport-wide CC feedback that came back. It is its own factory.
type counter struct {
	interceptor.NoOp
	rtpPackets atomic.Int64
	rtpBytes   atomic.Int64
	feedback   atomic.Int64
}

func (c *counter) NewInterceptor(string) (interceptor.Interceptor, error) { return c, nil }

func (c *counter) BindLocalStream(_ *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		c.rtpPackets.Add(1)
		c.rtpBytes.Add(int64(h.MarshalSize() + len(payload)))
		return w.Write(h, payload, a)
	})
}

func (c *counter) BindRTCPReader(r interceptor.RTCPReader) interceptor.RTCPReader {
	return interceptor.RTCPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		n, a, err := r.Read(b, a)
		if err != nil {
			return n, a, err
		}
		if a == nil {
			a = make(interceptor.Attributes)
		}
		pkts, err := a.GetRTCPPackets(b[:n])
		if err != nil {
			return n, a, nil // not ours to reject; the estimator sees the same bytes
		}
		for _, p := range pkts {
			if _, ok := p.(*rtcp.TransportLayerCC); ok {
				c.feedback.Add(1)
			}
		}
		return n, a, nil
	})
}
