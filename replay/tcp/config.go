package tcp

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/bwelab/bwe"
)

// Variant selects a [Sender]'s congestion-avoidance algorithm. Slow start,
// loss detection, recovery and the retransmission timer are the same for
// every variant.
type Variant int

const (
	// Reno is NewReno-style congestion control with SACK-based loss
	// recovery: slow start, additive increase of one segment per window
	// acknowledged (RFC 5681 §3.1, byte counting), and halving of the data
	// in flight once per loss episode (RFC 5681 eq. 4, RFC 6582, RFC 6675).
	// It is the zero value: ns3-rmcat's wired test suite runs
	// ns3::TcpNewReno as its TCP cross traffic.
	Reno Variant = iota
	// Cubic is CUBIC (RFC 8312, RFC 9438): the window follows
	// C·(t−K)³ + W_max after a loss, with β = 0.7, fast convergence and the
	// Reno-friendly region.
	Cubic
)

// String returns "reno" or "cubic".
func (v Variant) String() string {
	switch v {
	case Reno:
		return "reno"
	case Cubic:
		return "cubic"
	}
	return "variant(" + strconv.Itoa(int(v)) + ")"
}

// Limits on configuration values. They keep the byte arithmetic of windows
// (MaxWindow·SegmentSize) far from overflow.
const (
	// MaxSegmentSize is the largest SegmentSize accepted (1 MiB).
	MaxSegmentSize bwe.ByteCount = 1 << 20
	// MaxWindowLimit is the largest MaxWindow accepted, in segments.
	MaxWindowLimit = 1 << 24
	// maxDupThresh bounds DupThresh; the loss detector keeps that many
	// transmission numbers.
	maxDupThresh = 64
)

// Config configures a [Sender]. Zero fields take the defaults of
// [DefaultConfig].
type Config struct {
	// Variant is the congestion-avoidance algorithm. Default [Reno].
	Variant Variant
	// SegmentSize is the payload of a full segment (SMSS), in bytes. The
	// sender counts payload only; header overhead on the wire, if any, is
	// the caller's to add. Default 1000 B, the TCP segment size of
	// ns3-rmcat's RFC 8867 test suite (RMCAT_TC_TCP_PKTSIZE = 1000).
	SegmentSize bwe.ByteCount
	// InitialWindow is the congestion window at the start of a connection,
	// in segments. Default 10 (RFC 6928).
	InitialWindow int
	// MaxWindow caps the congestion window, in segments. It also bounds how
	// far new data may run ahead of the oldest unacknowledged segment (the
	// role a receive window plays), and with it every internal buffer.
	// Default 10 000.
	MaxWindow int
	// DupThresh is how many segments sent after a segment must be
	// acknowledged before that segment is declared lost. Default 3
	// (RFC 6675 DupThresh).
	DupThresh int
	// InitialRTO is the retransmission timeout before the first RTT
	// sample. Default 1 s (RFC 6298 §2.1).
	InitialRTO time.Duration
	// MinRTO is the floor of the computed retransmission timeout. Default
	// 200 ms, Linux's TCP_RTO_MIN. RFC 6298 §2.4 says 1 s, which is also
	// ns-3's TcpSocketBase MinRto default; 200 ms is what deployed stacks
	// use and what competing media flows meet on the Internet.
	MinRTO time.Duration
	// MaxRTO is the ceiling of the retransmission timeout, exponential
	// backoff included. Default 60 s (RFC 6298 §2.5: "at least 60
	// seconds").
	MaxRTO time.Duration
	// CubicBeta is CUBIC's multiplicative-decrease factor. Default 0.7
	// (RFC 8312 §4.5, RFC 9438 §4.6). Used by [Cubic] only.
	CubicBeta float64
	// CubicC is CUBIC's scaling constant, in segments per second³. Default
	// 0.4 (RFC 8312 §5, RFC 9438 §5). Used by [Cubic] only.
	CubicC float64
}

// DefaultConfig returns the defaults documented on [Config].
func DefaultConfig() Config {
	return Config{
		Variant:       Reno,
		SegmentSize:   1000,
		InitialWindow: 10,
		MaxWindow:     10_000,
		DupThresh:     3,
		InitialRTO:    time.Second,
		MinRTO:        200 * time.Millisecond,
		MaxRTO:        60 * time.Second,
		CubicBeta:     0.7,
		CubicC:        0.4,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.SegmentSize == 0 {
		c.SegmentSize = d.SegmentSize
	}
	if c.InitialWindow == 0 {
		c.InitialWindow = d.InitialWindow
	}
	if c.MaxWindow == 0 {
		c.MaxWindow = d.MaxWindow
	}
	if c.DupThresh == 0 {
		c.DupThresh = d.DupThresh
	}
	if c.InitialRTO == 0 {
		c.InitialRTO = d.InitialRTO
	}
	if c.MinRTO == 0 {
		c.MinRTO = d.MinRTO
	}
	if c.MaxRTO == 0 {
		c.MaxRTO = d.MaxRTO
	}
	if c.CubicBeta == 0 {
		c.CubicBeta = d.CubicBeta
	}
	if c.CubicC == 0 {
		c.CubicC = d.CubicC
	}
	return c
}

func (c Config) validate() error {
	switch {
	case c.Variant != Reno && c.Variant != Cubic:
		return fmt.Errorf("tcp: Config.Variant %v is unknown", c.Variant)
	case c.SegmentSize < 1 || c.SegmentSize > MaxSegmentSize:
		return fmt.Errorf("tcp: Config.SegmentSize %d B is not in [1, %d]", c.SegmentSize, MaxSegmentSize)
	case c.MaxWindow < 1 || c.MaxWindow > MaxWindowLimit:
		return fmt.Errorf("tcp: Config.MaxWindow %d is not in [1, %d] segments", c.MaxWindow, MaxWindowLimit)
	case c.InitialWindow < 1 || c.InitialWindow > c.MaxWindow:
		return fmt.Errorf("tcp: Config.InitialWindow %d is not in [1, MaxWindow %d] segments", c.InitialWindow, c.MaxWindow)
	case c.DupThresh < 1 || c.DupThresh > maxDupThresh:
		return fmt.Errorf("tcp: Config.DupThresh %d is not in [1, %d]", c.DupThresh, maxDupThresh)
	case c.MinRTO < time.Microsecond:
		return fmt.Errorf("tcp: Config.MinRTO %v is below 1µs", c.MinRTO)
	case c.MaxRTO < c.MinRTO:
		return fmt.Errorf("tcp: Config.MaxRTO %v is below MinRTO %v", c.MaxRTO, c.MinRTO)
	case c.InitialRTO < time.Microsecond || c.InitialRTO > c.MaxRTO:
		return fmt.Errorf("tcp: Config.InitialRTO %v is not in [1µs, MaxRTO %v]", c.InitialRTO, c.MaxRTO)
	case !(c.CubicBeta > 0 && c.CubicBeta < 1):
		return fmt.Errorf("tcp: Config.CubicBeta %v is not in (0, 1)", c.CubicBeta)
	case !(c.CubicC > 0) || math.IsInf(c.CubicC, 0):
		return fmt.Errorf("tcp: Config.CubicC %v is not positive and finite", c.CubicC)
	}
	return nil
}
