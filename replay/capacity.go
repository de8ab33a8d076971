package replay

import (
	"fmt"
	"sort"
	"time"

	"github.com/bwelab/bwe"
)

// MaxCapacity is the largest capacity a [Link] serves at (1 Tbps). Larger
// values are served at MaxCapacity; it keeps the link's integer arithmetic
// far from overflow.
const MaxCapacity = 1000 * bwe.Gbps

// Capacity is the bottleneck's capacity as a function of time: the seam
// behind which a schedule of steps ([Steps]) or a recorded capacity trace
// plugs into a [Link]. Instants are on the emulation clock, which reads 0
// when a run starts.
//
// The capacity must be piecewise constant: At(t) holds from t until
// NextChange(t). The link integrates it exactly over those pieces. If the
// value also has a Validate() error method, [NewLink] calls it and rejects
// the configuration when it fails.
type Capacity interface {
	// At returns the capacity in force at t. Negative values count as 0.
	At(t bwe.Time) bwe.Bitrate
	// NextChange returns the first instant after t at which the capacity
	// may change, or [bwe.MaxTime] if it stays as it is from t on.
	NextChange(t bwe.Time) bwe.Time
}

// Step is one piece of a [Steps] schedule: from At on (since the start of
// the run), the capacity is Capacity.
type Step struct {
	At       time.Duration
	Capacity bwe.Bitrate
}

// Steps is a piecewise-constant capacity schedule. The first step must be
// at 0 and the steps must be in increasing order of At, at least 1 µs
// apart (the resolution of the emulation clock); each step
// holds until the next one, and the last one holds for ever. A capacity of
// 0 is an outage: nothing leaves the queue until the capacity returns.
type Steps []Step

var _ Capacity = Steps(nil)

// Validate reports the first thing wrong with s, or nil.
func (s Steps) Validate() error {
	if len(s) == 0 {
		return fmt.Errorf("replay: capacity schedule is empty")
	}
	if s[0].At != 0 {
		return fmt.Errorf("replay: capacity step 0 is at %v, want 0", s[0].At)
	}
	for i, st := range s {
		if st.Capacity < 0 {
			return fmt.Errorf("replay: capacity step %d: capacity %d bps is negative", i, int64(st.Capacity))
		}
		if st.Capacity > MaxCapacity {
			return fmt.Errorf("replay: capacity step %d: capacity %v exceeds %v", i, st.Capacity, MaxCapacity)
		}
		if i > 0 && bwe.TimeFromDuration(st.At) <= bwe.TimeFromDuration(s[i-1].At) {
			return fmt.Errorf("replay: capacity step %d at %v is not at least 1µs after step %d at %v", i, st.At, i-1, s[i-1].At)
		}
	}
	return nil
}

// index returns the index of the step in force at t, or -1 before the
// first step.
func (s Steps) index(t bwe.Time) int {
	// First step strictly after t, minus one.
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
