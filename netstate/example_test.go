package netstate_test

import (
	"bytes"
	"fmt"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/netstate"
)

// Two feedback batches in one second, then the step that closes it.
func ExampleExtractor() {
	ex, err := netstate.NewExtractor(netstate.ExtractorConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	at := func(ms int64) bwe.Time { return bwe.Time(ms * 1000) }
	// Ten 1250-byte packets every 100 ms, one lost in each batch; the
	// one-way delay grows by 1 ms per packet (10 ms per second of
	// sending), which also shows as jitter.
	for b := range int64(2) {
		var pk []bwe.PacketResult
		for i := range int64(10) {
			seq := b*10 + i
			send := at(seq * 100)
			pk = append(pk, bwe.PacketResult{
				Seq: seq, SendTime: send, Arrival: send.Add(time.Duration(20+seq) * time.Millisecond),
				Size: 1250, Received: i != 9,
			})
		}
		ex.Add(bwe.Feedback{Time: at(b*500 + 100), Packets: pk}, 500*bwe.Kbps, 60*time.Millisecond)
	}
	f, raw, ok := ex.Step(at(1100))
	fmt.Println(ok, raw.Start, raw.End)
	fmt.Printf("sent %v, acked %v, loss %.2f, rtt %v, trend %.1f ms/s\n", raw.Sent, raw.Acked, raw.Loss, raw.RTT, raw.DelayTrend)
	names := netstate.FeatureNames()
	for i, v := range f {
		fmt.Printf("%s=%.3f ", names[i], v)
	}
	fmt.Println()
	// Output:
	// true 0.100000s 1.100000s
	// sent 200 kbps, acked 180 kbps, loss 0.10, rtt 60ms, trend 10.0 ms/s
	// estimate=-1.000 sent=-2.322 acked=-2.474 rtt=0.600 jitter=0.007 loss=0.100 delay_trend=0.100
}

// Scores of five windows against their labels at threshold 0.5.
func ExampleEvaluate() {
	scores := []float64{0.9, 0.6, 0.4, 0.3, 0.1}
	labels := []bool{true, false, true, false, false}
	s := netstate.Evaluate(scores, labels, 0.5)
	fmt.Printf("TP %d FP %d TN %d FN %d\n", s.TP, s.FP, s.TN, s.FN)
	fmt.Printf("precision %.2f recall %.2f F1 %.2f AUC %.3f\n", s.Precision, s.Recall, s.F1, s.AUC)
	// Output:
	// TP 1 FP 1 TN 2 FN 1
	// precision 0.50 recall 0.50 F1 0.50 AUC 0.833
}

// The threshold heuristic reacts to the last seconds' loss.
func ExampleThreshold() {
	p, err := netstate.NewThreshold(netstate.ThresholdConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, loss := range []float64{0, 0, 0.01, 0.06, 0, 0, 0} {
		var f netstate.Features
		f[netstate.FeatLoss] = loss
		pr := p.Observe(f)
		fmt.Printf("loss %.2f → lossy %.2f ready %v\n", loss, pr.Lossy, pr.Ready)
	}
	// Output:
	// loss 0.00 → lossy 0.00 ready false
	// loss 0.00 → lossy 0.00 ready false
	// loss 0.01 → lossy 0.33 ready true
	// loss 0.06 → lossy 0.75 ready true
	// loss 0.00 → lossy 0.75 ready true
	// loss 0.00 → lossy 0.75 ready true
	// loss 0.00 → lossy 0.00 ready true
}

// A model file round trip: the model read back predicts the same.
func ExampleWriteModel() {
	m, err := netstate.NewLSTM(netstate.LSTMConfig{Hidden: 4, Steps: 15, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	var buf bytes.Buffer
	if err := netstate.WriteModel(&buf, m); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(buf.Len(), "bytes")
	p, err := netstate.ReadModel(&buf)
	if err != nil {
		fmt.Println(err)
		return
	}
	x := netstate.Features{netstate.FeatLoss: 0.1}
	fmt.Println(p.Observe(x) == m.Observe(x))
	// Output:
	// 1598 bytes
	// true
}
