package oscillation

import (
	"math"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// benchAdd measures Add per sample, samples every 50 ms, so that a bin
// completes every Step/50 ms samples as in a live session.
func benchAdd(b *testing.B, cfg Config) {
	for _, name := range Names() {
		b.Run(name, func(b *testing.B) {
			d, err := NewByName(name, cfg)
			if err != nil {
				b.Fatal(err)
			}
			var at bwe.Time
			i := 0
			next := func() {
				i++
				at = at.Add(50 * time.Millisecond)
				d.Add(at, bwe.Bitrate(2e6+3e5*math.Sin(float64(i)/19)))
			}
			for range 2000 { // fill the window
				next()
			}
			b.ReportAllocs()
			for b.Loop() {
				next()
			}
		})
	}
}

func BenchmarkAdd(b *testing.B) { benchAdd(b, Config{}) }

func BenchmarkAddStep100ms(b *testing.B) { benchAdd(b, Config{Step: 100 * time.Millisecond}) }
