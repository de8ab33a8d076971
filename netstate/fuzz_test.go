package netstate

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// reader hands out fuzz bytes as numbers; past the end it gives zeros.
type reader struct{ data []byte }

func (r *reader) more() bool { return len(r.data) > 0 }

func (r *reader) uint(n int) uint64 {
	var b [8]byte
	k := copy(b[:n], r.data)
	r.data = r.data[k:]
	return binary.LittleEndian.Uint64(b[:])
}

func (r *reader) float() float64 { return math.Float64frombits(r.uint(8)) }

// FuzzReadModel decodes arbitrary bytes as a model. It must never panic;
// a model it accepts must re-encode to the bytes it read and predict
// probabilities.
func FuzzReadModel(f *testing.F) {
	th, _ := NewThreshold(ThresholdConfig{})
	lg, _ := NewLogistic(3)
	ls, _ := NewLSTM(LSTMConfig{Hidden: 2, Steps: 3, Seed: 1})
	for _, p := range []Predictor{th, lg, ls} {
		f.Add(encode(f, p))
	}
	f.Add([]byte("BWENS\x01\x03\x01\x07\x00\x0f\x00\x00\x04\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ReadModel(bytes.NewReader(data))
		if err != nil {
			return
		}
		again := encode(t, p)
		if len(again) > len(data) || !bytes.Equal(again, data[:len(again)]) {
			t.Fatalf("accepted model re-encodes differently")
		}
		for _, v := range []float64{0, math.NaN(), math.Inf(1), -1e300, 0.5} {
			var x Features
			for k := range x {
				x[k] = v
			}
			if pr := p.Observe(x); !(pr.Lossy >= 0 && pr.Lossy <= 1) {
				t.Fatalf("Observe(%v) = %+v", x, pr)
			}
		}
	})
}

// FuzzExtractor decodes bytes into a sequence of Add and Step calls with
// arbitrary batches, times, estimates and RTTs, and checks every returned
// interval.
func FuzzExtractor(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20})
	f.Add([]byte("\x00\x40\x42\x0f\x00\x00\x00\x00\x00\x05\xff\xff\xff\xff\xff\xff\xff\x7f\x01\x80\x84\x1e\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &reader{data}
		e, err := NewExtractor(ExtractorConfig{Interval: time.Duration(1+r.uint(2)) * time.Millisecond, MaxEmptyRun: int(r.uint(1))})
		if err != nil {
			t.Fatal(err)
		}
		pk := make([]bwe.PacketResult, 0, 32)
		at := bwe.Time(0)
		for r.more() {
			op := r.uint(1)
			switch op % 4 {
			case 0: // jump to an arbitrary time
				at = bwe.Time(int64(r.uint(8)))
			case 1: // advance
				at = at.Add(time.Duration(int64(int16(r.uint(2)))) * time.Millisecond)
			}
			if op%2 == 0 {
				pk = pk[:0]
				for range int(r.uint(1) % 32) {
					pk = append(pk, bwe.PacketResult{
						Seq:      int64(r.uint(1)),
						SendTime: at.Add(-time.Duration(int64(int32(r.uint(4)))) * time.Microsecond),
						Arrival:  at.Add(time.Duration(int64(int32(r.uint(4)))) * time.Microsecond),
						Size:     bwe.ByteCount(int64(int16(r.uint(2)))),
						Received: r.uint(1)%4 != 0,
					})
				}
				e.Add(bwe.Feedback{Time: at, Packets: pk}, bwe.Bitrate(int64(r.uint(8))), time.Duration(int64(r.uint(8))))
			}
			for n := 0; ; n++ {
				feat, raw, ok := e.Step(at)
				if !ok {
					break
				}
				if n > 2*queueCap*300 {
					t.Fatalf("Step keeps returning intervals")
				}
				checkFeatureBounds(t, "Step", feat)
				checkRawBounds(t, "Step", raw)
				if Normalize(raw) != feat {
					t.Fatalf("Step features %v differ from Normalize(raw) %v", feat, Normalize(raw))
				}
			}
		}
	})
}

// FuzzObserve feeds arbitrary float64 features (NaN and infinities
// included) to each predictor and checks that every prediction is a
// probability and that Predict agrees with Observe.
func FuzzObserve(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0xf8, 0x7f, 0, 0, 0, 0, 0, 0, 0xf0, 0x7f})
	f.Add(bytes.Repeat([]byte{0x3f, 0xe0, 1, 2}, 40))
	preds := testPredictors(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &reader{data}
		var hist []Features
		for _, p := range preds {
			p.Reset()
		}
		for r.more() {
			var x Features
			for k := range x {
				x[k] = r.float()
			}
			hist = append(hist, x)
			for _, p := range preds {
				got := p.Observe(x)
				if !(got.Lossy >= 0 && got.Lossy <= 1) {
					t.Fatalf("%T: Observe(%v) = %+v", p, x, got)
				}
				if want := p.(windowPredictor).Predict(hist); got != want {
					t.Fatalf("%T: Observe = %+v, Predict = %+v", p, got, want)
				}
			}
		}
	})
}

// FuzzEvaluate scores arbitrary floats against arbitrary labels.
func FuzzEvaluate(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &reader{data}
		threshold := r.float()
		var scores []float64
		var labels []bool
		for r.more() {
			labels = append(labels, r.uint(1)%2 == 1)
			scores = append(scores, r.float())
		}
		s := Evaluate(scores, labels, threshold)
		if s.TP+s.FP+s.TN+s.FN != len(scores) || s.Positives+s.Negatives != len(scores) {
			t.Fatalf("counts %+v for %d scores", s, len(scores))
		}
		for _, v := range []float64{s.Precision, s.Recall, s.F1, s.Accuracy, s.AUC} {
			if !(v >= 0 && v <= 1) {
				t.Fatalf("Scores %+v: a rate outside [0, 1]", s)
			}
		}
	})
}

// FuzzWindows slides arbitrary configurations over arbitrary series.
func FuzzWindows(f *testing.F) {
	f.Add([]byte{3, 2, 1, 10, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f, 5, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &reader{data}
		cfg := WindowConfig{
			Steps:      int(int8(r.uint(1))),
			Horizon:    int(int8(r.uint(1))),
			Stride:     int(int8(r.uint(1))),
			LossRate:   float64(r.uint(1)) / 256,
			MinPackets: int(int8(r.uint(1))),
		}
		var s []Step
		for r.more() && len(s) < 1000 {
			var st Step
			st.Loss = r.float()
			st.Packets = int(int16(r.uint(2)))
			st.F[int(r.uint(1)%NumFeatures)] = r.float()
			s = append(s, st)
		}
		ws, err := Windows(s, "g", cfg)
		if err != nil {
			return
		}
		c := cfg.withDefaults()
		for i, w := range ws {
			if len(w.X) != c.Steps {
				t.Fatalf("window %d has %d steps, want %d", i, len(w.X), c.Steps)
			}
			for _, x := range w.X {
				checkFeatureBounds(t, "Windows", x)
			}
		}
	})
}

// FuzzTrain trains tiny models for one or two epochs on arbitrary
// features and labels: training must succeed and give probabilities.
func FuzzTrain(f *testing.F) {
	f.Add([]byte{2, 3, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &reader{data}
		steps := 1 + int(r.uint(1)%3)
		n := 1 + int(r.uint(1)%6)
		ws := make([]Window, n)
		for i := range ws {
			ws[i].X = make([]Features, steps)
			for s := range ws[i].X {
				for k := range NumFeatures {
					ws[i].X[s][k] = r.float()
				}
			}
			ws[i].Label = r.uint(1)%2 == 1
		}
		cfg := TrainConfig{Seed: r.uint(8), Hidden: 2, Steps: steps, Epochs: 2, BatchSize: 2, LearningRate: 0.1}
		lg, _, err := TrainLogistic(ws, ws[:1], cfg)
		if err != nil {
			t.Fatal(err)
		}
		ls, _, err := TrainLSTM(ws, nil, cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []Predictor{lg, ls} {
			for _, v := range Score(p, ws) {
				if !(v >= 0 && v <= 1) {
					t.Fatalf("%T: score %v", p, v)
				}
			}
		}
	})
}
