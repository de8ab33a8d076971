package tcp

import (
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// fuzzReader hands out bytes, then zeros.
type fuzzReader struct {
	b []byte
	i int
}

func (r *fuzzReader) more() bool { return r.i < len(r.b) }

func (r *fuzzReader) byte() byte {
	if r.i >= len(r.b) {
		return 0
	}
	r.i++
	return r.b[r.i-1]
}

// fuzzConfig decodes a small sender configuration: small windows reach the
// window and span limits quickly.
func fuzzConfig(r *fuzzReader) Config {
	b := r.byte()
	cfg := Config{Variant: Variant(b & 1), DupThresh: 1 + int(b>>1)%4}
	cfg.MaxWindow = 1 + int(r.byte())%32
	cfg.InitialWindow = 1 + int(r.byte())%cfg.MaxWindow
	cfg.SegmentSize = 1 + bwe.ByteCount(r.byte())*8
	return cfg
}

// fuzzTime advances now by an amount decoded from b: microseconds to
// hours.
func fuzzTime(now bwe.Time, b byte) bwe.Time {
	switch {
	case b < 128:
		return now.Add(time.Duration(b) * time.Millisecond)
	case b < 250:
		return now.Add(time.Duration(b) * time.Microsecond)
	}
	return now.Add(time.Duration(b) * time.Hour)
}

// checkSender asserts the invariants of a sender's state.
func checkSender(t *testing.T, step int, s *Sender) {
	t.Helper()
	st := s.Stats()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("step %d: "+format+"; stats %+v", append([]any{step}, append(args, st)...)...)
	}
	if st.Cwnd < s.smss || st.Cwnd > s.maxCwnd {
		fail("cwnd %d outside [1 segment %d, max %d]", st.Cwnd, s.smss, s.maxCwnd)
	}
	if st.Ssthresh < 2*s.smss {
		fail("ssthresh %d below 2 segments", st.Ssthresh)
	}
	var pipe bwe.ByteCount
	for i := range s.segs.len() {
		if sg := s.segs.at(i); sg.state == segInFlight {
			pipe += sg.size
		}
	}
	if st.InFlight != pipe || pipe < 0 {
		fail("in flight %d, segments in flight sum to %d", st.InFlight, pipe)
	}
	span := s.nxt - s.una
	if span < 0 || span > int64(s.cfg.MaxWindow) || int64(s.segs.len()) != span {
		fail("span %d (una %d, nxt %d, %d records), max window %d", span, s.una, s.nxt, s.segs.len(), s.cfg.MaxWindow)
	}
	if s.flight.len() > s.cfg.MaxWindow+s.cfg.DupThresh || s.lost.len() > s.cfg.MaxWindow {
		fail("%d transmission records, %d lost entries; window %d", s.flight.len(), s.lost.len(), s.cfg.MaxWindow)
	}
	if st.RTO < s.cfg.MinRTO || st.RTO > s.cfg.MaxRTO || st.SRTT < 0 || st.RTTVar < 0 {
		fail("RTO %v SRTT %v RTTVAR %v", st.RTO, st.SRTT, st.RTTVar)
	}
	if st.Sent < 0 || st.Retransmitted < 0 || st.Acked < 0 || st.Lost < 0 || st.Timeouts < 0 ||
		st.Reductions < 0 || st.IgnoredAcks < 0 || st.AckedBytes > st.SentBytes || st.Acked > st.Sent {
		fail("inconsistent counters")
	}
	if (s.una == s.nxt) != (s.Deadline() == bwe.MaxTime) {
		fail("deadline %v with %d segments outstanding", s.Deadline(), span)
	}
}

// driveFuzz runs the calls decoded from r on f, checking s after each.
func driveFuzz(t *testing.T, r *fuzzReader, f flow, s *Sender, addData func(bwe.ByteCount)) {
	now := bwe.Time(0)
	for step := 0; r.more(); step++ {
		op, arg := r.byte(), r.byte()
		switch op % 6 {
		case 0:
			now = fuzzTime(now, arg)
		case 1: // send everything the window allows
			for {
				before := s.Stats().InFlight
				seg, ok := f.Send(now)
				if !ok {
					break
				}
				st := s.Stats()
				if seg.Size <= 0 || seg.Size > s.smss || st.InFlight != before+seg.Size {
					t.Fatalf("step %d: Send = %+v, in flight %d -> %d", step, seg, before, st.InFlight)
				}
				if st.InFlight > st.Cwnd {
					t.Fatalf("step %d: %d B outstanding exceed the window %d", step, st.InFlight, st.Cwnd)
				}
			}
		case 2: // any segment near the window, unknown and duplicate ones included
			f.OnAck(now, s.una-2+int64(arg)%(s.nxt-s.una+5))
		case 3:
			if d := f.Deadline(); d != bwe.MaxTime && arg&1 == 0 {
				now = max(now, d)
			}
			f.OnTimer(now)
		case 4:
			addData(bwe.ByteCount(arg)*131 - 1000)
		case 5: // a late call with an earlier time
			f.OnAck(fuzzTime(now-bwe.Time(arg)*1000, 0), s.nxt-1-int64(arg%4))
		}
		checkSender(t, step, s)
	}
}

func FuzzSender(f *testing.F) {
	f.Add([]byte{0, 10, 9, 125, 1, 1, 0, 0, 40, 2, 0, 2, 1, 2, 2, 2, 3, 1, 0, 3, 0})
	f.Add([]byte{1, 31, 30, 125, 0, 1, 0, 0, 100, 2, 5, 2, 6, 2, 7, 1, 0, 3, 0, 3, 0, 3, 1, 1, 0})
	f.Add([]byte{2, 0, 0, 0, 1, 1, 0, 3, 0, 3, 0, 2, 2, 1, 0, 5, 3, 4, 200, 1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &fuzzReader{b: data}
		s, err := NewSender(fuzzConfig(r))
		if err != nil {
			t.Fatal(err)
		}
		if r.byte()&1 == 1 {
			s.SetUnlimited()
		}
		driveFuzz(t, r, s, s, s.AddData)
	})
}

func FuzzOnOff(f *testing.F) {
	f.Add([]byte{0, 10, 9, 125, 1, 1, 1, 0, 0, 1, 0, 2, 0, 2, 1, 3, 0, 1, 0})
	f.Add([]byte{1, 5, 2, 10, 0, 9, 9, 3, 0, 1, 0, 2, 3, 2, 4, 3, 0, 1, 0, 2, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &fuzzReader{b: data}
		cfg := OnOffConfig{Sender: fuzzConfig(r), StartOn: r.byte()&1 == 1}
		cfg.MinFile = 1 + bwe.ByteCount(r.byte())*20
		cfg.MaxFile = cfg.MinFile + bwe.ByteCount(r.byte())*20
		cfg.MeanIdle = time.Duration(1+r.byte()) * time.Millisecond
		o, err := NewOnOff(cfg, uint64(r.byte()))
		if err != nil {
			t.Fatal(err)
		}
		driveFuzz(t, r, o, o.s, func(bwe.ByteCount) {})
		st := o.Stats()
		if st.FilesCompleted > st.FilesStarted || st.FilesStarted > st.FilesCompleted+1 ||
			st.CompletionTime < 0 || st.IdleTime < 0 || st.IdlePeriods > st.FilesStarted ||
			st.FileBytes < st.Sender.AckedBytes || st.MeanCompletionTime() < 0 {
			t.Fatalf("inconsistent on/off stats %+v", st)
		}
		if o.On() == (st.FilesStarted == st.FilesCompleted) {
			t.Fatalf("On() = %v with %d files started and %d completed", o.On(), st.FilesStarted, st.FilesCompleted)
		}
	})
}
