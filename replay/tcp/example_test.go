package tcp_test

import (
	"fmt"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/replay/tcp"
)

// A 25 000-byte transfer over a path with a 100 ms round trip and no
// loss: the first round sends the initial window of 10 segments, the
// second the remaining 15.
func Example() {
	s, err := tcp.NewSender(tcp.Config{}) // NewReno, 1000 B segments, IW 10
	if err != nil {
		panic(err)
	}
	s.AddData(25_000)
	now := bwe.Time(0)
	var sent []int64
	for round := 1; !s.Complete(); round++ {
		sent = sent[:0]
		for {
			seg, ok := s.Send(now)
			if !ok {
				break
			}
			sent = append(sent, seg.Seq) // hand seg to the link here
		}
		fmt.Printf("round %d: sent %d segments\n", round, len(sent))
		now = now.Add(100 * time.Millisecond)
		for _, seq := range sent {
			s.OnAck(now, seq) // each acknowledgement one RTT later
		}
	}
	st := s.Stats()
	fmt.Printf("done at %v: cwnd %d segments, srtt %v, rto %v\n", now, st.Cwnd/1000, st.SRTT, st.RTO)
	// Output:
	// round 1: sent 10 segments
	// round 2: sent 15 segments
	// done at 0.200000s: cwnd 35 segments, srtt 100ms, rto 200ms
}

// A short-TCP-flow source of RFC 8868: files of 30–50 KiB separated by
// exponential idle times with a mean of 10 s, here over a lossless path
// with a 100 ms round trip. Deadline says when the next file starts.
func ExampleOnOff() {
	f, err := tcp.NewOnOff(tcp.OnOffConfig{StartOn: true}, 1)
	if err != nil {
		panic(err)
	}
	now := bwe.Time(0)
	var sent []int64
	for f.Stats().FilesCompleted < 3 {
		if !f.On() {
			now = f.Deadline() // idle until the next file
		}
		sent = sent[:0]
		for {
			seg, ok := f.Send(now)
			if !ok {
				break
			}
			sent = append(sent, seg.Seq)
		}
		now = now.Add(100 * time.Millisecond)
		for _, seq := range sent {
			f.OnAck(now, seq)
		}
	}
	st := f.Stats()
	fmt.Printf("%d files, %d bytes, mean completion %v, idle %v\n",
		st.FilesCompleted, st.FileBytes, st.MeanCompletionTime(), st.IdleTime.Round(time.Millisecond))
	// Output:
	// 3 files, 133438 bytes, mean completion 300ms, idle 15.094s
}
