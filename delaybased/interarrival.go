package delaybased

import (
	"errors"
	"fmt"
	"time"

	"github.com/bwelab/bwe"
)

// GroupConfig configures arrival-group accumulation. Zero fields take the
// defaults of [DefaultGroupConfig].
type GroupConfig struct {
	// GroupLength is the send-time span of one group: a packet sent more
	// than GroupLength after the group's first packet opens a new group.
	// Default 5 ms (libwebrtc delay_based_bwe.cc kSendTimeGroupLength).
	GroupLength time.Duration
	// BurstDelta is the largest arrival gap at which a packet that arrived
	// "early" (its arrival gap smaller than its send gap) still joins the
	// current group as part of a burst. Default 5 ms (libwebrtc
	// inter_arrival_delta.cc kBurstDeltaThreshold).
	BurstDelta time.Duration
	// MaxBurst caps how long a burst may keep one group open, measured on
	// arrivals from the group's first packet. Default 100 ms (libwebrtc
	// inter_arrival_delta.cc kMaxBurstDuration).
	MaxBurst time.Duration
	// ReorderedReset is how many consecutive out-of-order groups make the
	// grouping start over. Default 3 (kReorderedResetThreshold).
	ReorderedReset int
	// ClockJump is how far the receiver clock may run ahead of the feedback
	// clock between two groups before the grouping assumes the receiver
	// clock jumped and starts over. Default 3 s
	// (kArrivalTimeOffsetThreshold).
	ClockJump time.Duration
}

// DefaultGroupConfig returns libwebrtc's grouping constants.
func DefaultGroupConfig() GroupConfig {
	return GroupConfig{
		GroupLength:    5 * time.Millisecond,
		BurstDelta:     5 * time.Millisecond,
		MaxBurst:       100 * time.Millisecond,
		ReorderedReset: 3,
		ClockJump:      3 * time.Second,
	}
}

func (c GroupConfig) withDefaults() (GroupConfig, error) {
	d := DefaultGroupConfig()
	if c.GroupLength == 0 {
		c.GroupLength = d.GroupLength
	}
	if c.BurstDelta == 0 {
		c.BurstDelta = d.BurstDelta
	}
	if c.MaxBurst == 0 {
		c.MaxBurst = d.MaxBurst
	}
	if c.ReorderedReset == 0 {
		c.ReorderedReset = d.ReorderedReset
	}
	if c.ClockJump == 0 {
		c.ClockJump = d.ClockJump
	}
	var errs []error
	if c.GroupLength < 0 {
		errs = append(errs, fmt.Errorf("GroupLength %v is negative", c.GroupLength))
	}
	if c.BurstDelta < 0 {
		errs = append(errs, fmt.Errorf("BurstDelta %v is negative", c.BurstDelta))
	}
	if c.MaxBurst < 0 {
		errs = append(errs, fmt.Errorf("MaxBurst %v is negative", c.MaxBurst))
	}
	if c.ReorderedReset < 0 {
		errs = append(errs, fmt.Errorf("ReorderedReset %d is negative", c.ReorderedReset))
	}
	if c.ClockJump < 0 {
		errs = append(errs, fmt.Errorf("ClockJump %v is negative", c.ClockJump))
	}
	return c, errors.Join(errs...)
}

// sendGroup is a run of packets sent close together.
type sendGroup struct {
	started      bool
	size         bwe.ByteCount
	firstSend    bwe.Time // send time of the group's first packet (sender clock)
	lastSend     bwe.Time // largest send time in the group (sender clock)
	firstArrival bwe.Time // arrival of the group's first packet (receiver clock)
	complete     bwe.Time // arrival of the last packet added (receiver clock)
	feedbackTime bwe.Time // feedback time of the last packet added (sender clock)
}

// open makes g a new group of one packet sent at send and received at
// arrival (its size, completion and feedback time are then set by the
// caller). It is sendGroup{started: true, firstSend: send, lastSend: send,
// firstArrival: arrival} assigned field by field, for the reason given in
// InterArrival.add.
func (g *sendGroup) open(send, arrival bwe.Time) {
	g.started = true
	g.size = 0
	g.firstSend, g.lastSend = send, send
	g.firstArrival = arrival
	g.complete, g.feedbackTime = 0, 0
}

// copyFrom sets g to h, field by field (see open).
func (g *sendGroup) copyFrom(h *sendGroup) {
	g.started = h.started
	g.size = h.size
	g.firstSend, g.lastSend = h.firstSend, h.lastSend
	g.firstArrival = h.firstArrival
	g.complete, g.feedbackTime = h.complete, h.feedbackTime
}

// InterArrival accumulates packets into send-time groups and, each time a
// group is completed by the first packet of the next one, returns the delta
// between the completed group and its predecessor. It follows libwebrtc's
// InterArrivalDelta (goog_cc/inter_arrival_delta.cc):
//
//   - a packet sent more than GroupLength after the current group's first
//     packet opens a new group, unless it belongs to a burst;
//   - a packet belongs to a burst when it was sent at the same instant as
//     the group's last packet, or when it arrived early (arrival gap smaller
//     than send gap) within BurstDelta of the previous arrival and within
//     MaxBurst of the group's first arrival;
//   - a packet sent before the current group's first packet is reordered
//     and skipped;
//   - a negative arrival delta between groups is skipped, and ReorderedReset
//     of them in a row reset the grouping; so does a receiver-clock jump of
//     ClockJump or more relative to the feedback clock.
//
// Groups close on send time, never on arrival time, so a saturated link,
// whose packets arrive back to back 1–5 ms apart, still closes a group every
// GroupLength of send time and keeps the detector fed.
//
// The zero value is not usable; create one with [NewInterArrival]. Not safe
// for concurrent use.
type InterArrival struct {
	cfg       GroupConfig
	cur, prev sendGroup
	reordered int            // consecutive negative arrival deltas
	delta     bwe.GroupDelta // the last delta add reported

	// Counters of what was skipped, for stats.
	skippedReordered int64
	skippedNegative  int64
	resets           int64
}

// NewInterArrival returns grouping with cfg (zero fields take defaults).
func NewInterArrival(cfg GroupConfig) (*InterArrival, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("delaybased: GroupConfig: %w", err)
	}
	return &InterArrival{cfg: c}, nil
}

// Reset forgets both groups, as on a stream timeout.
func (ia *InterArrival) Reset() {
	ia.cur, ia.prev = sendGroup{}, sendGroup{}
	ia.reordered = 0
}

// Add accounts one received packet: its send time (sender clock), arrival
// time (receiver clock), the time its feedback reached the sender (sender
// clock) and its size. It reports a delta when the packet completed a group
// that has a predecessor.
func (ia *InterArrival) Add(send, arrival, feedbackTime bwe.Time, size bwe.ByteCount) (bwe.GroupDelta, bool) {
	if !ia.add(send, arrival, feedbackTime, size) {
		return bwe.GroupDelta{}, false
	}
	return ia.delta, true
}

// add is Add leaving the delta, if any, in ia.delta: read from there, it
// is not copied through a temporary on the way to the detector.
func (ia *InterArrival) add(send, arrival, feedbackTime bwe.Time, size bwe.ByteCount) bool {
	ok := false
	switch {
	case !ia.cur.started:
		ia.cur.open(send, arrival)
	case send < ia.cur.firstSend:
		ia.skippedReordered++
		return false
	case ia.opensGroup(send, arrival):
		if ia.prev.started {
			sendDelta := ia.cur.lastSend.Sub(ia.prev.lastSend)
			arrivalDelta := ia.cur.complete.Sub(ia.prev.complete)
			feedbackDelta := ia.cur.feedbackTime.Sub(ia.prev.feedbackTime)
			if bwe.SatSub(arrivalDelta, feedbackDelta) >= ia.cfg.ClockJump {
				ia.resets++
				ia.Reset()
				return false
			}
			if arrivalDelta < 0 {
				ia.skippedNegative++
				ia.reordered++
				if ia.reordered >= ia.cfg.ReorderedReset {
					ia.resets++
					ia.Reset()
				}
				return false
			}
			ia.reordered = 0
			// Field by field: a composite literal of this size is built
			// on the stack and copied in 16-byte moves, which stall on
			// the 8-byte stores that built it.
			d := &ia.delta
			d.SendDelta = sendDelta
			d.ArrivalDelta = arrivalDelta
			d.SizeDelta = ia.cur.size - ia.prev.size
			d.Arrival = arrival
			d.SendTime = send
			ok = true
		}
		ia.prev.copyFrom(&ia.cur)
		ia.cur.open(send, arrival)
	default:
		ia.cur.lastSend = max(ia.cur.lastSend, send)
	}
	ia.cur.size += size
	ia.cur.complete = arrival
	ia.cur.feedbackTime = feedbackTime
	return ok
}

// opensGroup reports whether a packet (not reordered) starts a new group.
func (ia *InterArrival) opensGroup(send, arrival bwe.Time) bool {
	if ia.inBurst(send, arrival) {
		return false
	}
	return send.Sub(ia.cur.firstSend) > ia.cfg.GroupLength
}

// inBurst reports whether a packet continues the current group's burst.
func (ia *InterArrival) inBurst(send, arrival bwe.Time) bool {
	sendGap := send.Sub(ia.cur.lastSend)
	if sendGap == 0 {
		return true
	}
	arrivalGap := arrival.Sub(ia.cur.complete)
	return arrivalGap < sendGap &&
		arrivalGap <= ia.cfg.BurstDelta &&
		arrival.Sub(ia.cur.firstArrival) < ia.cfg.MaxBurst
}
