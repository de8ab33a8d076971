package replay

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/sendside"
	"github.com/bwelab/bwe/traces"
)

// record runs s closed loop with est and returns the result and flow 0's
// feedback trace.
func record(t testing.TB, s traces.Scenario, est Estimator) (*Result, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w, err := traces.NewFeedbackWriter(&buf, traces.FeedbackHeader{Version: 1, Meta: []traces.FeedbackMeta{{Key: "scenario", Value: s.Name}}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := RunRecord(s, est, w)
	if err != nil {
		t.Fatal(err)
	}
	return res, buf.Bytes()
}

func replayBytes(t testing.TB, trace []byte, est Estimator) *ReplayResult {
	t.Helper()
	r, err := traces.NewFeedbackReader(bytes.NewReader(trace), "recorded")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Replay(r, est)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// Replaying, open loop, the feedback a closed-loop run fed its estimator
// reproduces that estimator exactly: same inputs, same timers, same
// state.
func TestReplayReproducesClosedLoop(t *testing.T) {
	for _, tc := range []struct {
		scenario string
		est      Estimator
		loss     float64
	}{
		{"drop-1M-0.5M", Estimator{}, 0},
		{"jitter-4M", Estimator{Detector: "kalman", Loss: "lossy"}, 0.03},
		{"steady-2M", Estimator{Loss: "classic", NoProbing: true}, 0.01},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			s := scenario(t, tc.scenario)
			s.Forward.Loss = tc.loss
			closed, trace := record(t, s, tc.est)
			open := replayBytes(t, trace, tc.est)
			f := closed.Flows[0]
			if open.Batches != f.Feedbacks {
				t.Errorf("replayed %d batches, the run delivered %d", open.Batches, f.Feedbacks)
			}
			if !reflect.DeepEqual(open.Delay, f.Delay) {
				t.Errorf("delay-based stats differ:\nopen   %+v\nclosed %+v", open.Delay, f.Delay)
			}
			if !reflect.DeepEqual(open.Stats, f.Estimator) {
				t.Errorf("estimator stats differ:\nopen   %+v\nclosed %+v", open.Stats, f.Estimator)
			}
			// The closed loop's sampled target at each instant is the
			// replayed target after the last batch before it, whenever no
			// timer changed it in between.
			k, mismatches, checked := 0, 0, 0
			for _, x := range f.Series {
				for k < len(open.Series) && open.Series[k].At <= x.At {
					k++
				}
				if k == 0 || x.Limit == sendside.LimitTimeout {
					continue
				}
				checked++
				if open.Series[k-1].Target != x.Target {
					mismatches++
				}
			}
			if checked < len(f.Series)/2 || mismatches > checked/50 {
				t.Errorf("%d of %d sampled targets differ from the replay", mismatches, checked)
			}
			if open.MinTarget > open.MeanTarget || open.MeanTarget > open.MaxTarget {
				t.Errorf("min %v, mean %v, max %v", open.MinTarget, open.MeanTarget, open.MaxTarget)
			}
			if open.Header.Get("scenario") != tc.scenario {
				t.Errorf("header scenario %q", open.Header.Get("scenario"))
			}
		})
	}
}

// Different estimators read the same trace differently; the counts of the
// trace do not depend on the estimator.
func TestReplayAnyEstimator(t *testing.T) {
	s := scenario(t, "jitter-4M")
	_, trace := record(t, s, Estimator{})
	a := replayBytes(t, trace, Estimator{Detector: "trendline"})
	b := replayBytes(t, trace, Estimator{Detector: "robust"})
	if a.Batches != b.Batches || a.Packets != b.Packets || a.Lost != b.Lost {
		t.Errorf("counts differ: %d/%d/%d and %d/%d/%d", a.Batches, a.Packets, a.Lost, b.Batches, b.Packets, b.Lost)
	}
	if reflect.DeepEqual(a.Series, b.Series) {
		t.Errorf("trendline and robust detectors give identical series on a jittery trace")
	}
}

func TestReplayErrors(t *testing.T) {
	_, trace := record(t, constantSender(500*bwe.Kbps, bwe.Mbps, 2*time.Second), fixedRate(500*bwe.Kbps))
	lines := strings.Split(string(trace), "\n")
	// Corrupt the last packet line: the error names the trace and line.
	bad := -1
	for i := len(lines) - 1; i >= 0; i-- {
		if f := strings.Fields(lines[i]); len(f) >= 4 && !strings.HasPrefix(lines[i], "#") {
			bad = i
			break
		}
	}
	if bad < 0 {
		t.Fatal("no packet line in the trace")
	}
	f := strings.Fields(lines[bad])
	f[len(f)-1] = "12x"
	lines[bad] = strings.Join(f, " ")
	r, err := traces.NewFeedbackReader(strings.NewReader(strings.Join(lines, "\n")), "bad.bfb")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Replay(r, Estimator{})
	if err == nil || !strings.Contains(err.Error(), "bad.bfb:") {
		t.Errorf("Replay of a corrupt trace: error %v, want one naming bad.bfb and its line", err)
	}
	r, _ = traces.NewFeedbackReader(bytes.NewReader(trace), "ok")
	if _, err := Replay(r, Estimator{Loss: "nope"}); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("Replay with an unknown loss estimator: error %v", err)
	}
	// A trace without batches replays to an empty result.
	var empty bytes.Buffer
	w, _ := traces.NewFeedbackWriter(&empty, traces.FeedbackHeader{Version: 1})
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if res := replayBytes(t, empty.Bytes(), Estimator{}); res.Batches != 0 || len(res.Series) != 0 || res.MeanTarget != 0 {
		t.Errorf("empty trace: %+v", res)
	}
}

func TestProcessGrid(t *testing.T) {
	for _, tc := range []struct{ in, want bwe.Time }{
		{0, 0}, {1, 25_000}, {25_000, 25_000}, {25_001, 50_000}, {-1, 0}, {-25_000, -25_000}, {-25_001, -25_000},
		{bwe.MaxTime, bwe.MaxTime / 25_000 * 25_000}, {math.MinInt64, math.MinInt64 / 25_000 * 25_000},
	} {
		if got := processGrid(tc.in); got != tc.want {
			t.Errorf("processGrid(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// FuzzReplay replays arbitrary traces: Replay either returns the reader's
// error or a result whose targets are within the estimator's bounds.
func FuzzReplay(f *testing.F) {
	_, trace := record(f, constantSender(500*bwe.Kbps, bwe.Mbps, time.Second), Estimator{})
	f.Add(trace)
	f.Add([]byte("bwe-feedback-trace 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := traces.NewFeedbackReader(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		res, err := Replay(r, Estimator{})
		if err != nil {
			return
		}
		lo, hi := sendside.DefaultConfig().Min, sendside.DefaultConfig().Max
		for i, s := range res.Series {
			if s.Target < lo || s.Target > hi || s.DelayBased < 0 || s.LossBased < 0 || s.Acked < 0 || s.RTT < 0 {
				t.Fatalf("sample %d: %+v outside [%v, %v]", i, s, lo, hi)
			}
		}
		if res.Lost > res.Packets || res.Batches != len(res.Series) {
			t.Fatalf("counts %d lost of %d, %d batches for %d samples", res.Lost, res.Packets, res.Batches, len(res.Series))
		}
	})
}
