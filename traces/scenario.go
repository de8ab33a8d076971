package traces

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/bwelab/bwe"
)

// Limits of a scenario.
const (
	// MaxDuration is the longest scenario.
	MaxDuration = 24 * time.Hour
	// MaxLinkRate is the largest capacity a path may have (1 Tbps). It
	// keeps the emulator's integer arithmetic far from overflow.
	MaxLinkRate = 1000 * bwe.Gbps
	// MaxFECGroup is the largest FEC group (media packets per parity
	// packet) of a flow.
	MaxFECGroup = 1000
	// MaxPacketSize is the largest packet a flow may send (1 MiB).
	MaxPacketSize bwe.ByteCount = 1 << 20
	// MaxFlows bounds the media flows plus cross-traffic flows of one
	// scenario.
	MaxFlows = 256
	// MaxBucket is the deepest token bucket a path may have (1 GiB). It
	// keeps the emulator's token arithmetic (8·10⁶ micro-bits a byte) far
	// from overflow; real shapers hold kilobytes to megabytes.
	MaxBucket bwe.ByteCount = 1 << 30
)

// Scenario is one closed-loop experiment, as data: a forward path with a
// bottleneck, a return path, the media flows whose senders follow a
// bandwidth estimator, and cross traffic. It names nothing of the
// estimator under test; the emulator (package replay) runs any estimator
// configuration on any scenario.
//
// A Scenario is a plain value: the same Scenario and seed give the same run,
// bit for bit. Zero fields take the defaults named in their comments
// ([Scenario.WithDefaults] fills them in).
type Scenario struct {
	// Name identifies the scenario in tables and file names: letters,
	// digits and "-_.+/" only.
	Name string
	// Seed seeds every random process of the run (loss, jitter, delay
	// walks, frame sizes, cross traffic). Each process draws from its own
	// stream, so that enabling one does not shift the draws of another.
	Seed uint64
	// Duration is how long the run lasts, in emulated time. Required, at
	// most [MaxDuration].
	Duration time.Duration
	// Warmup is the initial part of the run left out of the summary
	// metrics, which describe [Warmup, Duration). Zero measures the whole
	// run; it must be shorter than Duration.
	Warmup time.Duration

	// Forward is the path media flows send over. Its Capacity is
	// required.
	Forward Path
	// Backward is the return path: feedback of forward flows, and media
	// of Reverse flows, travel over it. A nil Backward.Capacity means an
	// uncongested return path (infinite capacity, no queue) whose
	// propagation delay is Forward.Delay, with no loss or jitter unless
	// set here.
	Backward Path

	// Flows are the media flows, each with its own estimator. Empty: one
	// flow with the defaults of [Flow].
	Flows []Flow
	// Cross is the cross traffic sharing the paths with the media flows.
	Cross []Cross

	// FeedbackInterval is how often each media receiver sends transport
	// feedback. Default 50 ms (the feedback interval of the reference
	// measurements in the evaluation notes).
	FeedbackInterval time.Duration
	// SampleInterval is the spacing of the recorded time series. Default
	// 100 ms.
	SampleInterval time.Duration
	// ProcessInterval is how often each sender runs its estimator's
	// timers. Default 25 ms (libwebrtc's process interval in its
	// goog_cc_network_control tests).
	ProcessInterval time.Duration
	// FeedbackOutages are spans of the run during which every feedback
	// report of every flow is lost on its way back to the sender.
	FeedbackOutages []Span
}

// Span is the interval [From, To) of a run.
type Span struct {
	From time.Duration `json:"from"`
	To   time.Duration `json:"to"`
}

// Contains reports whether d lies in [From, To).
func (s Span) Contains(d time.Duration) bool { return d >= s.From && d < s.To }

// Path is one direction of the network between the senders and the
// receivers: a drop-tail FIFO bottleneck served at a time-varying
// capacity, followed by a propagation delay with optional delay
// variation. Packets may be lost at random or in bursts when they enter
// the path. The bottleneck may be a token bucket (Bucket). Zero fields
// mean "none", except for the queue limit (see QueueDelay).
type Path struct {
	// Capacity is the rate the bottleneck queue is served at, over time.
	Capacity Capacity
	// QueueBytes limits the queue to this many bytes. At most one of
	// QueueBytes and QueueDelay may be set.
	QueueBytes bwe.ByteCount
	// QueueDelay limits the queue to the bytes the capacity in force when
	// a packet arrives drains in this time (300 ms at 2 Mbps is 75 000
	// bytes). If neither limit is set, it is [DefaultQueueDelay].
	QueueDelay time.Duration
	// Bucket, if positive, makes the bottleneck a token bucket of this
	// depth in bytes, filled at the Capacity, like a kernel tbf's burst,
	// a traffic shaper or a radio scheduler that grants in bursts. While
	// the queue is empty, tokens accrue at the capacity in force, up to
	// Bucket bytes; the bucket is full when the run starts. A packet that
	// finds the queue empty spends tokens for as much of itself as they
	// cover and leaves at once (the line beyond the shaper is taken as
	// infinitely fast); the rest of it, if tokens run short, is served at
	// the capacity, as without a bucket, and the packets behind it queue.
	// Over a busy period the path thus carries the capacity's bytes plus
	// at most Bucket. It needs a Capacity and is at most [MaxBucket].
	// Zero: no bucket, a plain drop-tail queue served at the capacity.
	Bucket bwe.ByteCount
	// Delay is the one-way propagation delay after the queue.
	Delay time.Duration
	// Loss is the probability, in [0, 1], that a packet is lost when it
	// enters the path, independently of every other packet (Bernoulli).
	Loss float64
	// LossEpisodes are spans of the run during which packets entering the
	// path are also lost at random, independently, at the episode's rate
	// (a fading or congested stretch of a mobile link). They may not
	// overlap.
	LossEpisodes []LossEpisode
	// Burst, if enabled, loses packets in bursts on top of Loss.
	Burst GilbertElliott
	// Jitter adds to each packet an extra delay drawn uniformly from
	// [0, Jitter] (whole microseconds): a bounded random packet-delay
	// variation (RFC 8868 jitter models). Unless Reorder is set, a packet
	// never overtakes an earlier packet of its flow: it arrives with it
	// instead.
	Jitter time.Duration
	// Reorder lets jittered packets overtake each other.
	Reorder bool
	// SwingAmplitude and SwingPeriod add a slow periodic delay variation
	// to every packet, SwingAmplitude·sin(2π·t/SwingPeriod) at the instant
	// t the packet leaves the queue, like the RTT drift of a mobile link.
	// SwingAmplitude must not exceed Delay, so that the delay never turns
	// negative; SwingPeriod is required when SwingAmplitude is set.
	SwingAmplitude time.Duration
	SwingPeriod    time.Duration
	// WalkRange and WalkStep add a random-walk delay: every WalkInterval
	// (default 100 ms) the extra delay moves by a step drawn uniformly from
	// [−WalkStep, +WalkStep], reflected into [0, WalkRange]. It starts at
	// 0. WalkStep is required when WalkRange is set.
	WalkRange    time.Duration
	WalkStep     time.Duration
	WalkInterval time.Duration
}

// DefaultQueueDelay is the queue limit used when a [Path] sets neither
// QueueBytes nor QueueDelay: 300 ms at the current capacity (RFC 8867
// §4.2 common path default: drop-tail queue of 300 ms).
const DefaultQueueDelay = 300 * time.Millisecond

// DefaultWalkInterval is the step interval of a random-walk delay.
const DefaultWalkInterval = 100 * time.Millisecond

// GilbertElliott is a two-state Markov loss model (Gilbert 1960, Elliott
// 1963): in the good state a packet is lost with probability LossGood, in
// the bad state with LossBad; after each packet the state moves from good
// to bad with probability GoodToBad and from bad to good with BadToGood.
// The zero value is disabled. The stationary loss rate is
// (BadToGood·LossGood + GoodToBad·LossBad) ÷ (GoodToBad + BadToGood), and
// the mean burst (stay in the bad state) lasts 1/BadToGood packets.
type GilbertElliott struct {
	GoodToBad float64 `json:"good_to_bad"`
	BadToGood float64 `json:"bad_to_good"`
	LossGood  float64 `json:"loss_good"`
	LossBad   float64 `json:"loss_bad"`
}

// Enabled reports whether the model loses anything.
func (g GilbertElliott) Enabled() bool {
	return g.LossGood > 0 || (g.GoodToBad > 0 && g.LossBad > 0)
}

// MeanLoss is the stationary loss rate of the model.
func (g GilbertElliott) MeanLoss() float64 {
	if g.GoodToBad+g.BadToGood == 0 {
		return g.LossGood
	}
	return (g.BadToGood*g.LossGood + g.GoodToBad*g.LossBad) / (g.GoodToBad + g.BadToGood)
}

// Source is how a media flow produces packets.
type Source uint8

const (
	// Video is a video-like source: frames at a frame rate whose sizes
	// follow the target with an encoder's lag, keyframes, and random
	// variation, packetised and sent through a pacer.
	Video Source = iota
	// Greedy is a sender that always has data and paces equal-sized
	// packets at exactly the target: the saturating source of closed-form
	// checks.
	Greedy
)

// String returns "video" or "greedy".
func (s Source) String() string {
	switch s {
	case Video:
		return "video"
	case Greedy:
		return "greedy"
	}
	return fmt.Sprintf("source(%d)", uint8(s))
}

// Flow is one media flow: a sender whose rate follows its own bandwidth
// estimator, and a receiver that returns transport feedback.
type Flow struct {
	// Name identifies the flow in results. Default "media" for a single
	// flow, "media-<i>" (from 1) otherwise.
	Name string
	// Start and Stop bound the flow's life; Stop 0 is the end of the run.
	Start, Stop time.Duration
	// Pauses are spans during which the flow sends nothing (RFC 8867 §5.8
	// pause and resume). Its estimator keeps running.
	Pauses []Span
	// Reverse sends the flow over the Backward path, its feedback over
	// the Forward path (RFC 8867 §5.3 bi-directional media).
	Reverse bool
	// ExtraDelay is one-way delay this flow's packets and its feedback
	// take beyond their paths' Delay (RFC 8867 §5.5 RTT fairness).
	ExtraDelay time.Duration
	// StartRate is the rate the estimator starts from. Default 300 kbps
	// (libwebrtc call config: kDefaultStartBitrateBps = 300000).
	StartRate bwe.Bitrate
	// MinRate is the sender's floor: it never sends media below it, so
	// that feedback never dries up. Default 50 kbps.
	MinRate bwe.Bitrate
	// AppRate, if positive, is the most the application has to send
	// (the top of the encoder's bitrate ladder): the sender is
	// application-limited whenever the target exceeds it. Probes still go
	// out at their own rates, as padding.
	AppRate bwe.Bitrate
	// PacketSize is the largest media packet. Default 1200 bytes, the
	// packet size libwebrtc's rate controller assumes
	// (aimd_rate_control.cc: kPacketSize = 1200 bytes).
	PacketSize bwe.ByteCount
	// Source is how the flow produces packets. Default Video.
	Source Source
	// Video shapes a Video source.
	Video VideoConfig
	// FECGroup, if positive, protects a Video source's frames with parity
	// FEC: one parity packet (as large as the largest packet it covers)
	// after every FECGroup media packets of a frame, and after the frame's
	// last partial group. A group whose media and parity packets lose at
	// most one packet is repaired (an XOR parity code, as ULPFEC or
	// FlexFEC with one row). The parity packets are sent on top of the
	// encoder's output. Default 0: no FEC, unless the estimator asks for
	// protection.
	FECGroup int
}

// VideoConfig shapes a video-like source. Zero fields take the defaults
// in their comments.
type VideoConfig struct {
	// FrameRate in frames per second. Default 30.
	FrameRate int
	// KeyframeInterval is the time between keyframes; the first frame is
	// always one. Default 0: no keyframe after the first.
	KeyframeInterval time.Duration
	// KeyframeFactor is the size of a keyframe relative to a delta frame
	// at the same rate. Default 4.
	KeyframeFactor float64
	// Lag is the time constant with which the encoder's output rate
	// follows the target (first-order lag). Default 200 ms. Negative:
	// none, a perfect encoder.
	Lag time.Duration
	// Variation is the relative standard deviation of frame sizes around
	// the encoder rate (drawn from a normal distribution, truncated at
	// ±3σ). Default 0.1. Negative: none.
	Variation float64
	// PacingFactor multiplies the target to give the pacer's rate.
	// Default 2.5 (libwebrtc pacing: kDefaultPaceMultiplier = 2.5).
	PacingFactor float64
}

// Video defaults.
const (
	DefaultFrameRate      = 30
	DefaultKeyframeFactor = 4.0
	DefaultLag            = 200 * time.Millisecond
	DefaultVariation      = 0.1
	DefaultPacingFactor   = 2.5
)

// CrossKind is the kind of a cross-traffic flow.
type CrossKind uint8

const (
	// TCP is a long-lived bulk TCP flow (RFC 8867 §5.6).
	TCP CrossKind = iota
	// ShortTCP is a TCP flow that downloads files separated by idle times
	// (RFC 8867 §5.7, RFC 8868 short-TCP model).
	ShortTCP
	// CBR is non-adaptive constant-bit-rate UDP traffic.
	CBR
)

// String returns "tcp", "short-tcp" or "cbr".
func (k CrossKind) String() string {
	switch k {
	case TCP:
		return "tcp"
	case ShortTCP:
		return "short-tcp"
	case CBR:
		return "cbr"
	}
	return fmt.Sprintf("cross(%d)", uint8(k))
}

// TCPVariant is the congestion control of a TCP cross flow.
type TCPVariant uint8

const (
	// Reno is NewReno (RFC 5681, RFC 6582).
	Reno TCPVariant = iota
	// Cubic is CUBIC (RFC 9438).
	Cubic
)

// String returns "reno" or "cubic".
func (v TCPVariant) String() string {
	switch v {
	case Reno:
		return "reno"
	case Cubic:
		return "cubic"
	}
	return fmt.Sprintf("tcp(%d)", uint8(v))
}

// Cross is one cross-traffic flow.
type Cross struct {
	// Kind says what the flow is.
	Kind CrossKind
	// Name identifies the flow in results. Default "<kind>-<i>" (from 1).
	Name string
	// Start and Stop bound the flow's life; Stop 0 is the end of the run.
	Start, Stop time.Duration
	// Reverse sends the flow over the Backward path.
	Reverse bool
	// ExtraDelay is one-way delay beyond the paths' Delay.
	ExtraDelay time.Duration
	// Variant is the congestion control of a TCP or ShortTCP flow.
	// Default Reno.
	Variant TCPVariant
	// PacketSize is the segment or datagram size. Default 1000 bytes
	// for TCP (the segment size of ns-3's RFC 8867 test suite), 1200
	// for CBR.
	PacketSize bwe.ByteCount
	// Rate is the rate of a CBR flow. Required for CBR.
	Rate bwe.Bitrate
	// StartOn starts a ShortTCP flow with a download rather than an
	// idle time.
	StartOn bool
	// MinFile and MaxFile bound the file size of a ShortTCP flow (uniform).
	// Defaults 30 000 and 50 000 bytes (RFC 8868 short-TCP model:
	// 30–50 KB).
	MinFile, MaxFile bwe.ByteCount
	// MeanIdle is the mean of the exponential idle time between files of
	// a ShortTCP flow. Default 10 s (RFC 8868).
	MeanIdle time.Duration
}

// Scenario defaults.
const (
	DefaultStartRate        = 300 * bwe.Kbps
	DefaultMinRate          = 50 * bwe.Kbps
	DefaultPacketSize       = bwe.ByteCount(1200)
	DefaultSegmentSize      = bwe.ByteCount(1000)
	DefaultFeedbackInterval = 50 * time.Millisecond
	DefaultSampleInterval   = 100 * time.Millisecond
	DefaultProcessInterval  = 25 * time.Millisecond
	DefaultMinFile          = bwe.ByteCount(30_000)
	DefaultMaxFile          = bwe.ByteCount(50_000)
	DefaultMeanIdle         = 10 * time.Second
)

// Capacity is a bottleneck's capacity as a function of time: the seam
// behind which a schedule of steps ([Steps]) or a recorded capacity trace
// ([Trace]) plugs into a path. Instants are on the emulation clock, which
// reads 0 when a run starts.
//
// The capacity must be piecewise constant: At(t) holds from t until
// NextChange(t). The emulator integrates it exactly over those pieces. If
// the value also has a Validate() error method, [Scenario.WithDefaults]
// calls it and rejects the scenario when it fails.
type Capacity interface {
	// At returns the capacity in force at t. Negative values count as 0.
	At(t bwe.Time) bwe.Bitrate
	// NextChange returns the first instant after t at which the capacity
	// may change, or [bwe.MaxTime] if it stays as it is from t on.
	NextChange(t bwe.Time) bwe.Time
}

// LossEpisode is a span [From, To) of a run with a random loss rate.
type LossEpisode struct {
	From, To time.Duration
	Rate     float64
}

// Step is one piece of a [Steps] schedule: from At on (since the start of
// the run), the capacity is Capacity.
type Step struct {
	At       time.Duration `json:"at"`
	Capacity bwe.Bitrate   `json:"capacity"`
}

// Steps is a piecewise-constant capacity schedule. The first step must be
// at 0 and the steps must be in increasing order of At, at least 1 µs
// apart (the resolution of the emulation clock); each step holds until the
// next one, and the last one holds for ever. A capacity of 0 is an outage:
// nothing leaves the queue until the capacity returns.
type Steps []Step

var _ Capacity = Steps(nil)

// Constant returns the schedule of a capacity that never changes.
func Constant(r bwe.Bitrate) Steps { return Steps{{0, r}} }

// Validate reports the first thing wrong with s, or nil.
func (s Steps) Validate() error {
	if len(s) == 0 {
		return fmt.Errorf("capacity schedule is empty")
	}
	if s[0].At != 0 {
		return fmt.Errorf("capacity step 0 is at %v, want 0", s[0].At)
	}
	for i, st := range s {
		if st.Capacity < 0 {
			return fmt.Errorf("capacity step %d: capacity %d bps is negative", i, int64(st.Capacity))
		}
		if st.Capacity > MaxLinkRate {
			return fmt.Errorf("capacity step %d: capacity %v exceeds %v", i, st.Capacity, MaxLinkRate)
		}
		if i > 0 && bwe.TimeFromDuration(st.At) <= bwe.TimeFromDuration(s[i-1].At) {
			return fmt.Errorf("capacity step %d at %v is not at least 1µs after step %d at %v", i, st.At, i-1, s[i-1].At)
		}
	}
	return nil
}

// index returns the index of the step in force at t, or -1 before the
// first step.
func (s Steps) index(t bwe.Time) int {
	return sort.Search(len(s), func(i int) bool { return bwe.TimeFromDuration(s[i].At) > t }) - 1
}

// At returns the capacity in force at t (0 before the first step).
func (s Steps) At(t bwe.Time) bwe.Bitrate {
	i := s.index(t)
	if i < 0 {
		return 0
	}
	return s[i].Capacity
}

// NextChange returns the instant of the first step after t, or
// [bwe.MaxTime] if there is none.
func (s Steps) NextChange(t bwe.Time) bwe.Time {
	i := s.index(t) + 1
	if i >= len(s) {
		return bwe.MaxTime
	}
	return bwe.TimeFromDuration(s[i].At)
}

// WithDefaults returns s with its zero fields set to their defaults, or an
// error naming the first invalid field ("traces: scenario "x": Flows[1].AppRate ...").
func (s Scenario) WithDefaults() (Scenario, error) {
	if s.FeedbackInterval == 0 {
		s.FeedbackInterval = DefaultFeedbackInterval
	}
	if s.SampleInterval == 0 {
		s.SampleInterval = DefaultSampleInterval
	}
	if s.ProcessInterval == 0 {
		s.ProcessInterval = DefaultProcessInterval
	}
	s.Forward = s.Forward.withDefaults()
	if s.Backward.Capacity != nil {
		s.Backward = s.Backward.withDefaults()
	} else if s.Backward.Delay == 0 {
		s.Backward.Delay = s.Forward.Delay
	}
	if len(s.Flows) == 0 {
		s.Flows = []Flow{{}}
	} else {
		s.Flows = append([]Flow(nil), s.Flows...)
	}
	for i := range s.Flows {
		f := &s.Flows[i]
		if f.Name == "" {
			f.Name = "media"
			if len(s.Flows) > 1 {
				f.Name = fmt.Sprintf("media-%d", i+1)
			}
		}
		f.withDefaults()
	}
	s.Cross = append([]Cross(nil), s.Cross...)
	for i := range s.Cross {
		c := &s.Cross[i]
		if c.Name == "" {
			c.Name = fmt.Sprintf("%s-%d", c.Kind, i+1)
		}
		c.withDefaults()
	}
	if err := s.validate(); err != nil {
		return s, fmt.Errorf("traces: scenario %q: %w", s.Name, err)
	}
	return s, nil
}

func (p Path) withDefaults() Path {
	if p.QueueBytes == 0 && p.QueueDelay == 0 {
		p.QueueDelay = DefaultQueueDelay
	}
	if p.WalkRange > 0 && p.WalkInterval == 0 {
		p.WalkInterval = DefaultWalkInterval
	}
	p.LossEpisodes = slices.Clone(p.LossEpisodes)
	return p
}

func (f *Flow) withDefaults() {
	if f.StartRate == 0 {
		f.StartRate = DefaultStartRate
	}
	if f.MinRate == 0 {
		f.MinRate = DefaultMinRate
	}
	if f.PacketSize == 0 {
		f.PacketSize = DefaultPacketSize
	}
	v := &f.Video
	if v.FrameRate == 0 {
		v.FrameRate = DefaultFrameRate
	}
	if v.KeyframeFactor == 0 {
		v.KeyframeFactor = DefaultKeyframeFactor
	}
	if v.Lag == 0 {
		v.Lag = DefaultLag
	} else if v.Lag < 0 {
		v.Lag = 0
	}
	if v.Variation == 0 {
		v.Variation = DefaultVariation
	} else if v.Variation < 0 {
		v.Variation = 0
	}
	if v.PacingFactor == 0 {
		v.PacingFactor = DefaultPacingFactor
	}
	f.Pauses = append([]Span(nil), f.Pauses...)
}

func (c *Cross) withDefaults() {
	if c.PacketSize == 0 {
		c.PacketSize = DefaultSegmentSize
		if c.Kind == CBR {
			c.PacketSize = DefaultPacketSize
		}
	}
	if c.Kind == ShortTCP {
		if c.MinFile == 0 {
			c.MinFile = DefaultMinFile
		}
		if c.MaxFile == 0 {
			c.MaxFile = DefaultMaxFile
		}
		if c.MeanIdle == 0 {
			c.MeanIdle = DefaultMeanIdle
		}
	}
}

// problem collects the first invalid field of a value being validated.
type problem struct {
	field, what string
}

func (p *problem) set(cond bool, field, format string, args ...any) {
	if cond && p.field == "" {
		p.field, p.what = field, fmt.Sprintf(format, args...)
	}
}

func (p *problem) err() error {
	if p.field == "" {
		return nil
	}
	return fmt.Errorf("%s %s", p.field, p.what)
}

// validName reports whether name is non-empty and uses letters, digits and
// "-_.+/" only, so that it can name files.
func validName(name string) bool {
	if name == "" || len(name) > 128 {
		return false
	}
	return strings.IndexFunc(name, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.+/", r))
	}) < 0
}

func (s *Scenario) validate() error {
	var p problem
	p.set(!validName(s.Name), "Name", "%q must be 1–128 letters, digits or -_.+/", s.Name)
	p.set(s.Duration <= 0 || s.Duration > MaxDuration, "Duration", "%v is outside (0, %v]", s.Duration, MaxDuration)
	p.set(s.Warmup < 0 || s.Warmup >= s.Duration, "Warmup", "%v is outside [0, Duration %v)", s.Warmup, s.Duration)
	p.set(s.FeedbackInterval < time.Millisecond || s.FeedbackInterval > s.Duration, "FeedbackInterval", "%v is outside [1ms, Duration]", s.FeedbackInterval)
	p.set(s.SampleInterval < time.Millisecond || s.SampleInterval > s.Duration, "SampleInterval", "%v is outside [1ms, Duration]", s.SampleInterval)
	p.set(s.ProcessInterval < time.Millisecond || s.ProcessInterval > s.Duration, "ProcessInterval", "%v is outside [1ms, Duration]", s.ProcessInterval)
	p.set(len(s.Flows)+len(s.Cross) > MaxFlows, "Flows", "and Cross hold %d flows, more than %d", len(s.Flows)+len(s.Cross), MaxFlows)
	for i, o := range s.FeedbackOutages {
		p.set(o.From < 0 || o.To <= o.From, fmt.Sprintf("FeedbackOutages[%d]", i), "[%v, %v) is not a span of the run", o.From, o.To)
	}
	if err := p.err(); err != nil {
		return err
	}
	if s.Forward.Capacity == nil {
		return fmt.Errorf("Forward.Capacity is nil")
	}
	if err := s.Forward.validate("Forward"); err != nil {
		return err
	}
	if err := s.Backward.validate("Backward"); err != nil {
		return err
	}
	names := map[string]bool{}
	for i := range s.Flows {
		if err := s.Flows[i].validate(fmt.Sprintf("Flows[%d]", i), s.Duration); err != nil {
			return err
		}
		p.set(names[s.Flows[i].Name], fmt.Sprintf("Flows[%d].Name", i), "%q is used twice", s.Flows[i].Name)
		names[s.Flows[i].Name] = true
	}
	for i := range s.Cross {
		if err := s.Cross[i].validate(fmt.Sprintf("Cross[%d]", i), s.Duration); err != nil {
			return err
		}
		p.set(names[s.Cross[i].Name], fmt.Sprintf("Cross[%d].Name", i), "%q is used twice", s.Cross[i].Name)
		names[s.Cross[i].Name] = true
	}
	return p.err()
}

func probability(x float64) bool { return x >= 0 && x <= 1 } // false for NaN

// Validate reports the first invalid field of p, as a path of a scenario
// with its defaults filled in; errors name the field as "Path.Field".
func (p Path) Validate() error { return p.validate("Path") }

func (c Path) validate(name string) error {
	if c.Capacity != nil {
		if v, ok := c.Capacity.(interface{ Validate() error }); ok {
			if err := v.Validate(); err != nil {
				return fmt.Errorf("%s.Capacity: %w", name, err)
			}
		}
	}
	var p problem
	f := func(field string) string { return name + "." + field }
	p.set(c.QueueBytes < 0, f("QueueBytes"), "%d is negative", c.QueueBytes)
	p.set(c.QueueDelay < 0, f("QueueDelay"), "%v is negative", c.QueueDelay)
	p.set(c.QueueBytes > 0 && c.QueueDelay > 0, f("QueueBytes"), "and QueueDelay are both set")
	p.set(c.Bucket < 0 || c.Bucket > MaxBucket, f("Bucket"), "%d bytes is outside [0, %d]", c.Bucket, MaxBucket)
	p.set(c.Bucket > 0 && c.Capacity == nil, f("Bucket"), "is set on a path without Capacity")
	p.set(c.Delay < 0 || c.Delay > time.Hour, f("Delay"), "%v is outside [0, 1h]", c.Delay)
	p.set(!probability(c.Loss), f("Loss"), "%v is outside [0, 1]", c.Loss)
	var prevEnd time.Duration
	for i, e := range c.LossEpisodes {
		fi := f(fmt.Sprintf("LossEpisodes[%d]", i))
		p.set(e.From < 0 || e.To <= e.From, fi, "[%v, %v) is not a span", e.From, e.To)
		p.set(!probability(e.Rate), fi, "rate %v is outside [0, 1]", e.Rate)
		p.set(i > 0 && e.From < prevEnd, fi, "starts at %v, before the previous episode ends (%v)", e.From, prevEnd)
		prevEnd = e.To
	}
	g := c.Burst
	p.set(!probability(g.GoodToBad), f("Burst.GoodToBad"), "%v is outside [0, 1]", g.GoodToBad)
	p.set(!probability(g.BadToGood), f("Burst.BadToGood"), "%v is outside [0, 1]", g.BadToGood)
	p.set(!probability(g.LossGood), f("Burst.LossGood"), "%v is outside [0, 1]", g.LossGood)
	p.set(!probability(g.LossBad), f("Burst.LossBad"), "%v is outside [0, 1]", g.LossBad)
	p.set(c.Jitter < 0 || c.Jitter > time.Hour, f("Jitter"), "%v is outside [0, 1h]", c.Jitter)
	p.set(c.SwingAmplitude < 0, f("SwingAmplitude"), "%v is negative", c.SwingAmplitude)
	p.set(c.SwingAmplitude > c.Delay, f("SwingAmplitude"), "%v exceeds Delay %v", c.SwingAmplitude, c.Delay)
	p.set(c.SwingPeriod < 0, f("SwingPeriod"), "%v is negative", c.SwingPeriod)
	p.set(c.SwingAmplitude > 0 && c.SwingPeriod < time.Microsecond, f("SwingPeriod"), "%v must be at least 1µs when SwingAmplitude is set", c.SwingPeriod)
	p.set(c.WalkRange < 0 || c.WalkRange > time.Hour, f("WalkRange"), "%v is outside [0, 1h]", c.WalkRange)
	p.set(c.WalkStep < 0 || c.WalkStep > c.WalkRange, f("WalkStep"), "%v is outside [0, WalkRange %v]", c.WalkStep, c.WalkRange)
	p.set(c.WalkRange > 0 && c.WalkStep < time.Microsecond, f("WalkStep"), "%v must be at least 1µs when WalkRange is set", c.WalkStep)
	p.set(c.WalkInterval < 0 || (c.WalkRange > 0 && c.WalkInterval < time.Microsecond), f("WalkInterval"), "%v must be at least 1µs when WalkRange is set", c.WalkInterval)
	return p.err()
}

func validRate(r bwe.Bitrate) bool { return r >= 0 && r <= MaxLinkRate }

func (fl *Flow) validate(name string, run time.Duration) error {
	var p problem
	f := func(field string) string { return name + "." + field }
	p.set(!validName(fl.Name), f("Name"), "%q must be 1–128 letters, digits or -_.+/", fl.Name)
	p.set(fl.Start < 0 || fl.Start >= run, f("Start"), "%v is outside [0, Duration %v)", fl.Start, run)
	p.set(fl.Stop != 0 && (fl.Stop <= fl.Start || fl.Stop > run), f("Stop"), "%v is outside (Start %v, Duration %v]", fl.Stop, fl.Start, run)
	p.set(fl.ExtraDelay < 0 || fl.ExtraDelay > time.Hour, f("ExtraDelay"), "%v is outside [0, 1h]", fl.ExtraDelay)
	p.set(!validRate(fl.StartRate) || fl.StartRate == 0, f("StartRate"), "%d bps is outside (0, %v]", int64(fl.StartRate), MaxLinkRate)
	p.set(!validRate(fl.MinRate), f("MinRate"), "%d bps is outside [0, %v]", int64(fl.MinRate), MaxLinkRate)
	p.set(!validRate(fl.AppRate), f("AppRate"), "%d bps is outside [0, %v]", int64(fl.AppRate), MaxLinkRate)
	p.set(fl.PacketSize < 1 || fl.PacketSize > MaxPacketSize, f("PacketSize"), "%d bytes is outside [1, %d]", fl.PacketSize, MaxPacketSize)
	p.set(fl.Source > Greedy, f("Source"), "%v is not a source", fl.Source)
	p.set(fl.FECGroup < 0 || fl.FECGroup > MaxFECGroup, f("FECGroup"), "%d is outside [0, %d]", fl.FECGroup, MaxFECGroup)
	v := fl.Video
	p.set(v.FrameRate < 1 || v.FrameRate > 1000, f("Video.FrameRate"), "%d is outside [1, 1000]", v.FrameRate)
	p.set(v.KeyframeInterval < 0, f("Video.KeyframeInterval"), "%v is negative", v.KeyframeInterval)
	p.set(!(v.KeyframeFactor >= 1 && v.KeyframeFactor <= 100), f("Video.KeyframeFactor"), "%v is outside [1, 100]", v.KeyframeFactor)
	p.set(v.Lag < 0 || v.Lag > time.Minute, f("Video.Lag"), "%v is outside [0, 1m]", v.Lag)
	p.set(!(v.Variation >= 0 && v.Variation <= 1), f("Video.Variation"), "%v is outside [0, 1]", v.Variation)
	p.set(!(v.PacingFactor >= 1 && v.PacingFactor <= 100), f("Video.PacingFactor"), "%v is outside [1, 100]", v.PacingFactor)
	for i, ps := range fl.Pauses {
		p.set(ps.From < 0 || ps.To <= ps.From, f(fmt.Sprintf("Pauses[%d]", i)), "[%v, %v) is not a span of the run", ps.From, ps.To)
	}
	return p.err()
}

func (c *Cross) validate(name string, run time.Duration) error {
	var p problem
	f := func(field string) string { return name + "." + field }
	p.set(c.Kind > CBR, f("Kind"), "%v is not a kind of cross traffic", c.Kind)
	p.set(!validName(c.Name), f("Name"), "%q must be 1–128 letters, digits or -_.+/", c.Name)
	p.set(c.Start < 0 || c.Start >= run, f("Start"), "%v is outside [0, Duration %v)", c.Start, run)
	p.set(c.Stop != 0 && (c.Stop <= c.Start || c.Stop > run), f("Stop"), "%v is outside (Start %v, Duration %v]", c.Stop, c.Start, run)
	p.set(c.ExtraDelay < 0 || c.ExtraDelay > time.Hour, f("ExtraDelay"), "%v is outside [0, 1h]", c.ExtraDelay)
	p.set(c.Variant > Cubic, f("Variant"), "%v is not a TCP variant", c.Variant)
	p.set(c.PacketSize < 1 || c.PacketSize > MaxPacketSize, f("PacketSize"), "%d bytes is outside [1, %d]", c.PacketSize, MaxPacketSize)
	p.set(c.Kind == CBR && (c.Rate <= 0 || c.Rate > MaxLinkRate), f("Rate"), "%d bps is outside (0, %v]", int64(c.Rate), MaxLinkRate)
	if c.Kind == ShortTCP {
		p.set(c.MinFile < 1 || c.MinFile > c.MaxFile, f("MinFile"), "%d is outside [1, MaxFile %d]", c.MinFile, c.MaxFile)
		p.set(c.MaxFile > 1<<40, f("MaxFile"), "%d exceeds 1 TiB", c.MaxFile)
		p.set(c.MeanIdle <= 0 || c.MeanIdle > time.Hour, f("MeanIdle"), "%v is outside (0, 1h]", c.MeanIdle)
	}
	return p.err()
}

// Active reports whether the flow sends at d: after Start, before Stop
// and outside its pauses.
func (fl *Flow) Active(d time.Duration) bool {
	if d < fl.Start || (fl.Stop != 0 && d >= fl.Stop) {
		return false
	}
	for _, p := range fl.Pauses {
		if p.Contains(d) {
			return false
		}
	}
	return true
}

// InOutage reports whether d falls in one of the scenario's feedback
// outages.
func (s *Scenario) InOutage(d time.Duration) bool {
	for _, o := range s.FeedbackOutages {
		if o.Contains(d) {
			return true
		}
	}
	return false
}
