package probe

import (
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// ctlReader decodes fuzz bytes; past the end it yields zeros.
type ctlReader struct {
	b []byte
}

func (r *ctlReader) more() bool { return len(r.b) > 0 }

func (r *ctlReader) u8() byte {
	if len(r.b) == 0 {
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *ctlReader) uint16() uint16 { return uint16(r.u8())<<8 | uint16(r.u8()) }

func (r *ctlReader) uint32() uint32 {
	var p [4]byte
	for i := range p {
		p[i] = r.u8()
	}
	return binary.BigEndian.Uint32(p[:])
}

// rate decodes a rate: zero, negative, one, extreme or an ordinary value
// in bps, kbps or Mbps.
func (r *ctlReader) rate() bwe.Bitrate {
	switch k := r.u8(); k % 8 {
	case 0:
		return 0
	case 1:
		return -bwe.Bitrate(r.uint32())
	case 2:
		return bwe.MaxBitrate
	case 3:
		return bwe.MaxBitrate/2 + bwe.Bitrate(r.uint16())
	case 4:
		return 1
	case 5:
		return bwe.Bitrate(r.uint16())
	case 6:
		return bwe.Bitrate(r.uint16()) * bwe.Kbps
	default:
		return bwe.Bitrate(r.u8()) * bwe.Mbps
	}
}

// when decodes a time relative to now: small steps either way, large jumps,
// or an extreme instant.
func (r *ctlReader) when(now bwe.Time) bwe.Time {
	switch k := r.u8(); k % 8 {
	case 0:
		return now
	case 1, 2, 3:
		return now.Add(time.Duration(int16(r.uint16())) * time.Millisecond)
	case 4:
		return now.Add(time.Duration(r.uint16()) * 25 * time.Millisecond)
	case 5:
		return now.Add(time.Duration(int32(r.uint32())) * time.Millisecond)
	case 6:
		return bwe.MinTime + bwe.Time(r.u8())
	default:
		return bwe.MaxTime - bwe.Time(r.u8())
	}
}

// Seed encoding helpers: a call is a time (seedAt), an op byte and the op's
// arguments; rates are seedKbps or seedZero.
func seedAt(ms int16) []byte   { return []byte{1, byte(uint16(ms) >> 8), byte(ms)} }
func seedKbps(k uint16) []byte { return []byte{6, byte(k >> 8), byte(k)} }

var seedZero = []byte{0}

func seedCall(at []byte, op byte, args ...[]byte) []byte {
	b := append(append([]byte(nil), at...), op)
	for _, a := range args {
		b = append(b, a...)
	}
	return b
}

// ctlSeeds are timelines that exercise every trigger: initial and further
// probing, the timeout, ALR and allocation probes, a drop and recovery, a
// reset, the network going down, and time going backwards.
func ctlSeeds() [][]byte {
	now := []byte{0}
	script := func(flags byte, calls ...[]byte) []byte {
		b := []byte{flags}
		for _, c := range calls {
			b = append(b, c...)
		}
		return b
	}
	return [][]byte{
		script(0x01, // periodic ALR probing
			seedCall(now, 1, seedKbps(30), seedKbps(300), seedKbps(10000)),
			seedCall(seedAt(100), 3, seedKbps(1500), seedZero),
			seedCall(seedAt(5000), 0),
			seedCall(now, 4, now, seedZero),
			seedCall(seedAt(5000), 0),
			seedCall(seedAt(100), 3, seedKbps(500), seedZero),
			seedCall(seedAt(25), 3, seedKbps(200), seedZero),
			seedCall(now, 6),
			seedCall(now, 2, seedKbps(4000)),
			seedCall(seedAt(-3000), 0),
			seedCall(now, 7),
			seedCall(now, 1, seedZero, seedZero, seedZero),
		),
		script(0x02|0x10, // repeated initial probing, allocation limit
			seedCall(now, 1, seedKbps(30), seedKbps(300), seedKbps(5000)),
			seedCall(seedAt(1100), 0),
			seedCall(seedAt(1100), 0),
			seedCall(now, 3, seedKbps(250), []byte{2}),
			seedCall(seedAt(1100), 0),
			seedCall(now, 4, now, seedZero),
			seedCall(now, 2, seedKbps(2000)),
			seedCall(now, 8, []byte{0}),
			seedCall(now, 8, []byte{1}),
		),
		script(0x04|0x08|0x20, // abort further, recovery outside ALR, skip
			seedCall(now, 1, seedKbps(100), seedKbps(1000), seedKbps(2000)),
			seedCall(now, 3, seedKbps(2500), seedZero),
			seedCall(seedAt(2000), 0),
			seedCall(now, 3, seedKbps(600), seedZero),
			seedCall(seedAt(10), 6),
			seedCall(now, 5, now),
			seedCall(seedAt(-10), 6),
		),
	}
}

// FuzzController decodes bytes into a configuration and a sequence of calls
// of every Controller method, with times that may jump or go backwards and
// rates that may be zero, negative or huge. Every request returned must have
// an id above every earlier one, be sent at the call's time, have a positive
// duration, count and delta, and a rate between the min rate and the cap
// (the max rate, or twice the max total allocated rate when lower); the min
// gives way when it is above the cap.
func FuzzController(f *testing.F) {
	for _, seed := range ctlSeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &ctlReader{b: data}
		flags := r.u8()
		cfg := ControllerConfig{
			PeriodicALRProbing:      flags&1 != 0,
			RepeatedInitialProbing:  flags&2 != 0,
			AbortFurtherProbing:     flags&4 != 0,
			RecoveryOutsideALR:      flags&8 != 0,
			NoSecondProbe:           flags&64 != 0,
			NoSecondAllocationProbe: flags&128 != 0,
		}
		if flags&16 != 0 {
			cfg.AllocationCurrentLimit = 1.5
		}
		if flags&32 != 0 {
			cfg.SkipAboveFractionOfMax = 0.9
		}
		c, err := NewController(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defMax := c.Config().DefaultMaxBitrate

		// The bounds the controller was given, tracked independently.
		var minRate, alloc bwe.Bitrate
		maxRate := defMax
		now := bwe.Time(0)
		lastID := int32(0)

		for i := 0; r.more() && i < 1000; i++ {
			now = r.when(now)
			var got []Request
			call := ""
			switch op := r.u8(); op % 13 {
			case 0:
				call = "Process"
				got = c.Process(now)
			case 1:
				call = "SetBitrates"
				lo, start, hi := r.rate(), r.rate(), r.rate()
				got = c.SetBitrates(now, lo, start, hi)
				minRate = max(lo, 0)
				maxRate = hi
				if hi <= 0 || hi == bwe.MaxBitrate {
					maxRate = defMax
				}
			case 2:
				call = "OnMaxTotalAllocatedBitrate"
				total := r.rate()
				got = c.OnMaxTotalAllocatedBitrate(now, total)
				alloc = max(total, 0)
			case 3:
				call = "SetEstimatedBitrate"
				est := r.rate()
				got = c.SetEstimatedBitrate(now, est, Cause(r.u8()%6))
			case 4:
				c.SetALRStartTime(r.when(now), r.u8()%2 == 0)
			case 5:
				c.SetALREndedTime(r.when(now))
			case 6:
				call = "RequestProbe"
				got = c.RequestProbe(now)
			case 7:
				c.Reset(now)
				minRate, maxRate = 0, defMax
			case 8:
				call = "SetNetworkAvailable"
				got = c.SetNetworkAvailable(now, r.u8()%4 != 0)
			case 9:
				c.EnablePeriodicALRProbing(r.u8()%2 == 0)
			case 10:
				c.EnableRepeatedInitialProbing(r.u8()%2 == 0)
			default:
				call = "Process"
				got = c.Process(now)
			}
			if len(got) > 2 {
				t.Fatalf("call %d: %s returned %d requests, want at most 2", i, call, len(got))
			}
			hardCap := maxRate
			if alloc > 0 {
				hardCap = min(hardCap, bwe.SatAdd(alloc, alloc))
			}
			floor := min(max(minRate, 1), hardCap)
			for _, q := range got {
				if q.ID <= lastID {
					t.Fatalf("call %d: %s: request id %d after id %d", i, call, q.ID, lastID)
				}
				lastID = q.ID
				if q.At != now || q.Duration <= 0 || q.MinProbes <= 0 || q.MinDelta <= 0 {
					t.Fatalf("call %d: %s: request %+v at %v: want At = now and positive duration, count, delta", i, call, q, now)
				}
				if q.Bitrate < floor || q.Bitrate > hardCap {
					t.Fatalf("call %d: %s: request rate %v outside [%v, %v] (min %v, max %v, allocated %v)",
						i, call, q.Bitrate, floor, hardCap, minRate, maxRate, alloc)
				}
				if cl := q.Cluster(); cl.ID != q.ID || cl.MinBytes <= 0 || cl.MinProbes != q.MinProbes {
					t.Fatalf("call %d: %s: Cluster() = %+v for %+v", i, call, cl, q)
				}
			}
			if e := c.Estimate(); e < 0 {
				t.Fatalf("call %d: Estimate() = %v, negative", i, e)
			}
			if s := c.State(); s > StateComplete {
				t.Fatalf("call %d: State() = %v", i, s)
			}
			if lastID == math.MaxInt32 {
				return // the next id wraps to 1; the test cannot go that far anyway
			}
		}
	})
}
