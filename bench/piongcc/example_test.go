package piongcc_test

import (
	"fmt"

	"github.com/bwelab/bwe/bench/piongcc"
)

// Estimator names pion's gcc for the emulator. Runs built from it must
// each run in a new synctest bubble: in a test,
//
//	bubble.Test(t)(func() { res, err = replay.Run(s, piongcc.Estimator()) })
//
// and in a command, inside bubble.Main(func(run bubble.Runner) error {...}),
// as "bwe compare -against pion" does.
func ExampleEstimator() {
	e := piongcc.Estimator()
	fmt.Println(e.Name, e.New != nil)
	// Output: pion-gcc true
}
