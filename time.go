package bwe

import (
	"math"
	"strconv"
	"time"
)

// Time is an instant on some clock, in microseconds since that clock's
// (arbitrary) origin. Zero is a valid instant: code that needs "unset" keeps
// an explicit flag beside it.
//
// Arithmetic saturates at the int64 range instead of wrapping, so that
// hostile inputs (a fuzzer's, or a corrupted trace's) cannot turn a huge
// positive interval into a negative one.
type Time int64

// Extreme instants, useful as "infinitely early/late" sentinels.
const (
	MinTime Time = math.MinInt64
	MaxTime Time = math.MaxInt64
)

// TimeFromDuration returns the instant d after the clock's origin.
func TimeFromDuration(d time.Duration) Time { return Time(d / time.Microsecond) }

// Add returns t+d, truncating d to whole microseconds and saturating.
func (t Time) Add(d time.Duration) Time {
	return SatAdd(t, Time(d/time.Microsecond))
}

// Sub returns the interval t−u, saturating at the range of time.Duration.
func (t Time) Sub(u Time) time.Duration {
	us := int64(SatSub(t, u))
	const limit = math.MaxInt64 / int64(time.Microsecond)
	switch {
	case us > limit:
		return time.Duration(math.MaxInt64)
	case us < -limit:
		return time.Duration(math.MinInt64)
	}
	return time.Duration(us) * time.Microsecond
}

// Before reports whether t is earlier than u.
func (t Time) Before(u Time) bool { return t < u }

// After reports whether t is later than u.
func (t Time) After(u Time) bool { return t > u }

// Micros returns t in microseconds since the clock's origin.
func (t Time) Micros() int64 { return int64(t) }

// String formats t as seconds since the clock's origin, e.g. "12.345678s".
func (t Time) String() string {
	sign := ""
	us := int64(t)
	if us < 0 {
		if us == math.MinInt64 {
			return "-inf"
		}
		sign, us = "-", -us
	}
	frac := strconv.FormatInt(us%1e6, 10)
	for len(frac) < 6 {
		frac = "0" + frac
	}
	return sign + strconv.FormatInt(us/1e6, 10) + "." + frac + "s"
}

// Millis converts d to floating-point milliseconds. It is the one place where
// durations become the "ms doubles" that delay-gradient filters work in.
func Millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// DurationFromMillis converts floating-point milliseconds to a duration,
// rounding to the nearest nanosecond and saturating; NaN gives zero. It is
// the inverse of [Millis].
func DurationFromMillis(ms float64) time.Duration {
	ns := ms * float64(time.Millisecond)
	switch {
	case ns != ns:
		return 0
	case ns >= math.MaxInt64:
		return time.Duration(math.MaxInt64)
	case ns <= math.MinInt64:
		return time.Duration(math.MinInt64)
	}
	return time.Duration(math.Round(ns))
}

// SatAdd returns a+b for any int64-based quantity ([Time], [time.Duration],
// [Bitrate], [ByteCount], plain int64), saturating at the int64 range
// instead of wrapping, so hostile inputs cannot flip a sign.
func SatAdd[T ~int64](a, b T) T {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		if b > 0 {
			return math.MaxInt64
		}
		return math.MinInt64
	}
	return s
}

// SatSub returns a−b, saturating like [SatAdd].
func SatSub[T ~int64](a, b T) T {
	d := a - b
	if (b < 0 && d < a) || (b > 0 && d > a) {
		if b < 0 {
			return math.MaxInt64
		}
		return math.MinInt64
	}
	return d
}
