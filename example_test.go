package bwe_test

import (
	"fmt"
	"time"

	"github.com/bwelab/bwe"
)

func Example() {
	// A 1200-byte packet every 20 ms is 480 kbps.
	rate := bwe.RateOf(1200, 20*time.Millisecond)
	fmt.Println(rate)

	// Sequence numbers wrap at 2^16; the unwrapper keeps counting.
	var u bwe.SeqUnwrapper
	for _, s := range []uint16{65534, 65535, 0, 1} {
		fmt.Println(s, "->", u.Unwrap(s))
	}

	// Instants are microseconds; intervals are time.Duration.
	t0 := bwe.Time(100_000_000)
	t1 := t0.Add(1500 * time.Millisecond)
	fmt.Println(t1, t1.Sub(t0))
	// Output:
	// 480 kbps
	// 65534 -> 65534
	// 65535 -> 65535
	// 0 -> 65536
	// 1 -> 65537
	// 101.500000s 1.5s
}
