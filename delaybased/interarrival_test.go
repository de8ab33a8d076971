package delaybased

import (
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

const ms = bwe.Time(1000) // one millisecond as an instant offset

// arrivalStep is one packet fed to InterArrival and what it must return.
type arrivalStep struct {
	send, arrival bwe.Time // in µs; use multiples of ms
	feedback      bwe.Time // feedback time; 0 means "same as arrival"
	size          bwe.ByteCount
	want          *bwe.GroupDelta // nil: no delta expected
}

func runArrivals(t *testing.T, ia *InterArrival, steps []arrivalStep) {
	t.Helper()
	for i, s := range steps {
		fb := s.feedback
		if fb == 0 {
			fb = s.arrival
		}
		got, ok := ia.Add(s.send, s.arrival, fb, s.size)
		switch {
		case s.want == nil && ok:
			t.Fatalf("step %d: Add(send %v, arrival %v) = %+v, want no delta", i, s.send, s.arrival, got)
		case s.want != nil && !ok:
			t.Fatalf("step %d: Add(send %v, arrival %v) gave no delta, want %+v", i, s.send, s.arrival, *s.want)
		case s.want != nil && got != *s.want:
			t.Fatalf("step %d: Add(send %v, arrival %v) = %+v, want %+v", i, s.send, s.arrival, got, *s.want)
		}
	}
}

func newIA(t *testing.T) *InterArrival {
	t.Helper()
	ia, err := NewInterArrival(GroupConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return ia
}

func TestInterArrivalGroupsBySendTime(t *testing.T) {
	d := func(send, arr time.Duration, size bwe.ByteCount, at, sendAt bwe.Time) *bwe.GroupDelta {
		return &bwe.GroupDelta{SendDelta: send, ArrivalDelta: arr, SizeDelta: size, Arrival: at, SendTime: sendAt}
	}
	runArrivals(t, newIA(t), []arrivalStep{
		{send: 0, arrival: 100 * ms, size: 100},
		{send: 2 * ms, arrival: 103 * ms, size: 100},  // same group (within 5 ms of send)
		{send: 5 * ms, arrival: 106 * ms, size: 100},  // exactly 5 ms: still the same group
		{send: 10 * ms, arrival: 111 * ms, size: 200}, // opens group 2; no predecessor yet
		{send: 14 * ms, arrival: 116 * ms, size: 200}, // group 2
		{send: 20 * ms, arrival: 122 * ms, size: 50, // opens group 3: delta of 2 vs 1
			want: d(9*time.Millisecond, 10*time.Millisecond, 100, 122*ms, 20*ms)},
		{send: 30 * ms, arrival: 131 * ms, size: 50, // opens group 4: delta of 3 vs 2
			want: d(6*time.Millisecond, 6*time.Millisecond, -350, 131*ms, 30*ms)},
	})
}

func TestInterArrivalBurst(t *testing.T) {
	runArrivals(t, newIA(t), []arrivalStep{
		{send: 0, arrival: 100 * ms, size: 100},
		// Sent 10 ms later but arrived only 1 ms later: queued behind the
		// first, so part of the same burst.
		{send: 10 * ms, arrival: 101 * ms, size: 100},
		{send: 20 * ms, arrival: 102 * ms, size: 100},
		// Same send time as the group's last packet: always the same group.
		{send: 20 * ms, arrival: 130 * ms, size: 100},
		// Arrived later than sent: a new group.
		{send: 40 * ms, arrival: 160 * ms, size: 100},
		{send: 60 * ms, arrival: 180 * ms, size: 100, want: &bwe.GroupDelta{
			SendDelta: 20 * time.Millisecond, ArrivalDelta: 30 * time.Millisecond, SizeDelta: -300,
			Arrival: 180 * ms, SendTime: 60 * ms}},
	})
}

func TestInterArrivalBurstCappedAt100ms(t *testing.T) {
	ia := newIA(t)
	// Packets sent 10 ms apart arrive 4 ms apart: each is a burst member,
	// but a burst may keep a group open only for 100 ms of arrivals. So
	// packets 0–24 (arrivals 1000–1096 ms) form group 1, packet 25
	// (1100 ms) opens group 2 (25–49), and packet 50 opens group 3, which
	// yields the one delta of group 2 against group 1. Without the cap the
	// 60 packets would be one endless group and yield nothing.
	var deltas []bwe.GroupDelta
	for i := range 60 {
		send := bwe.Time(i) * 10 * ms
		arrival := 1000*ms + bwe.Time(i)*4*ms
		if d, ok := ia.Add(send, arrival, arrival, 1000); ok {
			deltas = append(deltas, d)
		}
	}
	want := bwe.GroupDelta{
		SendDelta: 250 * time.Millisecond, ArrivalDelta: 100 * time.Millisecond,
		Arrival: 1200 * ms, SendTime: 500 * ms,
	}
	if len(deltas) != 1 || deltas[0] != want {
		t.Fatalf("deltas %+v, want exactly [%+v]", deltas, want)
	}
}

func TestInterArrivalReordering(t *testing.T) {
	ia := newIA(t)
	runArrivals(t, ia, []arrivalStep{
		{send: 100 * ms, arrival: 200 * ms, size: 100},
		{send: 90 * ms, arrival: 201 * ms, size: 100}, // sent before the group: skipped
		{send: 110 * ms, arrival: 210 * ms, size: 100},
		{send: 120 * ms, arrival: 220 * ms, size: 100, want: &bwe.GroupDelta{
			SendDelta: 10 * time.Millisecond, ArrivalDelta: 10 * time.Millisecond,
			Arrival: 220 * ms, SendTime: 120 * ms}},
	})
	if ia.skippedReordered != 1 {
		t.Fatalf("skippedReordered = %d, want 1", ia.skippedReordered)
	}
}

func TestInterArrivalNegativeDeltasReset(t *testing.T) {
	ia := newIA(t)
	runArrivals(t, ia, []arrivalStep{
		{send: 0, arrival: 500 * ms, size: 100},
		{send: 10 * ms, arrival: 520 * ms, size: 100},
		// Arrives before everything else but within the group's send span:
		// it joins group 2 as part of a burst and makes the group complete
		// at 300 ms, before group 1.
		{send: 12 * ms, arrival: 300 * ms, size: 100},
		{send: 30 * ms, arrival: 530 * ms, size: 100}, // negative delta: skipped (1)
		{send: 31 * ms, arrival: 531 * ms, size: 100}, // skipped (2)
		{send: 32 * ms, arrival: 532 * ms, size: 100}, // skipped (3): reset
		// After the reset the grouping starts over.
		{send: 40 * ms, arrival: 540 * ms, size: 100},
		{send: 50 * ms, arrival: 550 * ms, size: 100},
		{send: 60 * ms, arrival: 560 * ms, size: 100, want: &bwe.GroupDelta{
			SendDelta: 10 * time.Millisecond, ArrivalDelta: 10 * time.Millisecond,
			Arrival: 560 * ms, SendTime: 60 * ms}},
	})
	if ia.skippedNegative != 3 || ia.resets != 1 {
		t.Fatalf("skippedNegative = %d, resets = %d; want 3 and 1", ia.skippedNegative, ia.resets)
	}
}

func TestInterArrivalClockJump(t *testing.T) {
	ia := newIA(t)
	runArrivals(t, ia, []arrivalStep{
		{send: 0, arrival: 100 * ms, feedback: 150 * ms, size: 100},
		{send: 10 * ms, arrival: 110 * ms, feedback: 160 * ms, size: 100},
		// The receiver clock jumps 5 s ahead while feedback advances 10 ms.
		{send: 20 * ms, arrival: 5120 * ms, feedback: 170 * ms, size: 100, want: &bwe.GroupDelta{
			SendDelta: 10 * time.Millisecond, ArrivalDelta: 10 * time.Millisecond,
			Arrival: 5120 * ms, SendTime: 20 * ms}},
		{send: 30 * ms, arrival: 5130 * ms, feedback: 180 * ms, size: 100}, // detects the jump: reset
		{send: 40 * ms, arrival: 5140 * ms, feedback: 190 * ms, size: 100},
		{send: 50 * ms, arrival: 5150 * ms, feedback: 200 * ms, size: 100},
		{send: 60 * ms, arrival: 5160 * ms, feedback: 210 * ms, size: 100, want: &bwe.GroupDelta{
			SendDelta: 10 * time.Millisecond, ArrivalDelta: 10 * time.Millisecond,
			Arrival: 5160 * ms, SendTime: 60 * ms}},
	})
	if ia.resets != 1 {
		t.Fatalf("resets = %d, want 1", ia.resets)
	}
}

// TestInterArrivalSaturatedLink feeds packets that arrive back to back,
// 1–5 ms apart, as on a saturated bottleneck: groups must keep closing (one
// per 5 ms of send time), never merging into one endless group.
func TestInterArrivalSaturatedLink(t *testing.T) {
	for _, tc := range []struct {
		name     string
		capacity bwe.Bitrate
	}{{"2Mbps", 2 * bwe.Mbps}, {"20Mbps", 20 * bwe.Mbps}, {"250kbps", 250 * bwe.Kbps}} {
		t.Run(tc.name, func(t *testing.T) {
			ia := newIA(t)
			const size = 1200
			sendGap := bwe.Time(size * 8 * 1e6 / (tc.capacity.Float() * 1.05))
			service := bwe.Time(size * 8 * 1e6 / tc.capacity.Float())
			var arrival bwe.Time
			deltas := 0
			n := int(2 * bwe.Time(1e6) / sendGap) // 2 s of packets
			for i := range n {
				send := bwe.Time(i) * sendGap
				arrival = max(arrival+service, send+50*ms)
				if _, ok := ia.Add(send, arrival, arrival, size); ok {
					deltas++
				}
			}
			// One group per 5 ms of send time, or per packet when
			// packets are sent more than 5 ms apart.
			perGroup := max(sendGap, 5*ms)
			want := int(2*bwe.Time(1e6)/perGroup) / 2
			if deltas < want {
				t.Fatalf("%d deltas over 2 s at 105 %% of %v, want at least %d", deltas, tc.capacity, want)
			}
		})
	}
}

func TestGroupConfigRejectsNegative(t *testing.T) {
	for _, cfg := range []GroupConfig{
		{GroupLength: -1}, {BurstDelta: -1}, {MaxBurst: -1}, {ReorderedReset: -1}, {ClockJump: -1},
	} {
		if _, err := NewInterArrival(cfg); err == nil {
			t.Errorf("NewInterArrival(%+v) = nil error, want one", cfg)
		}
	}
}
