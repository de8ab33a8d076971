package traces

import (
	"time"

	"github.com/bwelab/bwe"
)

// The reference cases' setting: the closed loop in which the incumbent Go
// estimator (pion/interceptor v0.1.51 pkg/gcc) was measured.
const (
	// ReferenceDelay is their one-way delay, each way: 50 ms.
	ReferenceDelay = 50 * time.Millisecond
	// ReferenceQueue is their drop-tail queue: 75 KB.
	ReferenceQueue bwe.ByteCount = 75_000
	// referenceRunLength is the duration of a reference case: 60 s.
	referenceRunLength = 60 * time.Second
)

// referenceCase is one reference case: capacity c, the given one-way
// delay, a perfect 30 fps encoder (no lag, no size variation, no
// keyframe after the first), 1200-byte packets, the start rate of 300 kbps.
func referenceCase(name string, seed uint64, c bwe.Bitrate, delay time.Duration) Scenario {
	return Scenario{
		Name:     name,
		Seed:     seed,
		Duration: referenceRunLength,
		Warmup:   genWarmup,
		Forward:  Path{Capacity: Constant(c), Delay: delay, QueueBytes: ReferenceQueue},
		Flows:    []Flow{{Video: VideoConfig{Lag: -1, Variation: -1}}},
	}
}

// Reference returns the cases in which the behaviour of the incumbent Go
// estimator, pion/interceptor's gcc, was measured, in the setting of that
// measurement: a perfect 30 fps encoder, 1200-byte packets, 50 ms one-way
// delay, a 75 KB drop-tail queue, feedback every 50 ms, 60 s (10 s of
// warm-up); the start rate is 300 kbps unless the name says otherwise:
//
//	reference-1mbps                      1 Mbps
//	reference-2mbps                      2 Mbps: ramp-up from 300 kbps,
//	                                     then a saturated link
//	reference-3mbps                      3 Mbps, saturated
//	reference-2mbps-start10kbps          2 Mbps from a 10 kbps start (the
//	                                     sender's floor lowered to 10 kbps)
//	reference-3mbps-loss6                3 Mbps with 6 % random loss
//	reference-app-limited-800kbps-3mbps  the application has 0.8 Mbps to
//	                                     send on 3 Mbps: the estimate must
//	                                     stay bounded
//	reference-20mbps-100ms               20 Mbps with 100 ms one-way delay:
//	                                     the send history must cover the
//	                                     round trip
func Reference(seed uint64) []Scenario {
	start10 := referenceCase("reference-2mbps-start10kbps", seed, 2*bwe.Mbps, ReferenceDelay)
	start10.Flows[0].StartRate, start10.Flows[0].MinRate = 10*bwe.Kbps, 10*bwe.Kbps
	loss := referenceCase("reference-3mbps-loss6", seed, 3*bwe.Mbps, ReferenceDelay)
	loss.Forward.Loss = 0.06
	app := referenceCase("reference-app-limited-800kbps-3mbps", seed, 3*bwe.Mbps, ReferenceDelay)
	app.Flows[0].AppRate = 800 * bwe.Kbps
	return []Scenario{
		referenceCase("reference-1mbps", seed, bwe.Mbps, ReferenceDelay),
		referenceCase("reference-2mbps", seed, 2*bwe.Mbps, ReferenceDelay),
		referenceCase("reference-3mbps", seed, 3*bwe.Mbps, ReferenceDelay),
		start10,
		loss,
		app,
		referenceCase("reference-20mbps-100ms", seed, 20*bwe.Mbps, 100*time.Millisecond),
	}
}
