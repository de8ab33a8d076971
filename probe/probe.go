package probe

import (
	"fmt"
	"math"
	"time"

	"github.com/bwelab/bwe"
)

// MaxClusters is the number of probe clusters an [Estimator] tracks at once.
// A packet that opens a further cluster evicts the one updated least
// recently.
const MaxClusters = 16

// Cluster describes a probe cluster as it was scheduled.
type Cluster struct {
	// ID is the cluster's id, as carried in [bwe.PacketResult.ProbeCluster].
	// It must be positive.
	ID int32
	// MinProbes is the number of packets the cluster was meant to send.
	// It must be positive.
	MinProbes int
	// MinBytes is the number of bytes the cluster was meant to send.
	// It must be positive.
	MinBytes bwe.ByteCount
}

// Config tunes an [Estimator]. The zero value of every field means its
// default; [DefaultConfig] spells the defaults out.
type Config struct {
	// MinReceivedProbes is the fraction of a cluster's MinProbes that must
	// have been accounted before it yields an estimate; the threshold is
	// truncated to a whole packet count. Unitless, in (0, 1].
	// Default 0.8 (libwebrtc probe_bitrate_estimator.cc:
	// kMinReceivedProbesRatio = 0.80).
	MinReceivedProbes float64
	// MinReceivedBytes is the fraction of a cluster's MinBytes that must
	// have been accounted before it yields an estimate; the threshold is
	// rounded to the nearest byte. Unitless, in (0, 1].
	// Default 0.8 (libwebrtc probe_bitrate_estimator.cc:
	// kMinReceivedBytesRatio = 0.80).
	MinReceivedBytes float64
	// MaxReceiveSendRatio is the largest receive-rate/send-rate ratio of a
	// valid estimate. Unitless, positive.
	// Default 2 (libwebrtc probe_bitrate_estimator.cc: kMaxValidRatio = 2.0f).
	MaxReceiveSendRatio float64
	// UnsaturatedRatio: a receive rate below this fraction of the send rate
	// means the probe saturated the link. Unitless, in (0, 1].
	// Default float32(0.9) = 0.89999997615814208984375 (libwebrtc
	// probe_bitrate_estimator.cc: kMinRatioForUnsaturatedLink = 0.9f).
	UnsaturatedRatio float64
	// TargetUtilization is the fraction of a saturated link's receive rate
	// reported as the estimate. Unitless, in (0, 1].
	// Default float32(0.95) = 0.949999988079071044921875 (libwebrtc
	// probe_bitrate_estimator.cc: kTargetUtilizationFraction = 0.95f).
	TargetUtilization float64
	// ClusterHistory is how long a cluster is kept after its last arrival,
	// measured on the receiver clock. Positive.
	// Default 1 s (libwebrtc probe_bitrate_estimator.cc:
	// kMaxClusterHistory = 1 s).
	ClusterHistory time.Duration
	// MaxProbeInterval is the longest send or receive interval of a valid
	// cluster. Positive.
	// Default 1 s (libwebrtc probe_bitrate_estimator.cc:
	// kMaxProbeInterval = 1 s).
	MaxProbeInterval time.Duration
	// QueuedRate measures a saturated cluster's receive rate over its
	// queued packets only: those whose one-way delay (arrival − send, on
	// the two clocks) exceeds the lowest of the cluster's earlier packets
	// by more than QueueDelay. A token-bucket bottleneck (a kernel tbf, a
	// shaper, a radio scheduler granting in bursts) lets a cluster's first
	// packets through at line rate until its bucket is empty, and only
	// then queues the rest, which leave at the token rate; measured over
	// the whole cluster, the burst inflates the receive rate by about the
	// bucket's size over the cluster's bytes (a 3000-byte bucket and a
	// 15 ms cluster at 4.4 Mbps on a 1.5 Mbps link: 2.3 Mbps). Packets
	// that waited in a queue left it at the bottleneck's rate, whatever
	// the bucket. With fewer than MinQueued queued packets the whole
	// cluster is measured, as without this option. Default false, the
	// libwebrtc measurement (probe_bitrate_estimator.cc: first to last
	// packet of the cluster).
	QueuedRate bool
	// QueueDelay is the one-way delay above the cluster's lowest that
	// marks a packet as queued, with QueuedRate. It must exceed the
	// arrival times' resolution (250 µs in transport-wide CC feedback)
	// and the path's jitter over a cluster. Default 1 ms.
	QueueDelay time.Duration
	// MinQueued is the fewest queued packets that give a queued rate,
	// with QueuedRate, at least 3. Default 4.
	MinQueued int
}

// DefaultConfig returns the libwebrtc defaults.
func DefaultConfig() Config {
	return Config{
		MinReceivedProbes:   0.80,
		MinReceivedBytes:    0.80,
		MaxReceiveSendRatio: 2.0,
		UnsaturatedRatio:    float64(float32(0.9)),
		TargetUtilization:   float64(float32(0.95)),
		ClusterHistory:      time.Second,
		MaxProbeInterval:    time.Second,
		QueueDelay:          time.Millisecond,
		MinQueued:           4,
	}
}

// withDefaults replaces the zero fields of c by their defaults.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.MinReceivedProbes == 0 {
		c.MinReceivedProbes = d.MinReceivedProbes
	}
	if c.MinReceivedBytes == 0 {
		c.MinReceivedBytes = d.MinReceivedBytes
	}
	if c.MaxReceiveSendRatio == 0 {
		c.MaxReceiveSendRatio = d.MaxReceiveSendRatio
	}
	if c.UnsaturatedRatio == 0 {
		c.UnsaturatedRatio = d.UnsaturatedRatio
	}
	if c.TargetUtilization == 0 {
		c.TargetUtilization = d.TargetUtilization
	}
	if c.ClusterHistory == 0 {
		c.ClusterHistory = d.ClusterHistory
	}
	if c.MaxProbeInterval == 0 {
		c.MaxProbeInterval = d.MaxProbeInterval
	}
	if c.QueueDelay == 0 {
		c.QueueDelay = d.QueueDelay
	}
	if c.MinQueued == 0 {
		c.MinQueued = d.MinQueued
	}
	return c
}

func (c Config) validate() error {
	fractions := []struct {
		name string
		v    float64
	}{
		{"MinReceivedProbes", c.MinReceivedProbes},
		{"MinReceivedBytes", c.MinReceivedBytes},
		{"UnsaturatedRatio", c.UnsaturatedRatio},
		{"TargetUtilization", c.TargetUtilization},
	}
	for _, f := range fractions {
		if !(f.v > 0 && f.v <= 1) {
			return fmt.Errorf("probe: Config.%s = %v: must be in (0, 1]", f.name, f.v)
		}
	}
	if !(c.MaxReceiveSendRatio > 0) || math.IsInf(c.MaxReceiveSendRatio, 1) {
		return fmt.Errorf("probe: Config.MaxReceiveSendRatio = %v: must be positive and finite", c.MaxReceiveSendRatio)
	}
	if c.ClusterHistory < 0 {
		return fmt.Errorf("probe: Config.ClusterHistory = %v: must be positive", c.ClusterHistory)
	}
	if c.MaxProbeInterval < 0 {
		return fmt.Errorf("probe: Config.MaxProbeInterval = %v: must be positive", c.MaxProbeInterval)
	}
	if c.QueueDelay < 0 {
		return fmt.Errorf("probe: Config.QueueDelay = %v: must be positive", c.QueueDelay)
	}
	if c.MinQueued < 3 {
		return fmt.Errorf("probe: Config.MinQueued = %d: must be at least 3", c.MinQueued)
	}
	return nil
}

// Stats counts what an [Estimator] did with the packets it was given.
type Stats struct {
	// Packets is the number of probe packets accounted into a cluster.
	Packets int64
	// Ignored is the number of packets Update rejected: not received,
	// tagged with another cluster than the one passed, or passed with an
	// invalid Cluster (id, MinProbes or MinBytes not positive) or a
	// negative size.
	Ignored int64
	// Estimates is the number of valid estimates produced.
	Estimates int64
	// BadInterval counts packets of sufficiently complete clusters that
	// produced no estimate because the send or receive interval was not in
	// (0, MaxProbeInterval].
	BadInterval int64
	// BadRatio counts the same for a receive/send rate ratio above
	// MaxReceiveSendRatio.
	BadRatio int64
	// ZeroRate counts the same for a receive rate or an estimate that
	// truncated to 0 bps (libwebrtc would report 0 bps).
	ZeroRate int64
	// Queued counts estimates whose receive rate was measured over the
	// queued packets only (Config.QueuedRate).
	Queued int64
	// Expired is the number of clusters forgotten after ClusterHistory.
	Expired int64
	// Evicted is the number of live clusters dropped because all
	// [MaxClusters] slots were taken.
	Evicted int64
}

// cluster is the aggregate of one probe cluster's accounted packets.
type cluster struct {
	id                         int32 // 0: free slot
	count                      int64
	firstSend, lastSend        bwe.Time // sender clock
	firstArrival, lastArrival  bwe.Time // receiver clock
	sizeLastSend, sizeFirstRcv bwe.ByteCount
	total                      bwe.ByteCount // saturating sum of sizes
	touched                    uint64        // call counter at last update

	// The queued packets (Config.QueuedRate): the lowest one-way delay of
	// the cluster so far, and the packets that arrived above it by more
	// than the threshold.
	minDelay           time.Duration
	qCount             int64
	qFirst, qLast      bwe.Time // receiver clock
	qSizeFirst, qTotal bwe.ByteCount
}

// add accounts p into c, opening c if it is empty.
func (c *cluster) add(p *bwe.PacketResult) {
	if c.count == 0 {
		c.firstSend, c.lastSend = p.SendTime, p.SendTime
		c.firstArrival, c.lastArrival = p.Arrival, p.Arrival
		c.sizeLastSend, c.sizeFirstRcv = p.Size, p.Size
	} else {
		if p.SendTime < c.firstSend {
			c.firstSend = p.SendTime
		}
		if p.SendTime > c.lastSend {
			c.lastSend = p.SendTime
			c.sizeLastSend = p.Size
		}
		if p.Arrival < c.firstArrival {
			c.firstArrival = p.Arrival
			c.sizeFirstRcv = p.Size
		}
		if p.Arrival > c.lastArrival {
			c.lastArrival = p.Arrival
		}
	}
	c.total = addBytes(c.total, p.Size)
	c.count++
}

// addQueued accounts p into the cluster's queued packets if its one-way
// delay exceeds the lowest seen before it by more than threshold, and
// otherwise lowers that lowest delay if it is lower. Packets arrive in send
// order within a feedback batch, so the burst that passes unqueued is seen
// first.
func (c *cluster) addQueued(p *bwe.PacketResult, threshold time.Duration) {
	d := p.Arrival.Sub(p.SendTime)
	if c.count == 1 || d < c.minDelay {
		c.minDelay = d
		return
	}
	if d-c.minDelay <= threshold {
		return
	}
	switch {
	case c.qCount == 0:
		c.qFirst, c.qLast, c.qSizeFirst = p.Arrival, p.Arrival, p.Size
	case p.Arrival < c.qFirst:
		c.qFirst, c.qSizeFirst = p.Arrival, p.Size
	case p.Arrival > c.qLast:
		c.qLast = p.Arrival
	}
	c.qTotal = addBytes(c.qTotal, p.Size)
	c.qCount++
}

// addBytes returns total + n, held at math.MaxInt64 instead of wrapping.
func addBytes(total, n bwe.ByteCount) bwe.ByteCount {
	if total > math.MaxInt64-n {
		return math.MaxInt64
	}
	return total + n
}

// Estimator turns the packets of probe clusters into capacity estimates.
// Create it with [NewEstimator]. It is not safe for concurrent use.
type Estimator struct {
	cfg      Config
	clusters [MaxClusters]cluster
	calls    uint64
	last     bwe.Bitrate
	hasLast  bool
	stats    Stats
}

// NewEstimator returns an estimator configured by cfg, whose zero fields
// take their defaults. It rejects impossible values with an error naming the
// field.
func NewEstimator(cfg Config) (*Estimator, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Estimator{cfg: cfg}, nil
}

// Config returns the configuration in use, defaults filled in.
func (e *Estimator) Config() Config { return e.cfg }

// Stats returns the counters accumulated since construction or the last
// [Estimator.Reset].
func (e *Estimator) Stats() Stats { return e.stats }

// Update accounts one received probe packet of cluster c and returns the
// cluster's estimate if this packet completed a valid one. The packet is
// ignored (and counted in [Stats.Ignored]) unless p.Received is true,
// p.ProbeCluster equals c.ID, c is valid (positive ID, MinProbes and
// MinBytes) and p.Size is not negative.
//
// p.Arrival (receiver clock) is the estimator's notion of now: clusters
// whose last arrival is more than ClusterHistory before it are forgotten
// first. An estimate, when there is one, is positive; it is also kept for
// [Estimator.Fetch].
func (e *Estimator) Update(p bwe.PacketResult, c Cluster) (bwe.Bitrate, bool) {
	if !p.Received || c.ID <= 0 || p.ProbeCluster != c.ID ||
		c.MinProbes <= 0 || c.MinBytes <= 0 || p.Size < 0 {
		e.stats.Ignored++
		return 0, false
	}
	e.calls++
	e.stats.Packets++
	e.expire(p.Arrival)
	cl := e.slot(c.ID)
	cl.add(&p)
	if e.cfg.QueuedRate {
		cl.addQueued(&p, e.cfg.QueueDelay)
	}

	minProbes := truncate(float64(c.MinProbes) * e.cfg.MinReceivedProbes)
	minBytes := bwe.ByteCount(truncate(math.Round(float64(c.MinBytes) * e.cfg.MinReceivedBytes)))
	if cl.count < minProbes || cl.total < minBytes {
		return 0, false
	}

	sendInterval := cl.lastSend.Sub(cl.firstSend)
	recvInterval := cl.lastArrival.Sub(cl.firstArrival)
	if sendInterval <= 0 || sendInterval > e.cfg.MaxProbeInterval ||
		recvInterval <= 0 || recvInterval > e.cfg.MaxProbeInterval {
		e.stats.BadInterval++
		return 0, false
	}
	// An interval between the first and the last packet spans all packets
	// but one: the last one sent, on the sender side, and the first one
	// received, on the receiver side.
	sendRate := bwe.RateOf(cl.total-cl.sizeLastSend, sendInterval)
	recvRate := bwe.RateOf(cl.total-cl.sizeFirstRcv, recvInterval)
	if recvRate <= 0 {
		e.stats.ZeroRate++
		return 0, false
	}
	// libwebrtc divides in double; with sendRate = 0 the ratio is +Inf.
	if sendRate <= 0 || recvRate.Float()/sendRate.Float() > e.cfg.MaxReceiveSendRatio {
		e.stats.BadRatio++
		return 0, false
	}
	queued := false
	if e.cfg.QueuedRate && cl.qCount >= int64(e.cfg.MinQueued) {
		if d := cl.qLast.Sub(cl.qFirst); d > 0 {
			if q := bwe.RateOf(cl.qTotal-cl.qSizeFirst, d); q > 0 && q < recvRate {
				recvRate, queued = q, true
			}
		}
	}
	est := min(sendRate, recvRate)
	if recvRate < sendRate.Scale(e.cfg.UnsaturatedRatio) {
		// The probe filled the link: recvRate is its capacity. Aim a
		// little below it.
		est = recvRate.Scale(e.cfg.TargetUtilization)
	}
	if est <= 0 {
		e.stats.ZeroRate++
		return 0, false
	}
	e.stats.Estimates++
	if queued {
		e.stats.Queued++
	}
	e.last, e.hasLast = est, true
	return est, true
}

// Fetch returns the last estimate produced since the previous Fetch, and
// clears it (libwebrtc FetchAndResetLastEstimatedBitrate). A packet that
// produces no estimate does not clear it.
func (e *Estimator) Fetch() (bwe.Bitrate, bool) {
	r, ok := e.last, e.hasLast
	e.last, e.hasLast = 0, false
	return r, ok
}

// Reset forgets every cluster, the pending estimate and the counters, as if
// the estimator had just been constructed with the same configuration.
func (e *Estimator) Reset() { *e = Estimator{cfg: e.cfg} }

// expire frees the clusters whose last arrival plus ClusterHistory is
// before now.
func (e *Estimator) expire(now bwe.Time) {
	for i := range e.clusters {
		c := &e.clusters[i]
		if c.id != 0 && c.lastArrival.Add(e.cfg.ClusterHistory) < now {
			*c = cluster{}
			e.stats.Expired++
		}
	}
}

// slot returns the cluster with the given id, opening it in a free slot or,
// when none is free, in the slot updated least recently.
func (e *Estimator) slot(id int32) *cluster {
	free, oldest := -1, 0
	for i := range e.clusters {
		c := &e.clusters[i]
		switch {
		case c.id == id:
			c.touched = e.calls
			return c
		case c.id == 0:
			if free < 0 {
				free = i
			}
		case c.touched < e.clusters[oldest].touched:
			oldest = i
		}
	}
	if free < 0 {
		free = oldest
		e.stats.Evicted++
	}
	e.clusters[free] = cluster{id: id, touched: e.calls}
	return &e.clusters[free]
}

// truncate converts f to int64 toward zero, as C++ does when a double is
// assigned to an integer, saturating at the int64 range.
func truncate(f float64) int64 {
	switch {
	case f >= math.MaxInt64:
		return math.MaxInt64
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return int64(f)
}
