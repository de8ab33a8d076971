package traces

import (
	"fmt"
	"time"

	"github.com/bwelab/bwe"
)

// ShapedDelay is the one-way delay of the [Shaped] scenarios, each way:
// 25 ms.
const ShapedDelay = 25 * time.Millisecond

// Shaped returns the token-bucket cases: one video flow (the [Flow]
// defaults: start at 300 kbps, no application cap) on a constant capacity
// whose bottleneck is a token bucket ([Path].Bucket) filled at the
// capacity, 25 ms one-way each way ([ShapedDelay]), 300 ms queue, 60 s
// (10 s warm-up):
//
//	shaped-1500kbps-bucket3000, shaped-1500kbps-bucket15000
//	shaped-4mbps-bucket3000,    shaped-4mbps-bucket15000
//
// A 3000-byte bucket is two full-size packets, the burst of a kernel tbf
// set near its minimum; 15 000 bytes is ten, the burst of a shaper or of
// a radio scheduler's grant. After any pause the bucket lets its depth
// through at once, so a probe cluster's first packets arrive at the
// spacing they were sent with, faster than the capacity: a receive rate
// measured from the cluster's first arrival to its last overstates the
// capacity (package probe, "Token buckets").
func Shaped(seed uint64) []Scenario {
	var out []Scenario
	for _, c := range []bwe.Bitrate{1500 * bwe.Kbps, 4 * bwe.Mbps} {
		for _, b := range []bwe.ByteCount{3000, 15000} {
			s := genSteady(fmt.Sprintf("shaped-%s-bucket%d", shapedRate(c), b), seed, c)
			s.Forward.Delay = ShapedDelay
			s.Forward.Bucket = b
			out = append(out, s)
		}
	}
	return out
}

// shapedRate names a rate in whole Mbps, or in kbps if it is not a whole
// number of Mbps.
func shapedRate(r bwe.Bitrate) string {
	if r%bwe.Mbps == 0 {
		return fmt.Sprintf("%dmbps", r/bwe.Mbps)
	}
	return fmt.Sprintf("%dkbps", r/bwe.Kbps)
}
