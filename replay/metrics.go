package replay

import (
	"cmp"
	"slices"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/replay/metrics"
	"github.com/bwelab/bwe/sendside"
	"github.com/bwelab/bwe/traces"
)

// DeliveredWindow is the window over which [Sample].Delivered is measured
// (RFC 8868 samples receive rates at 200 ms intervals).
const DeliveredWindow = 200 * time.Millisecond

// Sample is the state of a run at one instant, for plots.
type Sample struct {
	// At is the instant of the sample (emulation clock, 0 at the start).
	At bwe.Time
	// Capacity is the bottleneck capacity in force at At.
	Capacity bwe.Bitrate
	// Target is the encoder's target: the rate controller's output when
	// the estimator has one, otherwise the estimator's latest estimate
	// (the source produces at no less than Flow.MinRate).
	Target bwe.Bitrate
	// Estimate is the estimator's latest estimate, the target before the
	// rate controller. The pacer carries at least the larger of the two.
	Estimate bwe.Bitrate
	// Delivered is the rate at which packets reached the receiver over
	// (At − DeliveredWindow, At].
	Delivered bwe.Bitrate
	// QueueDelay is the queuing delay (see [Metrics]) of the last packet
	// that reached the receiver at or before At; 0 before the first.
	QueueDelay time.Duration
	// Sent is the rate at which the sender sent (media and probes) over
	// (At − SentWindow, At].
	Sent bwe.Bitrate
	// DelayBased and LossBased are the delay-based and loss-based
	// estimates behind the target, Limit what set the target, and InALR
	// whether the estimator judged the sender application-limited, all
	// as of the latest estimator call.
	DelayBased, LossBased bwe.Bitrate
	Limit                 sendside.Limit
	InALR                 bool
	// Usage is the detector's verdict in the latest feedback the sender
	// processed.
	Usage bwe.Usage
}

// SentWindow is the window over which [Sample].Sent is measured.
const SentWindow = time.Second

// Metrics summarises the steady part of a run, [Scenario.Warmup,
// Scenario.Duration), in the vocabulary shared with trace replay and the
// bench (DESIGN.md "Metrics").
type Metrics struct {
	// Utilization is the bits that left the bottleneck during the steady
	// part, divided by the bits its capacity could have carried then: a
	// number in [0, 1] (0 if the capacity was 0 throughout).
	Utilization float64
	// BaseDelay is the smallest one-way delay (arrival − send) of any
	// packet of the run, the reference of the queuing delay.
	BaseDelay time.Duration
	// QueueP50, QueueP95 and QueueP99 are percentiles (nearest rank) of the queuing
	// delay, one-way delay − BaseDelay, of the packets sent during the
	// steady part that reached the receiver. With jitter or a delay swing,
	// the queuing delay includes that delay variation.
	QueueP50, QueueP95, QueueP99 time.Duration
	// Sent is the number of packets sent during the steady part, and Lost
	// the number of them that never reached the receiver (tail drops,
	// random losses and stranded packets).
	Sent, Lost int
	// LossRate is Lost ÷ Sent, 0 if nothing was sent.
	LossRate float64
	// Parity counts the FEC parity packets among Sent, and ResidualLoss
	// is the share of the media packets (parity excluded) sent during the
	// steady part that were lost and not repaired by their FEC group; it
	// equals the media loss rate without FEC.
	Parity       int
	ResidualLoss float64
	// MediaGoodput is the rate of the media the flow sent during the
	// steady part that reached the receiver or was repaired there (no
	// parity, no padding), over the steady part.
	MediaGoodput bwe.Bitrate
	// MeanTarget is the mean of the sampled targets in the steady part.
	MeanTarget bwe.Bitrate
	// MaxEstimate is the highest sampled estimate (the estimator's
	// target, before any encoder rate controller) in the steady part.
	MaxEstimate bwe.Bitrate
	// RampUp is, if RampedUp, the time from the flow's start until its
	// sampled estimate first reached RampUpShare of the capacity at that
	// sample (at the resolution of Scenario.SampleInterval).
	RampUp   time.Duration
	RampedUp bool
	// Overuses counts the overuse signals during the steady part: the
	// feedback reports after which the detector said "overusing" and
	// after the previous one it did not.
	Overuses int

	// SampledUtilization is RFC 8868's utilization: the delivered rate ÷
	// the capacity, sampled every 200 ms and averaged over the steady part
	// of every capacity phase (each phase's first 5 s left out), within
	// the steady part of the run.
	SampledUtilization float64
	// Convergence describes, for the flow's start and every capacity change
	// during its life, how long the target took to settle within ±10 % of
	// its new steady value for 5 s (docs/metrics.md).
	Convergence []PhaseConvergence
	// Oscillation is the oscillation index of the target over the steady
	// part (2 × the amplitude of its dominant periodic component ÷ its
	// mean, weighted over steady-capacity phases), with the period and
	// strength of the strongest one.
	Oscillation       float64
	OscillationPeriod time.Duration
	OscillationPower  float64
	// TargetCV is the mean coefficient of variation of the target over
	// 10 s windows of steady capacity, and TargetCVMax the largest.
	TargetCV, TargetCVMax float64
	// Swings counts the target's swings between RFC 8868's watermarks
	// (0.5–1, 1–2 and 2–4 Mbps), and Reversals its direction reversals
	// larger than 10 % per minute.
	Swings    [3]int
	Reversals float64
	// Frames counts the frames a video source produced during the steady
	// part, FramesLost those with a packet that never arrived (no repair
	// is modelled), and Freezes and FreezeTime the W3C webrtc-stats
	// freezes of the frames that arrived whole.
	Frames, FramesLost int
	Freezes            int
	FreezeTime         time.Duration
	// Score is the MMSys 2021 challenge score (docs/metrics.md), with the
	// share of frames that arrived whole as the video term (1 for a greedy
	// source), 1 − loss rate as the audio term, and the flow's fair share
	// of the mean capacity as the reference rate.
	Score float64
}

// RampUpShare is the share of the capacity the estimate must reach to
// end the ramp-up ([Metrics.RampUp]): 0.8.
const RampUpShare = 0.8

// PhaseConvergence is the convergence of a flow's target after one event.
type PhaseConvergence struct {
	// At is the event: the flow's start or a capacity change.
	At time.Duration
	// Time is how long the target took to settle, if Converged, and
	// Steady the value it settled on (the median of the phase's last 5 s).
	Time      time.Duration
	Converged bool
	Steady    bwe.Bitrate
}

// metrics computes the flow's metrics and completes its samples.
func (e *mediaFlow) metrics() Metrics {
	var m Metrics
	m.Overuses = e.overuses

	// Base delay over the whole run.
	base, haveBase := time.Duration(0), false
	for i := range e.packets {
		p := &e.packets[i]
		if p.fate.Outcome != Delivered {
			continue
		}
		if d := p.fate.Arrival.Sub(p.send); !haveBase || d < base {
			base, haveBase = d, true
		}
	}
	m.BaseDelay = base

	// Per-packet counts over the steady part.
	var delivered int64 // bits that left the bottleneck in [warmup, end)
	var queueing []time.Duration
	groupLost := e.groupLosses()
	var media, residual int
	var mediaBits int64 // media (not parity or padding) that arrived or was repaired
	for i := range e.packets {
		p := &e.packets[i]
		ok := p.fate.Outcome == Delivered
		if ok && p.fate.Departure >= e.e.warmup && p.fate.Departure < e.e.end {
			delivered += p.size.Bits()
		}
		if p.send < e.e.warmup {
			continue
		}
		m.Sent++
		if p.parity {
			m.Parity++
		} else {
			media++
			if !ok && !repaired(p, groupLost) {
				residual++
			} else if p.frame > 0 || e.cfg.Source == traces.Greedy {
				mediaBits += p.size.Bits()
			}
		}
		if !ok {
			m.Lost++
			continue
		}
		queueing = append(queueing, p.fate.Arrival.Sub(p.send)-base)
	}
	if m.Sent > 0 {
		m.LossRate = float64(m.Lost) / float64(m.Sent)
	}
	if media > 0 {
		m.ResidualLoss = float64(residual) / float64(media)
	}
	if e.e.end > e.e.warmup {
		m.MediaGoodput = bwe.RateOf(bwe.ByteCount(mediaBits/8), duration(e.e.end-e.e.warmup))
	}
	if c := capacityBits(e.out, e.e.warmup, e.e.end); c > 0 {
		m.Utilization = min(float64(delivered)/c, 1)
	}
	slices.Sort(queueing)
	q := metrics.DelayQuantiles(queueing)
	m.QueueP50, m.QueueP95, m.QueueP99 = q.P50, q.P95, q.P99

	// Samples: delivered rate and queuing delay from the arrivals, in
	// order of arrival.
	arr := make([]arrival, 0, len(e.packets))
	for i := range e.packets {
		p := &e.packets[i]
		if p.fate.Outcome == Delivered {
			arr = append(arr, arrival{departure: p.send, at: p.fate.Arrival, size: p.size})
		}
	}
	arr = sortedArrivals(arr)
	var sum bwe.ByteCount // bytes that arrived in the window
	var n int64
	lo, hi := 0, 0
	var sentSum bwe.ByteCount // bytes sent in the sent window
	sentLo, sentHi := 0, 0
	var lastQueue time.Duration
	for i := range e.samples {
		s := &e.samples[i]
		for ; hi < len(arr) && arr[hi].at <= s.At; hi++ {
			sum += arr[hi].size
			lastQueue = arr[hi].at.Sub(arr[hi].departure) - base
		}
		for ; lo < hi && arr[lo].at <= s.At.Add(-DeliveredWindow); lo++ {
			sum -= arr[lo].size
		}
		for ; sentHi < len(e.packets) && e.packets[sentHi].send <= s.At; sentHi++ {
			sentSum += e.packets[sentHi].size
		}
		for ; sentLo < sentHi && e.packets[sentLo].send <= s.At.Add(-SentWindow); sentLo++ {
			sentSum -= e.packets[sentLo].size
		}
		s.Sent = bwe.RateOf(sentSum, SentWindow)
		s.Delivered = bwe.RateOf(sum, DeliveredWindow)
		s.QueueDelay = lastQueue
		if s.At >= e.e.warmup {
			m.MeanTarget += s.Target
			m.MaxEstimate = max(m.MaxEstimate, s.Estimate)
			n++
		}
		if !m.RampedUp && s.At >= e.start && s.Capacity > 0 && s.Estimate.Float() >= RampUpShare*s.Capacity.Float() {
			m.RampUp, m.RampedUp = s.At.Sub(e.start), true
		}
	}
	if n > 0 {
		m.MeanTarget /= bwe.Bitrate(n)
	}
	e.seriesMetrics(&m)
	e.frameMetrics(&m, arr, groupLost)
	return m
}

// groupLosses returns, indexed by FEC group, how many of each group's
// packets (media and parity) never arrived.
func (m *mediaFlow) groupLosses() []int32 {
	if m.fecGroups == 0 {
		return nil
	}
	lost := make([]int32, m.fecGroups+1)
	for i := range m.packets {
		p := &m.packets[i]
		if p.group > 0 && p.fate.Outcome != Delivered {
			lost[p.group]++
		}
	}
	return lost
}

// repaired reports whether the lost packet p is recovered by its FEC
// group: one parity packet recovers one loss in its group.
func repaired(p *packet, groupLost []int32) bool {
	return p.group > 0 && groupLost[p.group] <= 1
}

// capacityBits returns the bits the bottleneck could carry over [from, to).
func capacityBits(l *Link, from, to bwe.Time) float64 {
	var bits float64
	c := l.cfg.Capacity
	if c == nil {
		return MaxCapacity.Float() * float64(to-from) / 1e6
	}
	for t := from; t < to; {
		next := c.NextChange(t)
		if next <= t || next > to {
			next = to
		}
		r := l.CapacityAt(t)
		bits += r.Float() * float64(next-t) / 1e6
		t = next
	}
	return bits
}

// sortedArrivals returns arr in order of arrival (stable: packets that
// arrive together keep their order). It sorts in place.
func sortedArrivals(arr []arrival) []arrival {
	slices.SortStableFunc(arr, func(a, b arrival) int { return cmp.Compare(a.at, b.at) })
	return arr
}
