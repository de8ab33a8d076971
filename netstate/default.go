package netstate

import (
	"bytes"
	_ "embed"
)

// defaultModel is the embedded default predictor: an LSTM with 32 hidden
// units over 15 steps, trained by
//
//	BWE_TRACES=../shared/traces go run ./cmd/bwe train -stride 3 -hidden 32
//
// (every scenario family and every real trace of ../shared/traces, seeds
// 1–3, the default estimator; weight decay 0.1 chosen on validation
// loss). docs/netstate.md gives its scores on held-out scenarios.
//
//go:embed default.bwens
var defaultModel []byte

// DefaultModel returns a fresh copy of the embedded default predictor
// (see docs/netstate.md), ready to Observe.
func DefaultModel() (Predictor, error) {
	return ReadModel(bytes.NewReader(defaultModel))
}
