package netstate

import (
	"math/rand/v2"
	"testing"
)

func benchObserve(b *testing.B, p Predictor) {
	rng := rand.New(rand.NewPCG(1, 2))
	fs := make([]Features, 64)
	for i := range fs {
		fs[i] = randomFeatures(rng)
	}
	for i := range 20 {
		p.Observe(fs[i])
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p.Observe(fs[i%len(fs)])
		i++
	}
}

func BenchmarkObserveThreshold(b *testing.B) {
	p, _ := NewThreshold(ThresholdConfig{})
	benchObserve(b, p)
}

func BenchmarkObserveLogistic(b *testing.B) {
	p, _ := NewLogistic(15)
	benchObserve(b, p)
}

func BenchmarkObserveLSTM128(b *testing.B) {
	p, _ := NewLSTM(LSTMConfig{Hidden: 128, Steps: 15})
	benchObserve(b, p)
}

func BenchmarkObserveLSTM32(b *testing.B) {
	p, _ := NewLSTM(LSTMConfig{Hidden: 32, Steps: 15})
	benchObserve(b, p)
}

// BenchmarkLSTMCellStep128 runs the network over a one-step window: one
// cell step at hidden 128 plus the output layer.
func BenchmarkLSTMCellStep128(b *testing.B) {
	p, _ := NewLSTM(LSTMConfig{Hidden: 128, Steps: 15})
	x := []Features{randomFeatures(rand.New(rand.NewPCG(1, 2)))}
	b.ReportAllocs()
	for b.Loop() {
		p.Predict(x)
	}
}

func benchTrain(b *testing.B, hidden, n int) {
	rng := rand.New(rand.NewPCG(3, 4))
	train := pulseWindows(rng, n, 15, "train")
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := TrainLSTM(train, nil, TrainConfig{Hidden: hidden, Epochs: 1}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N)*1e4/float64(n), "s/epoch/10k")
}

// BenchmarkTrainEpochLSTM32 and BenchmarkTrainEpochLSTM128 time one epoch
// of training (the metric s/epoch/10k scales it to 10 000 windows).
func BenchmarkTrainEpochLSTM32(b *testing.B)  { benchTrain(b, 32, 1000) }
func BenchmarkTrainEpochLSTM128(b *testing.B) { benchTrain(b, 128, 500) }

func BenchmarkTrainEpochLogistic(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	train := pulseWindows(rng, 1000, 15, "train")
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := TrainLogistic(train, nil, TrainConfig{Epochs: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExtractor(b *testing.B) {
	f := newSteadyFeed(50)
	b.ReportAllocs()
	for b.Loop() {
		f.next()
	}
}
