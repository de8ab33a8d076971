package pionbwe_test

import (
	"fmt"

	"github.com/bwelab/bwe/pionbwe"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
)

// Replacing pion's gcc.NewSendSideBWE is one line in the factory given
// to cc.NewInterceptor; the estimator of each peer connection comes back
// through OnNewPeerConnection.
func Example() {
	factory, err := cc.NewInterceptor(func() (cc.BandwidthEstimator, error) {
		return pionbwe.New(pionbwe.WithStartBitrate(1_000_000), pionbwe.WithMaxBitrate(8_000_000))
	})
	if err != nil {
		panic(err)
	}
	estimators := make(chan cc.BandwidthEstimator, 1)
	factory.OnNewPeerConnection(func(_ string, e cc.BandwidthEstimator) { estimators <- e })

	// pion's webrtc API does this when a peer connection is created:
	// registry.Add(factory); webrtc.ConfigureTWCCHeaderExtensionSender(m, registry).
	var registry interceptor.Registry
	registry.Add(factory)
	chain, err := registry.Build("peer-1")
	if err != nil {
		panic(err)
	}
	defer chain.Close()

	e := <-estimators
	fmt.Println("start target:", e.GetTargetBitrate(), "bps")
	// Output:
	// start target: 1000000 bps
}
