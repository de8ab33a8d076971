package traces_test

import (
	"fmt"
	"strings"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/traces"
)

// Read a three-sample rate file and look up the capacity, which loops
// with the trace's period of 3 s.
func ExampleReadPensieve() {
	in := "0.0\t2.5\n1.0\t0\n2.0\t1.5\n" // time_s, Mbit/s
	tr, err := traces.ReadPensieve(strings.NewReader(in), "example")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("period", tr.Period(), "mean", tr.Mean())
	for _, at := range []bwe.Time{0, 1_500_000, 2_999_999, 3_000_000, 4_200_000} {
		fmt.Printf("at %v: %v until %v\n", at, tr.At(at), tr.NextChange(at))
	}
	// Output:
	// period 3s mean 1.333333 Mbps
	// at 0.000000s: 2.5 Mbps until 1.000000s
	// at 1.500000s: 0 bps until 2.000000s
	// at 2.999999s: 1.5 Mbps until 3.000000s
	// at 3.000000s: 2.5 Mbps until 4.000000s
	// at 4.200000s: 0 bps until 5.000000s
}

// A Mahimahi trace: each line is a delivery opportunity for one
// 1500-byte packet at that millisecond; the last timestamp is the period,
// and its opportunity is used at the start of the next pass.
func ExampleReadMahimahi() {
	tr, err := traces.ReadMahimahi(strings.NewReader("1\n1\n3\n4\n"), "example")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range tr.Segments {
		fmt.Printf("from %v: %v\n", s.Start, s.Rate)
	}
	fmt.Println("period", tr.Period(), "volume", tr.Volume(), "bytes")
	// Output:
	// from 0s: 12 Mbps
	// from 1ms: 24 Mbps
	// from 2ms: 0 bps
	// from 3ms: 12 Mbps
	// period 4ms volume 6000 bytes
}

// The embedded corpus holds the traces that may be redistributed.
func ExampleCorpusTrace() {
	tr, err := traces.CorpusTrace("opennetlab/WIRED_900kbs")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tr.Name, tr.Format, tr.Records, "segments")
	fmt.Println("period", tr.Period(), "min", tr.Min(), "max", tr.Max())
	// Output:
	// opennetlab/WIRED_900kbs opennetlab 114 segments
	// period 57.626s min 556 kbps max 1.141 Mbps
}
