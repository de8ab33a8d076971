package oscillation_test

import (
	"fmt"
	"math"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/oscillation"
)

// An estimate swinging ±300 kbps around 2 Mbps every 6 s, one sample per
// 50 ms: after a minute every detector reports the swing.
func Example() {
	for _, name := range oscillation.Names() {
		d, err := oscillation.NewByName(name, oscillation.Config{})
		if err != nil {
			panic(err)
		}
		var st bwe.Oscillation
		for t := time.Duration(0); t <= time.Minute; t += 50 * time.Millisecond {
			v := 2e6 + 3e5*math.Sin(2*math.Pi*t.Seconds()/6)
			st = d.Add(bwe.TimeFromDuration(t), bwe.BitrateFromFloat(v))
		}
		fmt.Printf("%-8s detected=%v period=%v strength≥0.9:%v\n",
			name, st.Detected, st.Period.Round(100*time.Millisecond), st.Strength >= 0.9)
	}
	// Output:
	// acf      detected=true period=6s strength≥0.9:true
	// spectral detected=true period=6s strength≥0.9:true
	// crossing detected=true period=6s strength≥0.9:true
}
