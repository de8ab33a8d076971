package sendside

import (
	"fmt"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/netstate"
)

// netState runs a network-state predictor (Config.Predictor) on the
// feedback: one feature vector per second (netstate.Extractor), each
// handed to the predictor as its interval ends.
type netState struct {
	ext  *netstate.Extractor
	pred netstate.Predictor
	last netstate.Prediction
}

func newNetState(p netstate.Predictor) (*netState, error) {
	ext, err := netstate.NewExtractor(netstate.ExtractorConfig{})
	if err != nil {
		return nil, fmt.Errorf("sendside: %w", err)
	}
	p.Reset()
	return &netState{ext: ext, pred: p}, nil
}

// observe adds a feedback batch with the estimate and RTT after it, and
// lets the predictor observe every interval that ended by the batch.
func (n *netState) observe(fb bwe.Feedback, estimate bwe.Bitrate, rtt time.Duration) {
	n.ext.Add(fb, estimate, rtt)
	for {
		f, _, ok := n.ext.Step(fb.Time)
		if !ok {
			return
		}
		n.last = n.pred.Observe(f)
	}
}

// risk returns the predicted probability of a lossy next window, 0 until
// the predictor has seen enough.
func (n *netState) risk() float64 {
	if n == nil || !n.last.Ready {
		return 0
	}
	return n.last.Lossy
}
