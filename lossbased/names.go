package lossbased

import (
	"fmt"
	"strings"
)

// names lists the estimators of this package by name, in a stable order.
var names = []string{"likelihood", "lossy", "classic"}

// Names returns the names [NewByName] accepts: "likelihood"
// ([Likelihood] with libwebrtc's defaults), "lossy" ([Likelihood] with
// [LossyLinkLikelihoodConfig]) and "classic" ([Classic]).
func Names() []string { return append([]string(nil), names...) }

// NewByName returns a fresh estimator with its default configuration, for
// tools that select estimators by name.
func NewByName(name string) (Estimator, error) {
	switch name {
	case "likelihood":
		return NewLikelihood(DefaultLikelihoodConfig())
	case "lossy":
		return NewLikelihood(LossyLinkLikelihoodConfig())
	case "classic":
		return NewClassic(DefaultClassicConfig())
	}
	return nil, fmt.Errorf("lossbased: unknown estimator %q (want %s)", name, strings.Join(names, ", "))
}
