package replay

import (
	"errors"
	"fmt"
	"time"

	"github.com/bwelab/bwe"
)

// MaxDuration is the longest [Scenario] that [Run] accepts.
const MaxDuration = 24 * time.Hour

// Scenario is one closed-loop experiment: a sender whose rate follows the
// estimator under test, a bottleneck [Link], and a receiver that returns
// transport feedback. Zero fields take the defaults given in their
// comments ([Scenario.WithDefaults] fills them in).
type Scenario struct {
	// Name identifies the scenario in tables and file names.
	Name string
	// Seed seeds every random process of the run (loss, jitter).
	Seed uint64
	// Duration is how long the run lasts, in emulated time. Required, at
	// most [MaxDuration].
	Duration time.Duration
	// Warmup is the initial part of the run left out of [Metrics]: the
	// metrics describe the steady part, [Warmup, Duration). Zero measures
	// the whole run; it must be shorter than Duration.
	Warmup time.Duration
	// Link is the bottleneck and the path around it.
	Link LinkConfig
	// StartRate is the rate the estimator starts from. Default 300 kbps
	// (libwebrtc call config: kDefaultStartBitrateBps = 300000).
	StartRate bwe.Bitrate
	// MinRate is the sender's floor: it paces at max(target, MinRate), so
	// that feedback never dries up. Default 50 kbps (one 1200-byte packet
	// every 192 ms).
	MinRate bwe.Bitrate
	// PacketSize is the size of every media packet. Default 1200 bytes,
	// the packet size libwebrtc's rate controller assumes
	// (aimd_rate_control.cc: kPacketSize = 1200 bytes).
	PacketSize bwe.ByteCount
	// FeedbackInterval is how often the receiver sends transport
	// feedback. Default 50 ms (the feedback interval of the reference
	// measurements in the evaluation notes).
	FeedbackInterval time.Duration
	// SampleInterval is the spacing of the [Sample] time series. Default
	// 100 ms.
	SampleInterval time.Duration
	// ProcessInterval is how often the sender calls the estimator's
	// Process. Default 25 ms (libwebrtc's process interval in its
	// goog_cc_network_control tests).
	ProcessInterval time.Duration
	// AppRate, if positive, is the most the application has to send: the
	// sender is application-limited whenever the target exceeds it.
	// Probes still go out at their own rates, as padding. Zero: the
	// application always has data (a greedy sender).
	AppRate bwe.Bitrate
	// FeedbackOutages are spans of the run during which every feedback
	// report is lost on its way back to the sender.
	FeedbackOutages []Outage
}

// Outage is the span [From, To) of a run.
type Outage struct {
	From, To time.Duration
}

// inOutage reports whether t falls in one of the feedback outages.
func (s *Scenario) inOutage(t bwe.Time) bool {
	for _, o := range s.FeedbackOutages {
		if t >= bwe.TimeFromDuration(o.From) && t < bwe.TimeFromDuration(o.To) {
			return true
		}
	}
	return false
}

// Scenario defaults.
const (
	DefaultStartRate        = 300 * bwe.Kbps
	DefaultMinRate          = 50 * bwe.Kbps
	DefaultPacketSize       = bwe.ByteCount(1200)
	DefaultFeedbackInterval = 50 * time.Millisecond
	DefaultSampleInterval   = 100 * time.Millisecond
	DefaultProcessInterval  = 25 * time.Millisecond
)

// WithDefaults returns s with its zero fields set to their defaults, or an
// error naming the first invalid field.
func (s Scenario) WithDefaults() (Scenario, error) {
	if s.StartRate == 0 {
		s.StartRate = DefaultStartRate
	}
	if s.MinRate == 0 {
		s.MinRate = DefaultMinRate
	}
	if s.PacketSize == 0 {
		s.PacketSize = DefaultPacketSize
	}
	if s.FeedbackInterval == 0 {
		s.FeedbackInterval = DefaultFeedbackInterval
	}
	if s.SampleInterval == 0 {
		s.SampleInterval = DefaultSampleInterval
	}
	if s.ProcessInterval == 0 {
		s.ProcessInterval = DefaultProcessInterval
	}
	if s.Link.QueueBytes == 0 && s.Link.QueueDelay == 0 {
		s.Link.QueueDelay = DefaultQueueDelay
	}
	var field, problem string
	switch {
	case s.Duration <= 0:
		field, problem = "Duration", fmt.Sprintf("%v is not positive", s.Duration)
	case s.Duration > MaxDuration:
		field, problem = "Duration", fmt.Sprintf("%v exceeds %v", s.Duration, MaxDuration)
	case s.Warmup < 0:
		field, problem = "Warmup", fmt.Sprintf("%v is negative", s.Warmup)
	case s.Warmup >= s.Duration:
		field, problem = "Warmup", fmt.Sprintf("%v leaves nothing of Duration %v to measure", s.Warmup, s.Duration)
	case s.StartRate < 0 || s.StartRate > MaxCapacity:
		field, problem = "StartRate", fmt.Sprintf("%d bps is outside [0, %v]", int64(s.StartRate), MaxCapacity)
	case s.MinRate < 0 || s.MinRate > MaxCapacity:
		field, problem = "MinRate", fmt.Sprintf("%d bps is outside [0, %v]", int64(s.MinRate), MaxCapacity)
	case s.PacketSize < 0 || s.PacketSize > MaxPacketSize:
		field, problem = "PacketSize", fmt.Sprintf("%d bytes is outside [1, %d]", s.PacketSize, MaxPacketSize)
	case s.FeedbackInterval < time.Millisecond || s.FeedbackInterval > s.Duration:
		field, problem = "FeedbackInterval", fmt.Sprintf("%v is outside [1ms, Duration]", s.FeedbackInterval)
	case s.SampleInterval < time.Millisecond || s.SampleInterval > s.Duration:
		field, problem = "SampleInterval", fmt.Sprintf("%v is outside [1ms, Duration]", s.SampleInterval)
	case s.ProcessInterval < time.Millisecond || s.ProcessInterval > s.Duration:
		field, problem = "ProcessInterval", fmt.Sprintf("%v is outside [1ms, Duration]", s.ProcessInterval)
	case s.AppRate < 0 || s.AppRate > MaxCapacity:
		field, problem = "AppRate", fmt.Sprintf("%d bps is outside [0, %v]", int64(s.AppRate), MaxCapacity)
	}
	for i, o := range s.FeedbackOutages {
		if field == "" && (o.From < 0 || o.To <= o.From) {
			field, problem = fmt.Sprintf("FeedbackOutages[%d]", i), fmt.Sprintf("[%v, %v) is not a span of the run", o.From, o.To)
		}
	}
	if field != "" {
		return s, fmt.Errorf("replay: scenario %q: Scenario.%s %s", s.Name, field, problem)
	}
	if err := s.Link.validate(); err != nil {
		return s, fmt.Errorf("replay: scenario %q: %w", s.Name, err)
	}
	return s, nil
}

// Scenarios returns the built-in scenarios, all with seed 1 and a 10 s
// warm-up:
//
//	steady-2M     2 Mbps, 50 ms one-way, 300 ms queue, 60 s, start 300 kbps
//	drop-1M-0.5M  1 Mbps, 0.5 Mbps from 20 s to 40 s, otherwise as steady-2M
//	steady-20M    20 Mbps, 100 ms one-way, 300 ms queue, 60 s, start 1 Mbps
//	jitter-4M     4 Mbps, 50 ms one-way, 300 ms queue, extra delay uniform in
//	              [0, 60 ms] (FIFO) plus a ±20 ms swing with an 8 s period,
//	              no loss, 60 s, start 300 kbps
//
// The 50 ms one-way delay and the 300 ms drop-tail queue are RFC 8867's
// common path defaults; the drop follows RFC 8867 §5.1's variable-capacity
// case; 20 Mbps at 100 ms and the RTT-jitter case come from the scenario
// families of the evaluation notes.
func Scenarios() []Scenario {
	base := func(name string, c Capacity, delay time.Duration, start bwe.Bitrate) Scenario {
		return Scenario{
			Name:      name,
			Seed:      1,
			Duration:  60 * time.Second,
			Warmup:    10 * time.Second,
			StartRate: start,
			Link: LinkConfig{
				Capacity:   c,
				QueueDelay: 300 * time.Millisecond,
				Delay:      delay,
			},
		}
	}
	jitter := base("jitter-4M", Steps{{0, 4 * bwe.Mbps}}, 50*time.Millisecond, 300*bwe.Kbps)
	jitter.Link.Jitter = 60 * time.Millisecond
	jitter.Link.SwingAmplitude = 20 * time.Millisecond
	jitter.Link.SwingPeriod = 8 * time.Second
	return []Scenario{
		base("steady-2M", Steps{{0, 2 * bwe.Mbps}}, 50*time.Millisecond, 300*bwe.Kbps),
		base("drop-1M-0.5M", Steps{
			{0, 1 * bwe.Mbps},
			{20 * time.Second, 500 * bwe.Kbps},
			{40 * time.Second, 1 * bwe.Mbps},
		}, 50*time.Millisecond, 300*bwe.Kbps),
		base("steady-20M", Steps{{0, 20 * bwe.Mbps}}, 100*time.Millisecond, 1*bwe.Mbps),
		jitter,
	}
}

// ScenarioByName returns the built-in scenario called name.
func ScenarioByName(name string) (Scenario, error) {
	for _, s := range Scenarios() {
		if s.Name == name {
			return s, nil
		}
	}
	return Scenario{}, errors.New("replay: no built-in scenario named " + fmt.Sprintf("%q", name))
}
