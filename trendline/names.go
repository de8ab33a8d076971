package trendline

import (
	"fmt"
	"strings"

	"github.com/bwelab/bwe"
)

// names lists the detectors of this package by name, in a stable order.
var names = []string{"trendline", "kalman", "robust"}

// Names returns the names [NewByName] accepts: "trendline" ([Estimator]),
// "kalman" ([Kalman]) and "robust" ([Robust]).
func Names() []string { return append([]string(nil), names...) }

// NewByName returns a fresh detector with its default configuration, for
// tools that select detectors by name.
func NewByName(name string) (bwe.DelayDetector, error) {
	switch name {
	case "trendline":
		return New(DefaultConfig())
	case "kalman":
		return NewKalman(DefaultKalmanConfig())
	case "robust":
		return NewRobust(DefaultRobustConfig())
	}
	return nil, fmt.Errorf("trendline: unknown detector %q (want %s)", name, strings.Join(names, ", "))
}
