package traces_test

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/traces"
)

// Record two feedback batches, then replay them batch by batch.
func ExampleFeedbackWriter() {
	var file bytes.Buffer
	w, err := traces.NewFeedbackWriter(&file, traces.FeedbackHeader{Meta: []traces.FeedbackMeta{
		{Key: "source", Value: "example"},
		{Key: "description", Value: "two batches, one lost packet, one probe"},
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	// Send and feedback times on the sender's clock, arrivals on the
	// receiver's, which here runs 2 s ahead.
	batches := []bwe.Feedback{
		{Time: 100_000, Packets: []bwe.PacketResult{
			{Seq: 0, SendTime: 0, Arrival: 2_040_000, Size: 1200, Received: true},
			{Seq: 1, SendTime: 5_000, Size: 1200}, // lost
		}},
		{Time: 150_000, Packets: []bwe.PacketResult{
			{Seq: 2, SendTime: 10_000, Arrival: 2_052_000, Size: 1200, Received: true, ProbeCluster: 1},
		}},
	}
	for _, fb := range batches {
		if err := w.Write(fb); err != nil {
			fmt.Println(err)
			return
		}
	}
	if err := w.Flush(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(file.String())

	r, err := traces.NewFeedbackReader(&file, "example.bfb")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("source:", r.Header().Get("source"))
	for {
		fb, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("feedback at", fb.Time)
		for _, p := range fb.Packets {
			fmt.Printf("  seq %d sent %v size %d received %v arrival %v probe %d\n",
				p.Seq, p.SendTime, p.Size, p.Received, p.Arrival, p.ProbeCluster)
		}
	}
	// Output:
	// bwe-feedback-trace 1
	// meta source "example"
	// meta description "two batches, one lost packet, one probe"
	// fb 100000 2
	// p 0 0 1200 2040000
	// p 1 5000 1200 lost
	// fb 150000 1
	// p 2 10000 1200 2052000 1
	// source: example
	// feedback at 0.100000s
	//   seq 0 sent 0.000000s size 1200 received true arrival 2.040000s probe 0
	//   seq 1 sent 0.005000s size 1200 received false arrival 0.000000s probe 0
	// feedback at 0.150000s
	//   seq 2 sent 0.010000s size 1200 received true arrival 2.052000s probe 1
}

// Malformed traces give errors that name the file, the line and the field.
func ExampleFeedbackReader() {
	const trace = `bwe-feedback-trace 1
# a hand-written trace
fb 100000 2
p 7 0 1200 40000
p 8 5000 1200 4x000
`
	r, err := traces.NewFeedbackReader(strings.NewReader(trace), "hand.bfb")
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = r.Next()
	fmt.Println(err)
	// Output:
	// hand.bfb:5: arrival: "4x000" is not an integer µs or "lost"
}
