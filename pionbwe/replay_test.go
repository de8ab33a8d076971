package pionbwe

import (
	"bytes"
	"testing"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/replay"
	"github.com/bwelab/bwe/sendside"
	"github.com/bwelab/bwe/traces"
)

// A live session recorded with WithRecorder replays, open loop, to the
// same target after every batch, bit for bit: same batches, same timer
// grid, same start.
func TestRecorderReplaysExactly(t *testing.T) {
	for _, tc := range []struct {
		name     string
		capacity float64
		delay    time.Duration
		loss     float64
		est      replay.Estimator
		opts     []Option
		outage   bool
	}{
		{"2M-50ms", 2e6, 50 * time.Millisecond, 0, replay.Estimator{}, nil, false},
		{"1M-20ms-loss", 1e6, 20 * time.Millisecond, 0.03, replay.Estimator{}, nil, false},
		{"4M-100ms-noprobe", 4e6, 100 * time.Millisecond, 0.01, replay.Estimator{NoProbing: true},
			[]Option{WithConfig(sendside.Config{NoProbing: true})}, false},
		// A 2 s feedback outage: the timeout backoff runs on the timer
		// grid, and the first batch after the outage comes exactly on a
		// grid point where a backoff is due (last batch at 8 s: backoffs
		// at 9.025 s and 10.025 s; first batch after: 10.025 s). Whether
		// the timers at that point run before the batch (as here and in
		// replay.Replay) or after changes the targets.
		{"2M-outage", 2e6, 50 * time.Millisecond, 0, replay.Estimator{}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rec bytes.Buffer
			opts := append(append([]Option(nil), tc.opts...), WithStartBitrate(500_000), WithRecorder(&rec))
			l := newLink(tc.capacity, tc.delay, tc.loss, 7)
			if tc.outage {
				l.fbEvery = 25 * time.Millisecond
				l.outFrom, l.outTo = 7975*time.Millisecond, 9975*time.Millisecond
			}
			s := newSession(t, l, opts...)
			s.run(20*time.Second, true)
			if err := s.e.Close(); err != nil {
				t.Fatal(err)
			}
			st := s.e.Stats()
			if st.Batches < 300 {
				t.Fatalf("only %d batches", st.Batches)
			}
			if tc.outage && st.Core.Timeouts == 0 {
				t.Errorf("no timeout backoff during the outage")
			}
			if st.Unknown+st.Old+st.Malformed != 0 {
				t.Errorf("skipped reports: unknown %d, old %d, malformed %d", st.Unknown, st.Old, st.Malformed)
			}

			r, err := traces.NewFeedbackReader(bytes.NewReader(rec.Bytes()), "recorded")
			if err != nil {
				t.Fatal(err)
			}
			est := tc.est
			est.Edit = func(c *sendside.Config) { c.Start = 500 * bwe.Kbps }
			res, err := replay.Replay(r, est)
			if err != nil {
				t.Fatal(err)
			}
			// The replay's first batch is the empty one that started
			// the session.
			if got, want := res.Batches, len(s.batches)+1; got != want {
				t.Fatalf("replayed %d batches, the session gave %d (+1 start)", got, want)
			}
			if res.Series[0].Packets != 0 {
				t.Errorf("first replayed batch has %d packets, want the empty start batch", res.Series[0].Packets)
			}
			diffs := 0
			for i, live := range s.batches {
				if got := res.Series[i+1].Target; int(got) != live {
					if diffs < 5 {
						t.Errorf("batch %d at %v: replay target %v, live %d", i+1, res.Series[i+1].At, got, live)
					}
					diffs++
				}
			}
			if diffs > 0 {
				t.Errorf("%d of %d targets differ", diffs, len(s.batches))
			}
			if res.Stats != st.Core {
				t.Errorf("estimator stats differ:\nreplay %+v\nlive   %+v", res.Stats, st.Core)
			}
			t.Logf("%d batches, targets %v..%v, mean %v, live stats %+v", res.Batches, res.MinTarget, res.MaxTarget, res.MeanTarget, st.Core)
		})
	}
}
