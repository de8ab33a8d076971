package oscillation

import (
	"fmt"
	"strings"

	"github.com/bwelab/bwe"
)

// names lists the detectors by name, in a stable order.
var names = []string{"acf", "spectral", "crossing"}

// Names returns the names [NewByName] accepts: "acf" ([Autocorrelation]),
// "spectral" ([Spectral]) and "crossing" ([Crossing]).
func Names() []string { return append([]string(nil), names...) }

// NewByName returns a fresh detector configured by cfg, for tools that
// select detectors by name.
func NewByName(name string, cfg Config) (bwe.OscillationDetector, error) {
	var (
		d   bwe.OscillationDetector
		err error
	)
	switch name {
	case "acf":
		d, err = nonNil(NewAutocorrelation(cfg))
	case "spectral":
		d, err = nonNil(NewSpectral(cfg))
	case "crossing":
		d, err = nonNil(NewCrossing(cfg))
	default:
		err = fmt.Errorf("oscillation: unknown detector %q (want one of %s)", name, strings.Join(names, ", "))
	}
	return d, err
}

// nonNil converts a constructor's result to the interface, keeping a
// failed construction a nil interface rather than a typed nil pointer.
func nonNil[T bwe.OscillationDetector](d T, err error) (bwe.OscillationDetector, error) {
	if err != nil {
		return nil, err
	}
	return d, nil
}
