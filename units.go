package bwe

import (
	"math"
	"math/bits"
	"strconv"
	"time"
)

// Bitrate is a data rate in bits per second. Negative values never leave an
// estimator; they may appear transiently in arithmetic.
type Bitrate int64

// Bitrate units.
const (
	BitPerSecond Bitrate = 1
	Kbps                 = 1000 * BitPerSecond
	Mbps                 = 1000 * Kbps
	Gbps                 = 1000 * Mbps
)

// MaxBitrate is the largest representable rate; estimators use it for
// "unbounded".
const MaxBitrate Bitrate = math.MaxInt64

// Float returns r in bits per second as a float64.
func (r Bitrate) Float() float64 { return float64(r) }

// Kilobits returns r in kilobits per second as a float64.
func (r Bitrate) Kilobits() float64 { return float64(r) / 1e3 }

// BitrateFromFloat converts a rate in bits per second to a Bitrate,
// truncating toward zero (as libwebrtc's DataRate does when built from a
// double) and saturating at the int64 range; NaN gives zero.
func BitrateFromFloat(bps float64) Bitrate {
	switch {
	case bps != bps:
		return 0
	case bps >= math.MaxInt64:
		return MaxBitrate
	case bps <= math.MinInt64:
		return math.MinInt64
	}
	return Bitrate(bps)
}

// Scale returns r·f rounded half away from zero, the rounding libwebrtc
// applies when a DataRate is multiplied by a double. It saturates, and NaN
// gives zero.
func (r Bitrate) Scale(f float64) Bitrate {
	v := math.Round(float64(r) * f)
	switch {
	case v != v:
		return 0
	case v >= math.MaxInt64:
		return MaxBitrate
	case v <= math.MinInt64:
		return math.MinInt64
	}
	return Bitrate(v)
}

// Clamp returns r limited to [lo, hi].
func (r Bitrate) Clamp(lo, hi Bitrate) Bitrate { return max(lo, min(r, hi)) }

// String formats r with a unit, e.g. "1.5 Mbps", "300 kbps", "800 bps".
func (r Bitrate) String() string {
	a := r
	if a < 0 {
		a = -a
	}
	switch {
	case a >= Mbps:
		return strconv.FormatFloat(float64(r)/1e6, 'f', -1, 64) + " Mbps"
	case a >= Kbps:
		return strconv.FormatFloat(float64(r)/1e3, 'f', -1, 64) + " kbps"
	}
	return strconv.FormatInt(int64(r), 10) + " bps"
}

// RateOf returns the rate at which size bytes pass in d: 8·size/d, truncated
// to whole bits per second as libwebrtc's DataSize/TimeDelta is. It returns 0
// when d or size is not positive, and saturates on overflow.
func RateOf(size ByteCount, d time.Duration) Bitrate {
	us := int64(d / time.Microsecond)
	if size <= 0 || us <= 0 {
		return 0
	}
	// 8e6·size can exceed int64 for sizes beyond ~1 TB: use 128-bit math.
	hi, lo := bits.Mul64(uint64(size), 8_000_000)
	if hi >= uint64(us) {
		return MaxBitrate
	}
	q, _ := bits.Div64(hi, lo, uint64(us))
	if q > math.MaxInt64 {
		return MaxBitrate
	}
	return Bitrate(q)
}

// Over returns how many bytes r carries in d, rounded to the nearest byte
// (halves up) as libwebrtc's DataRate·TimeDelta is. It returns 0 when r or d
// is not positive, and saturates on overflow.
func (r Bitrate) Over(d time.Duration) ByteCount {
	us := int64(d / time.Microsecond)
	if r <= 0 || us <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(r), uint64(us))
	lo, carry := bits.Add64(lo, 4_000_000, 0)
	hi += carry
	if hi >= 8_000_000 {
		return math.MaxInt64
	}
	q, _ := bits.Div64(hi, lo, 8_000_000)
	if q > math.MaxInt64 {
		return math.MaxInt64
	}
	return ByteCount(q)
}

// ByteCount is a size in bytes.
type ByteCount int64

// Bits returns b in bits.
func (b ByteCount) Bits() int64 { return int64(b) * 8 }
